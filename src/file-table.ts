import type { TableSchema, Value } from './schema/types.js'

// The same-engine hand-over of a table as its database file (SQLite → SQLite): the optional connection methods
// the pass-through (src/pipeline/pass-through.ts) asks for by their presence. Kept apart from the pipeline so a
// dialect can implement them without importing it.

/**
 * A table a source hands to a target of its own engine as a place in its database file, which the target reads
 * itself (SQLite: ATTACH and INSERT … SELECT). Only the target engine's own code reads `file`.
 */
export interface FileTable {
  /** The engine whose file it is: only a target of this engine (its dialect's name) takes it. */
  engine: string
  /** The database file, as an absolute path. */
  file: string
  /** The source table, as the source reads it. */
  table: TableSchema
  /** Copy only the rows past this key (the reader's key order): a resumed table. Absent: every row. */
  after?: readonly Value[]
  /** The rows (past `after`) in the source's snapshot: what the target must copy, all of them, or nothing. */
  rows: number
  /** The read-order key of the last of them, for the checkpoint; undefined where there is none to give. */
  lastKey?: Value[]
  /**
   * Whether the file still holds exactly the data of the source's snapshot: the target calls it after reading
   * the rows and before committing them, and copies nothing when it is false.
   */
  unchanged(): boolean
}

/**
 * A source that hands a table over as its file ({@link FileTable}), or says why it cannot (a string). An optional
 * method of a connection: the pass-through asks for it by its presence, never by the engine's name.
 */
export interface FileTableSource {
  fileTable(table: TableSchema, options: { after?: readonly Value[] }): Promise<FileTable | string>
}

/**
 * A target that copies a {@link FileTable} of its engine into `table` in one transaction of its own, counting the
 * rows it took, and commits only when they are exactly `from.rows` and `from.unchanged()` holds. Returns the rows
 * committed, or why nothing was (a row it refused, a value the row path would convert or reject, the file
 * changed): the target then holds what it held before. Throws for what stops the row path too (a lost file).
 */
export interface FileTableTarget {
  copyFileTable(from: FileTable, table: TableSchema, options: { signal?: AbortSignal; onRows?(rows: number): void }): Promise<{ rows: number } | string>
}
