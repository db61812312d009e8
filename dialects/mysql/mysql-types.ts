import type { CollationFolder, DialectTypes, TypeRejection } from '../../src/dialect.js'
import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'

/**
 * The MySQL/MariaDB type map, both ways, as data, and how its collations compare text.
 *
 * Reading (`toLogical`): one entry per type name, given the type as `information_schema.COLUMNS.COLUMN_TYPE`
 * or mysqldump's `CREATE TABLE` prints it. Choices worth knowing:
 * - `tinyint(1)`, `bool`/`boolean` and `bit(1)` are booleans; any other `bit(n)` is an `int64` (unsigned for
 *   `bit(64)`), because bit fields are flags and a number travels to every target, where raw bytes would not.
 * - `year` is an `int16`; `mediumint` and `smallint unsigned` are `int32`; `int unsigned` is an `int64`;
 *   `bigint unsigned` is an unsigned `int64` (up to 18446744073709551615, kept as bigint).
 * - `datetime(p)` is a `timestamp`; `timestamp(p)` is a `timestamptz` (MySQL stores it in UTC and the session
 *   runs at `+00:00`).
 * - `enum(…)` is text with its values; `set(…)` is plain text (a comma list).
 * - `text` family and `blob` family are unbounded text and bytes; `char`/`varchar`/`binary`/`varbinary` keep
 *   their lengths; `dec`/`fixed` are `decimal`.
 * - MariaDB's `json` is `longtext` with a `json_valid` check: the introspector marks such columns `json`.
 * - Types it does not know (spatial ones) are bytes, read as the server sends them (WKB with the SRID).
 *
 * Writing (`toNative`): see {@link LOGICAL_TO_MYSQL}. New text defaults to `varchar(n)` when a length is
 * known and fits the row-size budget, else `text`/`mediumtext`/`longtext` by size.
 */

/** What to do with MySQL zero dates (`0000-00-00`, or a zero month or day) when reading. Default `null`. */
export type ZeroDatePolicy = 'null' | 'reject'

/** Facts about one column's type, enough to derive its logical type. */
interface MysqlColumnFacts {
  dataType: string
  /** The whole type, lower case except enum/set values (`int(10) unsigned`, `enum('a','B')`). */
  columnType: string
  charMaxLength: number | null
  numericPrecision: number | null
  numericScale: number | null
  datetimePrecision: number | null
}

function displayWidth(columnType: string): number | undefined {
  const m = /^\w+\((\d+)\)/.exec(columnType)
  return m ? Number(m[1]) : undefined
}

function bitWidth(columnType: string): number {
  return displayWidth(columnType) ?? 1
}

/** Parses the quoted values of `enum('a','b')` / `set('x','y')`. */
function parseEnumValues(columnType: string): string[] {
  const body = columnType.slice(columnType.indexOf('(') + 1, columnType.lastIndexOf(')'))
  const out: string[] = []
  const re = /'((?:[^'\\]|''|\\.)*)'/g
  let m: RegExpExecArray | null
  while ((m = re.exec(body)) !== null) out.push(m[1]!.replace(/''/g, "'").replace(/\\(.)/g, '$1'))
  return out
}

const unsigned = (f: MysqlColumnFacts) => /\bunsigned\b/i.test(f.columnType)
const precisionOf = (f: MysqlColumnFacts) => f.datetimePrecision ?? Number(/\((\d)\)/.exec(f.columnType)?.[1] ?? 0)

/** Type name → logical type. Data, one line per MySQL type; unknown types read as bytes. */
const MYSQL_TO_LOGICAL: Readonly<Record<string, (f: MysqlColumnFacts) => LogicalType>> = {
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

const LENGTHY = new Set(['char', 'varchar', 'binary', 'varbinary'])
const NUMERIC = new Set(['decimal', 'numeric', 'dec', 'fixed'])
const TIMEY = new Set(['datetime', 'timestamp', 'time'])

/** Index of the `)` that closes the `(` at `open`, skipping quoted strings (enum values may hold parentheses). */
function closingParen(text: string, open: number): number {
  let quote: string | undefined
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i]!
    if (quote !== undefined) {
      if (ch === '\\') i++
      else if (ch === quote && text[i + 1] === quote) i++
      else if (ch === quote) quote = undefined
    } else if (ch === "'" || ch === '"') quote = ch
    else if (ch === ')') return i
  }
  return -1
}

/**
 * Splits a declared type into the facts the map reads: `decimal(10,2) unsigned` → name `decimal`, precision
 * 10, scale 2, the modifiers kept in `columnType`. Synonyms become the type MySQL stores: `dec`/`fixed` are
 * `decimal`, `bool`/`boolean` are `tinyint(1)`; absent lengths and precisions take MySQL's defaults.
 */
function factsOf(declared: string): MysqlColumnFacts | undefined {
  const text = declared.trim()
  const name = /^[a-z][a-z0-9_]*/i.exec(text)?.[0]
  if (name === undefined) return undefined
  const base = name.toLowerCase()
  let rest = text.slice(name.length).trimStart()
  let params: string | undefined
  if (rest.startsWith('(')) {
    const close = closingParen(rest, 0)
    if (close < 0) return undefined
    params = rest.slice(1, close)
    rest = rest.slice(close + 1).trim()
  }
  const list = base === 'enum' || base === 'set' || params === undefined ? [] : params.split(',').map((p) => p.trim())
  const p0 = list[0] !== undefined ? Number(list[0]) : undefined
  const p1 = list[1] !== undefined ? Number(list[1]) : undefined
  const boolean = base === 'bool' || base === 'boolean'
  const columnType = boolean ? 'tinyint(1)' : `${base}${params === undefined ? '' : `(${params})`}${rest ? ` ${rest.toLowerCase()}` : ''}`
  return {
    dataType: base === 'dec' || base === 'fixed' ? 'decimal' : boolean ? 'tinyint' : base,
    columnType,
    charMaxLength: LENGTHY.has(base) ? (p0 ?? 1) : null,
    numericPrecision: NUMERIC.has(base) ? (p0 ?? 10) : null,
    numericScale: NUMERIC.has(base) ? (p1 ?? 0) : null,
    datetimePrecision: TIMEY.has(base) ? (p0 ?? 0) : null,
  }
}

/** A declared MySQL type → its logical type. Unknown (spatial) types are bytes, read as the server sends them. */
function toLogical(declared: string): LogicalType | TypeRejection {
  const facts = factsOf(declared)
  if (facts === undefined) return { reject: `${JSON.stringify(declared)} is not a MySQL type` }
  const conv = MYSQL_TO_LOGICAL[facts.dataType]
  return conv ? conv(facts) : { kind: 'bytes' }
}

/** Bytes per character of utf8mb4. */
const UTF8MB4_BYTES = 4

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
function sqlLiteral(s: string): string {
  // backslash is an escape character in MySQL literals unless NO_BACKSLASH_ESCAPES: double it
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\0/g, '\\0')}'`
}

/**
 * Logical type → MySQL DDL type. `varcharAllowed` says whether the row-size budget leaves room for a
 * `varchar(n)`/`varbinary(n)` (the writer decides per table).
 */
const LOGICAL_TO_MYSQL: { readonly [K in LogicalType['kind']]: (t: LogicalType & { kind: K }, varcharAllowed: boolean) => string } = {
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

/** The MySQL DDL type of a logical type; `varcharAllowed` false gives text/blob types instead of varchar/varbinary. */
function nativeType(type: LogicalType, varcharAllowed: boolean): string {
  return (LOGICAL_TO_MYSQL[type.kind] as (t: LogicalType, v: boolean) => string)(type, varcharAllowed)
}

/** Bytes a column takes from the row-size budget when declared as varchar/varbinary. */
function varLengthBytes(type: LogicalType): number {
  if (type.kind === 'text' && type.length !== undefined && !(type.values && type.values.length > 0)) return type.length * UTF8MB4_BYTES + 2
  if (type.kind === 'bytes' && type.length !== undefined) return type.length + 2
  return 0
}

/** Bytes of the fractional seconds of `time(p)`/`datetime(p)`/`timestamp(p)`. */
const fractionBytes = (p: number) => Math.ceil(p / 2)

/** Bytes of a decimal's digits: 4 per 9 digits, and the leftover digits by MySQL's table. */
function decimalDigitBytes(digits: number): number {
  return Math.floor(digits / 9) * 4 + [0, 1, 1, 2, 2, 3, 3, 4, 4][digits % 9]!
}

/** Bytes a fixed-width type takes in an index key, by type name (InnoDB's key-length accounting). */
const KEY_BYTES: Readonly<Record<string, (f: MysqlColumnFacts, params: number[]) => number>> = {
  tinyint: () => 1,
  bool: () => 1,
  boolean: () => 1,
  smallint: () => 2,
  mediumint: () => 3,
  int: () => 4,
  integer: () => 4,
  bigint: () => 8,
  year: () => 1,
  bit: (f) => Math.ceil(bitWidth(f.columnType) / 8),
  // float(p) past 24 binary digits is a double; float(M,D) is a float whatever M
  float: (_f, p) => (p.length === 1 && p[0]! > 24 ? 8 : 4),
  double: () => 8,
  real: () => 8,
  decimal: (f) => decimalDigitBytes((f.numericPrecision ?? 10) - (f.numericScale ?? 0)) + decimalDigitBytes(f.numericScale ?? 0),
  numeric: (f) => decimalDigitBytes((f.numericPrecision ?? 10) - (f.numericScale ?? 0)) + decimalDigitBytes(f.numericScale ?? 0),
  date: () => 3,
  time: (f) => 3 + fractionBytes(f.datetimePrecision ?? 0),
  datetime: (f) => 5 + fractionBytes(f.datetimePrecision ?? 0),
  timestamp: (f) => 4 + fractionBytes(f.datetimePrecision ?? 0),
  enum: (f) => (parseEnumValues(f.columnType).length > 255 ? 2 : 1),
  set: (f) => [1, 1, 2, 3, 4, 8, 8, 8, 8][Math.ceil(parseEnumValues(f.columnType).length / 8)] ?? 8,
  // characters counted at utf8mb4's 4 bytes: exact for the tables dbferry creates, more than enough otherwise
  char: (f) => (f.charMaxLength ?? 1) * UTF8MB4_BYTES,
  varchar: (f) => (f.charMaxLength ?? 0) * UTF8MB4_BYTES,
  binary: (f) => f.charMaxLength ?? 1,
  varbinary: (f) => f.charMaxLength ?? 0,
  uuid: () => 16,
  inet4: () => 4,
  inet6: () => 16,
}

/**
 * Bytes a column of DDL type `declared` takes in an InnoDB index key (what "max key length is 3072 bytes"
 * counts: no length or NULL bytes; characters at 4 bytes): `int` 4, `bigint` 8, `decimal(10,2)` 5,
 * `datetime(6)` 8, `char(36)` 144, `varchar(100)` 400. Undefined for text/blob types, which a key can hold
 * only as a prefix.
 */
function keyBytes(declared: string): number | undefined {
  const facts = factsOf(declared)
  if (facts === undefined) return undefined
  const params = /\(([\d,\s]+)\)/.exec(facts.columnType)?.[1]?.split(',').map(Number) ?? []
  return KEY_BYTES[facts.dataType]?.(facts, params)
}

/** Whether a column is a MySQL text column in a 3-byte UTF-8 charset (`utf8`/`utf8mb3`), which cannot hold astral characters. */
function isUtf8mb3(column: Pick<ColumnSchema, 'charset' | 'collation'>): boolean {
  const cs = (column.charset ?? column.collation?.split('_')[0] ?? '').toLowerCase()
  return cs === 'utf8' || cs === 'utf8mb3'
}

/**
 * The comment the MySQL writer puts on `datetime` columns that hold UTC instants (logical `timestamptz`, which
 * MySQL has no type for); the introspector reads such columns back as `timestamptz`.
 */
const UTC_COMMENT = 'dbferry: timestamptz in UTC'

/** The collation the MySQL writer gives new tables whose schema names none. */
const DEFAULT_COLLATION = 'utf8mb4_unicode_ci'

/** Whether the reader receives a column's values as raw bytes (bytes, and text in a binary character set). */
function readsAsBytes(column: Pick<ColumnSchema, 'type' | 'charset' | 'collation'>): boolean {
  return column.type.kind === 'bytes' || column.charset === 'binary' || column.collation === 'binary'
}

/**
 * JavaScript foldings that reproduce how MySQL/MariaDB collations compare text, for the collation preflight:
 * two strings collide on a unique key exactly when their folded forms are equal.
 *
 * - `*_general_ci` (MariaDB's default for utf8mb4): one weight per character — the character's base letter
 *   (accents removed), upper-cased; `ß` = `s`; `æ`, `ø`, `đ`, `ł` stay letters of their own; every character
 *   outside the Basic Multilingual Plane (emoji) weighs the same (U+FFFD).
 * - `*_unicode_ci` (UCA 4.0.0): compatibility decomposition, accents removed, case folded, `ß` = `ss`, `œ` = `oe`,
 *   while `æ ø đ ł` stay letters of their own; every character outside the BMP weighs the same.
 * - `*_unicode_520_ci`, `*_0900_ai_ci`, `uca1400_*` (newer UCA): compatibility decomposition, accents removed,
 *   case folded, with the UCA's expansions (`ß` = `ss`, `æ` = `ae`, `œ` = `oe`) and `ø`/`đ`/`ł` as variants
 *   of `o`/`d`/`l`; control characters are ignorable. MySQL 8's `0900` collations follow a newer UCA: close,
 *   not exact, for rare scripts.
 * - `*_as_ci` (accent-sensitive): case only.
 * - PAD SPACE (every MariaDB collation except `*_nopad_*`, and MySQL's pre-8.0 ones): trailing spaces do not
 *   count. MySQL 8's `0900` collations are NO PAD.
 * - `binary` and NO PAD `*_bin`/`*_cs` collations: `undefined` (binary comparison). PAD SPACE `*_bin` collations
 *   (MariaDB's `utf8mb4_bin`) still ignore trailing spaces: the server says `'x' = 'x '` there, so they fold only that.
 * - Other `*_ci` collations (e.g. `latin1_swedish_ci`) use the general folding: an approximation (Swedish
 *   keeps `å ä ö` apart from `a o`, which this does not).
 *
 * The default (no collation given) is `utf8mb4_unicode_ci`, which the MySQL writer uses for the tables it
 * creates when the schema names no collation.
 */

const generalCache = new Map<number, string>()

// precomposed Cyrillic letters that the older tables keep apart from their base letter
const CYRILLIC_OWN_GENERAL = 'йЙ'
const CYRILLIC_OWN_UCA = 'йЙѓЃїЇќЌўЎ'
// Latin Extended-B letters newer than the old tables: no case pairing there, each is its own letter
const isLateLatin = (cp: number) => (cp >= 0x23a && cp <= 0x24f) || cp === 0x220 || cp === 0x180 || cp === 0x19a || cp === 0x19e

function generalWeight(cp: number, ch: string): string {
  if (cp > 0xffff) return '\ufffd'
  let w = generalCache.get(cp)
  if (w !== undefined) return w
  if (cp === 0xdf) w = 'S'
  else if (isLateLatin(cp)) w = ch
  else if (CYRILLIC_OWN_GENERAL.includes(ch)) w = ch.toUpperCase()
  else {
    const base = ch.normalize('NFD')[0] ?? ch
    const up = base.toUpperCase()
    w = [...up].length === 1 && !isLateLatin(up.codePointAt(0)!) ? up : base
  }
  generalCache.set(cp, w)
  return w
}

function foldGeneral(s: string): string {
  let out = ''
  for (const ch of s) out += generalWeight(ch.codePointAt(0)!, ch)
  return out
}

// letters UCA 4.0.0 (`unicode_ci`) sorts as expansions
const UCA400_EXPANSIONS: Readonly<Record<string, string>> = { ß: 'ss', ẞ: 'ss', œ: 'oe', Œ: 'oe' }
// UCA 5.2 and later (`unicode_520_ci`, `0900`, `uca1400`) also treat these as expansions or variants of a base letter
const UCA520_EXPANSIONS: Readonly<Record<string, string>> = {
  ...UCA400_EXPANSIONS,
  æ: 'ae',
  Æ: 'ae',
  ø: 'o',
  Ø: 'o',
  đ: 'd',
  Đ: 'd',
  ð: 'd',
  Ð: 'd',
  ł: 'l',
  Ł: 'l',
  ħ: 'h',
  Ħ: 'h',
  ŀ: 'l',
  Ŀ: 'l',
}
const expansionRe = (m: Readonly<Record<string, string>>) => new RegExp(`[${Object.keys(m).join('')}]`, 'gu')
const UCA400_RE = expansionRe(UCA400_EXPANSIONS)
const UCA520_RE = expansionRe(UCA520_EXPANSIONS)
// UCA 4.0.0 as MariaDB/MySQL implement it gives every character outside the BMP the same weight
const ASTRAL_RE = /[\u{10000}-\u{10FFFF}]/gu
// completely ignorable in the DUCET: C0/C1 controls other than tab, newline, vertical tab, form feed, carriage return
// eslint-disable-next-line no-control-regex
const UCA_IGNORABLE_RE = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060\ufeff]/gu

// letters kept apart from their base letter are replaced by private-use stand-ins (of their lower case) before
// decomposition, so accents are not stripped from them
const shield = (c: string) => String.fromCodePoint(0xf0000 + (c === 'Ƞ' ? 'ƞ' : c.toLowerCase()).codePointAt(0)!)
const CYRILLIC_OWN_RE = new RegExp(`[${CYRILLIC_OWN_UCA}]`, 'gu')
const UCA400_OWN_RE = new RegExp(`[${CYRILLIC_OWN_UCA}\\u0180\\u019a\\u019e\\u0220\\u023a-\\u024f]`, 'gu')
const shieldLate = (c: string) => (c === 'Ƞ' || c === 'ƞ' ? shield(c) : String.fromCodePoint(0xf0000 + c.codePointAt(0)!))

function foldUca400(s: string): string {
  const shielded = s.replace(ASTRAL_RE, '\ufffd').replace(UCA400_OWN_RE, (c) => (CYRILLIC_OWN_UCA.includes(c) ? shield(c) : shieldLate(c)))
  return foldUca(shielded, UCA400_RE, UCA400_EXPANSIONS)
}

function foldUca520(s: string): string {
  return foldUca(s.replace(CYRILLIC_OWN_RE, shield), UCA520_RE, UCA520_EXPANSIONS)
}

function foldUca(s: string, re: RegExp, expansions: Readonly<Record<string, string>>): string {
  return s
    .replace(re, (c) => expansions[c]!)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(re, (c) => expansions[c]!)
    .replace(UCA_IGNORABLE_RE, '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ς/g, 'σ')
}

function foldCaseOnly(s: string): string {
  return s.toLowerCase()
}

const trimPad = (s: string) => s.replace(/ +$/, '')

// the folding of a collation, or undefined for binary comparison (see mysqlTypes.collationFolder)
function collationFolder(collation: string | undefined): CollationFolder | undefined {
  const name = (collation && /^[a-z0-9]+_[a-z0-9_]+$|^binary$/i.test(collation) ? collation : DEFAULT_COLLATION).toLowerCase()
  if (name === 'binary') return undefined
  const noPad = name.includes('_nopad') || name.includes('_0900_')
  let fold: ((s: string) => string) | undefined
  if (name.endsWith('_bin') || name.endsWith('_cs')) fold = undefined
  else if (name.endsWith('_as_ci')) fold = foldCaseOnly
  else if (/_unicode_520_|_0900_|uca1400_/.test(name)) fold = foldUca520
  else if (/_unicode_/.test(name)) fold = foldUca400
  else fold = foldGeneral
  if (fold === undefined) return noPad ? undefined : trimPad
  const f = fold
  return noPad ? f : (s) => f(trimPad(s))
}

/** What `mysqlTypes` offers beyond the contract, for the other files of the dialect. */
export interface MysqlTypes extends DialectTypes {
  /** Like `toNative`; `varcharAllowed` false (the row-size budget is spent) gives text/blob instead of varchar/varbinary. */
  toNativeBudgeted(type: LogicalType, varcharAllowed: boolean): string
  /** Bytes a column takes from InnoDB's row-size budget when declared as varchar/varbinary (0 for other types). */
  varLengthBytes(type: LogicalType): number
  /**
   * Bytes a column of this DDL type takes in an InnoDB index key, as the 3072-byte limit counts them (`int`
   * 4, `decimal(10,2)` 5, `datetime(6)` 8, `varchar(n)` 4n); undefined for text/blob types (prefix only).
   */
  keyBytes(declared: string): number | undefined
  /** Bytes per character of utf8mb4, the character set of the tables dbferry creates: 4. */
  readonly bytesPerChar: number
  /** Whether a text column is in a 3-byte UTF-8 charset (`utf8`/`utf8mb3`), which cannot hold astral characters. */
  isUtf8mb3(column: Pick<ColumnSchema, 'charset' | 'collation'>): boolean
  /** Whether the reader receives a column's values as raw bytes (bytes, and text in a binary character set). */
  readsAsBytes(column: Pick<ColumnSchema, 'type' | 'charset' | 'collation'>): boolean
  /** A MySQL string literal for DDL (enum values, defaults, comments): quotes doubled, backslash escaped. */
  stringLiteral(s: string): string
  /** The comment on `datetime` columns that hold UTC instants (logical `timestamptz`): `dbferry: timestamptz in UTC`. */
  readonly utcComment: string
  /** The collation of new tables whose schema names none: `utf8mb4_unicode_ci`. */
  readonly defaultCollation: string
  /**
   * The folding of a MySQL/MariaDB collation, or undefined for binary comparison (see the notes above).
   * `collation` undefined means `utf8mb4_unicode_ci`; a name that is not a MySQL collation (from another
   * engine's schema) gets that default too, because the writer creates such columns with it.
   */
  collationFolder(collation: string | undefined): CollationFolder | undefined
}

/**
 * The MySQL/MariaDB type map (see the notes at the top of this file): `toNative` for DDL, `toLogical` for a
 * declared type such as `int(10) unsigned`, `enum('a','b')` or `datetime(6)`; plus the collation folding the
 * preflight uses. Loads no driver.
 */
export const mysqlTypes: MysqlTypes = Object.freeze({
  toNative: (type: LogicalType) => nativeType(type, true),
  toLogical,
  // utf8mb3 holds no character past U+FFFF: the preflight lists such text before a row moves
  bmpOnly: isUtf8mb3,
  toNativeBudgeted: nativeType,
  varLengthBytes,
  keyBytes,
  bytesPerChar: UTF8MB4_BYTES,
  isUtf8mb3,
  readsAsBytes,
  stringLiteral: sqlLiteral,
  utcComment: UTC_COMMENT,
  defaultCollation: DEFAULT_COLLATION,
  collationFolder,
})
