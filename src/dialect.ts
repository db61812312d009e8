import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, IndexSchema, LogicalType, Row, TableSchema, Value } from './schema/types.js'
import type { DbferryError, DriverFields, FailureKind, RowError, UsageError } from './errors.js'

/**
 * What an engine can do. The core branches on these flags, never on a dialect's name.
 */
export interface DialectCapabilities {
  /** DDL runs inside transactions and rolls back (PostgreSQL, SQLite, SQL Server). */
  readonly transactionalDdl: boolean
  /** The fastest write path the dialect uses. */
  readonly bulkPath: 'copy' | 'load-data' | 'tds-bulk' | 'prepared-insert' | 'appender' | 'file'
  /** Longest identifier the engine keeps; longer ones are shortened by the core. */
  readonly maxIdentifierLength: number
  /** Whether `maxIdentifierLength` counts UTF-8 bytes (PostgreSQL) or characters. */
  readonly identifierLengthUnit: 'bytes' | 'chars'
  /** Namespaces inside one database (PostgreSQL, SQL Server). */
  readonly schemas: boolean
  /** Foreign keys are enforced once created. */
  readonly enforcesForeignKeys: boolean
  /** A foreign key can be created without validating existing rows (PostgreSQL NOT VALID, MySQL checks off). */
  readonly unvalidatedForeignKeys: boolean
  /** Text columns can hold U+0000. */
  readonly textHoldsNul: boolean
  /** Float columns can hold NaN and ±Infinity. */
  readonly floatHoldsNonFinite: boolean
  /** Largest fractional-second precision of its timestamp type. */
  readonly maxTimestampPrecision: number
  /** Tables of one run can be read concurrently inside one consistent snapshot. */
  readonly concurrentSnapshotReads: boolean
  /** Columns hold any value whatever their declared type (SQLite's type affinity). */
  readonly storesAnyValue: boolean
  /**
   * The target parses CSV itself and implements {@link Connection.loadCsv}, so a CSV table that needs no
   * change can go to it as bytes (the pass-through path). Default false.
   */
  readonly loadsCsv?: boolean
  /**
   * As a target, writers of several tables may be open and writing at once without sharing a transaction
   * (a connection each, or statements that run to completion). Absent or false: the engine copies one table
   * at a time into it whatever `concurrency` asks, so each table's batches commit on their own.
   */
  readonly concurrentWrites?: boolean
  /**
   * Several connections of one process may read (`reads`) or load (`writes`) the same database at once, each in
   * a transaction of its own: what `--jobs` needs to copy chunks in parallel, a source and a target connection
   * per job. Absent: one job (an embedded engine whose file one writer holds, a file format).
   */
  readonly parallelConnections?: { readonly reads: boolean; readonly writes: boolean }
  /**
   * Rows per batch this engine loads fastest with as a target, when the run sets no `batchRows`: a target that
   * pays several round trips per batch (SQL Server's staged bulk load) wants fewer, larger batches. Absent:
   * `BATCH_DEFAULTS.rows`.
   */
  readonly preferredBatchRows?: number
  /**
   * The database is one SQLite file ({@link Dialect.localFile}) that `backup()` can copy online before a run
   * changes it (modes truncate, append, recreate, resume). Default false.
   */
  readonly onlineBackup?: boolean
  /**
   * A boolean column holds other integers too (MySQL `tinyint(1)` keeps 2 and -1; SQLite keeps any value), so a
   * boolean read as a number is written as it is. Absent or false: 0 and 1 become false and true, and any other
   * number is a rejected row (`out_of_range`, naming the value) rather than a silent true or false.
   */
  readonly booleanHoldsIntegers?: boolean
  /**
   * Column names are compared without regard to case, so `A` and `a` in one table collide (MySQL/MariaDB,
   * SQL Server under its default collation, SQLite, DuckDB). Default false: names differing in case are distinct.
   */
  readonly caseInsensitiveIdentifiers?: boolean
  /** Names may end in a space. Default true; MySQL/MariaDB refuse such a name (`Incorrect column name`). */
  readonly identifierTrailingSpace?: boolean
  /**
   * Most columns one table may have (PostgreSQL 1600, SQL Server 1024, SQLite 2000, InnoDB 1017). Absent: no
   * limit the core checks.
   */
  readonly maxColumns?: number
  /**
   * A generated column whose expression is another engine's is created as a plain column and written with
   * the source's values, and the report says so; one in the target's own SQL is recreated as generated and
   * not written (PostgreSQL, MySQL/MariaDB). Default false: no such note.
   */
  readonly plainGeneratedColumns?: boolean
}

/** How the target treats a table that already exists. Default `create`: refuse to touch existing data. */
export type TargetMode = 'create' | 'truncate' | 'append' | 'recreate'

/** Options for reading one table. */
export interface ReadOptions {
  /** Rows per batch. Default 10 000 (set by the engine). */
  batchRows: number
  /** Approximate bytes per batch; a batch ends at whichever limit comes first. Default 8 MiB. */
  batchBytes: number
  /** Resume after this key (the last key of a committed checkpoint), in the reader's key order. */
  after?: readonly Value[]
  /**
   * Read no row whose key is past this one (inclusive bound, the reader's key order): with `after`, one chunk
   * of a table split by {@link Connection.keyBounds}. Only for a table with a primary key. Default: the table's end.
   */
  until?: readonly Value[]
  /**
   * The caller reads no more than this many source rows: a reader that streams one query may stop the server
   * there (MySQL `LIMIT`); paging readers stop when the caller does. Default: the table's end.
   */
  limit?: number
  /** The run's abort signal: a reader that finds it aborted stops with an `AbortError`. Absent: never aborted. */
  signal?: AbortSignal
  /**
   * Read only the rows stored in pages `from` (inclusive) to `to` (exclusive) of the table, in no order: one
   * chunk of a table without a key split by {@link Connection.pageCount} (PostgreSQL: a TID range scan). An
   * absent end is open. Default: every page.
   */
  pages?: { from?: number; to?: number }
}

/**
 * One batch from a reader. `rows` are canonical values aligned with the table's columns; `rejected` are
 * source rows that could not be converted (they count as read). `lastKey` is the ordering key of the last
 * source row in this batch (for checkpoints).
 */
export interface ReadBatch {
  /** Handed over: transforms may change these arrays in place, so a reader must not keep or reuse them. */
  rows: Row[]
  /** Source rows that did not convert, one error each (kind, key, column, value); not in `rows`. */
  rejected: RowError[]
  /** Rows repaired on the way in (e.g. decoded with a fallback encoding), by column name. */
  fixed?: Record<string, number>
  /**
   * The repairs counted in `fixed`, one by one, for the journal (`kind` names the repair, e.g. `zero_date`).
   * Optional: a reader that only counts leaves it out.
   */
  fixes?: { column: string; kind: string; message: string; row: Row }[]
  /**
   * The read-order key of the batch's last source row (rejected rows included), values in key column order.
   * Absent when the table is read in no key order (no key): checkpoints keep the previous key.
   */
  lastKey?: readonly Value[]
}

/** The outcome of writing one batch. Every row given is either written or rejected. */
export interface WriteResult {
  /** Rows of the batch the target took. */
  written: number
  /** Rows of the batch the target refused, one error each (kind, key, column, the driver's fields). */
  rejected: RowError[]
  /**
   * Whether everything written so far is committed. `false`: the rows sit in an open transaction that a later
   * `write`, `close` or `abort` commits (writers that group batches per commit). Default true.
   */
  committed?: boolean
}

/** Writes the batches of one table. Obtained from {@link Connection.openWriter}. */
export interface TableWriter {
  /**
   * Writes one batch; rejects only the rows the target refuses, and writes the rest. Rows reach the target
   * atomically per commit (all rows written since the last commit, or none), and `committed` says when a
   * commit happened: resume relies on both.
   */
  write(rows: Row[]): Promise<WriteResult>
  /** Commits what is pending. */
  close(): Promise<void>
  /**
   * Stops after a failure: rolls back the batch in flight, and commits what `write` already reported written
   * (so that a checkpoint can record it).
   */
  abort?(): Promise<void>
}

/** A constraint or index that could not be created, was created without validation, or was created changed. */
export interface ConstraintProblem {
  /** The target table's name. */
  table: string
  /** The index's or constraint's name (for `sequence`, the identity or sequence the engine names). */
  name: string
  /** What it is: `sequence` is an identity/sequence position that could not be moved past the loaded keys. */
  kind: 'index' | 'unique' | 'foreign_key' | 'sequence'
  /**
   * `failed`: not created. `unvalidated`: created, but existing rows were not checked (orphans present).
   * `changed`: created in the nearest form the target allows, which differs from the source's (the message
   * says how; e.g. `ON DELETE SET NULL` on a NOT NULL column became `RESTRICT` on MariaDB).
   */
  outcome: 'failed' | 'unvalidated' | 'changed'
  /** What happened, with the target's reason (credentials redacted). */
  message: string
  /** For foreign keys: how many child rows point nowhere. */
  orphans?: number
}

/** Options for {@link Connection.prepareTarget}. */
export interface PrepareOptions {
  /** What to do with tables that already exist (see {@link TargetMode}). */
  mode: TargetMode
  /** The run's abort signal, checked between statements (an aborted preparation throws). Absent: never aborted. */
  signal?: AbortSignal
}

/** Options for {@link Connection.finalize}. */
export interface FinalizeOptions {
  /** Foreign keys known to have orphans: create them unvalidated where the engine allows it. */
  orphanedForeignKeys?: ReadonlyMap<string, number>
  /** The run's abort signal, checked between statements: an aborted finalize stops early. Absent: never aborted. */
  signal?: AbortSignal
}

/**
 * An open connection to one database, used as a source, a target, or both.
 * Sources implement `introspect`, `snapshot`, `count` and `read`; targets `prepareTarget`, `openWriter`
 * and `finalize`. A file format that is only a source throws a `UsageError` from the target methods.
 */
export interface Connection {
  /** The engine or file format it belongs to: its name and capabilities (and, for engines, its SQL). */
  readonly dialect: BaseDialect
  /** A display form of what it is connected to, with no password. */
  readonly description: string

  /** Reads the schema. `tables` narrows it when given. */
  introspect(options?: { tables?: readonly string[] }): Promise<DatabaseSchema>
  /** Starts a consistent read of the whole database; every later `read` sees the same data. */
  snapshot(options?: SnapshotOptions): Promise<SnapshotInfo>
  /** Exact or estimated row count, for progress. */
  count(table: TableSchema): Promise<number>
  /**
   * The smallest and largest key of a table whose primary key is one integer column, read inside the snapshot;
   * undefined for any other table or an empty one. The copy splits such a table into chunks by key ranges
   * (`--jobs`). Absent: tables are never split.
   */
  keyBounds?(table: TableSchema): Promise<{ min: Value; max: Value } | undefined>
  /**
   * Up to `count` keys that cut a table into about `count + 1` ranges of equal row counts, read inside the
   * snapshot: key tuples in the reader's own key order (the order `read` follows and `after`/`until` compare
   * in — the primary key, or SQLite's rowid), ascending (sampled or spread over the key span: ranges are about
   * equal, never wrong). The copy splits a table that `keyBounds` does not (a text, uuid, decimal, date or
   * composite key; a SQLite rowid table) at these keys (`--jobs`). Undefined, or none: not split this way.
   * Absent: never.
   */
  splitKeys?(table: TableSchema, count: number): Promise<Value[][] | undefined>
  /**
   * The number of pages a table without a primary key is stored in, read inside the snapshot, when `read` can
   * read page ranges of it quickly (`ReadOptions.pages`; PostgreSQL 14 and later: TID range scans). The copy
   * splits such a table by page ranges (`--jobs`). Undefined: not split. Absent: never.
   */
  pageCount?(table: TableSchema): Promise<number | undefined>
  /**
   * Shares the open snapshot (call after `snapshot()`) with other connections of the same database, which pass
   * the returned `id` to their `snapshot({ join })` and then read the very same data: PostgreSQL exports it
   * (`pg_export_snapshot()`); MySQL/MariaDB, with `lock`, restarts its snapshot under `FLUSH TABLES WITH READ
   * LOCK`, which holds every write until `release()` — call it once the others have joined. Absent, or
   * undefined: each connection reads its own snapshot, and the report says so. `lock` defaults to false.
   */
  exportSnapshot?(options?: { lock?: boolean }): Promise<SharedSnapshot | undefined>
  /** Streams a table in key order. */
  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch>
  /**
   * What identifies a source table's contents between two runs, read inside the snapshot: resume compares
   * it with the interrupted run's and refuses to continue when it differs. Absent: not checked.
   */
  tableState?(table: TableSchema): Promise<SourceTableState>
  /**
   * What database this connection reaches, as the server itself identifies it (not as the URL spells it):
   * two connections with equal `server` and `database` reach the same data, and a run between them would read
   * what it overwrites. Absent: not checked.
   */
  identity?(): Promise<DatabaseIdentity>

  /** Creates (or truncates, or checks) the target tables with primary and unique keys, no FKs. */
  prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void>
  /** Opens the bulk path for one table. */
  openWriter(table: TableSchema): Promise<TableWriter>
  /** Secondary indexes, foreign keys and sequence/identity positions, after the data. */
  finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]>

  /** Runs one SQL statement on the target (user-supplied views and functions). Absent for file formats. */
  execute?(sql: string): Promise<void>
  /**
   * Runs one SQL statement on the connection's own session and returns its rows as objects keyed by column name,
   * values as the driver gives them (dates and timestamps as text, never a `Date`; none for a statement that
   * returns no rows). `params` are bound in order to the engine's placeholders (`$1` PostgreSQL, `?` SQLite and
   * MySQL/MariaDB, `@p1` SQL Server). Change capture and catch-up use it. Absent: engines that cannot run SQL
   * (file formats, DuckDB).
   */
  query?(sql: string, params?: readonly Value[]): Promise<Record<string, unknown>[]>

  /**
   * Sources whose column types are not stored (CSV files): take the column types of these tables, which
   * already exist on the target (modes `truncate` and `append`), instead of inferring them. Called before
   * `introspect`. Absent: the source's own types are used.
   */
  useTargetTables?(tables: readonly TableSchema[]): void
  /**
   * Sources that are CSV files: a table's text as bytes, for the pass-through path (see {@link CsvText}), or
   * the reason it cannot be handed over unparsed (an option the contract cannot express, a header that does
   * not name the table's columns). Absent: never handed over.
   */
  csvText?(table: TableSchema): Promise<CsvText | string>
  /**
   * Targets with the `loadsCsv` capability: loads a whole table's CSV text in one transaction and leaves it
   * open for the caller to commit or roll back (see {@link CsvLoad}). Throws, with nothing left behind, when
   * the target refuses the text or `text.bytes` throws; returns a reason instead when it cannot take this
   * table's text at all (nothing was sent).
   */
  loadCsv?(table: TableSchema, text: CsvText, options: { signal?: AbortSignal }): Promise<CsvLoad | string>

  /**
   * In-process sources (SQLite): visits every row with the values `read` would yield (the array's first
   * entries; copy what you keep), without building batches; rows that do not convert are returned, not
   * visited. `verify` uses it instead of `read` when present. Absent: `read`.
   */
  scan?(table: TableSchema, visit: (row: Row) => void, options?: ScanOptions): Promise<{ rows: number; rejected: RowError[] }>
  /**
   * Servers that hash rows themselves (verify's engine-side hashing, see {@link SegmentHashes}); undefined
   * when this table's columns cannot be hashed exactly (then verify hashes in Node). Absent: never.
   */
  segmentHashes?(table: TableSchema, request: SegmentRequest): Promise<SegmentHashes | undefined>
  /** With `segmentHashes`: reads, like `read`, only the rows of the `wanted` segments of the same request. */
  readSegments?(table: TableSchema, request: SegmentRequest, wanted: readonly number[], options: ReadOptions): AsyncIterable<ReadBatch>

  /**
   * What the report should say about how this connection reads or writes, by the role it plays in the run
   * (e.g. a Kysely instance: rows written with INSERT statements, not COPY). Added to `report.snapshot.notes`.
   * Absent: nothing.
   */
  usageNotes?(role: 'source' | 'target'): string[]

  /** Ends the snapshot and closes the connection (or releases it when the user owns the pool). */
  close(): Promise<void>
}

/**
 * Where a connection's tables live: the server's own identity (PostgreSQL `system_identifier` and port,
 * MySQL `@@server_uuid`, SQL Server `@@SERVERNAME` and port, a file's device and inode), the database, and the
 * schema its unqualified tables are in (engines with schemas).
 */
export interface DatabaseIdentity {
  /** The server (or file, or in-memory instance) as one opaque string, e.g. `postgres:<system_identifier>:<port>:…`. */
  server: string
  /** The database on that server, as the server names it; engines without one say where (DuckDB: `file`, `memory`). */
  database: string
  /** The schema tables are read from or written to; absent on engines without schemas. */
  schema?: string
}

/** Options of {@link Connection.scan}. */
export interface ScanOptions {
  /** The run's abort signal. Absent: never aborted. */
  signal?: AbortSignal
  /** Called as each stretch of rows begins, with where it begins (opaque) and how many rows came before. */
  onStretch?(from: unknown, rowsBefore: number): void
  /** Start where a stretch began (a `from` of `onStretch`) instead of at the table's start. */
  from?: unknown
  /** Stop after this many rows (rejected ones included). Default: the table's end. */
  limit?: number
}

/** Which columns {@link Connection.segmentHashes} hashes, and what a row's segment is taken from. */
export interface SegmentRequest {
  /** Indexes into the table's columns, in the order they are hashed. */
  columns: readonly number[]
  /** Indexes of the columns whose values pick a row's segment (its key). Default (or empty): the row's hash. */
  key?: readonly number[]
  /** Number of segments, a power of two up to 65 536. */
  segments: number
  /** The run's abort signal. Absent: never aborted. */
  signal?: AbortSignal
}

/**
 * Per-segment row counts and order-independent sums of row hashes, computed by the server over its own text
 * rendering of the values. Two results compare only when their `renderer`s are equal (same engine, version
 * and settings, so equal values render equal text) and both hash columns of the same types.
 */
export interface SegmentHashes {
  /** Identifies the rendering: engine, version, encoding. */
  renderer: string
  /** Per segment that holds rows: its count and hash sums, as one comparable string. */
  sums: Map<number, string>
  /** Segments holding a row the reader would reject: compared row by row, where rejects are counted. */
  suspect: Set<number>
  /** The table's rows, as the server counted them. */
  rows: number
}

/**
 * A source table's state as resume compares it. Databases give the exact row count and the largest key in
 * read order; files their size and modification time. Two states are equal when every field is.
 */
export interface SourceTableState {
  /** Exact row count. */
  rows?: number
  /** The largest key in read order (primary key, or SQLite's rowid), as JSON. */
  maxKey?: string
  /** File sources: the file's size in bytes. */
  bytes?: number
  /** File sources: the file's modification time (ISO 8601). */
  modified?: string
}

/** A snapshot shared by {@link Connection.exportSnapshot}. */
export interface SharedSnapshot {
  /** What other connections pass to `snapshot({ join })`. */
  id: string
  /** Ends what holds the snapshot joinable (MySQL's read lock); call once every connection joined. Absent: nothing to end. */
  release?(): Promise<void>
}

/** Options of {@link Connection.snapshot}. */
export interface SnapshotOptions {
  /** An id from another connection's {@link Connection.exportSnapshot}: read exactly what that one reads. Default: a snapshot of its own. */
  join?: string
}

/** What consistency a source's snapshot gives. */
export interface SnapshotInfo {
  /** e.g. `one read transaction`, `REPEATABLE READ READ ONLY`, `none (file)`. */
  guarantee: string
  /**
   * What the source wants the report to show about how it was read: explicit type mappings, computed
   * columns not copied, script statements skipped. Optional; a source may fill it while introspecting.
   */
  notes?: string[]
  /**
   * Script sources: statements that would have changed data (CREATE TABLE, INSERT, UPDATE, DELETE, ALTER
   * TABLE) and were not applied, each listed in `notes` with its line and reason; SQLite sources: virtual
   * tables (FTS, R*Tree) holding data no target gets. A run with any is not clean (exit code 3). Default 0.
   */
  notApplied?: number
}

/**
 * How the bytes of a {@link CsvText} are written. Every character option is one ASCII character, and the
 * NULL rule is dbferry's: an unquoted field equal to `null` is NULL; a quoted field never is.
 */
export interface CsvTextFormat {
  /** The field delimiter. */
  delimiter: string
  /** The quote character. */
  quote: string
  /** The character before a quote (or itself) inside a quoted field; equal to `quote` for doubled quotes. */
  escape: string
  /** The unquoted field that means NULL. */
  null: string
  /** The first record is a header, to be skipped. */
  header: boolean
  /** UTF-8, or ISO-8859-1 (each byte one character); a source transcodes anything else to UTF-8. */
  encoding: 'utf8' | 'latin1'
}

/**
 * A table's CSV text, handed to a target that parses CSV itself (the pass-through path). The source
 * promises that parsing it as strict CSV gives exactly the rows its own reader would give: iterating
 * `bytes` checks every record as it goes — strict quoting, no blank lines, the header's field count, and
 * every field of a typed column in the canonical text of its value (`12`, `12.50`, `2024-01-02 10:00:00.5`,
 * `\x0a…`, `2024-01-02 10:00:00+02:00`) or in one of these spellings of it: a boolean as any of
 * `true/false t/f yes/no y/n on/off 1/0` in any case, a float in any decimal or exponent form or
 * `NaN`/`inf`/`Infinity`, a time with trailing fractional zeros, a UUID in upper case — and throws where a
 * field is not, so the caller can roll back and take the row path instead. A target with `loadsCsv` must
 * read all of these as the value dbferry would have written, and refuse (throw) rather than change what it
 * cannot store. A text marked `native` is instead one engine's own output, for a target of that engine only.
 */
export interface CsvText {
  /** How the bytes are written. */
  format: CsvTextFormat
  /** The source's column names in the order of the file's fields. */
  columns: readonly string[]
  /**
   * The bytes, from the start of the header (or first record), without a byte-order mark. `Uint8Array` (a
   * `Buffer` is one) keeps the published types free of `@types/node`.
   */
  bytes: AsyncIterable<Uint8Array>
  /** Once `bytes` is exhausted: how many records it held (the header not counted). */
  records(): number
  /**
   * Once `bytes` is exhausted: the line the last record starts on (the reader's key for checkpoints). Absent
   * for a database's text, which has no lines to resume after: a crash between the load's commit and its
   * checkpoint then makes a resume copy the table again.
   */
  lastLine?(): number
  /**
   * The engine whose own text forms the fields are in (a database's `COPY … TO` output, as that engine reads
   * it back), not the canonical text above: only a target of this engine takes it. Absent: canonical text.
   */
  native?: string
}

/** A table loaded by {@link Connection.loadCsv} and not yet committed. */
export interface CsvLoad {
  /** Rows the target loaded, as it counts them. */
  rows: number
  /** Commits the load. */
  commit(): Promise<void>
  /** Rolls the load back: the table holds what it held before. */
  rollback(): Promise<void>
}

/**
 * A folding function that maps a string to the key a target's unique index compares (case, accents,
 * trailing spaces). Used by the preflight to find values that collide only on the target.
 */
export type CollationFolder = (value: string) => string

/**
 * What every entry of the registry is — an engine (a folder under `dialects/`) or a file format (under
 * `src/formats/`): a name, capabilities and a way to open connections. Engines are {@link Dialect}s, which add
 * the type map, the SQL builder and the error map.
 */
export interface BaseDialect {
  /** `sqlite`, `postgres`, `mysql`, `mssql`, `duckdb`, or a file format name (`csv`, `tsql`, …). */
  readonly name: string
  /** What it can do; the core branches on these, never on `name`. */
  readonly capabilities: DialectCapabilities
  /** Engines: the type map. File formats: absent. */
  readonly types?: DialectTypes
  /** Engines: statements as this engine writes them. File formats: absent. */
  readonly sql?: DialectSql
  /** Engines: what a driver error means. File formats: absent. */
  readonly errors?: DialectErrors
  /**
   * The folding a unique key on this target applies to text, given the column's collation (or the default).
   * Absent or returning undefined: binary comparison.
   */
  collationFolder?(collation: string | undefined): CollationFolder | undefined
  /**
   * Opens a connection from a URL (`sqlite:./x.db`, `postgres://…`), dialect-specific options, or a driver
   * object the caller holds (a `pg` Pool, a `mysql2` pool, a better-sqlite3 Database, …; see {@link Dialect.accepts}).
   * A connection opened on the caller's object never closes that object.
   */
  connect(target: string | object, options?: ConnectOptions): Promise<Connection>
  /**
   * Engines whose database is one local file: the file a URL names (`sqlite:./x.db` → `./x.db`), or undefined
   * for an in-memory database. Absent: the engine is a server.
   */
  localFile?(url: string): string | undefined
}

/**
 * An engine: a factory of connections and everything it knows about its SQL. One per folder under
 * `dialects/`, as `<d>-dialect.ts`; the registry (`src/registry.ts`) names it. `<d>-dialect.ts`,
 * `<d>-types.ts`, `<d>-sql.ts` and `<d>-errors.ts` never load the driver (file formats use the type map and
 * the SQL builder without it); `connect` loads it lazily and, when it is missing, throws a `not_available`
 * {@link UsageError} naming the package (see `src/drivers.ts`).
 */
export interface Dialect extends BaseDialect {
  /** The type map, both directions. */
  readonly types: DialectTypes
  /** Statements as this engine writes them. */
  readonly sql: DialectSql
  /** What its driver's errors mean. */
  readonly errors: DialectErrors
  /** The npm packages `connect` needs (e.g. `['pg', 'pg-copy-streams']`). */
  readonly drivers: readonly string[]
  /**
   * Whether `target` is a connection object of this engine's driver that the caller holds (a pool, a client,
   * a database handle): `connect` then uses it and never closes it. Duck-typed; never loads the driver.
   */
  accepts(target: unknown): boolean
  /**
   * The Kysely dialect adapters (class names, e.g. `PostgresAdapter`) whose Kysely instances `accepts` takes:
   * such a connection runs plain statements on one connection of the caller's Kysely (no bulk path). Absent:
   * none.
   */
  readonly kyselyAdapters?: readonly string[]
  /**
   * How this engine records changed rows for a short cut-over (`captureChanges`, `catchUp`, `cutover`): the
   * change table and the triggers. Absent: the engine cannot capture changes (DuckDB).
   */
  readonly changes?: ChangeCaptureSql
}

/**
 * A type as an engine spells it, mapped to nothing: `toLogical` returns this for a type it cannot carry (a
 * spatial type, `hierarchyid`), with the reason; a column of it is reported, not guessed at.
 */
export interface TypeRejection {
  /** Why no logical type carries it, as the report or error shows it (`PostgreSQL type … has no logical type …`). */
  reject: string
}

/**
 * An engine's type map, both directions. Each dialect keeps the map as data (tables keyed by type name) and
 * these two functions read it. A single column's type is overridden with the `overrideType` transform.
 */
export interface DialectTypes {
  /** The DDL type for a logical type (`{ kind: 'decimal', precision: 10, scale: 2 }` → `numeric(10,2)`). */
  toNative(type: LogicalType): string
  /**
   * A type as this engine declares it in DDL (`decimal(10,2)`, `nvarchar(max)`, `int unsigned`,
   * `enum('a','b')`, `timestamp with time zone`; case-insensitive) → its logical type, or why it has none.
   */
  toLogical(declared: string): LogicalType | TypeRejection
  /**
   * Whether a text column of this engine holds only characters up to U+FFFF (MySQL's 3-byte `utf8mb3`
   * character set), so that the preflight can list text it cannot store. Absent: every character fits.
   */
  bmpOnly?(column: ColumnSchema): boolean
}

/** Options of {@link DialectSql.createTable}. */
export interface CreateTableOptions {
  /** The engine the table was read from: a same-engine copy keeps native types (`nativeType`) where it can. */
  sourceDialect?: string
  /** The schema (namespace) to create it in, on engines that have schemas. Default: none (the name unqualified). */
  schema?: string
}

/**
 * How a SQL script for this engine is framed (the `sqlscript:` target writes one): statements before and after
 * everything, and around one table's INSERTs.
 */
export interface ScriptFrame {
  /** Statements before anything else (client encoding, `BEGIN`, checks off). */
  readonly header: readonly string[]
  /** Statements at the very end (`COMMIT`, checks on). */
  readonly footer: readonly string[]
  /** Statements before and after one table's INSERTs (SQL Server's `IDENTITY_INSERT`). Absent: none. */
  aroundInserts?(table: TableSchema): [string[], string[]]
  /** Rows per INSERT statement for a table of `columns` columns. */
  rowsPerInsert(columns: number): number
  /**
   * Where a script holds less than the live engine (SQLite's literals cannot carry U+0000: `textHoldsNul:
   * false`). Default: the engine's own capabilities.
   */
  readonly capabilities?: Partial<Pick<DialectCapabilities, 'textHoldsNul' | 'floatHoldsNonFinite' | 'maxTimestampPrecision'>>
}

/**
 * Statements as one engine writes them. Identifiers are always quoted; values go as parameters or through the
 * bulk path, except in {@link DialectSql.literal}, which a script target needs. No driver is loaded.
 */
export interface DialectSql {
  /** Quotes one identifier (`"a""b"`, `` `a``b` ``, `[a]]b]`). */
  quoteIdentifier(name: string): string
  /** A table's name as statements write it: schema-qualified on engines with schemas when one is known. */
  tableName(table: { name: string; schema?: string }, defaultSchema?: string): string
  /** CREATE TABLE with columns, defaults, identity, the primary key and unique keys (no foreign keys). */
  createTable(table: TableSchema, options?: CreateTableOptions): string
  /** DROP TABLE if it exists. */
  dropTable(table: TableSchema): string
  /** CREATE INDEX, or undefined when the engine cannot express this index (an expression index). */
  createIndex(table: TableSchema, index: IndexSchema): string | undefined
  /**
   * ALTER TABLE … ADD FOREIGN KEY, or undefined where foreign keys can only be declared in CREATE TABLE
   * (SQLite, DuckDB): those engines' `createTable` declares them instead when `foreignKeysInCreate` is set.
   */
  addForeignKey(table: TableSchema, fk: ForeignKeySchema): string | undefined
  /** Whether `createTable` declares the table's foreign keys (engines that cannot add them later). */
  readonly foreignKeysInCreate: boolean
  /** Statements after the data that move identity/sequence positions past the loaded keys. */
  resetIdentity(table: TableSchema): string[]
  /** A literal for a canonical value in a column (escaping by this engine's rules). */
  literal(value: Value, column: ColumnSchema): string
  /** How a script for this engine is framed. */
  readonly script: ScriptFrame
}

/**
 * A driver error's own fields, as the driver gave them (credentials redacted): `code` (PostgreSQL SQLSTATE,
 * mysql2 `ER_…`, SQLite `SQLITE_CONSTRAINT_UNIQUE`, SQL Server's number as text, DuckDB's error type),
 * `sqlState`, `errno`, `constraint`, `table`, `column`, `detail`, `message`. Kept on {@link DbferryError.driver}.
 */
export type DriverErrorFields = DriverFields

/** A driver error read by {@link DialectErrors.classify}. */
export interface ClassifiedError {
  /**
   * The failure kind: `not_null`, `duplicate_key`, `foreign_key_violation`, `check_violation`, `truncation`,
   * `out_of_range`, `invalid_encoding`, `serialization_failure`, `connection`, or `target_rejected` for an
   * error of the engine that none of these names.
   */
  kind: FailureKind
  /** The driver error's own fields (code, SQLSTATE, constraint, table, column, message), credentials redacted. */
  driver: DriverErrorFields
  /** The connection is gone: the run stops with a resumable `ConnectionError`. */
  connectionLost: boolean
  /** Running the statement again may succeed (deadlock, serialization failure). */
  retryable: boolean
}

/** What a driver's errors mean, the same way for every engine. */
export interface DialectErrors {
  /** Reads a driver error; undefined when `error` is not one of this engine's driver (a bug, a TypeError). */
  classify(error: unknown): ClassifiedError | undefined
}

/** Options common to every `connect`. */
export interface ConnectOptions {
  /** Used as a target: create the database file / schema if missing. Default false. */
  create?: boolean
  /** Fallback encoding for text that is not valid UTF-8 (e.g. `cp1252`). Default none: such rows are rejected. */
  fallbackEncoding?: string
  /** PostgreSQL/SQL Server schema. */
  schema?: string
  /**
   * MySQL/MariaDB sources: zero dates (`0000-00-00`, a zero month or day) are read as NULL, counted and
   * journaled (`null`, the default), or reject their row with kind `zero_date` (`reject`).
   */
  zeroDates?: 'null' | 'reject'
  /**
   * Servers: how long connecting may take before it fails with a `ConnectionError`, in milliseconds. Also the URL
   * parameter `connect_timeout` (seconds). Default 30 000.
   */
  connectTimeoutMs?: number
  /**
   * Servers: how long a read or write may go without a byte either way before the run ends with a resumable
   * `ConnectionError` naming the server and the table, in milliseconds; 0 never. Also the URL parameter
   * `stallTimeoutMs`. Default 300 000 (5 minutes).
   */
  stallTimeoutMs?: number
  /**
   * SQLite sources: what a number in a `DATE`/`DATETIME`/`TIMESTAMP` column means — Unix seconds
   * (`unixepoch`), Unix milliseconds (`unixepoch-ms`) or a Julian day number (`julianday`), each read as UTC;
   * `reject` (the default) rejects its row, showing the value. Also `?numericTimestamps=…` on the `sqlite:` URL.
   */
  sqliteNumericTimestamps?: 'reject' | 'unixepoch' | 'unixepoch-ms' | 'julianday'
}

/**
 * The change capture of one engine, as SQL text (no driver): a change table `dbferry_changes` of the same shape
 * on every engine — `id` (auto-increment), `table_name`, `key_json` (the row's primary-key values as a JSON
 * array, in key order) and `changed_at` — and triggers that add an entry for every row inserted, updated (the
 * old key, and the new one when the key changed) or deleted. `schema` is the namespace the tables are in on
 * engines with schemas (undefined: the session's default).
 */
export interface ChangeCaptureSql {
  /** What records the changes, for reports and docs (e.g. `AFTER INSERT OR UPDATE OR DELETE row triggers (plpgsql)`). */
  readonly mechanism: string
  /** Statements that create the change table (and shared trigger functions) when missing. */
  createChangeTable(schema: string | undefined): string[]
  /** Statements that drop the change table and shared trigger functions, when present. */
  dropChangeTable(schema: string | undefined): string[]
  /** Statements that install capture on one table with a primary key, replacing an earlier installation. */
  install(table: TableSchema, schema: string | undefined): string[]
  /** Statements that remove capture from one table; nothing fails when it is not installed. */
  remove(table: string, schema: string | undefined): string[]
  /** A SELECT of the capture triggers present, one row per trigger: columns `table_name` and `trigger_name`. */
  listTriggers(schema: string | undefined): string
  /** A SELECT of whether the change table exists: one row when it does, none otherwise. */
  changeTableExists(schema: string | undefined): string
  /**
   * A SELECT of the first `limit` change entries in id order, past id `after` when given (paging only: entries
   * are removed by their ids, never by a watermark): columns `id`, `table_name`, `key_json`.
   */
  readChanges(limit: number, schema: string | undefined, after?: bigint): string
  /** A DELETE of exactly the change entries with these ids. */
  deleteChanges(ids: readonly (number | bigint)[], schema: string | undefined): string
  /**
   * Statements that insert a row, or update the row with its key when one exists (`literals` are the
   * engine's literals of `columns`' values, aligned; the key columns are among them). Identity columns take
   * the given values.
   */
  upsert(table: TableSchema, columns: readonly string[], literals: readonly string[], schema: string | undefined): string[]
}
