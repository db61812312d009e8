import type { DialectTypes, TypeRejection } from '../../src/dialect.js'
import type { LogicalType } from '../../src/schema/types.js'

/**
 * DuckDB's type map, both directions, as data. DuckDB spells types the way `information_schema.columns.data_type`
 * and `duckdb_columns()` give them (`DECIMAL(18,3)`, `TIMESTAMP WITH TIME ZONE`, `INTEGER[]`,
 * `STRUCT(a INTEGER, b VARCHAR)`, `ENUM('a', 'b')`); `toLogical` also reads the aliases a user may declare.
 *
 * Choices that lose nothing but are worth knowing:
 * - unsigned integers widen (`UTINYINT` → int16, `USMALLINT` → int32, `UINTEGER` → int64); `UBIGINT` is an
 *   unsigned int64; `HUGEINT`/`UHUGEINT` are `decimal(38,0)` (exact; their 39-digit extremes do not fit it and
 *   are refused by the target, never rounded); `BIGNUM` (`VARINT`) is an unbounded decimal.
 * - `INTERVAL`, `TIME WITH TIME ZONE` and `BIT` have no logical type: they are read as DuckDB's text for them.
 * - `LIST`, `ARRAY`, `STRUCT`, `MAP` and `UNION` are read as JSON text (`to_json`).
 * - `VARCHAR(n)` is accepted by DuckDB but not enforced nor kept: text is written as `VARCHAR`.
 * - a decimal wider than 38 digits (or of unknown precision) is written as `VARCHAR`: DuckDB's `DECIMAL`
 *   stops at 38 digits and rounds extra fraction digits, so only text keeps such values exact.
 * - timestamps of precision 7–9 read from `TIMESTAMP_NS` keep their nanoseconds; written, every timestamp is
 *   `TIMESTAMP` (microseconds, the `maxTimestampPrecision` of the dialect).
 */

/** The DDL type per logical kind (the parts that need no parameters). */
const NATIVE: Record<string, string> = {
  boolean: 'BOOLEAN',
  int16: 'SMALLINT',
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  text: 'VARCHAR',
  bytes: 'BLOB',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMP WITH TIME ZONE',
  uuid: 'UUID',
  json: 'JSON',
}

/** Unsigned integers as DuckDB declares them, per logical kind. */
const NATIVE_UNSIGNED: Record<string, string> = { int16: 'USMALLINT', int32: 'UINTEGER', int64: 'UBIGINT' }

/** DuckDB's widest exact decimal. */
const MAX_DECIMAL_DIGITS = 38

/** Type names (and aliases) without parameters → logical type. */
const LOGICAL: Record<string, LogicalType> = {
  BOOLEAN: { kind: 'boolean' },
  BOOL: { kind: 'boolean' },
  LOGICAL: { kind: 'boolean' },
  TINYINT: { kind: 'int16' },
  INT1: { kind: 'int16' },
  SMALLINT: { kind: 'int16' },
  INT2: { kind: 'int16' },
  SHORT: { kind: 'int16' },
  INTEGER: { kind: 'int32' },
  INT: { kind: 'int32' },
  INT4: { kind: 'int32' },
  SIGNED: { kind: 'int32' },
  BIGINT: { kind: 'int64' },
  INT8: { kind: 'int64' },
  INT64: { kind: 'int64' },
  LONG: { kind: 'int64' },
  // unsigned: widened to the next signed kind, except UBIGINT which has no wider one
  UTINYINT: { kind: 'int16' },
  USMALLINT: { kind: 'int32' },
  UINTEGER: { kind: 'int64' },
  UBIGINT: { kind: 'int64', unsigned: true },
  HUGEINT: { kind: 'decimal', precision: 38, scale: 0 },
  INT128: { kind: 'decimal', precision: 38, scale: 0 },
  UHUGEINT: { kind: 'decimal', precision: 38, scale: 0 },
  UINT128: { kind: 'decimal', precision: 38, scale: 0 },
  BIGNUM: { kind: 'decimal' },
  VARINT: { kind: 'decimal' },
  // DECIMAL without parameters is DECIMAL(18,3) in DuckDB
  DECIMAL: { kind: 'decimal', precision: 18, scale: 3 },
  NUMERIC: { kind: 'decimal', precision: 18, scale: 3 },
  REAL: { kind: 'float32' },
  FLOAT: { kind: 'float32' },
  FLOAT4: { kind: 'float32' },
  DOUBLE: { kind: 'float64' },
  FLOAT8: { kind: 'float64' },
  'DOUBLE PRECISION': { kind: 'float64' },
  VARCHAR: { kind: 'text' },
  TEXT: { kind: 'text' },
  STRING: { kind: 'text' },
  CHAR: { kind: 'text' },
  BPCHAR: { kind: 'text' },
  NVARCHAR: { kind: 'text' },
  // no logical type of their own: DuckDB's text for them
  INTERVAL: { kind: 'text' },
  'TIME WITH TIME ZONE': { kind: 'text' },
  TIMETZ: { kind: 'text' },
  BIT: { kind: 'text' },
  BITSTRING: { kind: 'text' },
  BLOB: { kind: 'bytes' },
  BYTEA: { kind: 'bytes' },
  BINARY: { kind: 'bytes' },
  VARBINARY: { kind: 'bytes' },
  DATE: { kind: 'date' },
  TIME: { kind: 'time', precision: 6 },
  TIME_NS: { kind: 'time', precision: 9 },
  TIMESTAMP: { kind: 'timestamp', precision: 6 },
  DATETIME: { kind: 'timestamp', precision: 6 },
  TIMESTAMP_US: { kind: 'timestamp', precision: 6 },
  TIMESTAMP_S: { kind: 'timestamp', precision: 0 },
  TIMESTAMP_MS: { kind: 'timestamp', precision: 3 },
  TIMESTAMP_NS: { kind: 'timestamp', precision: 9 },
  'TIMESTAMP WITH TIME ZONE': { kind: 'timestamptz', precision: 6 },
  TIMESTAMPTZ: { kind: 'timestamptz', precision: 6 },
  UUID: { kind: 'uuid' },
  JSON: { kind: 'json' },
  // nested types: JSON text
  VARIANT: { kind: 'json' },
}

/** Nested types, read as JSON text: `X[]`, `X[3]`, `STRUCT(…)`, `MAP(…)`, `UNION(…)`, `LIST(…)`. */
const NESTED = /^(STRUCT|MAP|UNION|LIST)\s*\(|\[\d*\]$/

/** Types DuckDB has that dbferry does not carry, with the reason. */
const REJECTED: Record<string, string> = {
  GEOMETRY: 'DuckDB GEOMETRY (spatial) has no logical type in dbferry',
  POINT_2D: 'DuckDB spatial types have no logical type in dbferry',
  NULL: 'a column of type NULL holds no values',
}

/** The parts of an `ENUM('a', 'b')` type's text. */
function enumValues(body: string): string[] {
  const out: string[] = []
  const re = /'((?:[^']|'')*)'/g
  for (let m = re.exec(body); m; m = re.exec(body)) out.push(m[1]!.replaceAll("''", "'"))
  return out
}

function toLogical(declared: string): LogicalType | TypeRejection {
  const text = declared.trim()
  const upper = text.toUpperCase().replace(/\s+/g, ' ')
  if (/^ENUM\s*\(/.test(upper)) return { kind: 'text', values: enumValues(text.slice(text.indexOf('('))) }
  if (NESTED.test(upper)) return { kind: 'json' }
  const m = /^([A-Z_][A-Z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$/.exec(upper)
  if (!m) return { reject: `DuckDB type ${text} is not one dbferry knows` }
  const [, name, p, s] = m as unknown as [string, string, string | undefined, string | undefined]
  if (name === 'DECIMAL' || name === 'NUMERIC') {
    if (p === undefined) return LOGICAL[name]!
    return { kind: 'decimal', precision: Number(p), scale: s === undefined ? 0 : Number(s) }
  }
  if ((name === 'VARCHAR' || name === 'CHAR' || name === 'BPCHAR' || name === 'NVARCHAR') && p !== undefined) return { kind: 'text', length: Number(p) }
  if (REJECTED[name] !== undefined) return { reject: REJECTED[name]! }
  const known = LOGICAL[name]
  if (known) return known
  return { reject: `DuckDB type ${text} is not one dbferry knows` }
}

function toNative(type: LogicalType): string {
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
      return type.unsigned ? NATIVE_UNSIGNED[type.kind]! : NATIVE[type.kind]!
    case 'decimal': {
      const p = type.precision
      if (p === undefined || p > MAX_DECIMAL_DIGITS) return 'VARCHAR'
      return `DECIMAL(${Math.max(p, 1)},${type.scale ?? 0})`
    }
    case 'text':
      if (type.values && type.values.length > 0) return `ENUM(${type.values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`
      return 'VARCHAR'
    default:
      return NATIVE[type.kind]!
  }
}

/**
 * DuckDB's type map (see the notes at the top of this file). `toNative` gives DDL; `toLogical` reads
 * DuckDB's own type text, case-insensitive.
 *
 * @example
 * duckdbTypes.toLogical('DECIMAL(12,2)') // { kind: 'decimal', precision: 12, scale: 2 }
 * duckdbTypes.toNative({ kind: 'timestamptz' }) // 'TIMESTAMP WITH TIME ZONE'
 */
export const duckdbTypes: DialectTypes = Object.freeze({ toNative, toLogical })
