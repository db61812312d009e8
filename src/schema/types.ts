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
  /** The column's name (on the target, once identifier rules or transforms renamed it). */
  name: string
  /** The source column's name when a transform or identifier rule renamed it. */
  origin?: string
  /** The logical type values are carried as; the target's DDL type is taken from it. */
  type: LogicalType
  /** The type as the source engine declared it, e.g. `varchar(40)`, `signed long`; empty when unknown. */
  nativeType: string
  /** The dialect whose spelling `nativeType` is (set by introspectors that record it). Absent: unknown. */
  nativeDialect?: string
  /** Whether it accepts NULL. */
  nullable: boolean
  /** The column's default. Absent: none. */
  default?: ColumnDefault
  /** Identity / serial / auto_increment / SQLite `INTEGER PRIMARY KEY` rowid alias. */
  autoIncrement?: boolean
  /** Computed columns are reported but not copied as data. */
  generated?: boolean
  /**
   * The collation as the source engine names it (`utf8mb4_0900_ai_ci`, `C`, `NOCASE`). Kept on the target
   * where that engine knows it; the preflight folds unique text with the target's reading of it. Absent: the
   * default.
   */
  collation?: string
  /** The MySQL/MariaDB character set (`utf8mb4`, `utf8mb3`, `latin1`, `binary`). Absent: unknown, or another engine. */
  charset?: string
}

/** A unique constraint or the primary key. */
export interface KeySchema {
  /** The constraint's name. Absent: unnamed (the target picks a name). */
  name?: string
  /** The key's columns, in key order. */
  columns: string[]
}

/** A secondary index. `expression`/`where` indexes are recreated only on the dialect they came from. */
export interface IndexSchema {
  /** The index's name. */
  name: string
  /** The indexed columns, in index order. */
  columns: string[]
  /** Whether it is a unique index. */
  unique: boolean
  /** Prefix lengths per column (MySQL), aligned with `columns`. */
  lengths?: (number | undefined)[]
  /**
   * The index's body in the source's SQL when it is not plain columns (`lower(email)`, PostgreSQL
   * `USING gin (…)`, MySQL `FULLTEXT`/`SPATIAL`). Absent: a plain column index.
   */
  expression?: string
  /** A partial index's condition in the source's SQL, without `WHERE`. Absent: every row is indexed. */
  where?: string
  /** The dialect `expression` and `where` are written in; only that dialect recreates them. */
  dialect?: string
}

/** A foreign key. `origin: 'user'` marks keys declared in options where the source has none. */
export interface ForeignKeySchema {
  /** The constraint's name. Absent: unnamed (the target picks a name). */
  name?: string
  /** The child's columns, aligned with `refColumns`. */
  columns: string[]
  /** The parent table's name. */
  refTable: string
  /** The parent's referenced columns, aligned with `columns`. */
  refColumns: string[]
  /** The `ON DELETE` action as SQL spells it (`CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT`). Absent: no action. */
  onDelete?: string
  /** The `ON UPDATE` action, spelled like `onDelete`. Absent: no action. */
  onUpdate?: string
  /** `source`: declared by the source; `user`: declared in the run's `foreignKeys` option. */
  origin: 'source' | 'user'
}

/** One table. Column order is the row order: rows are arrays aligned with `columns`. */
export interface TableSchema {
  /** The table's name (on the target, once identifier rules or transforms renamed it). */
  name: string
  /** The source table's name when a transform or identifier rule renamed it. */
  origin?: string
  /** The database schema (PostgreSQL/SQL Server namespace); absent for the default. */
  schema?: string
  /** The columns, in row order. */
  columns: ColumnSchema[]
  /** The primary key. Absent: the table has none (rows are then keyed by the first unique key, if any). */
  primaryKey?: KeySchema
  /** Unique constraints, created with the table. */
  uniques: KeySchema[]
  /** Secondary indexes (unique indexes included), created after the data. */
  indexes: IndexSchema[]
  /** Foreign keys, created after the data. */
  foreignKeys: ForeignKeySchema[]
  /** MySQL storage engine, e.g. `MyISAM`. */
  engine?: string
  /** MySQL/MariaDB: the table's default character set. Absent: unknown, or another engine. */
  charset?: string
  /** The table's default collation (MySQL/MariaDB). Absent: the database's default. */
  collation?: string
  /** The source's row count estimate, for progress ETA. */
  rowCountEstimate?: number
  /** SQLite: the table has an implicit rowid that orders and keys the rows. */
  rowid?: boolean
}

/**
 * A view (or function / procedure): reported, ordered, and created on the target from user-supplied SQL, or
 * from its own definition when source and target are one engine.
 */
export interface ObjectSchema {
  /** The object's name, without its schema. */
  name: string
  /** The schema (namespace) it is in. Absent: the default, or an engine without schemas. */
  schema?: string
  /** What it is. */
  type: 'view' | 'function' | 'procedure'
  /**
   * Its definition as the source keeps it: a whole `CREATE …` statement (SQLite, SQL Server) or only a view's
   * query (PostgreSQL, MySQL). Absent: the source keeps none.
   */
  definition?: string
  /** Names of tables and objects it reads. */
  dependsOn: string[]
}

/** Everything an introspector found. */
export interface DatabaseSchema {
  /**
   * The dialect that read it, whose SQL its native types, defaults and definitions are in (`postgres`; a T-SQL
   * script gives `mssql`, a mysqldump `mysql`, a CSV source its format's name).
   */
  dialect: string
  /** The tables, in the source's order. */
  tables: TableSchema[]
  /** Views, functions and procedures. */
  objects: ObjectSchema[]
}

/**
 * A canonical value (DESIGN §3): `null`, boolean, number, bigint (int64 past 2^53), string (decimal, dates,
 * times, timestamps, uuid, json, text) or bytes. Timestamps are never `Date`.
 */
export type Value = null | boolean | number | bigint | string | Uint8Array

/** A row: values aligned with the table's `columns`. */
export type Row = Value[]
