import type { Socket } from 'node:net'
import sql from 'mssql'
import type {
  ConnectOptions,
  Connection,
  DatabaseIdentity,
  ConstraintProblem,
  Dialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SnapshotInfo,
  SnapshotOptions,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { ConnectionError, SchemaError, UsageError, isDbferryError, redact } from '../../src/errors.js'
import { stateJson } from '../../src/schema/rows.js'
import { STALL_TIMEOUT_MS, armSocketStall, resolveTimeouts, urlTimeouts, type Timeouts } from '../../src/timeouts.js'
import type { DatabaseSchema, TableSchema, Value } from '../../src/schema/types.js'
import { mssqlErrors } from './mssql-errors.js'
import { introspectMssql, type MssqlReadPlan } from './mssql-introspector.js'
import { readMssqlTable } from './mssql-reader.js'
import { mssqlSql, type MssqlSession } from './mssql-sql.js'
import type { BulkColumnType } from './mssql-types.js'
import { finalizeMssqlTarget, openMssqlWriter, prepareMssqlTarget } from './mssql-writer.js'

/** Connection settings parsed from a `mssql://` / `sqlserver://` URL. */
export interface MssqlUrlConfig {
  config: sql.config
  /** The schema to read or write; `?schema=` in the URL, else `dbo`. */
  schema: string
  /** The timeouts the URL sets (`connect_timeout` seconds, `connectTimeoutMs`/`connectTimeout`, `stallTimeoutMs`). */
  timeouts: Partial<Timeouts>
}

/** The longest delay a Node timer takes (about 24.8 days): tedious's "no connect timeout", which it has no 0 for. */
const NO_LIMIT_MS = 2 ** 31 - 1


/** Turns a {@link BulkColumnType} into the `mssql` type it names, with its length, precision and scale. */
function driverType(t: BulkColumnType): sql.ISqlType {
  const types = sql as unknown as Record<string, (...args: unknown[]) => sql.ISqlType>
  const make = types[t.name]
  if (typeof make !== 'function') throw new TypeError(`mssql has no type ${t.name}`)
  if (t.length !== undefined) return make(t.length === 'max' ? sql.MAX : t.length)
  if (t.precision !== undefined) return make(t.precision, t.scale ?? 0)
  if (t.scale !== undefined) return make(t.scale)
  return make()
}

function flag(v: string | null, fallback: boolean): boolean {
  if (v === null) return fallback
  return /^(1|true|yes|on)$/i.test(v)
}

/**
 * Parses `mssql://user:password@host:port/database?encrypt=false&trustServerCertificate=true&schema=s`.
 * Defaults: port 1433, database `master`, encrypt true, trustServerCertificate false, schema `dbo`. The
 * connection always runs with `useUTC: true` (dbferry never lets a `Date` carry local time) and no request
 * timeout (long reads and bulk loads are normal here); the connect timeout is 30 s (`connect_timeout` in seconds,
 * or `connectTimeoutMs`, as for the other servers; see `src/timeouts.ts`) and TCP keepalive is on (tedious's own,
 * after 30 s idle).
 */
function parseMssqlUrl(url: string): MssqlUrlConfig {
  let u: URL
  try {
    u = new URL(url.replace(/^sqlserver:/i, 'mssql:'))
  } catch (e) {
    throw new UsageError(`not a SQL Server URL: ${redact(url)}`, { cause: e })
  }
  const q = u.searchParams
  const timeouts = urlTimeouts(q, redact(url))
  const instanceName = q.get('instanceName') ?? undefined
  const config: sql.config = {
    server: decodeURIComponent(u.hostname) || 'localhost',
    ...(u.port ? { port: Number(u.port) } : instanceName ? {} : { port: 1433 }),
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'master',
    requestTimeout: 0,
    connectionTimeout: connectLimit(resolveTimeouts(timeouts, {})),
    pool: { max: 4, min: 0 },
    options: {
      encrypt: flag(q.get('encrypt'), true),
      trustServerCertificate: flag(q.get('trustServerCertificate'), false),
      useUTC: true,
      ...(instanceName ? { instanceName } : {}),
    },
  }
  return { config, schema: q.get('schema') ?? 'dbo', timeouts }
}

/** tedious's connect timeout for `timeouts` (0, no limit, as the longest timer). */
function connectLimit(timeouts: Timeouts): number {
  return timeouts.connectMs > 0 ? Math.min(timeouts.connectMs, NO_LIMIT_MS) : NO_LIMIT_MS
}

/** Whether connecting failed because tedious's connect timeout ran out (it says `in …ms`, code ETIMEOUT). */
function isConnectTimeout(error: unknown): boolean {
  const e = error as { code?: unknown; originalError?: { code?: unknown } } | undefined
  return e?.code === 'ETIMEOUT' || e?.originalError?.code === 'ETIMEOUT'
}

/** The part of a tedious connection the stall timeout needs: its socket, once connected. */
interface TediousConnection {
  socket?: Socket
}

/** The part of mssql's tarn pool the stall timeout watches: connections handed out and given back. */
interface TarnPool {
  used?: { resource?: unknown }[]
  on(event: 'acquireSuccess', listener: (eventId: number, resource: unknown) => void): unknown
  on(event: 'release', listener: (resource: unknown) => void): unknown
  removeListener(event: 'acquireSuccess' | 'release', listener: (...args: never[]) => void): unknown
}

/**
 * The stall timeout of one pool (see `armSocketStall`): while rows stream (any read or write in progress, counted
 * by {@link begin}), every connection the pool has handed out — the snapshot's transaction, a bulk load's — has
 * the timer armed on its socket, and so has one handed out meanwhile; a connection given back is disarmed.
 * tedious fails the request in flight on the destroyed socket (`ESOCKET`, "Connection lost - …" with the stall's
 * message), which the reader and writer turn into a resumable `ConnectionError`. Idle connections in the pool are
 * never armed, and neither is a long statement outside a read or write (an index build sends nothing for minutes).
 */
class PoolStall {
  readonly #ms: number
  readonly #what: string
  readonly #armed = new Map<object, () => void>()
  #streams = 0
  #tarn: TarnPool | undefined
  readonly #onAcquire = (_id: number, connection: unknown) => {
    if (this.#streams > 0) this.#arm(connection)
  }
  readonly #onRelease = (connection: unknown) => this.#disarm(connection)

  constructor(ms: number, what: string) {
    this.#ms = ms
    this.#what = what
  }

  /** Watches the pool's hand-outs (once it is connected, mssql has made its tarn pool). */
  watch(pool: sql.ConnectionPool): void {
    if (!(this.#ms > 0) || this.#tarn) return
    const tarn = (pool as unknown as { pool?: TarnPool }).pool
    if (!tarn || typeof tarn.on !== 'function') return
    this.#tarn = tarn
    tarn.on('acquireSuccess', this.#onAcquire)
    tarn.on('release', this.#onRelease)
  }

  /** Stops watching (a caller's pool outlives this connection) and disarms every connection. */
  unwatch(): void {
    for (const connection of [...this.#armed.keys()]) this.#disarm(connection)
    this.#tarn?.removeListener('acquireSuccess', this.#onAcquire)
    this.#tarn?.removeListener('release', this.#onRelease)
    this.#tarn = undefined
  }

  /** A read or write starts: arms every connection in use. Returns its end (idempotent). */
  begin(): () => void {
    if (!this.#tarn) return () => {}
    if (this.#streams++ === 0) for (const used of this.#tarn.used ?? []) this.#arm(used.resource)
    let ended = false
    return () => {
      if (ended) return
      ended = true
      if (--this.#streams === 0) for (const connection of [...this.#armed.keys()]) this.#disarm(connection)
    }
  }

  #arm(connection: unknown): void {
    if (typeof connection !== 'object' || connection === null || this.#armed.has(connection)) return
    this.#armed.set(connection, armSocketStall((connection as TediousConnection).socket, this.#ms, this.#what))
  }

  #disarm(connection: unknown): void {
    if (typeof connection !== 'object' || connection === null) return
    this.#armed.get(connection)?.()
    this.#armed.delete(connection)
  }
}

/** `source` with the stall timeout armed from the first pull to the end (or an early return). */
async function* stallGuarded<T>(stall: PoolStall, source: AsyncIterable<T>): AsyncIterable<T> {
  const end = stall.begin()
  try {
    yield* source
  } finally {
    end()
  }
}

/** `writer` with the stall timeout armed during every call that talks to the server. */
function stallGuardedWriter(stall: PoolStall, writer: TableWriter): TableWriter {
  const guarded = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const end = stall.begin()
    try {
      return await f(...args)
    } finally {
      end()
    }
  }
  const abort = writer.abort?.bind(writer)
  return { ...writer, write: guarded(writer.write.bind(writer)), close: guarded(writer.close.bind(writer)), ...(abort && { abort: guarded(abort) }) }
}

/**
 * A driver error as dbferry's: a lost connection as a `ConnectionError`, anything else the server refused as a
 * `SchemaError`; both keep the driver's fields. dbferry's own errors pass unchanged.
 */
function wrap(error: unknown, what: string, table?: string): Error {
  if (isDbferryError(error)) return error
  const c = mssqlErrors.classify(error)
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`
  const options = { cause: error, ...(c ? { driver: c.driver } : {}), ...(table !== undefined ? { table } : {}) }
  if (!c || c.connectionLost) return new ConnectionError(message, options)
  return new SchemaError(message, options)
}

/** An open SQL Server database: a pool the connection owns, or one the caller passed in (never closed here). */
export class MssqlConnection implements Connection {
  readonly description: string
  /** Explicit mappings, computed columns not copied: filled by `introspect`. */
  readonly notes: string[] = []
  #transaction: sql.Transaction | undefined
  #plans = new Map<string, MssqlReadPlan>()
  // the introspected column order of each table, so reads of narrowed tables find their expressions
  #fullColumns = new Map<string, string[]>()
  readonly #session: MssqlSession
  readonly #stall: PoolStall

  /** Parses a `mssql://` / `sqlserver://` URL into `mssql` settings and a schema (see `connectMssql`). */
  static parseUrl(url: string): MssqlUrlConfig {
    return parseMssqlUrl(url)
  }

  constructor(
    readonly dialect: Dialect,
    /** The `mssql` pool, for callers that run their own requests. */
    readonly pool: sql.ConnectionPool,
    /** The schema read and written when a table names none. */
    readonly schemaName: string,
    /** Whether `close()` closes the pool (false for a pool the caller passed in). */
    readonly owned: boolean,
    description: string,
    /** Milliseconds without a byte either way, while rows stream, after which a connection is ended (0: never). Default 300 000. */
    stallMs = STALL_TIMEOUT_MS,
  ) {
    this.description = description
    this.#stall = new PoolStall(stallMs, description)
    this.#stall.watch(pool)
    this.#session = {
      request: () => (this.#transaction ? new sql.Request(this.#transaction) : this.pool.request()),
      input: (request, name, type, value) => void request.input(name, driverType(type), value),
      bulkTable(path, columns) {
        const t = new sql.Table(path)
        t.create = false
        for (const c of columns) t.columns.add(c.name, driverType(c.type), { nullable: true })
        return t
      },
      inTransaction: async (work) => {
        const open = this.#transaction
        if (open) return work(() => new sql.Request(open))
        const tx = new sql.Transaction(this.pool)
        await tx.begin()
        try {
          const result = await work(() => new sql.Request(tx))
          await tx.commit()
          return result
        } catch (error) {
          // the server may have ended the transaction already (XACT_ABORT, a lost connection): the first error tells
          await tx.rollback().catch(() => {})
          throw error
        }
      },
      begin: async () => {
        const open = this.#transaction
        if (open) return { request: () => new sql.Request(open), commit: async () => {}, rollback: async () => {} }
        const tx = new sql.Transaction(this.pool)
        await tx.begin()
        return { request: () => new sql.Request(tx), commit: () => tx.commit(), rollback: () => tx.rollback() }
      },
    }
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    try {
      const r = await introspectMssql(this.#session, this.schemaName, options.tables ? new Set(options.tables) : undefined)
      for (const [k, v] of r.plans) this.#plans.set(k, v)
      for (const t of r.schema.tables) this.#fullColumns.set(t.name, t.columns.map((c) => c.name))
      for (const n of r.notes) if (!this.notes.includes(n)) this.notes.push(n)
      return r.schema
    } catch (error) {
      throw wrap(error, `could not read the schema of ${this.description}`)
    }
  }

  /** Starts the consistent read where the database allows it; `join` is not taken (no snapshot to share). */
  async snapshot(_options?: SnapshotOptions): Promise<SnapshotInfo> {
    try {
      const res = await this.pool.request().query('SELECT snapshot_isolation_state AS s FROM sys.databases WHERE name = DB_NAME()')
      if (Number(res.recordset[0]?.s) === 1) {
        if (!this.#transaction) {
          const tx = new sql.Transaction(this.pool)
          await tx.begin(sql.ISOLATION_LEVEL.SNAPSHOT)
          this.#transaction = tx
          // a SNAPSHOT transaction's view starts at its first data access
          await new sql.Request(tx).query(`SELECT TOP (1) 1 AS x FROM sys.objects`)
        }
        // notes is the same array introspect() fills, so the report shows the mappings too
        return { guarantee: 'SNAPSHOT isolation: one transaction, every table read as of the same moment', notes: this.notes }
      }
    } catch (error) {
      throw wrap(error, `starting a snapshot on ${this.description}`)
    }
    return {
      guarantee:
        'READ COMMITTED per statement: ALLOW_SNAPSHOT_ISOLATION is OFF on this database, so rows changed during the run may be seen in one table and not in another (turn it on, or stop writes, for a consistent copy)',
      notes: this.notes,
    }
  }

  /** See `readMssqlTable.keyBounds`: read in the snapshot's transaction when one is open. */
  async keyBounds(table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
    try {
      return await readMssqlTable.keyBounds(this.#session, table, this.schemaName)
    } catch (error) {
      throw wrap(error, `reading the key bounds of ${table.name}`, table.name)
    }
  }

  async count(table: TableSchema): Promise<number> {
    try {
      const res = await this.#session.request().query(`SELECT COUNT_BIG(*) AS n FROM ${mssqlSql.qualified(table, this.schemaName)}`)
      return Number(res.recordset[0]?.n ?? 0)
    } catch (error) {
      throw wrap(error, `counting ${table.name}`, table.name)
    }
  }

  /**
   * The server as it names itself (`@@SERVERNAME`, its machine and instance, and the port the session came in
   * on, so two names of one server are one), the database (`DB_ID`, not the name as typed) and the schema this
   * connection reads and writes.
   */
  async identity(): Promise<DatabaseIdentity> {
    try {
      const res = await this.#session
        .request()
        .query(
          "SELECT @@SERVERNAME AS server, CAST(SERVERPROPERTY('MachineName') AS nvarchar(256)) AS machine, CAST(SERVERPROPERTY('InstanceName') AS nvarchar(256)) AS instance, " +
            '(SELECT TOP 1 local_tcp_port FROM sys.dm_exec_connections WHERE session_id = @@SPID) AS port, DB_ID() AS db, DB_NAME() AS name',
        )
      const r = (res.recordset[0] ?? {}) as Record<string, unknown>
      return { server: `${String(r.server ?? '')}|${String(r.machine ?? '')}|${String(r.instance ?? '')}|${String(r.port ?? '')}`, database: `${String(r.db ?? '')}:${String(r.name ?? '').toLowerCase()}`, schema: this.schemaName.toLowerCase() }
    } catch (error) {
      throw wrap(error, 'reading which server and database this is')
    }
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const text = mssqlSql.maxKey(table, this.schemaName)
    if (!text) return { rows }
    try {
      const last = (await this.#session.request().query(text)).recordset[0] as Record<string, unknown> | undefined
      return last ? { rows, maxKey: stateJson(Object.values(last)) } : { rows }
    } catch (error) {
      throw wrap(error, `reading the largest key of ${table.name}`, table.name)
    }
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    let plan = this.#plans.get(table.origin ?? table.name) ?? this.#plans.get(table.name)
    if (!plan) {
      await this.introspect({ tables: [table.name] })
      plan = this.#plans.get(table.name)
    }
    if (!plan) throw new SchemaError(`no table ${table.name} in ${this.description}`, { table: table.name })
    // the engine may narrow the columns: select by name
    const full = this.#fullColumns.get(table.name)
    const aligned: MssqlReadPlan = full
      ? { selects: table.columns.map((c) => plan!.selects[full.indexOf(c.name)] ?? '{col}'), codePages: table.columns.map((c) => plan!.codePages[full.indexOf(c.name)]) }
      : plan
    yield* stallGuarded(this.#stall, readMssqlTable(this.#session, table, aligned, options, this.schemaName))
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    await prepareMssqlTarget(this.#session, schema, options, this.schemaName)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return stallGuardedWriter(this.#stall, await openMssqlWriter(this.#session, table, this.schemaName))
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    return finalizeMssqlTarget(this.#session, schema, options, this.schemaName)
  }

  async execute(text: string): Promise<void> {
    try {
      await this.#session.request().batch(text)
    } catch (error) {
      throw wrap(error, 'running SQL')
    }
  }

  /**
   * Runs one batch and returns the rows of its first result set; `params` bind as `@p1`, `@p2`, …. A `Date`
   * tedious gives (UTC) comes back as `YYYY-MM-DD HH:MM:SS.fff` text: milliseconds only, not the 100 ns a
   * datetime2 keeps.
   */
  async query(text: string, params: readonly Value[] = []): Promise<Record<string, unknown>[]> {
    try {
      const request = this.#session.request()
      params.forEach((v, i) => request.input(`p${i + 1}`, typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v) : v))
      const r = await request.query(text)
      const rows = (r.recordset ?? []) as Record<string, unknown>[]
      for (const row of rows) {
        for (const k of Object.keys(row)) {
          const v = row[k]
          if (v instanceof Date) row[k] = v.toISOString().replace('T', ' ').replace('Z', '')
        }
      }
      return rows
    } catch (error) {
      throw wrap(error, 'running SQL')
    }
  }

  /** Commits the snapshot's transaction; closes the pool only when this connection opened it. */
  async close(): Promise<void> {
    const tx = this.#transaction
    this.#transaction = undefined
    // a frozen server must not hold the run's end: the stall timeout bounds the commit too
    const end = this.#stall.begin()
    try {
      if (tx) await tx.commit().catch(() => tx.rollback().catch(() => {}))
      if (this.owned) await this.pool.close()
    } finally {
      end()
      this.#stall.unwatch()
    }
  }
}

/**
 * Opens a SQL Server connection from a `mssql://` / `sqlserver://` URL (see {@link MssqlConnection.parseUrl};
 * `options.schema` wins over `?schema=`, default `dbo`), or wraps an `mssql` ConnectionPool the caller holds:
 * it is connected if it is not yet, and never closed by dbferry. Timeouts as for the other servers: the URL's
 * `connect_timeout` (seconds), `connectTimeoutMs` and `stallTimeoutMs`, else `options.connectTimeoutMs` (default
 * 30 000) and `options.stallTimeoutMs` (default 300 000); a pool passed in keeps its own connect timeout.
 */
export async function connectMssql(target: string | object, options: ConnectOptions, dialect: Dialect): Promise<MssqlConnection> {
  if (typeof target !== 'string') {
    if (!dialect.accepts(target)) throw new UsageError('mssql connect takes a mssql:// URL or an mssql ConnectionPool')
    const pool = target as sql.ConnectionPool
    try {
      if (!pool.connected) await pool.connect()
    } catch (error) {
      throw wrap(error, 'cannot connect the SQL Server pool passed in')
    }
    // the typings leave it out, but every ConnectionPool keeps its config (accepts() checked it)
    const config = (pool as unknown as { config: sql.config }).config
    const { stallMs } = resolveTimeouts({}, options)
    return new MssqlConnection(dialect, pool, options.schema ?? 'dbo', false, `SQL Server ${config.server}/${config.database ?? ''} (a pool passed in)`, stallMs)
  }
  const { config, schema, timeouts: fromUrl } = parseMssqlUrl(target)
  const timeouts = resolveTimeouts(fromUrl, options)
  config.connectionTimeout = connectLimit(timeouts)
  const pool = new sql.ConnectionPool(config)
  try {
    await pool.connect()
  } catch (error) {
    // tedious says "Failed to connect to … in 2000ms": name the limit and how to change it
    const reason = isConnectTimeout(error)
      ? `no answer within ${timeouts.connectMs / 1000} s (connect timeout: connect_timeout in the URL, in seconds, or connectTimeoutMs)`
      : (error as Error).message
    throw new ConnectionError(`cannot connect to SQL Server at ${redact(target)}: ${redact(reason)}`, {
      cause: error,
      ...(mssqlErrors.classify(error) ? { driver: mssqlErrors.classify(error)!.driver } : {}),
    })
  }
  return new MssqlConnection(dialect, pool, options.schema ?? schema, true, redact(target), timeouts.stallMs)
}
