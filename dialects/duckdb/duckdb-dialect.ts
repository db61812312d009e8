import type { ConnectOptions, Connection, Dialect } from '../../src/dialect.js'
import { requireDriver } from '../../src/drivers.js'
import { duckdbErrors } from './duckdb-errors.js'
import { duckdbSql } from './duckdb-sql.js'
import { duckdbTypes } from './duckdb-types.js'

/** The file a `duckdb:` URL names: `duckdb:./x.duckdb` → `./x.duckdb`, `duckdb:///abs` → `/abs`; `duckdb::memory:` → undefined. */
function localFile(url: string): string | undefined {
  let p = url.replace(/^duckdb:/i, '')
  if (p.startsWith('//')) p = p.slice(2)
  return p === '' || p === ':memory:' ? undefined : p
}

/** Whether `x` has every one of these methods (duck typing, so the driver is never loaded to check). */
function hasMethods(x: unknown, names: readonly string[]): boolean {
  if (typeof x !== 'object' || x === null) return false
  const o = x as Record<string, unknown>
  return names.every((n) => typeof o[n] === 'function')
}

/**
 * The DuckDB dialect (`@duckdb/node-api`), source and target. URLs: `duckdb:./file.duckdb`,
 * `duckdb:/abs/path.duckdb`, `duckdb::memory:`. A source file opens read-only and must exist; a target is
 * created when missing. Loads through DuckDB's Appender, one transaction per batch; a refused batch is
 * isolated to its rows. Foreign keys are not created by a load (DuckDB can declare them only in CREATE TABLE,
 * where they would refuse orphans and bind the load order): `finalize` reports each one, with its orphans.
 *
 * Also takes a `DuckDBConnection` or a `DuckDBInstance` the caller holds; dbferry never closes it (from an
 * instance it opens, and closes, a connection of its own).
 *
 * @example
 * await ferry({ from: 'sqlite:./app.db', to: 'duckdb:./app.duckdb' })
 */
export const duckdbDialect: Dialect = Object.freeze({
  name: 'duckdb',
  capabilities: Object.freeze({
    // DuckDB's DDL is transactional
    transactionalDdl: true,
    // the Appender, with DuckDB casting each value from its canonical text
    bulkPath: 'appender',
    // DuckDB keeps identifiers of any length; 1024 keeps generated names readable (as for SQLite)
    maxIdentifierLength: 1024,
    identifierLengthUnit: 'chars',
    schemas: true,
    // DuckDB checks declared keys on every insert; dbferry's load declares none (see above)
    enforcesForeignKeys: true,
    unvalidatedForeignKeys: false,
    textHoldsNul: true,
    floatHoldsNonFinite: true,
    // TIME and TIMESTAMP WITH TIME ZONE keep microseconds (TIMESTAMP_NS is read, not written)
    maxTimestampPrecision: 6,
    // one connection: a streamed read must finish before the next table's starts
    concurrentSnapshotReads: false,
    // batches of several tables would share the connection's one transaction
    concurrentWrites: false,
    storesAnyValue: false,
    // "A" and "a" are one column; DuckDB sets no column limit
    caseInsensitiveIdentifiers: true,
  }),
  types: duckdbTypes,
  sql: duckdbSql,
  errors: duckdbErrors,
  drivers: Object.freeze(['@duckdb/node-api']),
  accepts(target: unknown): boolean {
    // a DuckDBConnection runs SQL and makes appenders; a DuckDBInstance makes connections and closes synchronously
    return hasMethods(target, ['runAndReadAll', 'createAppender', 'disconnectSync']) || (hasMethods(target, ['connect', 'closeSync']) && !hasMethods(target, ['query']))
  },
  localFile,
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    const { connectDuckdb } = await requireDriver(duckdbDialect.drivers, 'the DuckDB dialect', () => import('./duckdb-connection.js'))
    return connectDuckdb(target, options, duckdbDialect)
  },
} satisfies Dialect)
