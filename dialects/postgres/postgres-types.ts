import type { DialectTypes, TypeRejection } from '../../src/dialect.js'
import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'

/**
 * PostgreSQL's type map, both ways, as data. Reading: a catalogue type name (`pg_type.typname` of the base
 * type) and its `atttypmod` give a logical type. Writing: a logical type gives the DDL type.
 */

/** How one catalogue type reads into the logical model. `typmod` is `atttypmod` (-1 when absent). */
export type FromNative = (typmod: number) => LogicalType

const precisionOf = (typmod: number): number | undefined => (typmod >= 0 ? typmod : undefined)

/** Catalogue type name (`typname`) → logical type. Types missing here read as text, or are listed as rejected. */
const FROM_POSTGRES: Readonly<Record<string, FromNative>> = {
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
const TEXT_LIKE = new Set([
  'timetz', 'interval', 'inet', 'cidr', 'macaddr', 'macaddr8', 'xml', 'bit', 'varbit', 'tsvector', 'tsquery',
  'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle', 'int4range', 'int8range', 'numrange', 'tsrange',
  'tstzrange', 'daterange', 'pg_lsn', 'txid_snapshot', 'pg_snapshot', 'regclass', 'regtype', 'ltree', 'hstore',
])

/** Native types whose values the reader selects through a cast, by catalogue type name. */
const READ_CAST: Readonly<Record<string, string>> = {
  money: 'numeric',
}

/** Caps a fractional-second precision to PostgreSQL's 6. */
function fsp(p: number | undefined): string {
  return p === undefined || p >= 6 ? '' : `(${Math.max(0, p)})`
}

/** Largest `varchar(n)` PostgreSQL accepts. */
const MAX_VARCHAR = 10_485_760

/** The DDL type for a logical type. */
function postgresNativeType(type: LogicalType): string {
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
function parseNativeType(native: string): { typname: string; typmod: number } | undefined {
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
function columnDdlType(column: ColumnSchema): string {
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

/** Whether a column's native type is a PostgreSQL array (read as JSON). */
function isArray(column: ColumnSchema): boolean {
  return column.nativeDialect === 'postgres' && column.nativeType.endsWith('[]')
}

/**
 * Whether the reader decodes a column from the text PostgreSQL renders for its own native type; false when a
 * transform overrode the logical type (the text is then converted like any loosely typed value).
 */
function readsOwnText(column: ColumnSchema): boolean {
  return (
    column.nativeDialect === 'postgres' &&
    column.nativeType !== '' &&
    (parseNativeType(column.nativeType) !== undefined || isArray(column) || column.nativeType === 'money' || column.type.kind === 'text')
  )
}

/** Spellings PostgreSQL accepts in DDL for the catalogue names of {@link FROM_POSTGRES} (and a few text-like ones). */
const DECLARED_NAMES: Readonly<Record<string, string>> = {
  bool: 'bool', boolean: 'bool',
  int2: 'int2', smallint: 'int2', smallserial: 'int2', serial2: 'int2',
  int4: 'int4', int: 'int4', integer: 'int4', serial: 'int4', serial4: 'int4',
  int8: 'int8', bigint: 'int8', bigserial: 'int8', serial8: 'int8', oid: 'oid',
  numeric: 'numeric', decimal: 'numeric', money: 'money',
  float4: 'float4', real: 'float4', float8: 'float8', 'double precision': 'float8', float: 'float8',
  text: 'text', citext: 'citext', name: 'name',
  varchar: 'varchar', 'character varying': 'varchar', 'char varying': 'varchar',
  bpchar: 'bpchar', char: 'bpchar', character: 'bpchar', '"char"': 'char',
  bytea: 'bytea', date: 'date', uuid: 'uuid', json: 'json', jsonb: 'jsonb',
  time: 'time', 'time without time zone': 'time', timetz: 'timetz', 'time with time zone': 'timetz',
  timestamp: 'timestamp', 'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz', 'timestamp with time zone': 'timestamptz',
  'bit varying': 'varbit',
}

/** The `atttypmod` PostgreSQL stores for a catalogue type declared with `args` (`numeric(10,2)` → 655366). */
function typmodOf(typname: string, args: number[]): number {
  if (args.length === 0) return typname === 'bpchar' ? 5 : -1
  if (typname === 'numeric') return ((args[0]! << 16) | (args[1] ?? 0)) + 4
  if (typname === 'varchar' || typname === 'bpchar') return args[0]! + 4
  return args[0]!
}

/**
 * A type as declared in DDL (`numeric(10,2)`, `character varying(20)`, `timestamp(3) with time zone`,
 * `int8`, `text[]`; any case) → its logical type, read through the same catalogue map as the introspector.
 * Arrays read as JSON; the text-like types (interval, inet, …) as text; anything else is rejected.
 */
function toLogical(declared: string): LogicalType | TypeRejection {
  const t = declared.trim().toLowerCase().replace(/\s+/g, ' ')
  if (t.endsWith('[]') || / array(\[\d*\])?$/.test(t)) return { kind: 'json' }
  // the arguments sit after the first word(s) and before `with(out) time zone`: `timestamp(3) with time zone`
  const m = /^([^(]*?) ?\(([\d ,]+)\)(.*)$/.exec(t)
  const base = m ? `${m[1]}${m[3]}`.trim() : t
  const args = m ? m[2]!.split(',').map((a) => Number(a.trim())) : []
  let typname = DECLARED_NAMES[base] ?? base
  // float(p): single precision up to 24 binary digits (PostgreSQL's rule)
  if (base === 'float' && args.length === 1) return args[0]! <= 24 ? { kind: 'float32' } : { kind: 'float64' }
  if (base.startsWith('interval')) typname = 'interval'
  const from = FROM_POSTGRES[typname]
  if (from) return from(typmodOf(typname, args))
  if (TEXT_LIKE.has(typname)) return { kind: 'text' }
  return { reject: `PostgreSQL type ${declared} has no logical type (not a built-in type dbferry maps)` }
}

/**
 * What binary COPY saves per value of a type against text COPY, in nanoseconds of client encoding plus server
 * ingest (negative: binary costs more), rounded from three runs of `bench/pg-copy-format.mjs` on a loaded
 * 2-core machine (their spread is wide; the signs held in all three for booleans, numerics, integers, floats,
 * bytea, dates and times). Binary loses on booleans (7 bytes against 2) and numerics (the base-10000 digits
 * cost more to make than the server saves), is about even on short text and json, and wins most on timestamps,
 * floats, bytea and long text, which the server no longer parses or unescapes. Types missing here have no
 * binary encoder and keep a table in text.
 */
const BINARY_COPY_GAIN: Readonly<Record<string, number>> = {
  bool: -70, int2: 20, int4: 200, int8: 400, float4: 1500, float8: 900, numeric: -100,
  text: 500, varchar: 500, bpchar: 500, json: 300, jsonb: 1000, bytea: 2500, uuid: 800,
  date: 500, time: 1000, timestamp: 1200, timestamptz: 1200,
}

/** Whether binary COPY is the faster format for a table whose columns have these catalogue types. */
function binaryCopyFaster(typnames: readonly string[]): boolean {
  let gain = 0
  for (const t of typnames) {
    const g = BINARY_COPY_GAIN[t]
    if (g === undefined) return false
    gain += g
  }
  return gain > 0
}

/**
 * PostgreSQL's type map (see {@link DialectTypes}), with what the other files of this dialect read from it:
 * the catalogue map (`catalog`: `pg_type.typname` → logical type given `atttypmod`), the catalogue types that
 * read exactly as text (`textLike`), the types the reader selects through a cast (`readCast`), `parseNative`
 * (a `format_type()` spelling → catalogue name and typmod), `columnType` (a column's DDL type on a PostgreSQL
 * target, keeping a PostgreSQL source's spelling where it still fits), `readsOwnText` (see there) and
 * `binaryCopyFaster` (whether a table of these catalogue types goes faster through binary COPY than text).
 */
export const postgresTypes: DialectTypes & {
  readonly catalog: Readonly<Record<string, FromNative>>
  readonly textLike: ReadonlySet<string>
  readonly readCast: Readonly<Record<string, string>>
  parseNative(native: string): { typname: string; typmod: number } | undefined
  columnType(column: ColumnSchema): string
  readsOwnText(column: ColumnSchema): boolean
  binaryCopyFaster(typnames: readonly string[]): boolean
} = Object.freeze({
  toNative: postgresNativeType,
  toLogical,
  catalog: FROM_POSTGRES,
  textLike: TEXT_LIKE,
  readCast: READ_CAST,
  parseNative: parseNativeType,
  columnType: columnDdlType,
  readsOwnText,
  binaryCopyFaster,
})
