import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'

/**
 * The MySQL/MariaDB type map, both ways, as data.
 *
 * Reading (`logicalFromMysql`): one entry per `information_schema.COLUMNS.DATA_TYPE`. Choices worth knowing:
 * - `tinyint(1)` and `bit(1)` are booleans; any other `bit(n)` is an `int64` (unsigned for `bit(64)`), because
 *   bit fields are flags and a number travels to every target, where raw bytes would not.
 * - `year` is an `int16`; `mediumint` and `smallint unsigned` are `int32`; `int unsigned` is an `int64`;
 *   `bigint unsigned` is an unsigned `int64` (up to 18446744073709551615, kept as bigint).
 * - `datetime(p)` is a `timestamp`; `timestamp(p)` is a `timestamptz` (MySQL stores it in UTC and the session
 *   runs at `+00:00`).
 * - `enum(…)` is text with its values; `set(…)` is plain text (a comma list).
 * - `text` family and `blob` family are unbounded text and bytes; `char`/`varchar`/`binary`/`varbinary` keep
 *   their lengths.
 * - MariaDB's `json` is `longtext` with a `json_valid` check: the introspector marks such columns `json`.
 *
 * Writing (`mysqlTypeFor`): see {@link LOGICAL_TO_MYSQL}. New text defaults to `varchar(n)` when a length is
 * known and fits the row-size budget, else `text`/`mediumtext`/`longtext` by size.
 */

/** Facts about one column from information_schema, enough to derive its logical type. */
export interface MysqlColumnFacts {
  dataType: string
  columnType: string
  charMaxLength?: number | null
  numericPrecision?: number | null
  numericScale?: number | null
  datetimePrecision?: number | null
}

function displayWidth(columnType: string): number | undefined {
  const m = /^\w+\((\d+)\)/.exec(columnType)
  return m ? Number(m[1]) : undefined
}

function bitWidth(columnType: string): number {
  return displayWidth(columnType) ?? 1
}

/** Parses the quoted values of `enum('a','b')` / `set('x','y')`. */
export function parseEnumValues(columnType: string): string[] {
  const body = columnType.slice(columnType.indexOf('(') + 1, columnType.lastIndexOf(')'))
  const out: string[] = []
  const re = /'((?:[^'\\]|''|\\.)*)'/g
  let m: RegExpExecArray | null
  while ((m = re.exec(body)) !== null) out.push(m[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1'))
  return out
}

const unsigned = (f: MysqlColumnFacts) => /\bunsigned\b/i.test(f.columnType)
const precisionOf = (f: MysqlColumnFacts) => f.datetimePrecision ?? (Number(/\((\d)\)/.exec(f.columnType)?.[1] ?? 0))

/** `DATA_TYPE` → logical type. Data, one line per MySQL type; unknown types read as bytes. */
export const MYSQL_TO_LOGICAL: Readonly<Record<string, (f: MysqlColumnFacts) => LogicalType>> = {
  tinyint: (f) => (displayWidth(f.columnType) === 1 ? { kind: 'boolean' } : { kind: 'int16' }),
  bool: () => ({ kind: 'boolean' }),
  boolean: () => ({ kind: 'boolean' }),
  smallint: (f) => (unsigned(f) ? { kind: 'int32' } : { kind: 'int16' }),
  mediumint: () => ({ kind: 'int32' }),
  int: (f) => (unsigned(f) ? { kind: 'int64' } : { kind: 'int32' }),
  integer: (f) => (unsigned(f) ? { kind: 'int64' } : { kind: 'int32' }),
  bigint: (f) => (unsigned(f) ? { kind: 'int64', unsigned: true } : { kind: 'int64' }),
  bit: (f) => (bitWidth(f.columnType) === 1 ? { kind: 'boolean' } : bitWidth(f.columnType) === 64 ? { kind: 'int64', unsigned: true } : { kind: 'int64' }),
  year: () => ({ kind: 'int16' }),
  decimal: (f) => ({ kind: 'decimal', precision: f.numericPrecision ?? 10, scale: f.numericScale ?? 0 }),
  numeric: (f) => ({ kind: 'decimal', precision: f.numericPrecision ?? 10, scale: f.numericScale ?? 0 }),
  float: () => ({ kind: 'float32' }),
  double: () => ({ kind: 'float64' }),
  real: () => ({ kind: 'float64' }),
  char: (f) => ({ kind: 'text', length: f.charMaxLength ?? 1, fixed: true }),
  varchar: (f) => (f.charMaxLength != null ? { kind: 'text', length: f.charMaxLength } : { kind: 'text' }),
  tinytext: () => ({ kind: 'text' }),
  text: () => ({ kind: 'text' }),
  mediumtext: () => ({ kind: 'text' }),
  longtext: () => ({ kind: 'text' }),
  enum: (f) => ({ kind: 'text', values: parseEnumValues(f.columnType) }),
  set: () => ({ kind: 'text' }),
  binary: (f) => ({ kind: 'bytes', length: f.charMaxLength ?? 1, fixed: true }),
  varbinary: (f) => (f.charMaxLength != null ? { kind: 'bytes', length: f.charMaxLength } : { kind: 'bytes' }),
  tinyblob: () => ({ kind: 'bytes' }),
  blob: () => ({ kind: 'bytes' }),
  mediumblob: () => ({ kind: 'bytes' }),
  longblob: () => ({ kind: 'bytes' }),
  date: () => ({ kind: 'date' }),
  datetime: (f) => ({ kind: 'timestamp', precision: precisionOf(f) }),
  timestamp: (f) => ({ kind: 'timestamptz', precision: precisionOf(f) }),
  time: (f) => ({ kind: 'time', precision: precisionOf(f) }),
  json: () => ({ kind: 'json' }),
  uuid: () => ({ kind: 'uuid' }),
  inet4: () => ({ kind: 'text', length: 15 }),
  inet6: () => ({ kind: 'text', length: 39 }),
}

/** The logical type of a MySQL column. Unknown (spatial) types are bytes, read as the server sends them. */
export function logicalFromMysql(f: MysqlColumnFacts): LogicalType {
  const conv = MYSQL_TO_LOGICAL[f.dataType.toLowerCase()]
  return conv ? conv(f) : { kind: 'bytes' }
}

/** The InnoDB row-size limit: the byte lengths of all varchar/varbinary columns of a row must fit in it. */
export const ROW_SIZE_BUDGET = 65_000
/** InnoDB's longest index key (DYNAMIC row format), in bytes. */
export const MAX_KEY_BYTES = 3072
/** Bytes per character of utf8mb4. */
export const UTF8MB4_BYTES = 4

// fixed-length text becomes varchar(n), not char(n): MySQL strips trailing spaces from char values when it
// reads them, so a blank-padded value from another engine would come back changed
function textType(length: number | undefined, _fixed: boolean | undefined, varcharAllowed: boolean): string {
  if (length !== undefined && varcharAllowed) return `varchar(${length})`
  if (length !== undefined && length * UTF8MB4_BYTES <= 65_535) return 'text'
  if (length !== undefined && length * UTF8MB4_BYTES <= 16_777_215) return 'mediumtext'
  return 'longtext'
}

// likewise varbinary(n), not binary(n), which pads shorter values with zero bytes
function bytesType(length: number | undefined, _fixed: boolean | undefined, varAllowed: boolean): string {
  if (length !== undefined && varAllowed) return `varbinary(${length})`
  if (length !== undefined && length <= 65_535) return 'blob'
  if (length !== undefined && length <= 16_777_215) return 'mediumblob'
  return 'longblob'
}

/** Escapes a string as a MySQL string literal for DDL (enum values, defaults), where no parameter can go. */
export function sqlLiteral(s: string): string {
  // backslash is an escape character in MySQL literals unless NO_BACKSLASH_ESCAPES: double it
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\0/g, '\\0')}'`
}

/**
 * Logical type → MySQL DDL type. `varcharAllowed` says whether the row-size budget leaves room for a
 * `varchar(n)`/`varbinary(n)` (the writer decides per table).
 */
export const LOGICAL_TO_MYSQL: { readonly [K in LogicalType['kind']]: (t: LogicalType & { kind: K }, varcharAllowed: boolean) => string } = {
  boolean: () => 'tinyint(1)',
  int16: (t) => (t.unsigned ? 'smallint unsigned' : 'smallint'),
  int32: (t) => (t.unsigned ? 'int unsigned' : 'int'),
  int64: (t) => (t.unsigned ? 'bigint unsigned' : 'bigint'),
  // an unbounded decimal (PostgreSQL numeric) gets the widest MySQL has; values that do not fit are rejected
  decimal: (t) => (t.precision === undefined ? 'decimal(65,30)' : `decimal(${Math.min(t.precision, 65)},${Math.min(t.scale ?? 0, 30)})`),
  float32: () => 'float',
  float64: () => 'double',
  text: (t, v) => (t.values && t.values.length > 0 ? `enum(${t.values.map(sqlLiteral).join(',')})` : textType(t.length, t.fixed, v)),
  bytes: (t, v) => bytesType(t.length, t.fixed, v),
  date: () => 'date',
  time: (t) => `time(${Math.min(t.precision ?? 6, 6)})`,
  timestamp: (t) => `datetime(${Math.min(t.precision ?? 6, 6)})`,
  // MySQL has no offset type: values are stored converted to UTC (DESIGN §3)
  timestamptz: (t) => `datetime(${Math.min(t.precision ?? 6, 6)})`,
  uuid: () => 'char(36)',
  json: () => 'json',
}

/** The MySQL DDL type of a logical type. */
export function mysqlTypeFor(type: LogicalType, varcharAllowed = true): string {
  return (LOGICAL_TO_MYSQL[type.kind] as (t: LogicalType, v: boolean) => string)(type, varcharAllowed)
}

/** Bytes a column takes from the row-size budget when declared as varchar/varbinary. */
export function varLengthBytes(type: LogicalType): number {
  if (type.kind === 'text' && type.length !== undefined && !(type.values && type.values.length > 0)) return type.length * UTF8MB4_BYTES + 2
  if (type.kind === 'bytes' && type.length !== undefined) return type.length + 2
  return 0
}

/** Whether a column is a MySQL text column in a 3-byte UTF-8 charset (`utf8`/`utf8mb3`), which cannot hold astral characters. */
export function isUtf8mb3(column: Pick<ColumnSchema, 'charset' | 'collation'>): boolean {
  const cs = (column.charset ?? column.collation?.split('_')[0] ?? '').toLowerCase()
  return cs === 'utf8' || cs === 'utf8mb3'
}
