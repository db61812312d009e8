import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import iconv from 'iconv-lite'
import type BetterSqlite3 from 'better-sqlite3'
import type { CollationFolder, ConnectOptions, Connection, Dialect } from '../../src/dialect.js'
import { ConnectionError, UsageError } from '../../src/errors.js'
import { SqliteConnection } from './sqlite-connection.js'
import { quoteIdentifier } from './sqlite-sql.js'
import { sqliteType } from './sqlite-types.js'

/**
 * What `sqlite.connect` accepts besides a URL: a better-sqlite3 handle the caller opened (and closes), or a
 * file name. A file opened without `create` (a source) is opened read-only and must exist.
 */
export interface SqliteConnectOptions {
  /** An open better-sqlite3 database; dbferry does not close it. */
  database?: BetterSqlite3.Database
  /** A file path or `:memory:`. */
  filename?: string
}

/**
 * The path in an `sqlite:` URL: `sqlite:./rel.db`, `sqlite:/abs.db`, `sqlite:///abs.db`, `sqlite::memory:`.
 * A string without the scheme is taken as a path.
 */
export function sqlitePath(url: string): string {
  let p = url.replace(/^sqlite3?:/i, '')
  if (p.startsWith('//')) p = p.slice(2)
  return p
}

function describeOpenError(path: string, error: unknown): string {
  const msg = error instanceof Error ? error.message : String(error)
  if (/not a database|file is encrypted/i.test(msg)) return `${path} is not an SQLite database (${msg})`
  return `cannot open SQLite database ${path}: ${msg}`
}

function openFile(path: string, options: ConnectOptions): BetterSqlite3.Database {
  const memory = path === ':memory:' || path === ''
  const shown = memory ? ':memory:' : path
  if (!memory && !options.create) {
    // better-sqlite3 would create an empty file for a path that does not exist; a source must exist
    if (!existsSync(path)) throw new ConnectionError(`SQLite source ${shown} does not exist`)
    if (statSync(path).isDirectory()) throw new ConnectionError(`SQLite source ${shown} is a directory, not a database file`)
  }
  if (!memory && options.create) {
    const dir = dirname(resolve(path))
    if (!existsSync(dir)) throw new ConnectionError(`cannot create SQLite database ${shown}: the directory ${dir} does not exist`)
    if (!statSync(dir).isDirectory()) throw new ConnectionError(`cannot create SQLite database ${shown}: ${dir} is not a directory`)
    if (existsSync(path) && statSync(path).isDirectory()) throw new ConnectionError(`cannot use ${shown} as an SQLite database: it is a directory`)
  }
  let db: BetterSqlite3.Database
  try {
    db = memory ? new Database(':memory:') : options.create ? new Database(path) : new Database(path, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw new ConnectionError(describeOpenError(shown, error), { cause: error })
  }
  try {
    // the header is read lazily: a file that is not a database fails here, not on the first real query
    db.prepare('SELECT count(*) FROM sqlite_schema').get()
  } catch (error) {
    db.close()
    throw new ConnectionError(describeOpenError(shown, error), { cause: error })
  }
  if (options.create && !memory) {
    try {
      // a file that exists but cannot be written (read-only mount, permissions) is found now
      db.exec('BEGIN IMMEDIATE; ROLLBACK')
      db.pragma(`user_version = ${Number(db.pragma('user_version', { simple: true }))}`)
    } catch (error) {
      db.close()
      throw new ConnectionError(`SQLite target ${shown} is not writable: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
  }
  return db
}

const NOCASE: CollationFolder = (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase())
const RTRIM: CollationFolder = (s) => s.replace(/ +$/, '')

/**
 * The SQLite dialect (better-sqlite3). Sources open read-only and must exist; targets are created when
 * missing. Loads with prepared INSERTs in one transaction per batch; foreign keys are declared with the
 * tables and checked after the data.
 *
 * @example
 * const conn = await sqlite.connect('sqlite:./app.db')
 */
export const sqlite: Dialect = {
  name: 'sqlite',
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
    storesAnyValue: true,
  }),
  nativeType: sqliteType,
  quoteIdentifier,
  collationFolder(collation) {
    const c = collation?.toUpperCase()
    if (c === 'NOCASE') return NOCASE
    if (c === 'RTRIM') return RTRIM
    return undefined
  },
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    const extra = options as ConnectOptions
    if (extra.fallbackEncoding !== undefined && !iconv.encodingExists(extra.fallbackEncoding)) {
      throw new UsageError(`unknown fallback encoding ${JSON.stringify(extra.fallbackEncoding)} (any iconv-lite encoding name, e.g. cp1252, latin1)`)
    }
    if (typeof target === 'string') {
      const path = sqlitePath(target)
      return new SqliteConnection({ dialect: sqlite, db: openFile(path, extra), path: path || ':memory:', owned: true, ...fallback(extra) })
    }
    const o = target as SqliteConnectOptions
    if (o.database) {
      return new SqliteConnection({ dialect: sqlite, db: o.database, path: o.database.name || ':memory:', owned: false, ...fallback(extra) })
    }
    if (typeof o.filename === 'string') {
      return new SqliteConnection({ dialect: sqlite, db: openFile(o.filename, extra), path: o.filename, owned: true, ...fallback(extra) })
    }
    throw new UsageError('sqlite.connect takes a URL (sqlite:./file.db), { filename } or { database: <better-sqlite3 Database> }')
  },
}

function fallback(options: ConnectOptions): { fallbackEncoding?: string } {
  return options.fallbackEncoding === undefined ? {} : { fallbackEncoding: options.fallbackEncoding }
}
