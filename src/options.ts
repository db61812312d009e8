import type { ConnectionSpec } from './connect.js'
import type { TargetMode } from './dialect.js'
import type { Journal } from './journal/journal.js'
import type { ProgressEvent } from './pipeline/progress.js'
import type { IdentifierPolicy } from './schema/identifiers.js'
import type { DeclaredForeignKey, TableSelection } from './schema/select.js'
import type { LogicalType } from './schema/types.js'
import type { Transform } from './transforms/transform.js'

/**
 * Batches of a copy: rows and bytes a batch holds at most. 5 000 rows: against 10 000, the same wall time within
 * a few per cent on every pair and 20–35 % less peak RSS (1M rows, three alternating runs each, bench/README.md
 * "Batch size").
 */
export const BATCH_DEFAULTS = {
  /** Rows per batch. Default 5 000. */
  rows: 5_000,
  /** Approximate bytes per batch. Default 8 MiB. */
  bytes: 8 << 20,
} as const

/**
 * Whether `jobs` above 1 copy chunks in worker threads when `threads` is not set (see {@link FerryOptions.threads}):
 * false. On a 2-core machine with the database on it, SQLite → PostgreSQL 1M rows with `jobs: 2` took the same
 * wall time in threads as in the main thread, with about a quarter more CPU seconds and 70 MB more peak RSS
 * (docs/parallel-copy.md, "In worker threads"): threads pay only where dbferry's own thread is what limits.
 */
export const THREADS_DEFAULT = false

/** Options of {@link ferry}. */
export interface FerryOptions {
  /**
   * The source: a URL (`sqlite:./x.db`, `postgres://…`), an open {@link Connection}, or a driver object you
   * hold (a `pg` Pool, a `mysql2` pool, a better-sqlite3 Database, an `mssql` ConnectionPool, a DuckDB
   * connection). dbferry never closes what it did not open.
   */
  from: ConnectionSpec
  /** The target: a URL, an open {@link Connection}, or a driver object you hold (as `from`). */
  to: ConnectionSpec
  /** Which tables to copy. Default: all. */
  tables?: TableSelection
  /** Foreign keys the source does not declare (SQLite files without them, MyISAM). */
  foreignKeys?: readonly DeclaredForeignKey[]
  /** Per-column logical type overrides, keyed `table.column`. */
  types?: Readonly<Record<string, LogicalType>>
  /** Schema and row transforms, applied in order. Default none. */
  transforms?: readonly Transform[]
  /** What to do with target tables that exist. Default `create` (fail if one exists); `append` with `dataOnly`. */
  mode?: TargetMode
  /**
   * Create the target's tables, indexes, foreign keys (and views and functions) and copy no rows: every table
   * is reported `skipped`. Not with `dataOnly` or `verify`. Default false.
   */
  schemaOnly?: boolean
  /**
   * Copy rows only, into tables the target already has (made by a `schemaOnly` run or by the application):
   * a table the target lacks stops the run before anything is written, and no table is created. The mode is
   * `append` (default) or `truncate`. After the rows, sequence/identity positions are set; indexes and
   * foreign keys the target has are recognised, not created again. Not with `schemaOnly`. Default false.
   */
  dataOnly?: boolean
  /** Name rules on the target. Default: preserve case, shorten long names with a hash. */
  identifiers?: IdentifierPolicy
  /** Rows per batch. Default 5 000 ({@link BATCH_DEFAULTS}). */
  batchRows?: number
  /** Approximate bytes per batch. Default 8 MiB. */
  batchBytes?: number
  /**
   * Tables copied at once when the plan allows it, the source can read tables concurrently in one snapshot
   * and the target can write them without sharing a transaction (`concurrentWrites`). Default 1.
   */
  concurrency?: number
  /**
   * Jobs that copy at once, each with a source and a target connection of its own (opened from the `from`/`to`
   * URLs): chunks of one table split by its key (see `chunkRows`) and whole tables. PostgreSQL sources
   * share one exported snapshot among the jobs; other sources read a snapshot per job (the report says so).
   * Needs URLs for both ends, engines that take several connections at once (`parallelConnections`) and no
   * transforms; otherwise one job, noted in the report. Default: 1, or with `threads` one per two cores, at
   * most 8 (`defaultJobs`).
   */
  jobs?: number
  /**
   * With `jobs` above 1 on a MySQL/MariaDB source: start every job's snapshot under one brief `FLUSH TABLES
   * WITH READ LOCK` (writes wait until all jobs started; needs the RELOAD privilege), so that all read the same
   * moment. Default false: each job starts its own snapshot, and the report says the copy is consistent only
   * on a quiet source.
   */
  snapshotLock?: boolean
  /**
   * With `jobs` above 1: rows a chunk aims at when a table whose primary key is one integer column is split
   * by key ranges (from the row estimate; a table of fewer than twice this many rows is one chunk). Default 250 000.
   */
  chunkRows?: number
  /**
   * With `jobs` above 1: copy the chunks of split tables in `jobs` worker threads, each with a source and a
   * target connection of its own opened from the URLs, so that reading, converting and encoding use more than
   * one core. The main thread keeps the journal (a thread's write waits until its checkpoint is written there),
   * the progress, the report, the tables that are not split and the early finishing of loaded tables, on the
   * run's own connections. Where threads cannot be used (a scheme registered with `registerDialect`) the jobs run
   * in the main thread and the report says why. Default false: every job in the main thread (`THREADS_DEFAULT`).
   */
  threads?: boolean
  /**
   * Copy through a queue: the PostgreSQL URL of a queue database (pg-boss). This process plans the run (tables,
   * chunks), enqueues one job per chunk, and waits while workers (`dbferry worker --queue …`, on any number of
   * machines) copy them; it finishes each table once its chunks and its parents are loaded, and reports as a
   * local run does. Needs URLs for both ends and no transforms; see docs/scale-out.md. Default: none (a local run).
   */
  queue?: string
  /**
   * With `queue`: seconds without a heartbeat after which a worker is taken for dead and its chunk handed to
   * another (which goes on from what the target holds). Default 30.
   */
  queueStaleSeconds?: number
  /** With `queue`: retries of a chunk whose copy failed, before the run fails. Default 2. */
  queueRetries?: number
  /** A journal file path (SQLite), a {@link Journal}, or false. Default: none (the report keeps examples). */
  journal?: string | Journal | false
  /** How many rejected/dropped rows per table the report lists. Default 20. */
  maxExamples?: number
  /** Fallback encoding for source text that is not valid UTF-8 (e.g. `cp1252`). Default: reject such rows. */
  fallbackEncoding?: string
  /** Remove U+0000 from text for targets that cannot store it, instead of rejecting. Default false. */
  stripNul?: boolean
  /**
   * A decimal with more places than its target column's scale: `reject` the row (journaled as `truncation`,
   * naming the value), or `round` it half away from zero and count a `decimal_rounded` fix. Default `reject`.
   */
  decimals?: 'reject' | 'round'
  /** User-supplied SQL for views and functions, run after the data in dependency order. */
  objects?: Readonly<Record<string, string>>
  /**
   * Continue the latest interrupted run between the same source and target, from its journal's checkpoints:
   * finished tables are skipped, the table in progress continues after its last committed batch. Needs a
   * `journal`. Default false.
   */
  resume?: boolean
  /**
   * Scan the source for what would fail on the target before anything is created (collation collisions,
   * orphan keys, values the target cannot hold; see `plan`). `report` puts the issues in `report.preflight`;
   * `stop` also throws a `PreflightError` when any issue other than a renamed identifier is found. Default `off`.
   */
  preflight?: 'off' | 'report' | 'stop'
  /**
   * Compare source and target after the copy (`verify()`), expecting the rows the run rejected or dropped to
   * be missing. The report's `verify` holds the outcome; a difference makes the run not `clean`. Default false.
   */
  verify?: boolean
  /**
   * Before a run changes an existing SQLite target (modes truncate, append, recreate, or resume), copy it with
   * SQLite's online backup API to this path, or beside the file (`<file>.<time>.backup`) when true.
   * Default true.
   */
  backup?: boolean | string
  /**
   * Let a CSV table that no transform touches go to a target that parses CSV itself (PostgreSQL) as the
   * file's bytes, checked and counted on the way, falling back to the row path for anything the check or
   * the target refuses (`report.tables[].path` says which path a table took). Default true.
   */
  passThrough?: boolean
  /** Called with progress events. */
  onProgress?: (event: ProgressEvent) => void
  /** Aborts the run between batches. */
  signal?: AbortSignal
}
