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
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { ConnectionError, SchemaError, UsageError, isDbferryError, redact } from '../../src/errors.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, TableSchema } from '../../src/schema/types.js'
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
}


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
 * timeout (long reads and bulk loads are normal here).
 */
function parseMssqlUrl(url: string): MssqlUrlConfig {
  let u: URL
  try {
    u = new URL(url.replace(/^sqlserver:/i, 'mssql:'))
  } catch (e) {
    throw new UsageError(`not a SQL Server URL: ${redact(url)}`, { cause: e })
  }
  const q = u.searchParams
  const instanceName = q.get('instanceName') ?? undefined
  const config: sql.config = {
    server: decodeURIComponent(u.hostname) || 'localhost',
    ...(u.port ? { port: Number(u.port) } : instanceName ? {} : { port: 1433 }),
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'master',
    requestTimeout: 0,
    connectionTimeout: Number(q.get('connectTimeout') ?? 15000),
    pool: { max: 4, min: 0 },
    options: {
      encrypt: flag(q.get('encrypt'), true),
      trustServerCertificate: flag(q.get('trustServerCertificate'), false),
      useUTC: true,
      ...(instanceName ? { instanceName } : {}),
    },
  }
  return { config, schema: q.get('schema') ?? 'dbo' }
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
  ) {
    this.description = description
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

  async snapshot(): Promise<SnapshotInfo> {
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
    yield* readMssqlTable(this.#session, table, aligned, options, this.schemaName)
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    await prepareMssqlTarget(this.#session, schema, options, this.schemaName)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return openMssqlWriter(this.#session, table, this.schemaName)
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

  /** Commits the snapshot's transaction; closes the pool only when this connection opened it. */
  async close(): Promise<void> {
    const tx = this.#transaction
    this.#transaction = undefined
    if (tx) await tx.commit().catch(() => tx.rollback().catch(() => {}))
    if (this.owned) await this.pool.close()
  }
}

/**
 * Opens a SQL Server connection from a `mssql://` / `sqlserver://` URL (see {@link MssqlConnection.parseUrl};
 * `options.schema` wins over `?schema=`, default `dbo`), or wraps an `mssql` ConnectionPool the caller holds:
 * it is connected if it is not yet, and never closed by dbferry.
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
    return new MssqlConnection(dialect, pool, options.schema ?? 'dbo', false, `SQL Server ${config.server}/${config.database ?? ''} (a pool passed in)`)
  }
  const { config, schema } = parseMssqlUrl(target)
  const pool = new sql.ConnectionPool(config)
  try {
    await pool.connect()
  } catch (error) {
    throw new ConnectionError(`cannot connect to SQL Server at ${redact(target)}: ${(error as Error).message}`, {
      cause: error,
      ...(mssqlErrors.classify(error) ? { driver: mssqlErrors.classify(error)!.driver } : {}),
    })
  }
  return new MssqlConnection(dialect, pool, options.schema ?? schema, true, redact(target))
}
