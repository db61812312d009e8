import type { TableSchema } from '../../schema/types.js'
import type { BatchVariable, DateFormat } from './tsql-parser.js'

/** A statement the reader did not apply, with where it is and why. */
export interface SkippedStatement {
  line: number
  text: string
  reason: string
  /** It would have changed rows, tables or keys: a run that leaves it out is not clean. */
  data?: boolean
}

/** The session as SQL Server has it when a table's read range starts. */
export interface SessionAtStart {
  dateFormat: DateFormat
  identityInsert: boolean
  /** Each column's default expression in force then (index of the table's columns). */
  defaults: (string | undefined)[]
  /** The batch's variables then (DECLARE before the range's first statement, in the same batch). */
  variables: Map<string, BatchVariable>
}

/** Where to start and stop reading a script: a statement boundary found by an earlier scan. */
export interface ScriptRange {
  start: number
  end: number
  /** The line at `start`. */
  line: number
}

/** What the first scan learnt about one table, for its reads. */
export interface TableState {
  schema: TableSchema
  /** Column name (lowercase) → index. */
  index: Map<string, number>
  rows: number
  /**
   * Bytes from the first statement that touches the table after its CREATE (SET IDENTITY_INSERT, INSERT,
   * UPDATE, DELETE, ALTER … DEFAULT) to the end of its last, when every offset was exact.
   */
  range?: ScriptRange
  /** The session where the range starts; absent: the file is read from its start. */
  session?: SessionAtStart
  /** False once a statement of the table had no exact offset: reads scan the whole file. */
  seekable: boolean
  /** The IDENTITY column, with its seed and increment. */
  identity?: { index: number; seed: number; increment: number }
  /** Each column's default expression as the scan has it so far (ALTER … DEFAULT and DROP CONSTRAINT change it). */
  defaults: (string | undefined)[]
  /** Defaults as the CREATE TABLE wrote them. */
  createDefaults: (string | undefined)[]
  /** Named DEFAULT constraints (lowercase) → column index. */
  defaultNames: Map<string, number>
  /** `datetime`/`smalldatetime` columns, which read year-first literals in the DATEFORMAT's order. */
  legacyDates: Set<number>
  /** An UPDATE, DELETE or TRUNCATE is applied: rows are held until the read's end. */
  changed: boolean
  /** Statements on this table that were not applied: rejected, with their reason, at the end of its read. */
  unapplied: SkippedStatement[]
}
