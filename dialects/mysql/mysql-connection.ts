import type * as mysql2 from 'mysql2/promise'
import type {
  BaseDialect,
  Dialect,
  ConnectOptions,
  Connection,
  ConstraintProblem,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SegmentHashes,
  SegmentRequest,
  SnapshotInfo,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { ConnectionError, SchemaError, UsageError, redact } from '../../src/errors.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, TableSchema } from '../../src/schema/types.js'
import { mysqlErrors } from './mysql-errors.js'
import { introspectMysql } from './mysql-introspector.js'
import { readMysqlTable, type StreamingConnection } from './mysql-reader.js'
import { mysqlSql } from './mysql-sql.js'
import type { ZeroDatePolicy } from './mysql-types.js'
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

/** Splits dbferry's own URL parameters (`zeroDates`) from the URL mysql2 gets. */
function parseUrl(url: string): { uri: string; zeroDates?: ZeroDatePolicy; database: string } {
  const u = new URL(url.replace(/^mariadb:/i, 'mysql:'))
  const zd = u.searchParams.get('zeroDates')
  u.searchParams.delete('zeroDates')
  if (zd !== null && zd !== 'null' && zd !== 'reject') throw new UsageError(`zeroDates must be null or reject, not ${JSON.stringify(zd)}`)
  const out: { uri: string; zeroDates?: ZeroDatePolicy; database: string } = { uri: u.toString(), database: decodeURIComponent(u.pathname.replace(/^\//, '')) }
  if (zd) out.zeroDates = zd as ZeroDatePolicy
  return out
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

  constructor(
    dialect: BaseDialect,
    handle: { pool?: mysql2.Pool; connection?: mysql2.Connection; owns: boolean },
    description: string,
    zeroDates: ZeroDatePolicy,
  ) {
    this.dialect = dialect
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

  async snapshot(): Promise<SnapshotInfo> {
    if (!this.#snapshot) {
      const l = await this.lease()
      await l.session.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await l.session.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
      this.#snapshot = l
    }
    return { guarantee: 'REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT (InnoDB; non-transactional engines such as MyISAM are read as they are)' }
  }

  async count(table: TableSchema): Promise<number> {
    const [r] = await this.#query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table.name)}`)
    return Number(r?.n ?? 0)
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const keys = (table.primaryKey?.columns ?? []).map(q)
    if (keys.length === 0) return { rows }
    const last = await this.#query<Record<string, unknown>>(`SELECT ${keys.map((k, i) => `${k} AS k${i}`).join(', ')} FROM ${q(table.name)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')} LIMIT 1`)
    return last[0] ? { rows, maxKey: stateJson(keys.map((_, i) => last[0]![`k${i}`])) } : { rows }
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    const l = this.#snapshot ?? (await this.lease())
    try {
      yield* readMysqlTable(l.raw, table, options, this.#zeroDates)
    } finally {
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
    try {
      yield* readMysqlTable(l.raw, table, options, this.#zeroDates, where)
    } finally {
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
    return openMysqlWriter(l.session, table, { loadData: this.#localInfile, maxPacket: this.#maxPacket, release: l.release })
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

  async close(): Promise<void> {
    const snap = this.#snapshot
    this.#snapshot = undefined
    if (snap) {
      await snap.session.query('COMMIT').catch(() => {})
      snap.release()
    }
    if (this.#ownsPool) await this.#pool?.end()
  }
}

async function openPool(uri: string, database: string, create: boolean): Promise<mysql2.Pool> {
  const driver = await import('mysql2/promise')
  const make = () => driver.createPool({ uri, ...DRIVER_OPTIONS, connectionLimit: 8 })
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
      const admin = await driver.createConnection({ uri: u.toString(), ...DRIVER_OPTIONS })
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
 * (never ended; a pool's connections are taken per statement and released), or from mysql2 pool options.
 * Zero dates read as NULL unless `options.zeroDates` (or the URL's `zeroDates`) is `reject`. Throws a
 * `ConnectionError` with the driver's fields when the server cannot be reached.
 */
export async function connectMysql(target: string | MysqlConnectTarget, options: ConnectOptions, dialect: Dialect): Promise<MysqlConnection> {
  if (typeof target === 'string') {
    const { uri, zeroDates, database } = parseUrl(target)
    try {
      const pool = await openPool(uri, database, options.create === true)
      return new MysqlConnection(dialect, { pool, owns: true }, redact(target), options.zeroDates ?? zeroDates ?? 'null')
    } catch (error) {
      if (error instanceof UsageError) throw error
      const driver = mysqlErrors.classify(error)?.driver
      throw new ConnectionError(`cannot connect to ${redact(target)}: ${(error as Error).message}`, { cause: error, ...(driver && { driver }) })
    }
  }
  const zeroDates = options.zeroDates ?? 'null'
  const held = heldObject(target, dialect)
  if (held !== undefined) {
    const api = promiseApi(held)
    // a pool hands out connections; anything else is one connection
    if (typeof (api as Partial<mysql2.Pool>).getConnection === 'function') {
      return new MysqlConnection(dialect, { pool: api as mysql2.Pool, owns: false }, 'mysql (caller pool)', zeroDates)
    }
    return new MysqlConnection(dialect, { connection: api as mysql2.Connection, owns: false }, 'mysql (caller connection)', zeroDates)
  }
  const driver = await import('mysql2/promise')
  const pool = driver.createPool({ ...(target as mysql2.PoolOptions), ...DRIVER_OPTIONS })
  return new MysqlConnection(dialect, { pool, owns: true }, 'mysql', zeroDates)
}

/** The caller's mysql2 object in `target` (the object itself, or the one `{ pool }`/`{ connection }` holds), or undefined. */
function heldObject(target: object, dialect: Dialect): mysql2.Pool | mysql2.Connection | CallbackApi | undefined {
  if (!dialect.accepts(target)) return undefined
  // a driver object has `query` (a promise connection's `connection` is its own callback core, not a wrapper's)
  if (typeof (target as { query?: unknown }).query === 'function') return target as mysql2.Pool | mysql2.Connection | CallbackApi
  const t = target as Partial<{ pool: mysql2.Pool | CallbackApi; connection: mysql2.Connection | CallbackApi }>
  return t.pool ?? t.connection
}
