import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'

/**
 * PostgreSQL's type map, both ways, as data. Reading: a catalogue type name (`pg_type.typname` of the base
 * type) and its `atttypmod` give a logical type. Writing: a logical type gives the DDL type.
 */

/** How one catalogue type reads into the logical model. `typmod` is `atttypmod` (-1 when absent). */
type FromNative = (typmod: number) => LogicalType

const precisionOf = (typmod: number): number | undefined => (typmod >= 0 ? typmod : undefined)

/** Catalogue type name (`typname`) → logical type. Types missing here read as text, or are listed as rejected. */
export const FROM_POSTGRES: Readonly<Record<string, FromNative>> = {
  bool: () => ({ kind: 'boolean' }),
  int2: () => ({ kind: 'int16' }),
  int4: () => ({ kind: 'int32' }),
  int8: () => ({ kind: 'int64' }),
  oid: () => ({ kind: 'int64' }),
  numeric: (m) =>
    m >= 4 ? { kind: 'decimal', precision: ((m - 4) >> 16) & 0xffff, scale: (m - 4) & 0x7ff } : { kind: 'decimal' },
  money: () => ({ kind: 'decimal', precision: 19, scale: 2 }),
  float4: () => ({ kind: 'float32' }),
  float8: () => ({ kind: 'float64' }),
  text: () => ({ kind: 'text' }),
  citext: () => ({ kind: 'text' }),
  name: () => ({ kind: 'text', length: 63 }),
  varchar: (m) => (m >= 4 ? { kind: 'text', length: m - 4 } : { kind: 'text' }),
  bpchar: (m) => ({ kind: 'text', length: m >= 4 ? m - 4 : 1, fixed: true }),
  char: () => ({ kind: 'text', length: 1, fixed: true }),
  bytea: () => ({ kind: 'bytes' }),
  date: () => ({ kind: 'date' }),
  time: (m) => withPrecision('time', m),
  timestamp: (m) => withPrecision('timestamp', m),
  timestamptz: (m) => withPrecision('timestamptz', m),
  uuid: () => ({ kind: 'uuid' }),
  json: () => ({ kind: 'json' }),
  jsonb: () => ({ kind: 'json' }),
}

function withPrecision(kind: 'time' | 'timestamp' | 'timestamptz', typmod: number): LogicalType {
  const p = precisionOf(typmod)
  return p === undefined ? { kind } : { kind, precision: p }
}

/**
 * Catalogue types with no logical counterpart that still read exactly as text (their output form is what
 * another database can store, and a PostgreSQL target reads it back into the native type).
 */
export const TEXT_LIKE = new Set([
  'timetz', 'interval', 'inet', 'cidr', 'macaddr', 'macaddr8', 'xml', 'bit', 'varbit', 'tsvector', 'tsquery',
  'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle', 'int4range', 'int8range', 'numrange', 'tsrange',
  'tstzrange', 'daterange', 'pg_lsn', 'txid_snapshot', 'pg_snapshot', 'regclass', 'regtype', 'ltree', 'hstore',
])

/** Native types whose values the reader selects through a cast, by catalogue type name. */
export const READ_CAST: Readonly<Record<string, string>> = {
  money: 'numeric',
}

/** Caps a fractional-second precision to PostgreSQL's 6. */
function fsp(p: number | undefined): string {
  return p === undefined || p >= 6 ? '' : `(${Math.max(0, p)})`
}

/** Largest `varchar(n)` PostgreSQL accepts. */
const MAX_VARCHAR = 10_485_760

/** The DDL type for a logical type. */
export function postgresNativeType(type: LogicalType): string {
  switch (type.kind) {
    case 'boolean':
      return 'boolean'
    case 'int16':
      return type.unsigned ? 'integer' : 'smallint'
    case 'int32':
      return type.unsigned ? 'bigint' : 'integer'
    case 'int64':
      return type.unsigned ? 'numeric(20,0)' : 'bigint'
    case 'decimal':
      if (type.precision === undefined || type.precision < 1 || type.precision > 1000) return 'numeric'
      return `numeric(${type.precision},${Math.min(type.scale ?? 0, type.precision)})`
    case 'float32':
      return 'real'
    case 'float64':
      return 'double precision'
    case 'text':
      if (type.length === undefined || type.length < 1 || type.length > MAX_VARCHAR) return 'text'
      return type.fixed ? `character(${type.length})` : `character varying(${type.length})`
    case 'bytes':
      return 'bytea'
    case 'date':
      return 'date'
    case 'time':
      return `time${fsp(type.precision)} without time zone`
    case 'timestamp':
      return `timestamp${fsp(type.precision)} without time zone`
    case 'timestamptz':
      return `timestamp${fsp(type.precision)} with time zone`
    case 'uuid':
      return 'uuid'
    case 'json':
      return 'jsonb'
  }
}

/**
 * Parses a `format_type()` spelling (what this dialect's introspector records as `nativeType`) back into a
 * catalogue name and typmod, for the types of {@link FROM_POSTGRES}; undefined for anything else.
 */
export function parseNativeType(native: string): { typname: string; typmod: number } | undefined {
  const t = native.trim()
  const simple: Record<string, string> = {
    boolean: 'bool', smallint: 'int2', integer: 'int4', bigint: 'int8', real: 'float4', 'double precision': 'float8',
    text: 'text', bytea: 'bytea', date: 'date', uuid: 'uuid', json: 'json', jsonb: 'jsonb', numeric: 'numeric',
    'character varying': 'varchar', character: 'bpchar', '"char"': 'char', money: 'money', citext: 'citext',
  }
  if (simple[t] !== undefined) return { typname: simple[t], typmod: t === 'character' ? 5 : -1 }
  let m = /^numeric\((\d+),(\d+)\)$/.exec(t)
  if (m) return { typname: 'numeric', typmod: ((+m[1]! << 16) | +m[2]!) + 4 }
  m = /^(character varying|character)\((\d+)\)$/.exec(t)
  if (m) return { typname: m[1] === 'character' ? 'bpchar' : 'varchar', typmod: +m[2]! + 4 }
  m = /^(time|timestamp)(?:\((\d)\))? (with|without) time zone$/.exec(t)
  if (m) {
    if (m[1] === 'time' && m[3] === 'with') return undefined
    const typname = m[1] === 'time' ? 'time' : m[3] === 'with' ? 'timestamptz' : 'timestamp'
    return { typname, typmod: m[2] === undefined ? -1 : +m[2] }
  }
  return undefined
}

function sameType(a: LogicalType, b: LogicalType): boolean {
  const norm = (t: LogicalType) => JSON.stringify(t, Object.keys(t).sort())
  return norm(a) === norm(b)
}

/**
 * The DDL type of a column on a PostgreSQL target. A column that came from PostgreSQL keeps its native
 * spelling when that spelling still reads as the column's logical type (so `json` stays `json`, `numeric(38,10)`
 * stays as it is), and PostgreSQL-only types (interval, inet, arrays…) are kept when the column's logical type
 * is still the one they were read as. Everything else goes through {@link postgresNativeType}.
 */
export function columnDdlType(column: ColumnSchema): string {
  const native = column.nativeType
  if (native) {
    const parsed = parseNativeType(native)
    if (parsed) {
      const from = FROM_POSTGRES[parsed.typname]
      if (from && sameType(from(parsed.typmod), column.type)) return native
    } else if (column.nativeDialect === 'postgres') {
      const kind = column.type.kind
      if ((kind === 'text' && column.type.values === undefined) || kind === 'json') return native
    }
  }
  return postgresNativeType(column.type)
}
