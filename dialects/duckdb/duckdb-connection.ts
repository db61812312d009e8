import { randomUUID } from 'node:crypto'
import { existsSync, realpathSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  DatabaseIdentity,
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
import { ConnectionError, UsageError } from '../../src/errors.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, TableSchema, Value } from '../../src/schema/types.js'
import { duckdbErrors } from './duckdb-errors.js'
import { introspectDuckdb } from './duckdb-introspector.js'
import { readDuckdbTable } from './duckdb-reader.js'
import { duckdbSql } from './duckdb-sql.js'
import { finalizeDuckdbTarget, openDuckdbWriter, prepareDuckdbTarget } from './duckdb-writer.js'

const q = duckdbSql.quoteIdentifier

/** What {@link DuckdbConnection} is built from. */
export interface DuckdbConnectionInit {
  dialect: Dialect
  connection: DuckDBConnection
  /** The instance dbferry opened (closed on `close()`); undefined when the caller's. */
  ownedInstance?: DuckDBInstance
  /** The caller's instance this connection was opened on, when known (identifies an in-memory database). */
  instance?: DuckDBInstance
  /** Whether dbferry opened `connection` (closed on `close()`); false for a caller's DuckDBConnection. */
  ownsConnection: boolean
  /** The schema read and written. */
  schema: string
  description: string
}

/**
 * One DuckDB database, as a source or a target. A source reads inside one transaction (`snapshot`), one
 * table at a time; a target loads through the Appender, one transaction per batch.
 */
export class DuckdbConnection implements Connection {
  readonly dialect: Dialect
  readonly description: string
  /** The `@duckdb/node-api` connection, for callers that run their own SQL on it. */
  readonly connection: DuckDBConnection
  /** The schema this connection reads and writes (`main` unless told). */
  readonly schema: string
  readonly #ownedInstance?: DuckDBInstance
  readonly #ownsConnection: boolean
  /** What identifies the in-memory database: the instance when known, else this connection. */
  readonly #instanceKey: object
  #inSnapshot = false
  #closed = false

  constructor(init: DuckdbConnectionInit) {
    this.dialect = init.dialect
    this.connection = init.connection
    this.schema = init.schema
    this.description = init.description
    if (init.ownedInstance) this.#ownedInstance = init.ownedInstance
    this.#ownsConnection = init.ownsConnection
    this.#instanceKey = init.instance ?? init.ownedInstance ?? init.connection
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    try {
      return await introspectDuckdb(this.connection, this.schema, options.tables)
    } catch (error) {
      throw duckdbErrors.toDbferryError(error, `reading the schema of ${this.description}`)
    }
  }

  /**
   * Opens one transaction, held until `close()`: DuckDB's MVCC gives every later read the same data. `join`
   * is not taken (one process holds the file; there is no snapshot to share).
   */
  async snapshot(_options?: SnapshotOptions): Promise<SnapshotInfo> {
    if (!this.#inSnapshot) {
      try {
        await this.connection.run('BEGIN TRANSACTION')
        this.#inSnapshot = true
      } catch (error) {
        throw duckdbErrors.toDbferryError(error, `starting a read transaction on ${this.description}`)
      }
    }
    return { guarantee: 'one read transaction' }
  }

  async count(table: TableSchema): Promise<number> {
    try {
      const r = await this.connection.runAndReadAll(`SELECT count(*) FROM ${duckdbSql.tableName(table, this.schema)}`)
      return Number(r.getRows()[0]![0])
    } catch (error) {
      throw duckdbErrors.toDbferryError(error, `counting ${table.name} on ${this.description}`, { table: table.name })
    }
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const keys = (table.primaryKey?.columns ?? []).map(q)
    if (keys.length === 0) return { rows }
    try {
      // text renderings: the same engine renders the same key the same way in both runs
      const sql = `SELECT ${keys.map((k) => `CAST(${k} AS VARCHAR)`).join(', ')} FROM ${duckdbSql.tableName(table, this.schema)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')} LIMIT 1`
      const last = (await this.connection.runAndReadAll(sql)).getRows()[0]
      return last ? { rows, maxKey: stateJson(last) } : { rows }
    } catch (error) {
      throw duckdbErrors.toDbferryError(error, `reading the largest key of ${table.name} on ${this.description}`, { table: table.name })
    }
  }

  /**
   * The database file as the file system identifies it — device and inode of its real path, so a symlink, a
   * hard link or another spelling of the path is the same file — or, in memory, `memory:` and an id unique to
   * the instance (another instance's memory is another database). The schema is the one read and written.
   */
  async identity(): Promise<DatabaseIdentity> {
    let path: string | undefined
    try {
      const r = await this.connection.runAndReadAll('SELECT path FROM duckdb_databases() WHERE database_name = current_database()')
      const p = r.getRows()[0]?.[0]
      path = typeof p === 'string' && p !== '' && p !== ':memory:' ? p : undefined
    } catch (error) {
      throw duckdbErrors.toDbferryError(error, `reading which database ${this.description} is`)
    }
    if (path !== undefined && existsSync(path)) {
      const st = statSync(realpathSync(path))
      return { server: `file:${st.dev}:${st.ino}`, database: 'file', schema: this.schema }
    }
    return { server: `memory:${instanceId(this.#instanceKey)}`, database: 'memory', schema: this.schema }
  }

  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    return readDuckdbTable({ connection: this.connection, schema: this.schema, description: this.description }, table, options)
  }

  /** See `readDuckdbTable.keyBounds`. */
  keyBounds(table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
    return readDuckdbTable.keyBounds({ connection: this.connection, schema: this.schema, description: this.description }, table)
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (this.#inSnapshot) throw new UsageError('this DuckDB connection holds a read transaction; open another one as the target')
    await prepareDuckdbTarget({ connection: this.connection, schema: this.schema, description: this.description }, schema, options)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return openDuckdbWriter({ connection: this.connection, schema: this.schema, description: this.description }, table)
  }

  async finalize(schema: DatabaseSchema, _options: FinalizeOptions): Promise<ConstraintProblem[]> {
    return finalizeDuckdbTarget({ connection: this.connection, schema: this.schema, description: this.description }, schema)
  }

  /** Runs user SQL (views, macros); a failure is a `SchemaError` with the driver's fields. */
  async execute(sql: string): Promise<void> {
    try {
      await this.connection.run(sql)
    } catch (error) {
      throw duckdbErrors.toDbferryError(error, `SQL on ${this.description} failed`)
    }
  }

  /** Ends the read transaction and closes what dbferry opened; a caller's connection or instance stays open. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inSnapshot) {
      this.#inSnapshot = false
      await this.connection.run('COMMIT').catch(() => {})
    }
    if (this.#ownsConnection) this.connection.closeSync()
    this.#ownedInstance?.closeSync()
  }
}

/** A unique id per DuckDB instance (or per connection, when its instance is not known). */
const instanceIds = new WeakMap<object, string>()

function instanceId(key: object): string {
  let id = instanceIds.get(key)
  if (id === undefined) instanceIds.set(key, (id = randomUUID()))
  return id
}

/** The file of a `duckdb:` URL, or `:memory:`. */
function pathOf(dialect: Dialect, url: string): string {
  return dialect.localFile?.(url) ?? ':memory:'
}

/** Checks a file before DuckDB opens it: a source must exist; a target's directory must. */
function checkFile(path: string, create: boolean): void {
  if (path === ':memory:') return
  if (!create) {
    if (!existsSync(path)) throw new ConnectionError(`DuckDB source ${path} does not exist`)
    if (statSync(path).isDirectory()) throw new ConnectionError(`DuckDB source ${path} is a directory, not a database file`)
    return
  }
  const dir = dirname(resolve(path))
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConnectionError(`cannot create DuckDB database ${path}: the directory ${dir} does not exist`)
  if (existsSync(path) && statSync(path).isDirectory()) throw new ConnectionError(`cannot use ${path} as a DuckDB database: it is a directory`)
}

async function currentSchema(connection: DuckDBConnection, wanted: string | undefined, create: boolean): Promise<string> {
  if (wanted !== undefined) {
    if (create) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${q(wanted)}`)
    return wanted
  }
  return String((await connection.runAndReadAll('SELECT current_schema()')).getRows()[0]![0])
}

/**
 * Opens a DuckDB connection from a `duckdb:` URL, a `DuckDBConnection` the caller holds (used as it is, never
 * closed) or a `DuckDBInstance` (a connection of dbferry's own on it, closed by `close()`; the instance is
 * not). A URL's file opens read-only unless `options.create` (a target). `dialect` is the DuckDB dialect
 * (passed in, so that this file and the dialect's do not import each other).
 *
 * The servers' timeouts (`connectTimeoutMs`, `stallTimeoutMs`) do not apply: DuckDB runs in this process on a
 * local file, with no socket to wait on or to stall. The one wait a server connect has — for a database another
 * process holds — does not happen either: DuckDB takes the file's lock without waiting, so such a file fails
 * at once with a `ConnectionError` that names the process holding it.
 */
export async function connectDuckdb(target: string | object, options: ConnectOptions, dialect: Dialect): Promise<DuckdbConnection> {
  const create = options.create === true
  if (typeof target === 'string') {
    const path = pathOf(dialect, target)
    checkFile(path, create)
    let instance: DuckDBInstance
    try {
      instance = await DuckDBInstance.create(path, path === ':memory:' || create ? {} : { access_mode: 'READ_ONLY' })
    } catch (error) {
      const first = error instanceof Error ? error.message.split('\n')[0]! : String(error)
      // DuckDB takes the file's lock without waiting: a file another process has open fails here at once
      const held = /could not set lock/i.test(first) ? ' (another process has the file open: DuckDB lets one process write it; close that process and run again)' : ''
      throw new ConnectionError(`cannot open DuckDB database ${path}: ${first}${held}`, {
        cause: error,
        ...(duckdbErrors.classify(error) ? { driver: duckdbErrors.classify(error)!.driver } : {}),
      })
    }
    try {
      const connection = await instance.connect()
      const schema = await currentSchema(connection, options.schema, create)
      return new DuckdbConnection({ dialect, connection, ownedInstance: instance, ownsConnection: true, schema, description: `duckdb:${path}` })
    } catch (error) {
      instance.closeSync()
      throw duckdbErrors.toDbferryError(error, `opening ${path}`)
    }
  }
  if (target instanceof DuckDBConnection || dialect.accepts(target) && 'createAppender' in target) {
    const connection = target as DuckDBConnection
    const schema = await currentSchema(connection, options.schema, create)
    return new DuckdbConnection({ dialect, connection, ownsConnection: false, schema, description: 'duckdb:(caller connection)' })
  }
  if (target instanceof DuckDBInstance || dialect.accepts(target)) {
    const connection = await (target as DuckDBInstance).connect()
    const schema = await currentSchema(connection, options.schema, create)
    return new DuckdbConnection({ dialect, connection, instance: target as DuckDBInstance, ownsConnection: true, schema, description: 'duckdb:(caller instance)' })
  }
  throw new UsageError('duckdb.connect takes a URL (duckdb:./file.duckdb, duckdb::memory:), a DuckDBConnection or a DuckDBInstance')
}
