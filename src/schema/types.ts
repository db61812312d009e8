/**
 * The logical schema model: what every dialect's introspector produces and every writer consumes.
 * Native types are kept beside the logical ones so a same-engine copy can reproduce them exactly.
 */

/** Logical type kinds, shared by every dialect (see docs/architecture.md, "Values"). */
export type LogicalKind =
  | 'boolean'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'decimal'
  | 'float32'
  | 'float64'
  | 'text'
  | 'bytes'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'uuid'
  | 'json'

/**
 * A logical column type.
 *
 * - `int64` with `unsigned: true` may exceed 2^63-1 (MySQL `bigint unsigned`); targets without an unsigned
 *   64-bit type map it to `decimal(20,0)`.
 * - `text.length` is in characters; absent means unbounded. `text.values` lists the allowed values of an enum.
 * - `precision` on time types is the number of fractional-second digits (0–6, 7 for SQL Server).
 */
export type LogicalType =
  | { kind: 'boolean' }
  | { kind: 'int16' | 'int32' | 'int64'; unsigned?: boolean }
  | { kind: 'decimal'; precision?: number; scale?: number }
  | { kind: 'float32' | 'float64' }
  | { kind: 'text'; length?: number; fixed?: boolean; values?: readonly string[] }
  | { kind: 'bytes'; length?: number; fixed?: boolean }
  | { kind: 'date' }
  | { kind: 'time' | 'timestamp' | 'timestamptz'; precision?: number }
  | { kind: 'uuid' }
  | { kind: 'json' }

/** A column default. `expression` defaults are only reproduced on the dialect they came from. */
export type ColumnDefault =
  | { kind: 'value'; value: Value }
  | { kind: 'now' }
  | { kind: 'expression'; sql: string; dialect: string }

/** One column of a table. */
export interface ColumnSchema {
  name: string
  /** The source column's name when a transform or identifier rule renamed it. */
  origin?: string
  type: LogicalType
  /** The type as the source engine declared it, e.g. `varchar(40)`, `signed long`; empty when unknown. */
  nativeType: string
  /** The dialect whose spelling `nativeType` is (set by introspectors that record it). Absent: unknown. */
  nativeDialect?: string
  nullable: boolean
  default?: ColumnDefault
  /** Identity / serial / auto_increment / SQLite `INTEGER PRIMARY KEY` rowid alias. */
  autoIncrement?: boolean
  /** Computed columns are reported but not copied as data. */
  generated?: boolean
  collation?: string
  charset?: string
}

/** A unique constraint or the primary key. */
export interface KeySchema {
  name?: string
  columns: string[]
}

/** A secondary index. `expression`/`where` indexes are recreated only on the dialect they came from. */
export interface IndexSchema {
  name: string
  columns: string[]
  unique: boolean
  /** Prefix lengths per column (MySQL), aligned with `columns`. */
  lengths?: (number | undefined)[]
  expression?: string
  where?: string
  dialect?: string
}

/** A foreign key. `origin: 'user'` marks keys declared in options where the source has none. */
export interface ForeignKeySchema {
  name?: string
  columns: string[]
  refTable: string
  refColumns: string[]
  onDelete?: string
  onUpdate?: string
  origin: 'source' | 'user'
}

/** One table. Column order is the row order: rows are arrays aligned with `columns`. */
export interface TableSchema {
  name: string
  /** The source table's name when a transform or identifier rule renamed it. */
  origin?: string
  /** The database schema (PostgreSQL/SQL Server namespace); absent for the default. */
  schema?: string
  columns: ColumnSchema[]
  primaryKey?: KeySchema
  uniques: KeySchema[]
  indexes: IndexSchema[]
  foreignKeys: ForeignKeySchema[]
  /** MySQL storage engine, e.g. `MyISAM`. */
  engine?: string
  charset?: string
  collation?: string
  /** The source's row count estimate, for progress ETA. */
  rowCountEstimate?: number
  /** SQLite: the table has an implicit rowid that orders and keys the rows. */
  rowid?: boolean
}

/** A view (or function / procedure): reported, ordered, and re-created from user-supplied SQL. */
export interface ObjectSchema {
  name: string
  schema?: string
  type: 'view' | 'function' | 'procedure'
  definition?: string
  /** Names of tables and objects it reads. */
  dependsOn: string[]
}

/** Everything an introspector found. */
export interface DatabaseSchema {
  dialect: string
  tables: TableSchema[]
  objects: ObjectSchema[]
}

/**
 * A canonical value (DESIGN §3): `null`, boolean, number, bigint (int64 past 2^53), string (decimal, dates,
 * times, timestamps, uuid, json, text) or bytes. Timestamps are never `Date`.
 */
export type Value = null | boolean | number | bigint | string | Uint8Array

/** A row: values aligned with the table's `columns`. */
export type Row = Value[]
