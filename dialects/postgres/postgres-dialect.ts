import type { ConnectOptions, Connection, Dialect } from '../../src/dialect.js'
import { requireDriver } from '../../src/drivers.js'
import { acceptsKysely } from '../../src/kysely-session.js'
import { postgresErrors } from './postgres-errors.js'
import { postgresChanges } from './postgres-changes.js'
import { postgresSql } from './postgres-sql.js'
import { postgresTypes } from './postgres-types.js'

/** Kysely's PostgreSQL adapter, which third-party PostgreSQL dialects (Neon, PGlite, postgres.js) build on. */
const KYSELY_ADAPTERS: readonly string[] = Object.freeze(['PostgresAdapter'])

/**
 * Whether `target` is a Kysely instance over {@link KYSELY_ADAPTERS}, or a `pg` Pool (`connect`, `query`, `totalCount`) or a `pg` Client or pool client
 * (`connect`, `query`, and `processID` or `connectionParameters`), duck-typed so the driver stays unloaded.
 */
function accepts(target: unknown): boolean {
  if (typeof target !== 'object' || target === null) return false
  if (acceptsKysely(target, KYSELY_ADAPTERS)) return true
  const t = target as Record<string, unknown>
  if (typeof t.connect !== 'function' || typeof t.query !== 'function') return false
  return 'totalCount' in t || 'processID' in t || 'connectionParameters' in t
}

/**
 * The PostgreSQL dialect (pg + pg-copy-streams): reads with `COPY … TO STDOUT` in one
 * `REPEATABLE READ READ ONLY` snapshot, writes with `COPY … FROM STDIN`. `connect()` takes a URL
 * (`postgres://user:pass@host/db?schema=s`, or `postgres:` for the `PG*` environment variables), a `pg` Pool
 * or Client the caller holds (borrowed, never ended), `{ pool }` or `{ client }` with an optional `schema`,
 * or a `pg` client config, or a Kysely instance or transaction over `PostgresAdapter` (plain statements on
 * one of its connections, no COPY: see `PostgresStatementConnection`). The schema defaults to `ConnectOptions.schema`, else the URL's, else the server's
 * `current_schema()`.
 *
 * Timeouts (URL parameters, else the `connectTimeoutMs`/`stallTimeoutMs` options of `PostgresConnectOptions`):
 * `connect_timeout` (seconds, as libpq; or `connectTimeoutMs`) bounds connecting, default 30 s;
 * `stallTimeoutMs` ends a run whose server sends and takes no byte for that long while rows are read or
 * written (a frozen server), default 5 minutes, 0 for never — a resumable `ConnectionError`. Every
 * connection dbferry opens has TCP keepalive on.
 */
export const postgresDialect: Dialect = Object.freeze({
  name: 'postgres',
  // change capture for a short cut-over (captureChanges, catchUp, cutover)
  changes: postgresChanges,
  capabilities: Object.freeze({
    transactionalDdl: true,
    bulkPath: 'copy',
    maxIdentifierLength: 63,
    identifierLengthUnit: 'bytes',
    schemas: true,
    enforcesForeignKeys: true,
    unvalidatedForeignKeys: true,
    textHoldsNul: false,
    floatHoldsNonFinite: true,
    maxTimestampPrecision: 6,
    concurrentSnapshotReads: false,
    // a session per job; the jobs share the source's exported snapshot (pg_export_snapshot)
    parallelConnections: { reads: true, writes: true },
    storesAnyValue: false,
    loadsCsv: true,
    maxColumns: 1600,
    plainGeneratedColumns: true,
  } as const),
  types: postgresTypes,
  sql: postgresSql,
  errors: postgresErrors,
  drivers: Object.freeze(['pg', 'pg-copy-streams']),
  accepts,
  kyselyAdapters: KYSELY_ADAPTERS,
  collationFolder(): undefined {
    // deterministic collations compare bytes for equality: no folding
    return undefined
  },
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    const { connectPostgres } = await requireDriver(postgresDialect.drivers, 'the PostgreSQL dialect', () => import('./postgres-connection.js'))
    return connectPostgres(target, options, postgresDialect)
  },
})
