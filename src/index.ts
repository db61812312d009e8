/**
 * dbferry: move whole databases — schema and rows — among SQLite, SQL Server, MySQL/MariaDB and PostgreSQL.
 *
 * @example
 * import { ferry } from 'dbferry'
 * const report = await ferry({ from: 'sqlite:./app.db', to: 'postgres://postgres@127.0.0.1/app' })
 */
export { ferry, prepareRun, type FerryOptions, type PreparedRun } from './ferry.js'
export { connect, dialectFor, registerDialect, schemeOf, type ConnectionSpec } from './connect.js'
export type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  Dialect,
  DialectCapabilities,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SnapshotInfo,
  SourceTableState,
  TableWriter,
  TargetMode,
  WriteResult,
  CollationFolder,
} from './dialect.js'
export * from './errors.js'
export type * from './schema/types.js'
export { fitIdentifiers, shortenIdentifier, type IdentifierPolicy, type Rename } from './schema/identifiers.js'
export { isSelected, type DeclaredForeignKey, type TableMatcher, type TableSelection } from './schema/select.js'
export {
  ConversionFailure,
  canonicalDate,
  canonicalDecimal,
  canonicalTime,
  canonicalTimestamp,
  canonicalTimestampTz,
  makeConverter,
  type Converter,
} from './schema/values.js'
export { rowKey, rowToJson, valueToJson } from './schema/rows.js'
export { groupStages, orderTables, type DeferredForeignKey, type LoadOrder } from './plan/order.js'
export type { ProgressEvent } from './pipeline/progress.js'
export { exitCodeOf, type Report, type RowProblem, type TableReport, type Totals } from './report.js'
export { MemoryJournal, type Checkpoint, type Journal, type JournalAction, type JournalEntry, type JournalRun } from './journal/journal.js'
export { openJournal } from './journal/open.js'
export type { BatchOutcome, KeySet, SchemaContext, TableTransformer, Transform, TransformContext } from './transforms/transform.js'
export { plan, type PlanOptions, type PlanReport, type PreflightIssue, type PreflightKind, type PreflightExample } from './plan/plan.js'
export { transforms } from './transforms/index.js'
export * from './transforms/index.js'
export { defineConfig, type FerryConfig } from './config/define-config.js'
export { loadConfig, type LoadedConfig } from './config/load-config.js'
export { orderObjects, runObjects, objectsFromFolder, type ObjectOutcome } from './pipeline/objects.js'
export { installCompat, type CompatPack, type InstallCompatOptions, type InstallCompatResult } from './compat/install.js'
export { csv, type CsvConnectOptions, type CsvOptions } from './formats/csv/index.js'
export { multicsv, type MultiCsvConnectOptions } from './formats/multicsv/index.js'
export { mysqldump, rewriteDump, type RewriteDumpOptions, type RewriteDumpResult } from './formats/mysqldump/index.js'
export { sqlscript, type SqlScriptConnectOptions } from './formats/sqlscript/index.js'
export { tsql, type SkippedStatement } from './formats/tsql/index.js'
export { verify, formatVerifyReport, type VerifyOptions, type VerifyReport, type TableVerification, type RowKeyObject, type Tolerances, type ColumnTolerance, type VerifyHashing } from './verify/index.js'
export { backup, restore, type BackupOptions, type BackupResult } from './backup.js'
