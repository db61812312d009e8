import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import type BetterSqlite3 from 'better-sqlite3'
import iconv from 'iconv-lite'
import type {
  ConnectOptions,
  ConstraintProblem,
  Connection,
  DatabaseIdentity,
  Dialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  ScanOptions,
  SnapshotInfo,
  SnapshotOptions,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { AbortError, ConnectionError, SchemaError, UsageError, type RowError } from '../../src/errors.js'
import { isKysely, reserveKyselySession, type KyselyLike, type KyselySession } from '../../src/kysely-session.js'
import type { FileTable, FileTableSource, FileTableTarget } from '../../src/file-table.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { introspectSqlite } from './sqlite-introspector.js'
import { sqliteErrors } from './sqlite-errors.js'
import { readSqliteTable, type SqliteReadContext } from './sqlite-reader.js'
import { sqliteSql } from './sqlite-sql.js'
import { finalizeSqliteTarget, openSqliteWriter, prepareSqliteTarget, type SqliteStatements } from './sqlite-writer.js'

const q = sqliteSql.quoteIdentifier

/**
 * What `sqliteDialect.connect` accepts besides a URL or a bare better-sqlite3 Database: a handle the caller
 * opened (and closes), or a file name. A file opened without `create` (a source) is opened read-only and must
 * exist.
 */
export interface SqliteConnectOptions {
  /** An open better-sqlite3 database; dbferry does not close it. */
  database?: BetterSqlite3.Database
  /** A file path or `:memory:`. */
  filename?: string
}

/** What {@link SqliteConnection} is built from. */
export interface SqliteConnectionInit {
  dialect: Dialect
  db: BetterSqlite3.Database
  /** The file path (or `:memory:`), for the description. */
  path: string
  /** Close the database on `close()`: true when dbferry opened it, false for a caller's handle. */
  owned: boolean
  fallbackEncoding?: string
  /** What a number in a date or timestamp column means (see `ConnectOptions.sqliteNumericTimestamps`). Default `reject`. */
  numericTimestamps?: NumericTimestamps
}

/** What a number in a `DATE`/`DATETIME`/`TIMESTAMP` column is read as. */
type NumericTimestamps = NonNullable<ConnectOptions['sqliteNumericTimestamps']>

/** How the report names each reading of numbers in timestamp columns. */
const NUMERIC_MEANING: Readonly<Record<Exclude<NumericTimestamps, 'reject'>, string>> = {
  unixepoch: 'Unix seconds',
  'unixepoch-ms': 'Unix milliseconds',
  julianday: 'Julian day numbers',
}

/**
 * What a snapshot guarantees, from what the introspection surveyed: virtual tables whose data no target gets
 * (`notApplied`), and the notes, with the reading of numbers in timestamp columns when `policy` is not `reject`.
 */
function snapshotInfo(guarantee: string, survey: { notes: string[]; dataLeft: number }, policy: NumericTimestamps): SnapshotInfo {
  if (policy !== 'reject') survey.notes.push(`numbers in DATE, DATETIME and TIMESTAMP columns are read as ${NUMERIC_MEANING[policy]} in UTC (numericTimestamps=${policy})`)
  const info: SnapshotInfo = { guarantee }
  if (survey.dataLeft > 0) {
    info.guarantee += `; ${survey.dataLeft} virtual table(s) hold data no target gets`
    info.notApplied = survey.dataLeft
  }
  if (survey.notes.length > 0) info.notes = survey.notes
  return info
}

/**
 * Where a database file stands, to tell afterwards whether anything was committed to it meanwhile: in WAL mode
 * every commit appends frames to the `-wal` file or restarts it (new salts in its header); in a rollback-journal
 * mode every commit writes the file and increments the change counter in its header. Size, modification time
 * and the first 32 bytes of the file that changes; `absent` when it does not exist.
 */
function fileMark(file: string, wal: boolean): string {
  const path = wal ? `${file}-wal` : file
  let fd: number | undefined
  try {
    const st = statSync(path, { bigint: true })
    fd = openSync(path, 'r')
    const header = Buffer.alloc(32)
    readSync(fd, header, 0, 32, 0)
    return `${st.size}:${st.mtimeNs}:${header.toString('hex')}`
  } catch {
    return 'absent'
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** The file a snapshot reads and its {@link fileMark} from before the snapshot began. */
interface SnapshotMark {
  file: string
  wal: boolean
  mark: string
}

/**
 * One SQLite database, as a source or a target. better-sqlite3 is synchronous: every method runs its
 * statements to completion before it returns, so reads of several tables can interleave inside one snapshot.
 */
export class SqliteConnection implements Connection, FileTableSource, FileTableTarget {
  readonly dialect: Dialect
  readonly description: string
  /** The better-sqlite3 handle, for callers that need more than the contract (backups, custom SQL). */
  readonly db: BetterSqlite3.Database
  readonly #owned: boolean
  readonly #fallbackEncoding?: string
  readonly #numericTimestamps: NumericTimestamps
  #inSnapshot = false
  /** Results of data scans made while introspecting, valid inside the snapshot (cleared outside it). */
  readonly #memo = new Map<string, unknown>()
  #targetJournalMode?: string
  /** Pragmas as they were before the load, restored on close for a caller's handle. */
  #savedPragmas?: { synchronous: unknown; foreign_keys: unknown; cache_size: unknown }
  #closed = false
  /** Where the file stood before the snapshot began (see `fileTable`); undefined without a snapshot of its own. */
  #mark?: SnapshotMark
  /** The target is in its file's own rollback-journal mode for a table copied in one transaction (see `copyFileTable`). */
  #rollbackJournal = false
  /** A file copy under way: its transaction is open between its pieces, and no other write may join it. */
  #fileCopy?: Promise<void>

  constructor(init: SqliteConnectionInit) {
    this.dialect = init.dialect
    this.db = init.db
    this.description = `sqlite:${init.path}`
    this.#owned = init.owned
    if (init.fallbackEncoding !== undefined) this.#fallbackEncoding = init.fallbackEncoding
    this.#numericTimestamps = init.numericTimestamps ?? 'reject'
  }

  async introspect(options?: { tables?: readonly string[] }): Promise<DatabaseSchema> {
    return introspectSqlite(this.db, { ...options, ...this.#memoOption() })
  }

  /** The introspection memo, only inside the snapshot: outside it the data may change between two reads. */
  #memoOption(): { memo?: Map<string, unknown> } {
    if (!this.#inSnapshot) this.#memo.clear()
    return this.#inSnapshot ? { memo: this.#memo } : {}
  }

  /**
   * Opens a read transaction and reads once, so the snapshot is taken now; it is held until `close()`. In WAL
   * mode writers carry on meanwhile; in rollback-journal mode they wait for the copy to finish. The notes say
   * what the copy leaves out or reads in its own way: virtual tables and their shadow tables (`notApplied`
   * counts those holding data no target gets), timestamp columns read as `timestamptz` because they hold
   * offsets, and the reading of numbers in timestamp columns when `numericTimestamps` is set. `join` is not
   * taken (SQLite exports no snapshot): each connection reads in a transaction of its own. A file dbferry
   * opened is marked first (see `fileTable`).
   */
  async snapshot(_options?: SnapshotOptions): Promise<SnapshotInfo> {
    if (!this.#inSnapshot && !this.db.inTransaction) {
      try {
        const before = this.#markFile()
        this.db.exec('BEGIN')
        this.db.prepare('SELECT count(*) FROM sqlite_schema').get()
        this.#inSnapshot = true
        // a journal mode changed between the mark and the snapshot would have the mark watch the wrong file
        if (before && before.wal === (String(this.db.pragma('journal_mode', { simple: true })) === 'wal')) this.#mark = before
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw new ConnectionError(`could not start a read transaction on ${this.description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
      }
    }
    const survey = { notes: [] as string[], dataLeft: 0 }
    introspectSqlite(this.db, { survey, ...this.#memoOption() })
    return snapshotInfo('one read transaction', survey, this.#numericTimestamps)
  }

  async count(table: TableSchema): Promise<number> {
    return Number(this.db.prepare(`SELECT count(*) FROM ${q(table.name)}`).pluck().safeIntegers(false).get())
  }

  /** The database file and its {@link fileMark}, for a file dbferry opened (a caller's handle may write between). */
  #markFile(): SnapshotMark | undefined {
    if (!this.#owned || this.db.memory) return undefined
    const main = (this.db.pragma('database_list') as { name: string; file: string }[]).find((d) => d.name === 'main')
    if (!main?.file) return undefined
    const wal = String(this.db.pragma('journal_mode', { simple: true })) === 'wal'
    return { file: main.file, wal, mark: fileMark(main.file, wal) }
  }

  /**
   * Hands a table to an SQLite target as this file (the pass-through's `FileTable`): the target attaches the file
   * and copies the rows itself. The target's read must see this connection's snapshot, and does: in a rollback-
   * journal mode the snapshot's read transaction holds a SHARED lock from before its first read to `close()`,
   * under which no other connection can commit, so the file holds the snapshot; in WAL mode writers go on, so
   * `unchanged()` compares the `-wal` file with its mark from before the snapshot began: unchanged, no commit
   * came after the snapshot and before the target's read (any commit appends to it or restarts it), so both read
   * the same data; changed, the target copies nothing. Only for a file dbferry opened (never a caller's handle,
   * which could write between) and read in a transaction of its own. `after` (a resumed table) only for a table
   * read in rowid order, whose last key the checkpoint can name.
   */
  async fileTable(table: TableSchema, options: { after?: readonly Value[] } = {}): Promise<FileTable | string> {
    const mark = this.#mark
    if (!this.#inSnapshot || mark === undefined) return 'the source is not a file dbferry opened and reads in a transaction of its own'
    const sql = readSqliteTable.handOver(this.db, table, options.after)
    if (options.after !== undefined && sql.rowid === undefined) return 'it resumes after rows already loaded, in a table without rowid'
    const last = sql.rowid === undefined ? 'NULL' : `max(${sql.rowid})`
    const [count, max] = this.db.prepare(`SELECT count(*), ${last} FROM ${q(table.name)}${sql.after ? ` WHERE ${sql.after}` : ''}`).raw(true).safeIntegers(true).get(...sql.params) as [bigint, bigint | null]
    const from: FileTable = { engine: this.dialect.name, file: mark.file, table, rows: Number(count), unchanged: () => fileMark(mark.file, mark.wal) === mark.mark }
    if (options.after !== undefined) from.after = options.after
    if (max !== null) from.lastKey = [max >= BigInt(Number.MIN_SAFE_INTEGER) && max <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(max) : max]
    return from
  }

  /**
   * The database file's device and inode, so one file reached by two paths (a relative and an absolute one, a
   * symbolic link) is one database; an in-memory database is its own handle.
   */
  async identity(): Promise<DatabaseIdentity> {
    if (!this.db.memory && existsSync(this.db.name)) {
      const st = statSync(realpathSync(this.db.name))
      return { server: `file:${st.dev}:${st.ino}`, database: 'main' }
    }
    return { server: `memory:${handleId(this.db)}`, database: 'main' }
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const keys = table.primaryKey?.columns ?? []
    const rowid = table.rowid === false ? undefined : readSqliteTable.rowidName(table)
    const order = rowid ? [rowid] : keys.map(q)
    if (order.length === 0) return { rows }
    const last = this.db.prepare(`SELECT ${order.join(', ')} FROM ${q(table.name)} ORDER BY ${order.map((o) => `${o} DESC`).join(', ')} LIMIT 1`).raw(true).safeIntegers(true).get() as unknown[] | undefined
    return last ? { rows, maxKey: stateJson(last) } : { rows }
  }

  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    return readSqliteTable(this.#readContext(), table, options)
  }

  /** See `readSqliteTable.keyBounds`: in the reader's key order (the rowid, when the table has one). */
  async keyBounds(table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
    return readSqliteTable.keyBounds(this.db, table)
  }

  /** See `readSqliteTable.splitKeys`: rowids of a rowid table, in its read order. */
  async splitKeys(table: TableSchema, count: number): Promise<Value[][] | undefined> {
    return readSqliteTable.splitKeys(this.db, table, count)
  }

  /** Every row through one SQLite function call instead of batches (see `readSqliteTable.scan`); for verify. */
  scan(table: TableSchema, visit: (row: Row) => void, options: ScanOptions = {}): Promise<{ rows: number; rejected: RowError[] }> {
    return readSqliteTable.scan(this.#readContext(), table, visit, options)
  }

  /** What every read of a table needs besides the table: the handle and how values are read. */
  #readContext(): SqliteReadContext {
    const ctx: SqliteReadContext = { db: this.db, numericTimestamps: this.#numericTimestamps }
    if (this.#fallbackEncoding !== undefined) ctx.fallbackEncoding = this.#fallbackEncoding
    return ctx
  }

  /** Sets the pragmas of a bulk load once, the first time this connection is used as a target. */
  #asTarget(): void {
    if (this.#targetJournalMode !== undefined) return
    if (this.db.readonly) throw new ConnectionError(`${this.description} was opened read-only and cannot be a target`)
    try {
      this.#targetJournalMode = String(this.db.pragma('journal_mode', { simple: true }))
      if (!this.#owned) {
        this.#savedPragmas = {
          synchronous: this.db.pragma('synchronous', { simple: true }),
          foreign_keys: this.db.pragma('foreign_keys', { simple: true }),
          cache_size: this.db.pragma('cache_size', { simple: true }),
        }
      }
      // WAL: readers are not blocked and commits append instead of rewriting pages; synchronous=NORMAL in WAL
      // mode cannot corrupt the file on a crash (it may only lose the last commits), and skips an fsync per
      // batch. The load itself runs with foreign_keys=OFF: keys are checked once, after the data.
      if (this.#targetJournalMode !== 'memory') this.db.pragma('journal_mode = WAL')
      this.db.pragma('synchronous = NORMAL')
      this.db.pragma('foreign_keys = OFF')
      this.db.pragma('cache_size = -8192')
    } catch (error) {
      throw new ConnectionError(`${this.description} is not writable: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
    }
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    this.#asTarget()
    while (this.#fileCopy) await this.#fileCopy
    prepareSqliteTarget(this.db, schema, options)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    this.#asTarget()
    while (this.#fileCopy) await this.#fileCopy
    this.#walForBatches()
    try {
      const writer = openSqliteWriter(this.db, table)
      // a batch waits for a file copy under way, whose open transaction would take its rows too; nothing is
      // awaited between the last look and the batch's own (synchronous) transaction
      return {
        ...writer,
        write: async (rows) => {
          while (this.#fileCopy) await this.#fileCopy
          this.#walForBatches()
          return writer.write(rows)
        },
      }
    } catch (error) {
      throw new SchemaError(`cannot write into ${table.name}: ${error instanceof Error ? error.message : String(error)}`, { table: table.name, cause: error, ...sqliteErrors.driverOf(error) })
    }
  }

  async finalize(schema: DatabaseSchema, _options: FinalizeOptions): Promise<ConstraintProblem[]> {
    this.#asTarget()
    return finalizeSqliteTarget(this.db, schema)
  }

  /**
   * Copies a table of another SQLite file (`from`, a source's `fileTable`) without decoding a value: see
   * `openSqliteWriter.fromFile`. The copy is one transaction, written in the file's own rollback journal when
   * it had one (a table's new pages are written once, where WAL writes them twice: into the WAL, then back).
   */
  async copyFileTable(from: FileTable, table: TableSchema, options: { signal?: AbortSignal; onRows?(rows: number): void } = {}): Promise<{ rows: number } | string> {
    this.#asTarget()
    // as for a batch (see openWriter): nothing awaited between the last look and taking the connection
    while (this.#fileCopy) await this.#fileCopy
    if (options.signal?.aborted) throw new AbortError()
    if (this.db.inTransaction) return "the target is inside the caller's transaction"
    let done!: () => void
    this.#fileCopy = new Promise<void>((resolve) => (done = resolve))
    try {
      this.#journalForOneCommit()
      return await openSqliteWriter.fromFile(this.db, from, table, options)
    } finally {
      this.#fileCopy = undefined
      done()
    }
  }

  /**
   * Back to the file's own rollback-journal mode (`delete`, `truncate`, `persist`) for a copy in one commit, when
   * no other connection holds the file (else it stays in WAL); synchronous=FULL, which that mode needs to be safe.
   */
  #journalForOneCommit(): void {
    const mode = this.#targetJournalMode
    if (this.#rollbackJournal || (mode !== 'delete' && mode !== 'truncate' && mode !== 'persist')) return
    try {
      if (String(this.db.pragma(`main.journal_mode = ${mode}`, { simple: true })) !== mode) return
      this.db.pragma('synchronous = FULL')
      this.#rollbackJournal = true
    } catch {
      // another connection reads the file: it stays in WAL mode
    }
  }

  /** WAL again, with synchronous=NORMAL (see `#asTarget`), for a table written batch by batch. */
  #walForBatches(): void {
    if (!this.#rollbackJournal) return
    this.db.pragma('main.journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.#rollbackJournal = false
  }

  /**
   * Runs one statement and returns its rows as objects (none for a statement that returns none): values as
   * SQLite stores them, integers past 2^53 as bigint. A failure is a `SchemaError` with the engine's error as `cause`.
   */
  async query(sql: string, params: readonly Value[] = []): Promise<Record<string, unknown>[]> {
    try {
      const statement = this.db.prepare(sql)
      const bound = params.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v))
      if (!statement.reader) {
        statement.run(...bound)
        return []
      }
      const rows = statement.safeIntegers(true).all(...bound) as Record<string, unknown>[]
      for (const row of rows) {
        for (const k of Object.keys(row)) {
          const v = row[k]
          if (typeof v === 'bigint' && v >= -(2n ** 53n) && v <= 2n ** 53n) row[k] = Number(v)
        }
      }
      return rows
    } catch (error) {
      throw new SchemaError(`SQL on ${this.description} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
    }
  }

  /** Runs user SQL (views, triggers); a failure is a `SchemaError` with the engine's error as `cause`. */
  async execute(sql: string): Promise<void> {
    try {
      this.db.exec(sql)
    } catch (error) {
      throw new SchemaError(`SQL on ${this.description} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inSnapshot && this.db.inTransaction) this.db.exec('COMMIT')
    this.#inSnapshot = false
    if (this.#targetJournalMode !== undefined && this.#targetJournalMode !== 'wal' && this.#targetJournalMode !== 'memory') {
      // leave the file in the journal mode it had (one file, no -wal/-shm beside it)
      try {
        this.db.pragma(`journal_mode = ${this.#targetJournalMode}`)
      } catch {
        // another connection still reads it: it stays in WAL mode, which is harmless
      }
    }
    if (this.#savedPragmas) {
      for (const [name, value] of Object.entries(this.#savedPragmas)) this.db.pragma(`${name} = ${Number(value)}`)
    }
    if (this.#owned) this.db.close()
  }
}

const handleIds = new WeakMap<object, number>()
let lastHandleId = 0

/** A number for an in-memory database handle, the same for the handle's lifetime. */
function handleId(db: object): number {
  let id = handleIds.get(db)
  if (id === undefined) handleIds.set(db, (id = ++lastHandleId))
  return id
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
    throw new ConnectionError(describeOpenError(shown, error), { cause: error, ...sqliteErrors.driverOf(error) })
  }
  try {
    // the header is read lazily: a file that is not a database fails here, not on the first real query
    db.prepare('SELECT count(*) FROM sqlite_schema').get()
  } catch (error) {
    db.close()
    throw new ConnectionError(describeOpenError(shown, error), { cause: error, ...sqliteErrors.driverOf(error) })
  }
  if (options.create && !memory) {
    try {
      // a file that exists but cannot be written (read-only mount, permissions) is found now
      db.exec('BEGIN IMMEDIATE; ROLLBACK')
      db.pragma(`user_version = ${Number(db.pragma('user_version', { simple: true }))}`)
    } catch (error) {
      db.close()
      throw new ConnectionError(`SQLite target ${shown} is not writable: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
    }
  }
  return db
}

const NUMERIC_TIMESTAMPS: ReadonlySet<string> = new Set(['reject', 'unixepoch', 'unixepoch-ms', 'julianday'])

/** The reading options, checked before anything is opened: the fallback encoding and `numericTimestamps`. */
function readingOptions(options: ConnectOptions): { fallbackEncoding?: string; numericTimestamps?: NumericTimestamps } {
  const out: { fallbackEncoding?: string; numericTimestamps?: NumericTimestamps } = {}
  const numeric = options.sqliteNumericTimestamps
  if (numeric !== undefined) {
    if (!NUMERIC_TIMESTAMPS.has(numeric)) throw new UsageError(`numericTimestamps must be reject, unixepoch, unixepoch-ms or julianday, not ${JSON.stringify(numeric)}`)
    out.numericTimestamps = numeric
  }
  if (options.fallbackEncoding === undefined) return out
  if (!iconv.encodingExists(options.fallbackEncoding)) {
    throw new UsageError(`unknown fallback encoding ${JSON.stringify(options.fallbackEncoding)} (any iconv-lite encoding name, e.g. cp1252, latin1)`)
  }
  out.fallbackEncoding = options.fallbackEncoding
  return out
}

/**
 * Opens a connection for `dialect` (the SQLite dialect object, which the connection reports as its own): from
 * a URL (`sqlite:./x.db`, `sqlite::memory:`), `{ filename }`, a better-sqlite3 Database the caller holds
 * (bare or as `{ database }`), which `close()` leaves open, or a Kysely instance or transaction over
 * `SqliteAdapter` (see {@link KyselySqliteConnection}). A file opened without `create` (a source) is
 * opened read-only and must exist.
 */
export async function connectSqlite(target: string | object, options: ConnectOptions, dialect: Dialect): Promise<Connection> {
  const encoding = readingOptions(options)
  if (isKysely(target)) return openKyselyConnection(target, dialect, encoding)
  if (typeof target === 'string') {
    const path = dialect.localFile!(target) ?? ':memory:'
    return new SqliteConnection({ dialect, db: openFile(path, options), path, owned: true, ...encoding })
  }
  const database = dialect.accepts(target) ? (target as BetterSqlite3.Database) : (target as SqliteConnectOptions).database
  if (database) return new SqliteConnection({ dialect, db: database, path: database.name || ':memory:', owned: false, ...encoding })
  const { filename } = target as SqliteConnectOptions
  if (typeof filename === 'string') return new SqliteConnection({ dialect, db: openFile(filename, options), path: filename, owned: true, ...encoding })
  throw new UsageError('sqlite.connect takes a URL (sqlite:./file.db), { filename }, a better-sqlite3 Database or { database: <better-sqlite3 Database> }')
}

// ---------------------------------------------------------------------------------------------------------
// a Kysely instance: plain statements, each awaited, on its one connection

type Answer = { rows: Record<string, unknown>[] } | { error: unknown }

/** A safe bigint as a number: catalogue numbers compare with numbers whatever the caller's `defaultSafeIntegers`. */
function catalogueValue(v: unknown): unknown {
  return typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
}

/**
 * A stand-in for a better-sqlite3 Database, for the synchronous introspector over an asynchronous driver: it
 * answers every read it was given the rows of (see {@link replayed}) and, for any other, notes it and
 * answers nothing. Only the reading part of the API the introspector uses: `prepare(sql)` with `pluck`,
 * `raw`, `safeIntegers`, `all`, `get` and `iterate`.
 */
class ReplayDatabase {
  readonly answers = new Map<string, Answer>()
  readonly missing = new Map<string, { sql: string; params: unknown[] }>()

  prepare(sql: string): unknown {
    const db = this
    let pluck = false
    let raw = false
    const rows = (params: unknown[]): unknown[] => {
      const key = answerKey(sql, params)
      const answer = db.answers.get(key)
      if (answer === undefined) {
        db.missing.set(key, { sql, params })
        // the rest of this pass goes on with nothing, so that the reads it leads to are asked for together
        return []
      }
      if ('error' in answer) throw answer.error
      return answer.rows.map((r) => {
        const values = Object.values(r).map(catalogueValue)
        return pluck ? values[0] : raw ? values : Object.fromEntries(Object.entries(r).map(([k, v]) => [k, catalogueValue(v)]))
      })
    }
    const statement = {
      pluck(on = true) {
        pluck = on
        return statement
      },
      raw(on = true) {
        raw = on
        return statement
      },
      safeIntegers() {
        return statement
      },
      all: (...params: unknown[]) => rows(params),
      get: (...params: unknown[]) => rows(params)[0],
      iterate: (...params: unknown[]) => rows(params)[Symbol.iterator](),
    }
    return statement
  }
}

function answerKey(sql: string, params: readonly unknown[]): string {
  return `${sql}\u0000${JSON.stringify(params, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`
}

/**
 * Runs `work` (synchronous code written for better-sqlite3, reading only) over an asynchronous driver: each
 * pass runs it against a {@link ReplayDatabase}, then asks the driver for every read the pass could not
 * answer, until a pass asks for nothing new; that pass's result is the answer. A pass is quick (the answers
 * are kept), and there are as many as the reads depend on each other (a handful for the introspector).
 */
async function replayed<T>(s: SqliteStatements, work: (db: BetterSqlite3.Database) => T): Promise<T> {
  const db = new ReplayDatabase()
  for (;;) {
    db.missing.clear()
    let out: T | undefined
    let failure: unknown
    try {
      out = work(db as unknown as BetterSqlite3.Database)
    } catch (error) {
      failure = error
    }
    if (db.missing.size === 0) {
      if (failure !== undefined) throw failure
      return out as T
    }
    for (const [key, { sql, params }] of db.missing) {
      try {
        db.answers.set(key, { rows: await s.all(sql, params) })
      } catch (error) {
        db.answers.set(key, { error })
      }
    }
  }
}

/**
 * A Kysely session as {@link SqliteStatements}: `run` for anything, `all` for the rows of a SELECT or pragma.
 * Kysely's SQLite driver prepares one statement at a time.
 */
function statementsOf(held: KyselySession): SqliteStatements {
  return {
    all: async (sql, params = []) => (await held.query<Record<string, unknown>>(sql, params)).rows,
    run: async (sql, params = []) => {
      await held.query(sql, params)
    },
  }
}

/**
 * Splits SQL text into statements at the semicolons that end one: not inside quotes, brackets or comments,
 * nor between a trigger's BEGIN and END. Kysely's SQLite driver runs one statement at a time.
 */
function splitStatements(text: string): string[] {
  const out: string[] = []
  let start = 0
  let depth = 0
  const word = /[A-Za-z_]+/y
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "'" || c === '"' || c === '`' || c === '[') {
      const close = c === '[' ? ']' : c
      const end = text.indexOf(close, i + 1)
      i = end < 0 ? text.length : end
    } else if (c === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i)
      i = end < 0 ? text.length : end
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 1
    } else if (/[A-Za-z_]/.test(c) && (i === 0 || !/[A-Za-z0-9_]/.test(text[i - 1]!))) {
      word.lastIndex = i
      const w = word.exec(text)![0].toUpperCase()
      // BEGIN opens a trigger's body (a BEGIN TRANSACTION statement ends at its own semicolon, outside a body)
      if (w === 'BEGIN' && /\bTRIGGER\b/i.test(text.slice(start, i))) depth++
      else if ((w === 'END' && depth > 0) || (w === 'CASE' && depth > 0)) depth += w === 'CASE' ? 1 : -1
      i += w.length - 1
    } else if (c === ';' && depth === 0) {
      if (text.slice(start, i).trim() !== '') out.push(text.slice(start, i))
      start = i + 1
    }
  }
  if (text.slice(start).trim() !== '') out.push(text.slice(start))
  return out
}

/** The key values of a table's last row in the reader's key order, selected exactly, as the driver path reads them. */
function exactKey(order: readonly string[]): string {
  return order.map((e, i) => `typeof(${e}) AS t${i}, CASE WHEN typeof(${e}) = 'integer' THEN CAST(${e} AS TEXT) ELSE ${e} END AS v${i}`).join(', ')
}

/**
 * An SQLite database reached through a caller's Kysely instance (`SqliteDialect`, over better-sqlite3 or any
 * SQLite driver it wraps), which gives no access to its driver: every statement is a plain one, awaited, on
 * the instance's connection (or in the transaction the caller passed). The schema is read by the same
 * introspector as a file's (its reads answered through the instance); rows are read in the same keyset pages
 * and key order, every value selected in an exact form and converted by the same converter; rows are written
 * with multi-row INSERTs, a savepoint per batch, a refused row rejected alone. The journal mode and
 * synchronous setting of the caller's database are left as they are; foreign keys are off during the load
 * (deferred inside the caller's transaction) and put back on close. The instance is never destroyed.
 */
class KyselySqliteConnection implements Connection {
  readonly dialect: Dialect
  readonly description: string
  readonly #held: KyselySession
  readonly #s: SqliteStatements
  readonly #instance: object
  readonly #ctx: Omit<SqliteReadContext, 'db'>
  readonly #memo = new Map<string, unknown>()
  #inSnapshot = false
  #asTarget = false
  #foreignKeys: unknown
  #closed = false

  constructor(dialect: Dialect, held: KyselySession, instance: object, ctx: Omit<SqliteReadContext, 'db'>) {
    this.dialect = dialect
    this.#held = held
    this.#s = statementsOf(held)
    this.#instance = instance
    this.#ctx = ctx
    this.description = held.inCallerTransaction ? 'sqlite (Kysely transaction)' : 'sqlite (Kysely)'
  }

  usageNotes(role: 'source' | 'target'): string[] {
    const inside = this.#held.inCallerTransaction
    const caller = inside ? " inside the caller's transaction" : ''
    if (role === 'source') return [`source is a Kysely instance: rows read with SELECT statements through it${caller}, not prepared statements of its own`]
    const commits = inside ? "; they commit when the caller's transaction commits, and foreign keys are checked then" : ''
    return [`target is a Kysely instance: rows written with multi-row INSERT statements through it, one savepoint per batch${caller}${commits}`]
  }

  #introspect(options: Parameters<typeof introspectSqlite>[1]): Promise<DatabaseSchema> {
    return replayed(this.#s, (db) => introspectSqlite(db, options))
  }

  async introspect(options?: { tables?: readonly string[] }): Promise<DatabaseSchema> {
    if (!this.#inSnapshot) this.#memo.clear()
    return this.#introspect({ ...options, ...(this.#inSnapshot ? { memo: this.#memo } : {}) })
  }

  /** A savepoint (a read transaction of its own, or nested in the caller's) read once so the snapshot is taken now. */
  async snapshot(): Promise<SnapshotInfo> {
    if (!this.#inSnapshot) {
      try {
        await this.#s.run('SAVEPOINT dbferry_snapshot')
        await this.#s.all('SELECT count(*) AS n FROM sqlite_schema')
        this.#inSnapshot = true
      } catch (error) {
        throw new ConnectionError(`could not start a read transaction on ${this.description}: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
      }
    }
    const survey = { notes: [] as string[], dataLeft: 0 }
    await this.#introspect({ survey, memo: this.#memo })
    return snapshotInfo(this.#held.inCallerTransaction ? "the caller's transaction" : 'one read transaction', survey, this.#ctx.numericTimestamps ?? 'reject')
  }

  async count(table: TableSchema): Promise<number> {
    const [r] = await this.#s.all(`SELECT count(*) AS n FROM ${q(table.name)}`)
    return Number(r?.n ?? 0)
  }

  /** The database file's device and inode, as a file's connection gives them; an in-memory database is its Kysely instance. */
  async identity(): Promise<DatabaseIdentity> {
    const [r] = await this.#s.all("SELECT file FROM pragma_database_list WHERE name = 'main'")
    const file = typeof r?.file === 'string' ? r.file : ''
    if (file !== '' && existsSync(file)) {
      const st = statSync(realpathSync(file))
      return { server: `file:${st.dev}:${st.ino}`, database: 'main' }
    }
    return { server: `memory:${handleId(this.#instance)}`, database: 'main' }
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const rowid = table.rowid === false ? undefined : readSqliteTable.rowidName(table)
    const order = rowid ? [rowid] : (table.primaryKey?.columns ?? []).map(q)
    if (order.length === 0) return { rows }
    const [last] = await this.#s.all(`SELECT ${exactKey(order)} FROM ${q(table.name)} ORDER BY ${order.map((o) => `${o} DESC`).join(', ')} LIMIT 1`)
    if (!last) return { rows }
    return { rows, maxKey: stateJson(order.map((_, i) => (last[`t${i}`] === 'integer' ? BigInt(String(last[`v${i}`])) : last[`v${i}`]))) }
  }

  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    return readSqliteTable.paged((sql, params) => this.#s.all(sql, params), this.#ctx, table, options)
  }

  /**
   * Foreign keys off for the load (checked by `finalize`), the caller's setting put back on close; inside the
   * caller's transaction, where the setting cannot change, they are deferred to its commit.
   */
  async #target(): Promise<void> {
    if (this.#asTarget) return
    this.#asTarget = true
    if (this.#held.inCallerTransaction) {
      await this.#s.run('PRAGMA defer_foreign_keys = ON')
      return
    }
    const [r] = await this.#s.all('PRAGMA foreign_keys')
    this.#foreignKeys = r === undefined ? undefined : Object.values(r)[0]
    await this.#s.run('PRAGMA foreign_keys = OFF')
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    await this.#target()
    await prepareSqliteTarget.byStatements(this.#s, schema, options)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    await this.#target()
    const found = await this.#s.all("SELECT 1 AS x FROM sqlite_schema WHERE type = 'table' AND name = ?", [table.name])
    if (found.length === 0) throw new SchemaError(`cannot write into ${table.name}: no such table`, { table: table.name })
    return openSqliteWriter.byStatements(this.#s, table)
  }

  async finalize(schema: DatabaseSchema, _options: FinalizeOptions): Promise<ConstraintProblem[]> {
    await this.#target()
    return finalizeSqliteTarget.byStatements(this.#s, schema)
  }

  /** Runs user SQL (views, triggers), one statement at a time; a failure is a `SchemaError` with the engine's error as `cause`. */
  async execute(sql: string): Promise<void> {
    try {
      for (const statement of splitStatements(sql)) await this.#s.run(statement)
    } catch (error) {
      throw new SchemaError(`SQL on ${this.description} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inSnapshot) {
      this.#inSnapshot = false
      await this.#s.run('RELEASE dbferry_snapshot').catch(() => {})
    }
    if (this.#foreignKeys !== undefined) await this.#s.run(`PRAGMA foreign_keys = ${Number(this.#foreignKeys) ? 'ON' : 'OFF'}`).catch(() => {})
    await this.#held.release().catch(() => {})
  }
}

/**
 * Opens a {@link KyselySqliteConnection} on the caller's Kysely instance: its one connection, shared with any
 * other session of the same instance in this process (verify opens one while the run's are open), or the
 * transaction the caller passed.
 */
async function openKyselyConnection(db: KyselyLike, dialect: Dialect, reading: Omit<SqliteReadContext, 'db'>): Promise<Connection> {
  const held = await reserveKyselySession(db, 'the Kysely instance', { share: true })
  return new KyselySqliteConnection(dialect, held, db, reading)
}
