import type * as mysql2 from 'mysql2/promise'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  Dialect,
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
import { mysqlCollationFolder } from './mysql-collation.js'
import { introspectMysql } from './mysql-introspector.js'
import { q, readMysqlTable, segmentFilterSql, segmentHashSql, type StreamingConnection, type ZeroDatePolicy } from './mysql-reader.js'
import { mysqlTypeFor } from './mysql-types.js'
import { columnTypes, finalizeMysql, MysqlTableWriter, prepareMysqlTarget, type MysqlSession } from './mysql-writer.js'

/**
 * The session every dbferry connection runs in. Strict for writing (a value the column cannot hold is an
 * error, not a silent coercion; no zero dates; 0 in an auto_increment column is 0, not "next id"); UTC so
 * `timestamp` columns read and write in UTC; utf8mb4 so no text is narrowed on the wire. Reading is not
 * affected by `sql_mode`: zero dates already stored are read as they are and handled by the reader's policy.
 */
export const SESSION_SQL_MODE =
  'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO'

/**
 * What `mysql.connect` accepts besides a URL: a mysql2/promise pool or connection the caller owns (dbferry
 * sets its session variables on the connections it uses and does not end them), or mysql2 pool options.
 */
export type MysqlConnectTarget = { pool: mysql2.Pool } | { connection: mysql2.Connection } | mysql2.PoolOptions

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
  readonly dialect: Dialect
  readonly description: string
  readonly #pool: mysql2.Pool | undefined
  readonly #single: mysql2.Connection | undefined
  readonly #ownsPool: boolean
  readonly #zeroDates: ZeroDatePolicy
  #snapshot: Lease | undefined
  #mariadb: boolean | undefined
  #localInfile: boolean | undefined
  #maxPacket: number | undefined

  constructor(
    dialect: Dialect,
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

  /** Takes a connection and puts it in dbferry's session once. */
  async lease(): Promise<Lease> {
    let conn: mysql2.PoolConnection | mysql2.Connection
    let release = () => {}
    if (this.#pool) {
      const pc = await this.#pool.getConnection()
      conn = pc
      release = () => pc.release()
    } else conn = this.#single!
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
      throw new SchemaError(`cannot read the schema of ${this.description}: ${(error as Error).message}`, { cause: error })
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

  /** Verify's engine-side hashing: per-segment sums of row md5s computed by the server (see `segmentHashSql`). */
  async segmentHashes(table: TableSchema, request: SegmentRequest): Promise<SegmentHashes | undefined> {
    const sql = segmentHashSql(table, request, this.#zeroDates)
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
    const where = segmentFilterSql(table, request, wanted)
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
      const { types, engine } = await columnTypes(l.session, table.name)
      if (types.size === 0) throw new SchemaError(`target table ${table.name} does not exist`, { table: table.name })
      return new MysqlTableWriter(l.session, table, {
        loadData: this.#localInfile,
        transactional: engine === undefined || /^innodb$/i.test(engine),
        ddlTypes: types,
        maxPacket: this.#maxPacket,
        release: l.release,
      })
    } catch (error) {
      l.release()
      throw error
    }
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    const l = await this.lease()
    try {
      return await finalizeMysql(l.session, schema, options)
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

/**
 * The MySQL/MariaDB dialect (`mysql://user:pass@host:3306/db`, `mariadb://…`). Tested on MariaDB 10.11; MySQL 8
 * differs in ways the code handles: `caching_sha2_password` authentication (mysql2 supports it; use TLS or
 * `allowPublicKeyRetrieval` as the server requires), `utf8mb3` reported as `utf8` before 8.0.30, and a default
 * utf8mb4 collation of `utf8mb4_0900_ai_ci` (NO PAD) where MariaDB's is `utf8mb4_general_ci` (PAD SPACE).
 * Tables dbferry creates are InnoDB, utf8mb4, `utf8mb4_unicode_ci` unless the schema names an engine,
 * charset or collation the server knows.
 *
 * URL parameter `zeroDates=reject` (or the `zeroDates` connect option) rejects rows holding zero dates
 * instead of reading them as NULL.
 */
export const mysql: Dialect = {
  name: 'mysql',
  capabilities: {
    transactionalDdl: false,
    bulkPath: 'load-data',
    maxIdentifierLength: 64,
    identifierLengthUnit: 'chars',
    schemas: false,
    enforcesForeignKeys: true,
    unvalidatedForeignKeys: true,
    textHoldsNul: true,
    floatHoldsNonFinite: false,
    maxTimestampPrecision: 6,
    concurrentSnapshotReads: false,
    // every writer leases its own connection from the pool
    concurrentWrites: true,
    storesAnyValue: false,
  },
  nativeType: (type) => mysqlTypeFor(type),
  quoteIdentifier: q,
  collationFolder: mysqlCollationFolder,
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    if (typeof target === 'string') {
      const { uri, zeroDates, database } = parseUrl(target)
      try {
        const pool = await openPool(uri, database, options.create === true)
        return new MysqlConnection(mysql, { pool, owns: true }, redact(target), options.zeroDates ?? zeroDates ?? 'null')
      } catch (error) {
        if (error instanceof UsageError) throw error
        throw new ConnectionError(`cannot connect to ${redact(target)}: ${(error as Error).message}`, { cause: error })
      }
    }
    const t = target as Partial<{ pool: mysql2.Pool; connection: mysql2.Connection }>
    if (t.pool) return new MysqlConnection(mysql, { pool: t.pool, owns: false }, 'mysql (caller pool)', options.zeroDates ?? 'null')
    if (t.connection) return new MysqlConnection(mysql, { connection: t.connection, owns: false }, 'mysql (caller connection)', options.zeroDates ?? 'null')
    const driver = await import('mysql2/promise')
    const pool = driver.createPool({ ...(target as mysql2.PoolOptions), ...DRIVER_OPTIONS })
    return new MysqlConnection(mysql, { pool, owns: true }, 'mysql', options.zeroDates ?? 'null')
  },
}
