import type { Connection, WriteResult } from '../dialect.js'
import type { RowError, RowFailureKind } from '../errors.js'
import type { LoadOrder } from '../plan/order.js'
import type { DatabaseSchema, Row, TableSchema } from '../schema/types.js'

/**
 * The transform contract. A transform may change the schema before tables are created (`schema`), and/or
 * process each table's batches (`table`). Every row a batch processor does not pass on must be reported
 * through {@link BatchOutcome} — the engine checks the count and fails the run with an `AccountingError`
 * otherwise, so no transform can lose a row silently.
 */
export interface Transform {
  /** Shown in errors, the report and the journal, e.g. `dedupe(auth_user.email)`. */
  readonly name: string
  /** Changes the schema model (names, types, engines). Runs in the order transforms are given. */
  schema?(schema: DatabaseSchema, ctx: SchemaContext): DatabaseSchema
  /** Runs once, after the target tables exist and before any row moves. */
  start?(ctx: TransformContext): void | Promise<void>
  /** A batch processor for one table, or undefined to leave it alone. `table` is the target's table. */
  table?(table: TableSchema, ctx: TransformContext): TableTransformer | undefined | Promise<TableTransformer | undefined>
  /** Runs once after every table is loaded and before keys are created. */
  end?(ctx: TransformContext): void | Promise<void>
}

/** What schema steps are told. */
export interface SchemaContext {
  /** The target dialect's name. */
  readonly targetDialect: string
  /** The source dialect's name. */
  readonly sourceDialect: string
}

/** Processes one table's batches. */
export interface TableTransformer {
  /**
   * Returns the rows that go on: the rows given, changed in place or not, or new ones. Others must be
   * reported to `out`. The rows given belong to the chain: a processor may change them in place (after
   * reporting the change: `out.fix` reads the row's key and the value at once), and must copy any row it keeps
   * once it has returned, since a later transform may change it.
   */
  batch(rows: Row[], out: BatchOutcome): Row[] | Promise<Row[]>
  /** After the last batch: rows held back until now (e.g. `keep: 'last'`), reported like `batch`. */
  end?(out: BatchOutcome): Row[] | void | Promise<Row[] | void>
}

/** How a batch processor reports what it did with rows. */
export interface BatchOutcome {
  /** The row is intentionally not written (dedupe, filter, dangling FK `drop`). Journaled as dropped. */
  drop(row: Row, kind: Extract<RowFailureKind, 'duplicate_dropped' | 'filtered' | 'dangling_foreign_key'>, message: string, column?: string): void
  /** The row cannot be written. Journaled as rejected. */
  reject(error: RowError): void
  /** A value was changed; counted per column in the report and journaled (`detail` as the journal's message). */
  fix(column: string, row?: Row, detail?: string): void
  /** Records a remapping of a key (dedupe): `from` key now means `to`. Journaled for "who was merged into whom". */
  remap?(from: unknown, to: unknown, detail?: string): void
}

/** What transforms can use during the copy. */
export interface TransformContext {
  /** The run's source connection (in its snapshot). */
  readonly source: Connection
  /** The run's target connection. */
  readonly target: Connection
  /** The target schema (after schema transforms and identifier rules). */
  readonly schema: DatabaseSchema
  /** The source schema as introspected (plus user-declared foreign keys). */
  readonly sourceSchema: DatabaseSchema
  /** The load order of the run: parents first, and the foreign keys it had to defer. */
  readonly order: LoadOrder
  /** State shared between transforms of one run, e.g. dedupe's remap tables for fixDanglingForeignKeys. */
  readonly state: Map<string, unknown>
  /** Reads a whole source table (target layout), e.g. to choose the last duplicate before any is written. */
  scan(table: string): AsyncIterable<Row[]>
  /**
   * Writes rows into a target table (e.g. stub parents). Counted as `inserted` for that table and journaled.
   */
  insert(table: string, rows: Row[], reason: string): Promise<WriteResult>
  /** Creates a key set with bounded memory (spills to a temporary SQLite file past its limit). */
  keySet(name: string): Promise<KeySet>
  /** The run's abort signal. Absent: the run has none. */
  readonly signal?: AbortSignal
}

/** A set of keys (strings) with bounded memory. */
export interface KeySet {
  /** Adds a key; await the result when it is a promise (the built-in set returns one when it moves to disk). */
  add(key: string): void | Promise<void>
  /** Whether the set holds the key. */
  has(key: string): boolean | Promise<boolean>
  /** Keys held (the built-in set: exact in memory; once on disk, an upper bound, as a key added twice may count twice). */
  readonly size: number
  /** Frees its memory and temporary file. Sets from {@link TransformContext.keySet} are closed by the run when it ends. */
  close(): void | Promise<void>
}
