/**
 * dbferry: move whole databases — schema and rows — among SQLite, SQL Server, MySQL/MariaDB, PostgreSQL and
 * DuckDB. This entry is what a user writes: `ferry`, `plan`, `verify`, the transforms, `defineConfig`, the
 * error classes, and the report and option types. Each engine has its own subpath (`dbferry/postgres`, …) and
 * the helpers for testing a migration are in `dbferry/testing`.
 *
 * @example
 * import { ferry } from 'dbferry'
 * const report = await ferry({ from: 'sqlite:./app.db', to: 'postgres://postgres@127.0.0.1/app' })
 */
export { ferry } from './ferry.js'
export { BATCH_DEFAULTS, type FerryOptions } from './options.js'
export { plan, type PlanOptions, type PlanReport, type PreflightIssue, type PreflightKind, type PreflightExample } from './plan/plan.js'
export { verify, formatVerifyReport, buildExpectations, type VerifyOptions, type VerifyReport, type TableVerification, type RowKeyObject, type Tolerances, type ColumnTolerance, type VerifyHashing, type CopyExpectations, type TableExpectations, type ExpectationEntry, type ExpectationRunReport } from './verify/index.js'
export { exitCodeOf, type Report, type RowProblem, type TableReport, type Totals } from './report.js'
export type { ProgressEvent } from './pipeline/progress.js'
export type { LoadOrder, DeferredForeignKey } from './plan/order.js'
export type { Rename, IdentifierPolicy } from './schema/identifiers.js'
export type { DeclaredForeignKey, TableMatcher, TableSelection } from './schema/select.js'

// transforms: one namespace object, and the types of their options and of a transform of your own
export { transforms } from './transforms/index.js'
export type {
  CollapseMultilineOptions,
  ConvertEncodingOptions,
  DedupeOptions,
  KeepRule,
  RowObject,
  FilterRowsOptions,
  DanglingRow,
  DanglingStrategy,
  FixDanglingForeignKeysOptions,
  ForeignKeyStrategy,
  StubFunction,
  StubInfo,
  KeyValue,
  MapColumnOptions,
  Folding,
  NormalizeOption,
  OverrideTypeOptions,
  RenameOptions,
  RewriteCharsetOptions,
  RewriteEngineOptions,
  TablesOptions,
  BatchOutcome,
  KeySet,
  SchemaContext,
  TableTransformer,
  Transform,
  TransformContext,
} from './transforms/index.js'
export { DanglingForeignKeyError } from './transforms/index.js'

export { defineConfig, type FerryConfig } from './config/define-config.js'
export { loadConfig, type LoadedConfig } from './config/load-config.js'

// errors: the classes a caller catches, the failure kinds, and the redaction every message goes through
export * from './errors.js'

// journals: a file (`journal: './x.sqlite'`), or one of your own
export { MemoryJournal, type Checkpoint, type Journal, type JournalAction, type JournalEntry, type JournalRun } from './journal/journal.js'
export { openJournal } from './journal/open.js'

// connections: URLs, open connections, or driver objects the caller holds; engines and formats of your own
export { connect, type ConnectionSpec } from './connect.js'
export { registerDialect } from './registry.js'
export type {
  BaseDialect,
  ChangeCaptureSql,
  ClassifiedError,
  CollationFolder,
  ConnectOptions,
  Connection,
  ConstraintProblem,
  CreateTableOptions,
  DatabaseIdentity,
  Dialect,
  DialectCapabilities,
  DialectErrors,
  DialectSql,
  DialectTypes,
  DriverErrorFields,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  ScriptFrame,
  SnapshotInfo,
  SnapshotOptions,
  SharedSnapshot,
  SourceTableState,
  TableWriter,
  TargetMode,
  TypeRejection,
  WriteResult,
} from './dialect.js'
export type * from './schema/types.js'

// file formats' options, SQL Server → PostgreSQL objects, backups and dump rewriting
export type { CsvConnectOptions, CsvOptions } from './formats/csv/index.js'
export type { MultiCsvConnectOptions } from './formats/multicsv/index.js'
export { rewriteDump, type RewriteDumpOptions, type RewriteDumpResult } from './formats/mysqldump/index.js'
export type { SqlScriptConnectOptions } from './formats/sqlscript/index.js'
export type { SkippedStatement } from './formats/tsql/index.js'
export { objectsFromFolder, type ObjectOutcome } from './finish/objects.js'
export { installCompat, type CompatPack, type InstallCompatOptions, type InstallCompatResult } from './compat/install.js'
export { backup, restore, type BackupOptions, type BackupResult } from './backup.js'

// short cut-over: record changes during the copy, apply them, switch over
export { captureChanges, removeCapture, type CaptureOptions, type CaptureReport, type NotCaptured, type RemoveCaptureReport } from './catchup/capture.js'
export { catchUp, type CatchUpOptions, type CatchUpReport, type CatchUpTableReport, type CatchUpReject } from './catchup/catch-up.js'
export { cutover, type CutoverOptions, type CutoverReport } from './catchup/cutover.js'

// Copy through a queue (`ferry({ queue })`): the workers that copy its chunks, and its status
export { runWorker, type WorkerEvent, type WorkerOptions, type WorkerSummary } from './queue/worker.js'
export { formatQueueStatus, queueStatus, type QueueRunStatus, type QueueStatus, type QueueTableStatus } from './queue/status.js'
