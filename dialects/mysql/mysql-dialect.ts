import type { ConnectOptions, Connection, Dialect } from '../../src/dialect.js'
import { requireDriver } from '../../src/drivers.js'
import { acceptsKysely } from '../../src/kysely-session.js'
import { mysqlErrors } from './mysql-errors.js'
import { mysqlChanges } from './mysql-changes.js'
import { mysqlSql } from './mysql-sql.js'
import { mysqlTypes } from './mysql-types.js'

const isObject = (x: unknown): x is Record<string, unknown> => (typeof x === 'object' || typeof x === 'function') && x !== null
const fn = (x: Record<string, unknown>, name: string) => typeof x[name] === 'function'

/** A mysql2 pool or connection of the callback API: `query`, `execute`, `promise()` and its `config`. */
function isCallbackApi(x: unknown): boolean {
  return isObject(x) && fn(x, 'query') && fn(x, 'execute') && fn(x, 'promise') && isObject(x.config)
}

/** A mysql2/promise pool or connection: `query` and `execute` over a callback pool (`pool`) or connection (`connection`). */
function isPromiseApi(x: unknown): boolean {
  return isObject(x) && fn(x, 'query') && fn(x, 'execute') && (isCallbackApi(x.pool) || isCallbackApi(x.connection))
}

/** Kysely's MySQL adapter, which third-party MySQL dialects (PlanetScale, TiDB) build on. */
const KYSELY_ADAPTERS: readonly string[] = Object.freeze(['MysqlAdapter'])

/**
 * Whether `target` is a mysql2 pool or connection the caller holds, of either API (`mysql2` or
 * `mysql2/promise`, a pool's connection included), or `{ pool }` / `{ connection }` holding one, or a Kysely
 * instance over {@link KYSELY_ADAPTERS}. Duck-typed, so the driver stays unloaded.
 */
function accepts(target: unknown): boolean {
  if (!isObject(target)) return false
  if (acceptsKysely(target, KYSELY_ADAPTERS)) return true
  const mysql2 = (x: unknown) => isCallbackApi(x) || isPromiseApi(x)
  return mysql2(target) || mysql2(target.pool) || mysql2(target.connection)
}

/**
 * The MySQL/MariaDB dialect (mysql2), `mysql://user:pass@host:3306/db` or `mariadb://…`. Reads stream in one
 * `START TRANSACTION WITH CONSISTENT SNAPSHOT`; writes go through `LOAD DATA LOCAL INFILE` from a stream in a
 * strict session, with an exact INSERT fallback. `connect()` takes a URL, a mysql2 pool or connection the
 * caller holds (either API; borrowed, never ended), `{ pool }` or `{ connection }`, mysql2 pool options, or a
 * Kysely instance or transaction over `MysqlAdapter` (plain statements on one of its connections, INSERT
 * instead of LOAD DATA: see `KyselyMysqlConnection`).
 *
 * Tested on MariaDB 10.11; MySQL 8 differs in ways the code handles: `caching_sha2_password` authentication
 * (mysql2 supports it; use TLS or `allowPublicKeyRetrieval` as the server requires), `utf8mb3` reported as
 * `utf8` before 8.0.30, and a default utf8mb4 collation of `utf8mb4_0900_ai_ci` (NO PAD) where MariaDB's is
 * `utf8mb4_general_ci` (PAD SPACE). Tables dbferry creates are InnoDB, utf8mb4, `utf8mb4_unicode_ci` unless
 * the schema names an engine, charset or collation the server knows.
 *
 * URL parameter `zeroDates=reject` (or the `zeroDates` connect option) rejects rows holding zero dates instead
 * of reading them as NULL (the default).
 *
 * Timeouts (URL parameters, else the `connectTimeoutMs`/`stallTimeoutMs` options of `MysqlConnectOptions`):
 * `connect_timeout` (seconds; or `connectTimeout`/`connectTimeoutMs` in milliseconds) bounds connecting,
 * default 30 s; `stallTimeoutMs` ends a run whose server sends and takes no byte for that long while rows are
 * read or written (a frozen server), default 5 minutes, 0 for never — a resumable `ConnectionError`. Every
 * connection dbferry opens has TCP keepalive on.
 */
export const mysqlDialect: Dialect = Object.freeze({
  name: 'mysql',
  // change capture for a short cut-over (captureChanges, catchUp, cutover)
  changes: mysqlChanges,
  capabilities: Object.freeze({
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
    // a connection per job, each with its own consistent snapshot
    parallelConnections: { reads: true, writes: true },
    storesAnyValue: false,
    // tinyint(1) is an integer column: 2 and -1 stay what they are
    booleanHoldsIntegers: true,
    // column names never compare with case; names ending in a space are refused; InnoDB (the engine tables
    // are created with) holds 1017 columns, below the server's 4096
    caseInsensitiveIdentifiers: true,
    identifierTrailingSpace: false,
    maxColumns: 1017,
    plainGeneratedColumns: true,
  } as const),
  types: mysqlTypes,
  sql: mysqlSql,
  errors: mysqlErrors,
  drivers: Object.freeze(['mysql2']),
  accepts,
  kyselyAdapters: KYSELY_ADAPTERS,
  collationFolder: mysqlTypes.collationFolder,
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    const { connectMysql } = await requireDriver(mysqlDialect.drivers, 'the MySQL/MariaDB dialect', () => import('./mysql-connection.js'))
    return connectMysql(target, options, mysqlDialect)
  },
})
