import type { CollationFolder, ConnectOptions, Connection, Dialect } from '../../src/dialect.js'
import { requireDriver } from '../../src/drivers.js'
import { acceptsKysely } from '../../src/kysely-session.js'
import { sqliteErrors } from './sqlite-errors.js'
import { sqliteChanges } from './sqlite-changes.js'
import { sqliteSql } from './sqlite-sql.js'
import { sqliteTypes } from './sqlite-types.js'

/** dbferry's own `sqlite:` URL parameters and the {@link ConnectOptions} each one sets. */
const URL_PARAMS = new Set(['numericTimestamps'])

/**
 * Splits `?numericTimestamps=…` off a `sqlite:` URL. Only a query whose every key is one of
 * {@link URL_PARAMS} is a query: any other `?` is part of the file name.
 */
function splitUrl(url: string): { path: string; params: URLSearchParams } {
  const at = url.lastIndexOf('?')
  const query = at < 0 ? '' : url.slice(at + 1)
  if (!/^[A-Za-z]+=[^&]*(?:&[A-Za-z]+=[^&]*)*$/.test(query)) return { path: url, params: new URLSearchParams() }
  const params = new URLSearchParams(query)
  if (![...params.keys()].every((k) => URL_PARAMS.has(k))) return { path: url, params: new URLSearchParams() }
  return { path: url.slice(0, at), params }
}

/** Kysely's SQLite adapter, which SQLite dialects over other drivers (libSQL, D1, wa-sqlite) build on. */
const KYSELY_ADAPTERS: readonly string[] = Object.freeze(['SqliteAdapter'])

const NOCASE: CollationFolder = (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
const RTRIM: CollationFolder = (s) => s.replace(/ +$/, '')

/**
 * The SQLite dialect (better-sqlite3). Sources open read-only and must exist; targets are created when
 * missing. Loads with prepared INSERTs in one transaction per batch; foreign keys are declared with the
 * tables and checked after the data. `connect` takes a URL, `{ filename }`, a better-sqlite3 Database the
 * caller holds (bare or as `{ database }`), which it never closes, or a Kysely instance or transaction over
 * `SqliteAdapter` (plain statements through it: see `KyselySqliteConnection`). `?numericTimestamps=unixepoch` (or
 * `unixepoch-ms`, `julianday`; default `reject`) on the URL reads numbers in date and timestamp columns as UTC.
 *
 * @example
 * const conn = await sqliteDialect.connect('sqlite:./app.db')
 */
export const sqliteDialect: Dialect = Object.freeze({
  name: 'sqlite',
  // change capture for a short cut-over (captureChanges, catchUp, cutover)
  changes: sqliteChanges,
  capabilities: Object.freeze({
    transactionalDdl: true,
    bulkPath: 'prepared-insert',
    // SQLite has no limit worth the name; 1024 keeps generated names readable
    maxIdentifierLength: 1024,
    identifierLengthUnit: 'chars',
    schemas: false,
    enforcesForeignKeys: true,
    // keys are declared with the table, loaded with checks off, and left in place with their orphans reported
    unvalidatedForeignKeys: true,
    textHoldsNul: true,
    floatHoldsNonFinite: true,
    maxTimestampPrecision: 9,
    // one connection, statements run to completion: interleaved reads all see the same read transaction
    concurrentSnapshotReads: true,
    // each batch is one synchronous transaction: batches of two tables cannot interleave inside one
    concurrentWrites: true,
    // readers of one file may be many (each in its own read transaction); a writer holds the file's one write lock
    parallelConnections: { reads: true, writes: false },
    storesAnyValue: true,
    booleanHoldsIntegers: true,
    // one file, copied with SQLite's online backup API before a run changes it
    onlineBackup: true,
    // "A" and "a" are one column; SQLITE_MAX_COLUMN as built
    caseInsensitiveIdentifiers: true,
    maxColumns: 2000,
  } as const),
  types: sqliteTypes,
  sql: sqliteSql,
  errors: sqliteErrors,
  drivers: Object.freeze(['better-sqlite3']),
  kyselyAdapters: KYSELY_ADAPTERS,
  /**
   * A better-sqlite3 Database (its methods and its `name` and `open` properties), or a Kysely instance over
   * {@link KYSELY_ADAPTERS}; the driver is not loaded.
   */
  accepts(target: unknown): boolean {
    if (acceptsKysely(target, KYSELY_ADAPTERS)) return true
    const d = target as Record<string, unknown> | null
    return (
      typeof d === 'object' &&
      d !== null &&
      typeof d.prepare === 'function' &&
      typeof d.pragma === 'function' &&
      typeof d.exec === 'function' &&
      typeof d.name === 'string' &&
      typeof d.open === 'boolean'
    )
  },
  /**
   * The path in an `sqlite:` URL: `sqlite:./rel.db`, `sqlite:/abs.db`, `sqlite:///abs.db`; a string without
   * the scheme is a path, and dbferry's parameters (`?numericTimestamps=unixepoch`) are not part of it.
   * Undefined for `sqlite::memory:` and `sqlite:`.
   */
  localFile(url: string): string | undefined {
    let p = splitUrl(url).path.replace(/^sqlite3?:/i, '')
    if (p.startsWith('//')) p = p.slice(2)
    return p === '' || p === ':memory:' ? undefined : p
  },
  collationFolder(collation: string | undefined): CollationFolder | undefined {
    const c = collation?.toUpperCase()
    if (c === 'NOCASE') return NOCASE
    if (c === 'RTRIM') return RTRIM
    return undefined
  },
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    const { connectSqlite } = await requireDriver(sqliteDialect.drivers, 'the SQLite dialect', () => import('./sqlite-connection.js'))
    if (typeof target !== 'string') return connectSqlite(target, options, sqliteDialect)
    const { path, params } = splitUrl(target)
    const numeric = params.get('numericTimestamps')
    // the connect option wins over the URL, as for every engine's URL parameters
    const merged = numeric === null || options.sqliteNumericTimestamps !== undefined ? options : { ...options, sqliteNumericTimestamps: numeric as ConnectOptions['sqliteNumericTimestamps'] }
    return connectSqlite(path, merged, sqliteDialect)
  },
})
