import type { DialectTypes } from '../../src/dialect.js'
import type { LogicalType } from '../../src/schema/types.js'

/**
 * SQLite's type map, as data.
 *
 * Reading: a declared type is free text in SQLite (`signed long`, `text(100)`, `"double precision"`, even
 * `nocase`). `toLogical` first looks the leading words up in {@link DECLARED_WORDS}; what is
 * not there falls back to SQLite's own affinity rules (https://sqlite.org/datatype3.html §3.1): `INT` anywhere →
 * integer, `CHAR`/`CLOB`/`TEXT` → text, `BLOB` or no type → bytes, `REAL`/`FLOA`/`DOUB` → float. What is left
 * has NUMERIC affinity under an unknown name and is read as text, which takes numbers and text alike.
 *
 * Columns with no declared type (BLOB affinity) are read as `bytes`: blobs come through as they are, text as
 * its UTF-8 bytes and numbers as the bytes of their decimal text, so no value of any storage class is lost.
 * Give such a column a logical type with ferry's `types` option when it holds text.
 *
 * `char(n)`/`character(n)` is text of at most n characters without `fixed`: SQLite never pads, and a target's
 * `char(n)` would hand back `'ab '` for `'ab'`. A `DATETIME`/`TIMESTAMP` column is a timestamp by its name; the
 * introspector reads it as `timestamptz` when it holds times with a UTC offset.
 *
 * Writing: {@link SQLITE_TYPE_NAMES} gives the DDL type for each logical kind. Decimals and JSON are declared
 * with a `TEXT` word (`DECIMAL TEXT(38,10)`, `JSON TEXT`) so the column has TEXT affinity: under NUMERIC
 * affinity SQLite would turn `'12345678901234567890.5'` into an 8-byte float and `'1.0'` JSON into `1`.
 * The leading word still tells the reader the logical type, so a copy read back keeps it.
 */

/** Leading declared-type words (lower case, spaces collapsed) and the logical type they mean. */
const DECLARED_WORDS: ReadonlyArray<readonly [string, LogicalType['kind']]> = [
  // booleans are stored 0/1 under NUMERIC affinity
  ['boolean', 'boolean'],
  ['bool', 'boolean'],
  ['bit', 'boolean'],
  // integers: SQLite's INTEGER is 64-bit, so plain `int`/`integer` are int64 (values past 2^31 are common)
  ['tinyint', 'int16'],
  ['smallint', 'int16'],
  ['short integer', 'int16'],
  ['short int', 'int16'],
  ['short', 'int16'],
  ['int2', 'int16'],
  ['mediumint', 'int32'],
  ['int4', 'int32'],
  ['bigint', 'int64'],
  ['big int', 'int64'],
  ['int8', 'int64'],
  ['signed long', 'int64'],
  ['long integer', 'int64'],
  ['long', 'int64'],
  ['integer', 'int64'],
  ['int', 'int64'],
  // exact numbers
  ['decimal', 'decimal'],
  ['numeric', 'decimal'],
  ['dec', 'decimal'],
  ['number', 'decimal'],
  ['money', 'decimal'],
  // floats
  ['double precision', 'float64'],
  ['double', 'float64'],
  ['real', 'float64'],
  ['float8', 'float64'],
  ['float4', 'float32'],
  // SQLite's affinity rule would make this INTEGER ("POINT" holds INT), but it holds fractions
  ['floating point', 'float64'],
  ['floating', 'float64'],
  ['float', 'float64'],
  // time
  ['timestamptz', 'timestamptz'],
  ['timestamp with time zone', 'timestamptz'],
  ['datetimeoffset', 'timestamptz'],
  ['timestamp', 'timestamp'],
  ['datetime2', 'timestamp'],
  ['datetime', 'timestamp'],
  ['smalldatetime', 'timestamp'],
  ['date', 'date'],
  ['time', 'time'],
  // text-like
  ['uuid', 'uuid'],
  ['uniqueidentifier', 'uuid'],
  ['guid', 'uuid'],
  ['jsonb', 'json'],
  ['json', 'json'],
  ['character varying', 'text'],
  ['varying character', 'text'],
  ['national varying character', 'text'],
  ['native character', 'text'],
  ['nvarchar', 'text'],
  ['varchar2', 'text'],
  ['varchar', 'text'],
  ['nchar', 'text'],
  ['character', 'text'],
  ['char', 'text'],
  ['text', 'text'],
  ['string', 'text'],
  ['clob', 'text'],
  ['tinytext', 'text'],
  ['mediumtext', 'text'],
  ['longtext', 'text'],
  ['enum', 'text'],
  // `nocase` used where a type should be (`name nocase`): a text column with a collation as its "type"
  ['nocase', 'text'],
  ['collate', 'text'],
  ['blob', 'bytes'],
  ['binary', 'bytes'],
  ['varbinary', 'bytes'],
  ['bytea', 'bytes'],
  ['longblob', 'bytes'],
  ['mediumblob', 'bytes'],
  ['tinyblob', 'bytes'],
]

// longest first, so `double precision` wins over `double` and `short integer` over `short`
const WORDS = [...DECLARED_WORDS].sort((a, b) => b[0].length - a[0].length)

/** The affinity SQLite gives a declared type (https://sqlite.org/datatype3.html §3.1). */
export type Affinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC'

/** SQLite's affinity rules, in their order. */
function affinityOf(declared: string): Affinity {
  const t = declared.toUpperCase()
  if (t.includes('INT')) return 'INTEGER'
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT'
  if (t === '' || t.includes('BLOB')) return 'BLOB'
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

/** Declared type text cleaned for matching: lower case, quotes and a trailing `default …`/`not null …` gone. */
function clean(declared: string): string {
  let t = declared.toLowerCase().replace(/["'`[\]]/g, ' ')
  // some files carry a column constraint inside the type text
  const cut = /\s(default|not\s+null|null|primary|unique|check|references|constraint|collate|generated)\b/.exec(` ${t}`)
  if (cut && cut.index > 0) t = ` ${t}`.slice(0, cut.index)
  return t.replace(/\s+/g, ' ').trim()
}

function lengthArgs(t: string): number[] {
  const m = /\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)/.exec(t)
  if (!m) return []
  return m[2] === undefined ? [Number(m[1])] : [Number(m[1]), Number(m[2])]
}

function build(kind: LogicalType['kind'], t: string, args: number[]): LogicalType {
  const unsigned = /\bunsigned\b/.test(t)
  switch (kind) {
    case 'int16':
    case 'int32':
      return unsigned ? { kind, unsigned: true } : { kind }
    case 'int64':
      // SQLite's INTEGER is signed 64-bit whatever the name says: nothing past 2^63-1 is stored as an integer
      return { kind }
    case 'decimal': {
      const out: { kind: 'decimal'; precision?: number; scale?: number } = { kind }
      if (args[0] !== undefined && args[0] > 0) out.precision = args[0]
      if (args[1] !== undefined) out.scale = args[1]
      else if (args[0] !== undefined) out.scale = 0
      return out
    }
    case 'text': {
      // `char(n)` too: SQLite stores its values unpadded, and a target's char(n) would pad them on read, so it
      // is bounded text (a SQLite target keeps the declared `char(n)`; a type override can ask for `fixed`)
      const out: { kind: 'text'; length?: number } = { kind }
      if (args[0] !== undefined && args[0] > 0) out.length = args[0]
      return out
    }
    case 'bytes': {
      // `binary(n)` too is bounded, not fixed: SQLite keeps a shorter blob as it is, and a target's binary(n)
      // (MySQL, SQL Server) would pad it with zero bytes
      const out: { kind: 'bytes'; length?: number } = { kind }
      if (args[0] !== undefined && args[0] > 0 && !t.startsWith('blob')) out.length = args[0]
      return out
    }
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return args[0] !== undefined && args[0] <= 9 ? { kind, precision: args[0] } : { kind }
    default:
      return { kind } as LogicalType
  }
}

/**
 * The logical type for an SQLite declared type. Known leading words first (so `signed long` is int64 and
 * `text(100)` is text of 100), then the affinity rules (so `intege` is an integer, and `xyz`, NUMERIC by affinity, text).
 * `unsigned` sets the `unsigned` flag of 16- and 32-bit integers (`smallint unsigned`); 64-bit ones stay
 * signed, as SQLite stores nothing past 2^63-1 as an integer.
 */
function logicalFromDeclared(declared: string): LogicalType {
  const t = clean(declared)
  if (t === '') return { kind: 'bytes' }
  const args = lengthArgs(t)
  // words without the size and modifiers: "smallint unsigned" → "smallint", "signed long" stays
  const words = t.replace(/\(.*?\)/g, ' ').replace(/\s+/g, ' ').trim()
  const bare = words.replace(/\b(unsigned|zerofill)\b/g, '').replace(/\s+/g, ' ').trim()
  for (const [w, kind] of WORDS) {
    if (bare === w || bare.startsWith(`${w} `) || bare.startsWith(`${w}(`)) {
      return build(kind, t, args)
    }
  }
  switch (affinityOf(t)) {
    case 'INTEGER':
      return { kind: 'int64' }
    case 'TEXT':
      return build('text', t, args)
    case 'BLOB':
      return { kind: 'bytes' }
    case 'REAL':
      return { kind: 'float64' }
    default:
      // NUMERIC affinity under a name that says nothing (`weird`, `list:string`): the column holds numbers
      // and text alike, so it is read as text and no value is turned away
      return build('text', t, args)
  }
}

/** The DDL type written for each logical kind when the schema comes from another engine. */
const SQLITE_TYPE_NAMES: Readonly<Record<LogicalType['kind'], string>> = {
  boolean: 'BOOLEAN',
  int16: 'SMALLINT',
  int32: 'INT4',
  int64: 'INTEGER',
  decimal: 'DECIMAL TEXT',
  float32: 'FLOAT4',
  float64: 'REAL',
  text: 'TEXT',
  bytes: 'BLOB',
  date: 'DATE',
  time: 'TIME',
  timestamp: 'TIMESTAMP',
  timestamptz: 'TIMESTAMPTZ',
  uuid: 'UUID',
  json: 'JSON TEXT',
}

/**
 * The SQLite DDL type for a logical type: `VARCHAR(n)`/`CHAR(n)` for bounded text, `DECIMAL TEXT(p,s)` for
 * decimals (TEXT affinity keeps every digit), `TIMESTAMP(6)` with a precision, `UNSIGNED BIG INT` and
 * `SMALLINT UNSIGNED`-style names for unsigned integers.
 */
function sqliteType(type: LogicalType): string {
  switch (type.kind) {
    case 'int16':
      return type.unsigned ? 'SMALLINT UNSIGNED' : 'SMALLINT'
    case 'int32':
      return type.unsigned ? 'INT4 UNSIGNED' : 'INT4'
    case 'int64':
      return type.unsigned ? 'UNSIGNED BIG INT' : 'INTEGER'
    case 'decimal':
      if (type.precision === undefined) return 'DECIMAL TEXT'
      return `DECIMAL TEXT(${type.precision},${type.scale ?? 0})`
    case 'text':
      if (type.length === undefined) return 'TEXT'
      return `${type.fixed ? 'CHAR' : 'VARCHAR'}(${type.length})`
    case 'time':
    case 'timestamp':
    case 'timestamptz':
      return type.precision === undefined ? SQLITE_TYPE_NAMES[type.kind] : `${SQLITE_TYPE_NAMES[type.kind]}(${type.precision})`
    default:
      return SQLITE_TYPE_NAMES[type.kind]
  }
}

/** {@link sqliteTypes}' shape: every declared type has a logical type, and SQLite's affinity rule is at hand. */
export interface SqliteTypes extends DialectTypes {
  /** SQLite accepts any text as a type, so nothing is rejected. */
  toLogical(declared: string): LogicalType
  /** The affinity SQLite itself gives a declared type, which decides how a value is stored. */
  affinity(declared: string): Affinity
}

/**
 * SQLite's type map (see the tables above). Beyond the contract: `affinity(declared)`, the affinity SQLite
 * itself gives a declared type, which decides how a value is stored.
 *
 * @example
 * sqliteTypes.toNative({ kind: 'decimal', precision: 10, scale: 2 }) // 'DECIMAL TEXT(10,2)'
 * sqliteTypes.toLogical('varchar(20)') // { kind: 'text', length: 20 }
 */
export const sqliteTypes: SqliteTypes = Object.freeze({
  toNative: sqliteType,
  toLogical: logicalFromDeclared,
  affinity: affinityOf,
})
