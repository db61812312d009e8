import type { Socket } from 'node:net'
import type * as mysql2 from 'mysql2/promise'
import type {
  BaseDialect,
  Dialect,
  ConnectOptions,
  Connection,
  ConstraintProblem,
  DatabaseIdentity,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SegmentHashes,
  SegmentRequest,
  SnapshotInfo,
  SnapshotOptions,
  SharedSnapshot,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { ConnectionError, SchemaError, UsageError, redact } from '../../src/errors.js'
import { KEEPALIVE_DELAY_MS, STALL_TIMEOUT_MS, armSocketStall, resolveTimeouts, urlTimeouts, type Timeouts } from '../../src/timeouts.js'
import { stateJson } from '../../src/schema/rows.js'
import type { ColumnSchema, DatabaseSchema, TableSchema, Value } from '../../src/schema/types.js'
import { isKysely, reserveKyselySession, type KyselyLike, type KyselySession } from '../../src/kysely-session.js'
import { mysqlErrors } from './mysql-errors.js'
import { introspectMysql } from './mysql-introspector.js'
import { readMysqlTable, type StreamingConnection } from './mysql-reader.js'
import { mysqlSql } from './mysql-sql.js'
import { mysqlTypes, type ZeroDatePolicy } from './mysql-types.js'
import { finalizeMysqlTarget, openMysqlWriter, prepareMysqlTarget, type MysqlSession } from './mysql-writer.js'

const q = mysqlSql.quoteIdentifier

/**
 * The session every dbferry connection runs in. Strict for writing (a value the column cannot hold is an
 * error, not a silent coercion; no zero dates; 0 in an auto_increment column is 0, not "next id"); UTC so
 * `timestamp` columns read and write in UTC; utf8mb4 so no text is narrowed on the wire. Reading is not
 * affected by `sql_mode`: zero dates already stored are read as they are and handled by the reader's policy.
 */
const SESSION_SQL_MODE =
  'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'

/** A mysql2 pool or connection of the callback API (`mysql2`), which `promise()` turns into the promise API. */
interface CallbackApi {
  promise(): mysql2.Pool | mysql2.Connection
}

/**
 * What `connectMysql` accepts besides a URL: a mysql2 pool or connection the caller owns, of either API
 * (dbferry sets its session variables on the connections it uses and does not end them), the same as
 * `{ pool }` or `{ connection }`, or mysql2 pool options (a pool dbferry opens and ends).
 */
export type MysqlConnectTarget =
  | mysql2.Pool
  | mysql2.Connection
  | CallbackApi
  | { pool: mysql2.Pool | CallbackApi }
  | { connection: mysql2.Connection | CallbackApi }
  | mysql2.PoolOptions

interface Lease {
  session: MysqlSession
  raw: StreamingConnection
  release(): void
}

const prepared = new WeakSet<object>()

/** `ConnectOptions` with the MySQL dialect's timeouts (also URL parameters, see {@link mysqlDialect}). */
export interface MysqlConnectOptions extends ConnectOptions {
  /** Connecting (TCP, TLS, handshake, authentication) must finish within this many milliseconds. Default 30 000. */
  connectTimeoutMs?: number
  /**
   * While rows are read or written, a server that sends and takes no byte for this many milliseconds ends the
   * run with a resumable `ConnectionError` (a frozen server, a dead network path). Default 300 000; 0: never.
   */
  stallTimeoutMs?: number
}

/** Splits dbferry's own URL parameters (`zeroDates`, the timeouts) from the URL mysql2 gets. */
function parseUrl(url: string): { uri: string; zeroDates?: ZeroDatePolicy; database: string; timeouts: Partial<Timeouts> } {
  const u = new URL(url.replace(/^mariadb:/i, 'mysql:'))
  const zd = u.searchParams.get('zeroDates')
  u.searchParams.delete('zeroDates')
  if (zd !== null && zd !== 'null' && zd !== 'reject') throw new UsageError(`zeroDates must be null or reject, not ${JSON.stringify(zd)}`)
  const timeouts = urlTimeouts(u.searchParams, redact(url))
  const out: { uri: string; zeroDates?: ZeroDatePolicy; database: string; timeouts: Partial<Timeouts> } = {
    uri: u.toString(),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    timeouts,
  }
  if (zd) out.zeroDates = zd as ZeroDatePolicy
  return out
}

/** mysql2 options for the connect timeout (0: none) and TCP keepalive. */
function socketOptions(timeouts: Timeouts): { connectTimeout?: number; enableKeepAlive: true; keepAliveInitialDelay: number } {
  return { ...(timeouts.connectMs > 0 && { connectTimeout: timeouts.connectMs }), enableKeepAlive: true, keepAliveInitialDelay: KEEPALIVE_DELAY_MS }
}

/** The stall that ended a connection, if one did: mysql2 may report the next command's "closed state" instead. */
const stalled = new WeakMap<object, Error>()

/**
 * `error` as the stall that caused it, when the connection's stall timeout fired: a resumable
 * `ConnectionError` naming the table. Otherwise `error` unchanged.
 */
function stallError(raw: object, error: unknown, table: string): unknown {
  const stall = stalled.get(raw)
  if (stall === undefined) return error
  return new ConnectionError(`lost the connection while copying ${table}: ${stall.message} (run again with --resume to continue)`, { table, cause: error })
}

/**
 * Arms the stall timeout on a connection's socket while rows stream (see `armSocketStall`; mysql2 hands the
 * socket's error to the command in flight as fatal). The stall is remembered so the error names it. Returns
 * the disarm function.
 */
function armStall(raw: object, ms: number, description: string): () => void {
  return armSocketStall((raw as { stream?: Socket }).stream, ms, description, (error) => stalled.set(raw, error))
}

/**
 * `source`'s batches until the connection's socket closes under it. mysql2 hands a fatal error of a streamed
 * query (no callback) to the connection, not to the stream, so a read whose socket the stall timeout (or the
 * server) closed would wait forever: it ends here with the stall's error, or a lost connection's, and the
 * abandoned stream is left to the closed socket.
 */
async function* untilClosed<T>(raw: object, source: AsyncGenerator<T>, description: string): AsyncGenerator<T> {
  const socket = (raw as { stream?: Socket }).stream
  const lostError = () => stalled.get(raw) ?? Object.assign(new Error(`the connection to ${description} closed`), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true })
  let pending = false
  let done = false
  try {
    for (;;) {
      pending = true
      const next = await nextOrClosed(source, socket, lostError)
      pending = false
      if (next.done) {
        done = true
        return
      }
      yield next.value
    }
  } finally {
    // stopped early by the consumer: let the reader clean up; a read still waiting on a closed socket is left
    if (!done && !pending) await source.return(undefined)
  }
}

/**
 * The source's next batch, or the lost connection's error if the socket closes first. A promise of its own for
 * each batch: racing every batch against one promise that lives as long as the read would keep every batch
 * alive through that promise's reactions (all the rows of a table, 35 MB per 100 000 rows of `people`).
 */
async function nextOrClosed<T>(source: AsyncGenerator<T>, socket: Socket | undefined, lostError: () => unknown): Promise<IteratorResult<T>> {
  if (socket?.destroyed) throw lostError()
  let onClose = () => {}
  const closed = new Promise<never>((_, reject) => {
    onClose = () => reject(lostError())
    socket?.once('close', onClose)
  })
  closed.catch(() => {})
  try {
    return await Promise.race([source.next(), closed])
  } finally {
    socket?.off('close', onClose)
  }
}

/** `writer` with the stall timeout armed during every call that talks to the server. */
function stallGuardedWriter(writer: TableWriter, raw: object, arm: () => () => void, table: string): TableWriter {
  const guarded = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const disarm = arm()
    try {
      return await f(...args)
    } catch (error) {
      throw stallError(raw, error, table)
    } finally {
      disarm()
    }
  }
  const abort = writer.abort?.bind(writer)
  return { write: guarded(writer.write.bind(writer)), close: guarded(writer.close.bind(writer)), ...(abort && { abort: guarded(abort) }) }
}

/** mysql2 options dbferry needs for exact values (readers also cast every value to text or bytes themselves). */
const DRIVER_OPTIONS = {
  supportBigNumbers: true,
  bigNumberStrings: true,
  dateStrings: true,
  decimalNumbers: false,
  charset: 'utf8mb4_unicode_ci',
  multipleStatements: false,
} as const

/** An open MySQL/MariaDB database, as a source or a target (see {@link Connection}). */
export class MysqlConnection implements Connection {
  readonly dialect: BaseDialect
  readonly description: string
  readonly #pool: mysql2.Pool | undefined
  readonly #single: mysql2.Connection | undefined
  readonly #ownsPool: boolean
  readonly #zeroDates: ZeroDatePolicy
  #snapshot: Lease | undefined
  // a caller's single connection serves one lease at a time: two writers in one session would share (and
  // commit) each other's transaction
  #singleFree: Promise<void> = Promise.resolve()
  #mariadb: boolean | undefined
  #localInfile: boolean | undefined
  #maxPacket: number | undefined
  readonly #stallMs: number
  /** Every driver connection leased, so that closing can bound the goodbye to a frozen server. */
  readonly #raws = new Set<object>()

  constructor(
    dialect: BaseDialect,
    handle: { pool?: mysql2.Pool; connection?: mysql2.Connection; owns: boolean },
    description: string,
    zeroDates: ZeroDatePolicy,
    stallMs: number = STALL_TIMEOUT_MS,
  ) {
    this.dialect = dialect
    this.#stallMs = stallMs
    this.#pool = handle.pool
    this.#single = handle.connection
    this.#ownsPool = handle.owns
    this.description = description
    this.#zeroDates = zeroDates
  }

  /**
   * Takes a connection (from the pool, or the caller's single connection once the previous lease is given
   * back) and puts it in dbferry's session once. `release` gives it back.
   */
  async lease(): Promise<Lease> {
    let conn: mysql2.PoolConnection | mysql2.Connection
    let release = () => {}
    if (this.#pool) {
      const pc = await this.#pool.getConnection()
      conn = pc
      release = () => pc.release()
    } else {
      const previous = this.#singleFree
      let free = () => {}
      this.#singleFree = new Promise((resolve) => (free = resolve))
      await previous
      conn = this.#single!
      let released = false
      release = () => {
        if (!released) free()
        released = true
      }
    }
    const raw = (conn as unknown as { connection: StreamingConnection & object }).connection
    if (this.#ownsPool) this.#raws.add(raw)
    if (!prepared.has(raw)) {
      try {
        await conn.query(`SET SESSION sql_mode = '${SESSION_SQL_MODE}', time_zone = '+00:00', max_error_count = 65535`)
        await conn.query('SET NAMES utf8mb4')
      } catch (error) {
        release()
        throw error
      }
      prepared.add(raw)
    }
    return { session: conn as unknown as MysqlSession, raw, release }
  }

  async #query<T>(sql: string, values?: unknown[]): Promise<T[]> {
    const l = this.#snapshot ?? (await this.lease())
    try {
      const [r] = await l.session.query(sql, values)
      return r as T[]
    } finally {
      if (l !== this.#snapshot) l.release()
    }
  }

  /** Whether the server is MariaDB (cached). */
  async isMariaDb(): Promise<boolean> {
    if (this.#mariadb === undefined) {
      const [r] = await this.#query<{ v: string }>('SELECT VERSION() AS v')
      this.#mariadb = /mariadb/i.test(r?.v ?? '')
    }
    return this.#mariadb
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    const mariadb = await this.isMariaDb()
    try {
      return await introspectMysql((sql, values) => this.#query(sql, values), { tables: options.tables, mariadb })
    } catch (error) {
      const driver = mysqlErrors.classify(error)?.driver
      throw new SchemaError(`cannot read the schema of ${this.description}: ${(error as Error).message}`, { cause: error, ...(driver && { driver }) })
    }
  }

  /**
   * Starts the consistent read. `join` (the id of {@link exportSnapshot}) says it starts while the exporting
   * connection holds every write back, so it reads the same moment: the guarantee says so.
   */
  async snapshot(options: SnapshotOptions = {}): Promise<SnapshotInfo> {
    if (!this.#snapshot) {
      const l = await this.lease()
      await l.session.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await l.session.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
      this.#snapshot = l
    }
    const shared = options.join === undefined ? '' : ', started under the source\'s FLUSH TABLES WITH READ LOCK like every other job\'s: one moment for all'
    return { guarantee: `REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT${shared} (InnoDB; non-transactional engines such as MyISAM are read as they are)` }
  }

  /**
   * With `lock` (and a pool to take a second connection from): `FLUSH TABLES WITH READ LOCK` on another
   * connection, then this connection's snapshot started again under it. No write commits until `release()`, so
   * every connection that starts its snapshot before then (`snapshot({ join })`) reads the same moment as this
   * one. Needs the RELOAD privilege. Without `lock`: undefined (MySQL cannot hand a snapshot over).
   */
  async exportSnapshot(options: { lock?: boolean } = {}): Promise<SharedSnapshot | undefined> {
    const own = this.#snapshot
    if (!options.lock || !own || !this.#pool) return undefined
    const locker = await this.lease()
    const unlock = async () => {
      await locker.session.query('UNLOCK TABLES').catch(() => {})
      locker.release()
    }
    try {
      await locker.session.query('FLUSH TABLES WITH READ LOCK')
      await own.session.query('COMMIT')
      await own.session.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
    } catch (error) {
      await unlock()
      const driver = mysqlErrors.classify(error)?.driver
      throw new ConnectionError(`cannot share the snapshot of ${this.description} under FLUSH TABLES WITH READ LOCK (it needs the RELOAD privilege): ${(error as Error).message}`, { cause: error, ...(driver && { driver }) })
    }
    return { id: 'read-lock', release: unlock }
  }

  async count(table: TableSchema): Promise<number> {
    const [r] = await this.#query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table.name)}`)
    return Number(r?.n ?? 0)
  }

  /** See `readMysqlTable.keyBounds`: read in the snapshot's transaction when one is open. */
  keyBounds(table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
    return readMysqlTable.keyBounds((sql) => this.#query(sql), table)
  }

  /** See `readMysqlTable.splitKeys`: sampled in the snapshot's transaction when one is open. */
  async splitKeys(table: TableSchema, count: number): Promise<Value[][] | undefined> {
    const estimate = table.rowCountEstimate ?? (await this.count(table))
    return readMysqlTable.splitKeys((sql) => this.#query(sql), table, count, estimate)
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const keys = (table.primaryKey?.columns ?? []).map(q)
    if (keys.length === 0) return { rows }
    const last = await this.#query<Record<string, unknown>>(`SELECT ${keys.map((k, i) => `${k} AS k${i}`).join(', ')} FROM ${q(table.name)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')} LIMIT 1`)
    return last[0] ? { rows, maxKey: stateJson(keys.map((_, i) => last[0]![`k${i}`])) } : { rows }
  }

  /**
   * The server as it identifies itself, readable without privileges: MySQL's `@@server_uuid`, MariaDB's
   * `@@server_uid` (a hash of the host's hardware address, the data directory and the port), else
   * `@@hostname`, `@@port` and `@@datadir`; and the current database. No schema: a database is MySQL's schema.
   */
  async identity(): Promise<DatabaseIdentity> {
    const rows = await this.#query<{ Variable_name: string; Value: string }>(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('server_uuid', 'server_uid', 'hostname', 'port', 'datadir')",
    )
    const v = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]))
    const [db] = await this.#query<{ db: string | null }>('SELECT DATABASE() AS db')
    const uuid = v.get('server_uuid') ?? v.get('server_uid')
    const server = uuid ? `mysql:${uuid}:${v.get('port') ?? ''}` : `mysql:${v.get('hostname') ?? ''}:${v.get('port') ?? ''}:${v.get('datadir') ?? ''}`
    return { server, database: db?.db ?? '' }
  }

  /** The stall timeout of a leased connection, armed; returns the disarm function. */
  #armStall(raw: object): () => void {
    return armStall(raw, this.#stallMs, this.description)
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    const l = this.#snapshot ?? (await this.lease())
    const disarm = this.#armStall(l.raw)
    try {
      yield* untilClosed(l.raw, readMysqlTable(l.raw, table, options, this.#zeroDates), this.description)
    } catch (error) {
      throw stallError(l.raw, error, table.name)
    } finally {
      disarm()
      if (l !== this.#snapshot) l.release()
    }
  }

  /** Verify's engine-side hashing: per-segment sums of row md5s computed by the server (see `mysqlSql.segmentHashQuery`). */
  async segmentHashes(table: TableSchema, request: SegmentRequest): Promise<SegmentHashes | undefined> {
    const sql = mysqlSql.segmentHashQuery(table, request, this.#zeroDates)
    if (sql === undefined) return undefined
    // what a value's text depends on: the server's version and platform, the session's time zone, and how
    // this connection reads zero dates
    const [r] = await this.#query<{ r: string }>("SELECT CONCAT_WS(' ', VERSION(), @@version_compile_machine, @@session.time_zone) AS r")
    const rows = await this.#query<{ seg: number | string; sums: string; bad: number | string | null }>(sql)
    const out: SegmentHashes = { renderer: `${r?.r} zeroDates=${this.#zeroDates}`, sums: new Map(), suspect: new Set(), rows: 0 }
    for (const row of rows) {
      const seg = Number(row.seg)
      out.sums.set(seg, String(row.sums))
      if (Number(row.bad ?? 0) > 0) out.suspect.add(seg)
      out.rows += Number(String(row.sums).slice(0, String(row.sums).indexOf(':')))
    }
    return out
  }

  /** The rows of some segments of a `segmentHashes` request. */
  async *readSegments(table: TableSchema, request: SegmentRequest, wanted: readonly number[], options: ReadOptions): AsyncIterable<ReadBatch> {
    const where = mysqlSql.segmentFilter(table, request, wanted)
    const l = this.#snapshot ?? (await this.lease())
    const disarm = this.#armStall(l.raw)
    try {
      yield* untilClosed(l.raw, readMysqlTable(l.raw, table, options, this.#zeroDates, where), this.description)
    } catch (error) {
      throw stallError(l.raw, error, table.name)
    } finally {
      disarm()
      if (l !== this.#snapshot) l.release()
    }
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    const l = await this.lease()
    try {
      await prepareMysqlTarget(l.session, schema, options)
    } finally {
      l.release()
    }
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    const l = await this.lease()
    try {
      if (this.#localInfile === undefined) {
        const [r] = (await l.session.query('SELECT @@local_infile AS v'))[0] as { v: unknown }[]
        this.#localInfile = String(r?.v) === '1' || String(r?.v).toUpperCase() === 'ON'
      }
      if (this.#maxPacket === undefined) {
        const [r] = (await l.session.query('SELECT @@max_allowed_packet AS v'))[0] as { v: unknown }[]
        this.#maxPacket = Number(r?.v) || 16 << 20
      }
    } catch (error) {
      l.release()
      throw error
    }
    const writer = await openMysqlWriter(l.session, table, { loadData: this.#localInfile, maxPacket: this.#maxPacket, release: l.release })
    return stallGuardedWriter(writer, l.raw, () => this.#armStall(l.raw), table.name)
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    const l = await this.lease()
    try {
      return await finalizeMysqlTarget(l.session, schema, options)
    } finally {
      l.release()
    }
  }

  async execute(sql: string): Promise<void> {
    await this.#query(sql)
  }

  /**
   * Runs one statement on a session of the pool (the snapshot's while one is open) and returns its rows as
   * mysql2 gives them in dbferry's session (dates, big integers and decimals as text); none for a statement
   * that returns none.
   */
  async query(sql: string, params: readonly Value[] = []): Promise<Record<string, unknown>[]> {
    const values = params.map((v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v) : v))
    const r = await this.#query<Record<string, unknown>>(sql, values)
    return Array.isArray(r) ? r : []
  }

  async close(): Promise<void> {
    const snap = this.#snapshot
    this.#snapshot = undefined
    if (snap) {
      // a frozen server must not hold the run's end: the stall timeout bounds the commit of the snapshot
      const disarm = this.#armStall(snap.raw)
      await snap.session.query('COMMIT').catch(() => {})
      disarm()
      snap.release()
    }
    if (this.#ownsPool) {
      // ending the pool says goodbye on every connection: a frozen server would hold it forever
      const disarms = [...this.#raws].map((raw) => this.#armStall(raw))
      try {
        await this.#pool?.end()
      } finally {
        for (const disarm of disarms) disarm()
      }
    }
  }
}

async function openPool(uri: string, database: string, create: boolean, timeouts: Timeouts): Promise<mysql2.Pool> {
  const driver = await import('mysql2/promise')
  const make = () => driver.createPool({ uri, ...DRIVER_OPTIONS, ...socketOptions(timeouts), connectionLimit: 8 })
  let pool = make()
  try {
    const c = await pool.getConnection()
    c.release()
    return pool
  } catch (error) {
    await pool.end().catch(() => {})
    // a target database that does not exist yet is created when the run asks for it
    if ((error as { errno?: number }).errno === 1049 && create && database) {
      const u = new URL(uri)
      u.pathname = '/'
      const admin = await driver.createConnection({ uri: u.toString(), ...DRIVER_OPTIONS, ...socketOptions(timeouts) })
      try {
        await admin.query(`CREATE DATABASE IF NOT EXISTS ${q(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
      } finally {
        await admin.end()
      }
      pool = make()
      return pool
    }
    throw error
  }
}

/** A mysql2 object of the callback API (it has `promise()`), as opposed to the promise API's wrapper of one. */
function isCallbackApi(x: object): x is CallbackApi {
  return typeof (x as Partial<CallbackApi>).promise === 'function'
}

/** The promise API of a mysql2 pool or connection of either API. */
function promiseApi<T extends mysql2.Pool | mysql2.Connection>(x: T | CallbackApi): T {
  return (isCallbackApi(x) ? x.promise() : x) as T
}

/**
 * Opens a MySQL/MariaDB connection of `dialect` (`mysqlDialect`, which passes itself: this file does not import
 * it, so the two do not form a cycle): from a URL (`mysql://user:pass@host:3306/db?zeroDates=reject`, creating the
 * database when `options.create` asks and it is missing), over a mysql2 pool or connection the caller holds
 * (never ended; a pool's connections are taken per statement and released), from mysql2 pool options, or over
 * a Kysely instance or transaction over `MysqlAdapter` (see {@link KyselyMysqlConnection}).
 * Zero dates read as NULL unless `options.zeroDates` (or the URL's `zeroDates`) is `reject`. Throws a
 * `ConnectionError` with the driver's fields when the server cannot be reached.
 */
export async function connectMysql(target: string | MysqlConnectTarget, options: MysqlConnectOptions, dialect: Dialect): Promise<MysqlConnection> {
  if (isKysely(target)) return openKyselyConnection(target, options, dialect)
  if (typeof target === 'string') {
    const parsed = parseUrl(target)
    const timeouts = resolveTimeouts(parsed.timeouts, options)
    try {
      const pool = await openPool(parsed.uri, parsed.database, options.create === true, timeouts)
      return new MysqlConnection(dialect, { pool, owns: true }, redact(target), options.zeroDates ?? parsed.zeroDates ?? 'null', timeouts.stallMs)
    } catch (error) {
      if (error instanceof UsageError) throw error
      const driver = mysqlErrors.classify(error)?.driver
      const timedOut = (error as { code?: unknown }).code === 'ETIMEDOUT' && timeouts.connectMs > 0
      const why = timedOut ? `no answer within ${timeouts.connectMs / 1000} s (connect timeout: connect_timeout in the URL, in seconds, or connectTimeoutMs)` : (error as Error).message
      throw new ConnectionError(`cannot connect to ${redact(target)}: ${why}`, { cause: error, ...(driver && { driver }) })
    }
  }
  const timeouts = resolveTimeouts({}, options)
  const zeroDates = options.zeroDates ?? 'null'
  const held = heldObject(target, dialect)
  if (held !== undefined) {
    const api = promiseApi(held)
    // a pool hands out connections; anything else is one connection
    if (typeof (api as Partial<mysql2.Pool>).getConnection === 'function') {
      return new MysqlConnection(dialect, { pool: api as mysql2.Pool, owns: false }, 'mysql (caller pool)', zeroDates, timeouts.stallMs)
    }
    return new MysqlConnection(dialect, { connection: api as mysql2.Connection, owns: false }, 'mysql (caller connection)', zeroDates, timeouts.stallMs)
  }
  const driver = await import('mysql2/promise')
  // the caller's own connect timeout and keepalive settings win over the defaults
  const pool = driver.createPool({ ...socketOptions(timeouts), ...(target as mysql2.PoolOptions), ...DRIVER_OPTIONS })
  return new MysqlConnection(dialect, { pool, owns: true }, 'mysql', zeroDates, timeouts.stallMs)
}

/** The caller's mysql2 object in `target` (the object itself, or the one `{ pool }`/`{ connection }` holds), or undefined. */
function heldObject(target: object, dialect: Dialect): mysql2.Pool | mysql2.Connection | CallbackApi | undefined {
  if (!dialect.accepts(target)) return undefined
  // a driver object has `query` (a promise connection's `connection` is its own callback core, not a wrapper's)
  if (typeof (target as { query?: unknown }).query === 'function') return target as mysql2.Pool | mysql2.Connection | CallbackApi
  const t = target as Partial<{ pool: mysql2.Pool | CallbackApi; connection: mysql2.Connection | CallbackApi }>
  return t.pool ?? t.connection
}

// ---------------------------------------------------------------------------------------------------------
// a Kysely instance: plain statements on one of its connections

/**
 * The session variables dbferry's session changes (`lease`, `prepareMysqlTarget`), read before and put back
 * when the connection goes back to the caller; `numeric` ones are set back as numbers.
 */
const KEPT_VARIABLES: readonly { name: string; numeric?: true }[] = [
  { name: 'sql_mode' },
  { name: 'time_zone' },
  { name: 'max_error_count', numeric: true },
  { name: 'foreign_key_checks', numeric: true },
  { name: 'character_set_client' },
  { name: 'character_set_results' },
  { name: 'collation_connection' },
]

/**
 * Inside the caller's transaction, the writer's own transaction is a savepoint: `START TRANSACTION` would
 * commit the caller's, and `COMMIT` or `ROLLBACK` end it.
 */
const NESTED: Readonly<Record<string, string>> = {
  'START TRANSACTION': 'SAVEPOINT dbferry_transaction',
  COMMIT: 'RELEASE SAVEPOINT dbferry_transaction',
  ROLLBACK: 'ROLLBACK TO SAVEPOINT dbferry_transaction',
}

/** Statements whose warnings the writer reads (`warningStatus`), which Kysely's result does not carry. */
const CHANGES_ROWS = /^\s*(INSERT|REPLACE|UPDATE|DELETE)\b/i
/** Statements before which MySQL commits the open transaction. */
const COMMITS_FIRST = /^\s*(CREATE|ALTER|DROP|TRUNCATE|RENAME)\b/i

/**
 * One reserved connection of a caller's Kysely instance in the shape of a mysql2/promise connection, as far as
 * dbferry's session, introspector and writer use one: `query` gives `[rows]` for a SELECT and
 * `[{ affectedRows, warningStatus }]` for anything else. No `LOAD DATA` (Kysely sends no file), and no row stream.
 */
interface KyselyMysqlHandle extends MysqlSession {
  /** Stands for the driver connection that `lease` keys its one-time session setup on. */
  readonly connection: object
  readonly held: KyselySession
  /** Runs a SELECT and gives its rows. */
  rows(sql: string, values?: readonly unknown[]): Promise<Record<string, unknown>[]>
  /**
   * Inside the caller's transaction: a statement that commits it first (DDL) ran since the last call, and a
   * new transaction was started, so that what follows commits or rolls back with the caller's again.
   */
  reopen(): Promise<void>
}

function kyselyHandle(held: KyselySession): KyselyMysqlHandle {
  const rows = async (sql: string, values: readonly unknown[] = []) => (await held.query<Record<string, unknown>>(sql, values)).rows
  let committed = false
  return {
    connection: {},
    held,
    rows,
    async reopen() {
      if (!committed) return
      committed = false
      await held.query('START TRANSACTION')
    },
    async query(options, values) {
      if (typeof options !== 'string' && options.infileStreamFactory) throw new UsageError('LOAD DATA LOCAL INFILE cannot run through a Kysely instance')
      const given = typeof options === 'string' ? options : options.sql
      const sql = held.inCallerTransaction ? (NESTED[given] ?? given) : given
      if (held.inCallerTransaction && COMMITS_FIRST.test(sql)) committed = true
      const r = await held.query(sql, values ?? (typeof options === 'string' ? undefined : options.values) ?? [])
      if (r.affected === undefined) return [r.rows, undefined]
      // the warnings of the statement just run: a SELECT without a table keeps them
      const warnings = CHANGES_ROWS.test(sql) ? Number((await rows('SELECT @@warning_count AS w'))[0]?.w ?? 0) : 0
      return [{ affectedRows: r.affected, warningStatus: warnings }, undefined]
    },
  }
}

/**
 * A MySQL/MariaDB database reached through a caller's Kysely instance (`MysqlDialect` over a mysql2 pool), which
 * gives no access to its driver: every statement runs on one connection of the instance, reserved for the run
 * (or in the transaction the caller passed). Reads are keyset pages of plain SELECTs with every value selected
 * as text and decoded as the streaming path decodes it (`readMysqlTable.paged`); writes are multi-row INSERTs
 * with parameters, a refused row isolated behind savepoints, as the driver path's INSERT fallback does (no
 * `LOAD DATA`); schema, indexes, keys and auto_increment as a URL's connection does. The session variables
 * dbferry sets (strict `sql_mode`, UTC `time_zone`, utf8mb4) are put back on close, and the connection goes
 * back to the instance's pool; the instance is never destroyed. Inside the caller's transaction the rows
 * commit with it, but MySQL commits any open transaction before DDL: creating tables, indexes or keys commits it.
 */
class KyselyMysqlConnection extends MysqlConnection {
  readonly #handle: KyselyMysqlHandle
  readonly #saved: unknown[]
  readonly #zeroDates: ZeroDatePolicy
  #inSnapshot = false
  #closed = false

  constructor(dialect: Dialect, handle: KyselyMysqlHandle, saved: unknown[], zeroDates: ZeroDatePolicy) {
    const description = handle.held.inCallerTransaction ? 'mysql (Kysely transaction)' : 'mysql (Kysely)'
    super(dialect, { connection: handle as unknown as mysql2.Connection, owns: false }, description, zeroDates, 0)
    this.#handle = handle
    this.#saved = saved
    this.#zeroDates = zeroDates
  }

  usageNotes(role: 'source' | 'target'): string[] {
    const inside = this.#handle.held.inCallerTransaction
    const caller = inside ? " inside the caller's transaction" : ''
    if (role === 'source') return [`source is a Kysely instance: rows read with keyset-paged SELECT statements${caller}, not one streamed query`]
    const commits = inside ? "; they commit when the caller's transaction commits, and any CREATE or ALTER TABLE commits it first (MySQL has no transactional DDL)" : ''
    return [`target is a Kysely instance: rows written with multi-row INSERT statements${caller}, not LOAD DATA${commits}`]
  }

  override async snapshot(): Promise<SnapshotInfo> {
    if (this.#handle.held.inCallerTransaction) {
      const [r] = await this.#handle.rows('SELECT @@session.tx_isolation AS i').catch(() => this.#handle.rows('SELECT @@session.transaction_isolation AS i'))
      return { guarantee: `the caller's transaction (${String(r?.i ?? 'unknown isolation')})` }
    }
    if (!this.#inSnapshot) {
      // for the next transaction only: the session's own default stays the caller's
      await this.#handle.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await this.#handle.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
      this.#inSnapshot = true
    }
    return { guarantee: 'REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT (InnoDB; non-transactional engines such as MyISAM are read as they are)' }
  }

  /** The largest key as the streaming path's driver settings give it (numbers, strings, bytes), so resume compares like with like. */
  override async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const keys = (table.primaryKey?.columns ?? []).map((k) => table.columns.find((c) => c.name === k)!)
    if (keys.length === 0) return { rows }
    const sql = `SELECT ${keys.map((c, i) => `${readMysqlTable.textExpression(c)} AS k${i}`).join(', ')} FROM ${q(table.name)} ORDER BY ${keys.map((c) => `${q(c.name)} DESC`).join(', ')} LIMIT 1`
    const [last] = await this.#handle.rows(sql)
    return last ? { rows, maxKey: stateJson(keys.map((c, i) => driverForm(c, last[`k${i}`]))) } : { rows }
  }

  override read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    return readMysqlTable.paged((sql, values) => this.#handle.rows(sql, values), table, options, this.#zeroDates)
  }

  override readSegments(table: TableSchema, request: SegmentRequest, wanted: readonly number[], options: ReadOptions): AsyncIterable<ReadBatch> {
    const where = mysqlSql.segmentFilter(table, request, wanted)
    return readMysqlTable.paged((sql, values) => this.#handle.rows(sql, values), table, options, this.#zeroDates, where)
  }

  override async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    try {
      await super.prepareTarget(schema, options)
    } finally {
      await this.#handle.reopen()
    }
  }

  override async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    try {
      return await super.finalize(schema, options)
    } finally {
      await this.#handle.reopen()
    }
  }

  /** Multi-row INSERTs (no LOAD DATA: Kysely sends no file), holding the connection until the writer closes. */
  override async openWriter(table: TableSchema): Promise<TableWriter> {
    const l = await this.lease()
    try {
      const [r] = await this.#handle.rows('SELECT @@max_allowed_packet AS v')
      return await openMysqlWriter(l.session, table, { loadData: false, maxPacket: Number(r?.v) || 16 << 20, release: l.release })
    } catch (error) {
      l.release()
      throw error
    }
  }

  override async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await super.close()
    if (this.#inSnapshot) {
      this.#inSnapshot = false
      await this.#handle.query('COMMIT').catch(() => {})
    }
    const sets = KEPT_VARIABLES.map((v) => `${v.name} = ?`).join(', ')
    const values = KEPT_VARIABLES.map((v, i) => (v.numeric && this.#saved[i] !== null ? Number(this.#saved[i]) : this.#saved[i]))
    await this.#handle.query(`SET SESSION ${sets}`, values).catch(() => {})
    await this.#handle.held.release()
  }
}

/** A key value selected by `readMysqlTable.textExpression`, as mysql2 with dbferry's driver options reads it. */
function driverForm(column: ColumnSchema, text: unknown): unknown {
  if (text === null || text === undefined) return null
  if (mysqlTypes.readsAsBytes(column)) return Buffer.from(String(text), 'hex')
  const numeric = ['int16', 'int32', 'float32', 'float64'].includes(column.type.kind) || (column.type.kind === 'boolean' && !/^bit\b/i.test(column.nativeType))
  return numeric ? Number(text) : String(text)
}

/**
 * Reserves one connection of the caller's Kysely instance (or uses the transaction it passed), reads the
 * session variables dbferry will change (see {@link KEPT_VARIABLES}), and opens a {@link KyselyMysqlConnection} on it.
 */
async function openKyselyConnection(db: KyselyLike, options: MysqlConnectOptions, dialect: Dialect): Promise<MysqlConnection> {
  const held = await reserveKyselySession(db, 'the Kysely instance')
  try {
    const [r] = (await held.query<Record<string, unknown>>(`SELECT ${KEPT_VARIABLES.map((v, i) => `@@session.${v.name} AS v${i}`).join(', ')}`)).rows
    const saved = KEPT_VARIABLES.map((_, i) => r?.[`v${i}`] ?? null)
    return new KyselyMysqlConnection(dialect, kyselyHandle(held), saved, options.zeroDates ?? 'null')
  } catch (error) {
    await held.release().catch(() => {})
    const driver = mysqlErrors.classify(error)?.driver
    throw new ConnectionError(`could not prepare the session on the Kysely instance: ${redact((error as Error).message)}`, { cause: error, ...(driver && { driver }) })
  }
}
