import type { CreateTableOptions, DialectSql, ScriptFrame, SegmentRequest } from '../../src/dialect.js'
import type { ColumnSchema, ForeignKeySchema, IndexSchema, TableSchema, Value } from '../../src/schema/types.js'
import { ConversionFailure, makeConverter } from '../../src/schema/values.js'
import { hexPieces, stringPieces } from '../../src/schema/value-pieces.js'
import { rejectedRowCondition, segmentLiterals } from '../../src/verify/engine-sql.js'
import { postgresTypes } from './postgres-types.js'

/**
 * Statements as PostgreSQL writes them, with no driver: the SQL script target's DDL and literals, the live
 * target's DDL (named keys, collations, generated columns, NOT VALID foreign keys), the COPY text format both
 * ways, and the select expressions the reader and verify's server-side hashing share.
 */

/** A quoted identifier (`"a""b"`). */
function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** `schema.table` when a schema is known, else the bare table (the session's `search_path` finds it). */
function tableName(table: { name: string; schema?: string }, defaultSchema?: string): string {
  const schema = table.schema ?? defaultSchema
  return schema === undefined ? quote(table.name) : `${quote(schema)}.${quote(table.name)}`
}

/** A SQL string literal with standard strings ('' doubled). */
function stringLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

const hex = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')

const INTEGER_TYPE = /^(smallint|integer|bigint)$/

// ---------------------------------------------------------------------------------------------------------
// shared by the script and the live target

/** The PRIMARY KEY and UNIQUE clauses of CREATE TABLE; `uniqueName` names a unique key, or not (undefined). */
function keyClauses(t: TableSchema, uniqueName: (u: TableSchema['uniques'][number]) => string | undefined): string[] {
  const parts: string[] = []
  if (t.primaryKey && t.primaryKey.columns.length > 0) parts.push(`PRIMARY KEY (${t.primaryKey.columns.map(quote).join(', ')})`)
  for (const u of t.uniques) {
    const name = uniqueName(u)
    parts.push(`${name !== undefined ? `CONSTRAINT ${quote(name)} ` : ''}UNIQUE (${u.columns.map(quote).join(', ')})`)
  }
  return parts
}

function createTableStatement(name: string, parts: string[]): string {
  return `CREATE TABLE ${name} (\n  ${parts.join(',\n  ')}\n)`
}

const FK_ACTIONS = /^(NO ACTION|CASCADE|SET NULL|SET DEFAULT|RESTRICT)$/i

/** `FOREIGN KEY (…) REFERENCES parent (…)` with the referential actions PostgreSQL knows. */
function foreignKeyClause(fk: ForeignKeySchema, parent: string): string {
  let sql = `FOREIGN KEY (${fk.columns.map(quote).join(', ')}) REFERENCES ${parent} (${fk.refColumns.map(quote).join(', ')})`
  if (fk.onDelete && FK_ACTIONS.test(fk.onDelete)) sql += ` ON DELETE ${fk.onDelete.toUpperCase()}`
  if (fk.onUpdate && FK_ACTIONS.test(fk.onUpdate)) sql += ` ON UPDATE ${fk.onUpdate.toUpperCase()}`
  return sql
}

function indexStatement(unique: boolean, name: string, table: string, keys: string, where?: string): string {
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quote(name)} ON ${table} ${keys}${where ? ` WHERE ${where}` : ''}`
}

/** Whether a column gets an identity: auto-increment on an integer DDL type. */
function isIdentity(c: ColumnSchema, type: string): boolean {
  return c.autoIncrement === true && INTEGER_TYPE.test(type)
}

// ---------------------------------------------------------------------------------------------------------
// the SQL script target

function plainNumber(v: Value): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? '0' : String(v)) : undefined
  if (typeof v === 'bigint') return v.toString()
  return undefined
}

/** A literal for a canonical value: standard strings, `'\x…'::bytea`, `'NaN'::float8`, bare numbers. */
function literal(v: Value, c: ColumnSchema): string {
  if (v === null) return 'NULL'
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE'
  if (v instanceof Uint8Array) return `'\\x${hex(v)}'::bytea`
  if (typeof v === 'number' && !Number.isFinite(v)) return `'${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}'::float8`
  const n = plainNumber(v)
  if (n !== undefined) return n
  const s = String(v)
  if (c.type.kind === 'decimal' && /^-?\d+(\.\d+)?$/.test(s)) return s
  return stringLiteral(s)
}

/**
 * CREATE TABLE as a script writes it: identity on auto-increment integers, value defaults and
 * `CURRENT_TIMESTAMP` for timestamps, the primary key and unnamed unique keys. In `options.schema` when
 * given, else unqualified (the table's own `schema` is not used: a script runs in the session's schema).
 */
function createTable(t: TableSchema, options: CreateTableOptions = {}): string {
  const cols = t.columns.map((c) => {
    const type = postgresTypes.columnType(c)
    let def = `${quote(c.name)} ${type}`
    if (isIdentity(c, type)) def += ' GENERATED BY DEFAULT AS IDENTITY'
    else if (c.default?.kind === 'value' && c.default.value !== null) def += ` DEFAULT ${literal(c.default.value, c)}`
    else if (c.default?.kind === 'now' && (c.type.kind === 'timestamp' || c.type.kind === 'timestamptz')) def += ' DEFAULT CURRENT_TIMESTAMP'
    if (!c.nullable) def += ' NOT NULL'
    return def
  })
  const name = options.schema === undefined ? quote(t.name) : tableName({ name: t.name }, options.schema)
  return createTableStatement(name, [...cols, ...keyClauses(t, () => undefined)])
}

/** CREATE INDEX on the columns; undefined for an expression index (a script cannot carry another engine's). */
function createIndex(t: TableSchema, i: IndexSchema): string | undefined {
  if (i.expression) return undefined
  return indexStatement(i.unique, i.name, quote(t.name), `(${i.columns.map(quote).join(', ')})`)
}

/** ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY, named `<table>_<columns>_fkey` when the key has no name. */
function addForeignKey(t: TableSchema, fk: ForeignKeySchema): string {
  const name = fk.name ?? `${t.name}_${fk.columns.join('_')}_fkey`
  return `ALTER TABLE ${quote(t.name)} ADD CONSTRAINT ${quote(name)} ${foreignKeyClause(fk, quote(fk.refTable))}`
}

/** `setval` of each identity's sequence to the largest loaded key (or back to 1 for an empty table). */
function resetIdentity(t: TableSchema): string[] {
  return t.columns
    .filter((c) => isIdentity(c, postgresTypes.columnType(c)))
    .map(
      (c) =>
        `SELECT setval(pg_get_serial_sequence('${quote(t.name).replace(/'/g, "''")}', '${c.name.replace(/'/g, "''")}'), COALESCE(max(${quote(c.name)}), 1), max(${quote(c.name)}) IS NOT NULL) FROM ${quote(t.name)}`,
    )
}

/** A script: UTF-8, standard strings, everything in one transaction, 500 rows per INSERT. */
const script: ScriptFrame = Object.freeze({
  header: Object.freeze(["SET client_encoding = 'UTF8'", 'SET standard_conforming_strings = on', 'BEGIN']),
  footer: Object.freeze(['COMMIT']),
  rowsPerInsert: () => 500,
})

// ---------------------------------------------------------------------------------------------------------
// the live target

/** A default's literal in live DDL (defaults cannot be bound parameters). */
function defaultLiteral(v: Value): string {
  if (v === null) return 'NULL'
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false'
    case 'bigint':
      return v.toString()
    case 'number':
      return Number.isFinite(v) ? String(v) : stringLiteral(String(v))
    case 'string':
      return stringLiteral(v)
    default:
      return `'\\x${Buffer.from(v).toString('hex')}'::bytea`
  }
}

const NOW: Readonly<Record<string, string>> = { date: 'CURRENT_DATE', time: 'LOCALTIME', timestamp: 'LOCALTIMESTAMP', timestamptz: 'CURRENT_TIMESTAMP' }

function defaultClause(c: ColumnSchema): string {
  const d = c.default
  if (!d) return ''
  if (d.kind === 'expression') return d.dialect === 'postgres' ? ` DEFAULT ${d.sql}` : ''
  if (d.kind === 'now') return NOW[c.type.kind] ? ` DEFAULT ${NOW[c.type.kind]}` : ''
  if (d.value === null) return ''
  // a default the column could not hold would fail the whole CREATE TABLE: leave it out instead
  const v = makeConverter(c.type)(d.value)
  return v instanceof ConversionFailure ? '' : ` DEFAULT ${defaultLiteral(v)}`
}

/** One column's definition in a live CREATE TABLE: collations and generated columns of a PostgreSQL source kept. */
function columnDefinition(c: ColumnSchema): string {
  const type = postgresTypes.columnType(c)
  let def = `${quote(c.name)} ${type}`
  if (c.collation && c.nativeDialect === 'postgres') def += ` COLLATE ${quote(c.collation)}`
  if (c.generated && c.default?.kind === 'expression' && c.default.dialect === 'postgres') {
    return `${def} GENERATED ALWAYS AS (${c.default.sql}) STORED`
  }
  if (isIdentity(c, type)) def += ' GENERATED BY DEFAULT AS IDENTITY'
  else def += defaultClause(c)
  if (!c.nullable) def += ' NOT NULL'
  return def
}

/**
 * CREATE TABLE on a live target, in `schemaName`: unique keys keep their names where still free in
 * `usedNames` (names are per schema in PostgreSQL), which it updates.
 */
function createTableIn(schemaName: string, t: TableSchema, usedNames: Set<string>): string {
  const keys = keyClauses(t, (u) => {
    const named = u.name && !u.name.startsWith('sqlite_autoindex') && !usedNames.has(u.name)
    if (!named) return undefined
    usedNames.add(u.name!)
    return u.name
  })
  return createTableStatement(tableName({ name: t.name }, schemaName), [...t.columns.map(columnDefinition), ...keys])
}

/** ALTER TABLE … ADD [CONSTRAINT name] FOREIGN KEY on a live target; `notValid` leaves existing rows unchecked. */
function addForeignKeyIn(schemaName: string, t: TableSchema, fk: ForeignKeySchema, name: string | undefined, notValid: boolean): string {
  const sql = `ALTER TABLE ${tableName({ name: t.name }, schemaName)} ADD ${name ? `CONSTRAINT ${quote(name)} ` : ''}${foreignKeyClause(fk, tableName({ name: fk.refTable }, schemaName))}`
  return notValid ? `${sql} NOT VALID` : sql
}

/**
 * CREATE INDEX `name` on a live target: columns, or a PostgreSQL source's expression (`USING gin (doc)` as it
 * is) and partial-index predicate. The caller checks that expressions came from PostgreSQL.
 */
function createIndexIn(schemaName: string, t: TableSchema, ix: IndexSchema, name: string): string {
  let keys: string
  if (ix.expression !== undefined) keys = ix.expression.startsWith('USING ') ? ix.expression : `(${ix.expression})`
  else keys = `(${ix.columns.map(quote).join(', ')})`
  return indexStatement(ix.unique, name, tableName({ name: t.name }, schemaName), keys, ix.where)
}

// ---------------------------------------------------------------------------------------------------------
// the COPY text format

/**
 * COPY text-format rows written straight into one growing byte buffer: values become their bytes without an
 * intermediate string per field or per line. The bytes are exactly those of `encodeCopyValue` joined by tabs and
 * ended by a newline, UTF-8 encoded as `Buffer.write` does it (a lone surrogate becomes U+FFFD). Large values
 * stay out of that buffer: their text is made in pieces as it is sent (see {@link CopyTextBuffer.pieces}).
 */

/** Strings longer than this are escaped and encoded by the engine's native code, faster than a loop here. */
const LONG_STRING = 256
/**
 * Strings of more characters, and blobs of more bytes, than this are large: the buffer keeps only where they go,
 * and their text is made piece by piece when sent. Copied into the buffer, two rows of a 50 MB text and a 50 MB
 * blob took 1.3 GB (3 bytes reserved per character, each blob's hex as a 100 MB string, then copied into a
 * buffer that doubled and was copied as it grew); sent in pieces, only the values themselves are held.
 */
const LARGE_VALUE = 64 * 1024
/** Characters of a large string, or bytes of a large blob, per piece: 32 to 96 KiB of COPY text. */
const PIECE = 32 * 1024
const BACKSLASH = 92
const TAB = 9
const NEWLINE = 10
const CR = 13

/** A large value and the offset in the buffer where its text goes. */
interface LargeValue {
  at: number
  value: string | Uint8Array
}

/**
 * A batch encoded once: the COPY text of its rows in one byte buffer, with the offset where each row starts,
 * so any range of rows can be sent again without encoding it again. Rows are written a field at a time with
 * {@link beginRow}, the `field`/`value` methods, {@link endRow}; {@link abandonRow} drops a row half written.
 * A large value (past 64 Ki characters or bytes) is not copied in: the buffer keeps where it goes, and
 * {@link pieces} makes its text when the range is sent, so a batch never holds a second copy of it.
 */
class CopyTextBuffer {
  buf: Buffer
  len = 0
  /** offsets[i] is where row i starts; offsets[rows] is the end. */
  offsets: number[] = [0]
  #fields = 0
  /** The large values, in the order of their offsets. */
  #large: LargeValue[] = []

  constructor(buf: Buffer) {
    this.buf = buf
  }

  get rows(): number {
    return this.offsets.length - 1
  }

  /** How many large values the rows written so far hold (their text is only in {@link pieces}). */
  get largeValues(): number {
    return this.#large.length
  }

  /**
   * The COPY text of bytes [start, end) of the buffer (row offsets, or `len`) with the large values in that
   * range: views of the buffer between them, and each large value's text in pieces of at most 96 KiB, each
   * a new Buffer of exactly its size, made only when the caller asks for it.
   */
  *pieces(start: number, end: number): Generator<Buffer> {
    let at = start
    for (const large of this.#large) {
      if (large.at < start) continue
      if (large.at >= end) break
      if (large.at > at) yield this.buf.subarray(at, large.at)
      yield* largeValuePieces(large.value)
      at = large.at
    }
    if (end > at) yield this.buf.subarray(at, end)
  }

  /** Rows [from, to) as one Buffer: a view of the buffer, or a copy when they hold large values (tests). */
  range(from: number, to: number): Buffer {
    const start = this.offsets[from]!
    const end = this.offsets[to]!
    if (!this.#large.some((l) => l.at >= start && l.at < end)) return this.buf.subarray(start, end)
    return Buffer.concat([...this.pieces(start, end)])
  }

  /** Makes room for `bytes` more bytes. */
  #reserve(bytes: number): void {
    const need = this.len + bytes
    if (need <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  beginRow(): void {
    this.#fields = 0
  }

  /** Forgets the fields written since {@link beginRow} (a value that could not be encoded). */
  abandonRow(): void {
    this.len = this.offsets[this.offsets.length - 1]!
    // a large value first in the row goes at the row's own start; the row before ends with its newline
    while (this.#large.length > 0 && this.#large[this.#large.length - 1]!.at >= this.len) this.#large.pop()
  }

  endRow(): void {
    this.#reserve(1)
    this.buf[this.len++] = NEWLINE
    this.offsets.push(this.len)
  }

  #separate(): void {
    if (this.#fields++ > 0) {
      this.#reserve(1)
      this.buf[this.len++] = TAB
    }
  }

  /** Appends a field already in COPY text form (escaped), as UTF-8. */
  rawField(text: string): void {
    this.#separate()
    this.#reserve(text.length * 3)
    this.len += this.buf.write(text, this.len)
  }

  /** Appends one canonical value as a field, as `encodeCopyValue` would encode it. */
  value(v: Value | undefined): void {
    this.#separate()
    switch (typeof v) {
      case 'string':
        if (v.length > LARGE_VALUE) this.#large.push({ at: this.len, value: v })
        else this.#string(v)
        return
      case 'number':
        if (Number.isSafeInteger(v) && !(v === 0 && 1 / v < 0)) this.#integer(v)
        else this.#ascii(Number.isFinite(v) ? (v === 0 ? '-0' : String(v)) : v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity')
        return
      case 'bigint':
        this.#ascii(v.toString())
        return
      case 'boolean':
        this.#reserve(1)
        this.buf[this.len++] = v ? 116 : 102
        return
      default:
        if (v === null || v === undefined) {
          this.#reserve(2)
          this.buf[this.len++] = BACKSLASH
          this.buf[this.len++] = 78
          return
        }
        // bytea hex input is `\x…`; the backslash itself is escaped for COPY
        if (typeof v !== 'object') this.#string(String(v))
        else if (v.byteLength <= LARGE_VALUE) this.#ascii(`\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`)
        else {
          this.#ascii('\\\\x')
          this.#large.push({ at: this.len, value: v })
        }
    }
  }

  /** A string known to be ASCII without characters COPY escapes (numbers, hex). */
  #ascii(s: string): void {
    const n = s.length
    this.#reserve(n)
    const buf = this.buf
    let at = this.len
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i)
    this.len = at
  }

  /** A safe integer other than -0, digit by digit. */
  #integer(v: number): void {
    this.#reserve(17)
    const buf = this.buf
    let at = this.len
    if (v < 0) {
      buf[at++] = 45
      v = -v
    }
    let digits = 1
    for (let p = 10; p <= v; p *= 10) digits++
    at += digits
    this.len = at
    do {
      const q = Math.floor(v / 10)
      buf[--at] = 48 + (v - q * 10)
      v = q
    } while (v > 0)
  }

  /** Escapes and UTF-8 encodes a string; short ones by hand in one pass, long ones natively. */
  #string(s: string): void {
    const n = s.length
    this.#reserve(n * 3)
    if (n > LONG_STRING) {
      this.len += this.buf.write(escapeCopyText(s), this.len)
      return
    }
    const buf = this.buf
    let at = this.len
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i)
      if (c < 0x80) {
        if (c === BACKSLASH || c === NEWLINE || c === CR || c === TAB) {
          buf[at++] = BACKSLASH
          c = c === BACKSLASH ? BACKSLASH : c === NEWLINE ? 110 : c === CR ? 114 : 116
        }
        buf[at++] = c
      } else if (c < 0x800) {
        buf[at++] = 0xc0 | (c >> 6)
        buf[at++] = 0x80 | (c & 0x3f)
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[at++] = 0xe0 | (c >> 12)
        buf[at++] = 0x80 | ((c >> 6) & 0x3f)
        buf[at++] = 0x80 | (c & 0x3f)
      } else {
        const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0
        if (d >= 0xdc00 && d <= 0xdfff) {
          // a surrogate pair: one code point, four bytes (no more than its two code units' six)
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
          buf[at++] = 0xf0 | (cp >> 18)
          buf[at++] = 0x80 | ((cp >> 12) & 0x3f)
          buf[at++] = 0x80 | ((cp >> 6) & 0x3f)
          buf[at++] = 0x80 | (cp & 0x3f)
          i++
        } else {
          // a lone surrogate: U+FFFD, as Buffer.write encodes it
          buf[at++] = 0xef
          buf[at++] = 0xbf
          buf[at++] = 0xbd
        }
      }
    }
    this.len = at
  }
}

/**
 * A large value's COPY text in pieces, each a Buffer of exactly its size: a blob's hex digits (its `\\x` is
 * already in the row buffer), or a string's escaped UTF-8, cut between characters and never inside a
 * surrogate pair, so the pieces joined are the bytes the whole string encodes to.
 */
function* largeValuePieces(v: string | Uint8Array): Generator<Buffer> {
  if (typeof v !== 'string') return yield* hexPieces(v, PIECE)
  for (const piece of stringPieces(v, PIECE)) yield Buffer.from(escapeCopyText(piece), 'utf8')
}

const ESCAPE_RE = /[\\\n\r\t]/
const ESCAPE_ALL = /[\\\n\r\t]/g
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }
const escapeChar = (c: string): string => ESCAPED[c]!

/** Escapes a string for a COPY text-format field. */
function escapeCopyText(s: string): string {
  return ESCAPE_RE.test(s) ? s.replace(ESCAPE_ALL, escapeChar) : s
}

/**
 * Encodes one canonical value as a COPY text-format field (`\N` for NULL): its parameter text, escaped for COPY
 * (bytea's `\x…` gets its backslash doubled).
 */
function encodeCopyValue(v: Value): string {
  const text = paramText(v)
  return text === null ? '\\N' : escapeCopyText(text)
}

/**
 * A canonical value as the text of a bound parameter, which the server reads with the column type's input
 * function as it reads COPY text, without COPY's escaping (a key to resume after, a value to insert through
 * plain statements); NULL stays null.
 */
function paramText(v: Value): string | null {
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
      if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '-0' : String(v)
      return v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
    case 'bigint':
      return v.toString()
    case 'boolean':
      return v ? 't' : 'f'
    case 'object':
      return v === null ? null : `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
    default:
      return String(v)
  }
}

const ESCAPES: Record<number, string> = { 98: '\b', 102: '\f', 110: '\n', 114: '\r', 116: '\t', 118: '\v', 92: '\\' }

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Undoes COPY text-format escaping (`\\`, `\n`, `\t`, octal `\ooo`, hex `\xhh`). */
function unescapeCopy(field: string): string {
  let out = ''
  let last = 0
  for (let i = field.indexOf('\\'); i >= 0 && i < field.length - 1; i = field.indexOf('\\', last)) {
    out += field.slice(last, i)
    const c = field.charCodeAt(i + 1)
    const simple = ESCAPES[c]
    if (simple !== undefined) {
      out += simple
      last = i + 2
    } else if (isOctal(c)) {
      let j = i + 1
      let v = 0
      while (j < field.length && j < i + 4 && isOctal(field.charCodeAt(j))) v = v * 8 + field.charCodeAt(j++) - 48
      out += String.fromCharCode(v & 0xff)
      last = j
    } else if (c === 120 && hexValue(field.charCodeAt(i + 2)) >= 0) {
      let v = hexValue(field.charCodeAt(i + 2))
      let j = i + 3
      const h2 = hexValue(field.charCodeAt(j))
      if (h2 >= 0) {
        v = v * 16 + h2
        j++
      }
      out += String.fromCharCode(v)
      last = j
    } else {
      out += field[i + 1]
      last = i + 2
    }
  }
  return last === 0 ? field : out + field.slice(last)
}

// ---------------------------------------------------------------------------------------------------------
// what the reader selects, and verify's server-side hashing of the same text

/** The select-list expression that reads a column in the text form the reader decodes. */
function selectExpression(column: ColumnSchema): string {
  const q = quote(column.name)
  if (column.nativeDialect === 'postgres' && column.nativeType.endsWith('[]')) return `to_json(${q})::text`
  const cast = column.nativeDialect === 'postgres' ? postgresTypes.readCast[column.nativeType] : undefined
  return cast === undefined ? q : `${q}::${cast}`
}

/**
 * A condition that holds for every value of a column its decoder could reject (numeric NaN and infinities,
 * dates and timestamps outside years 1–9999), `false` when it rejects none, or undefined when its values
 * are not decoded from their own text form (a logical type override): then its rows cannot be hashed by
 * the server in the form the reader would see them.
 */
function rejectCondition(column: ColumnSchema): string | undefined {
  if (!postgresTypes.readsOwnText(column)) return undefined
  const e = selectExpression(column)
  switch (column.type.kind) {
    case 'decimal':
      // numeric infinities exist from PostgreSQL 14; comparing their text works on every version
      return `(${e})::text IN ('NaN', 'Infinity', '-Infinity')`
    case 'date':
      return `NOT (${e} BETWEEN '0001-01-01' AND '9999-12-31')`
    case 'timestamp':
    case 'timestamptz':
      return `NOT (${e} >= '0001-01-01' AND ${e} < '10000-01-01')`
    default:
      return 'false'
  }
}

/**
 * A 64-bit hash of a row's text as the server renders it: the record form of the columns as the reader
 * selects them (NULL and the empty string, quotes and commas all distinct), hashed by `hashtextextended`
 * over its bytes (`COLLATE "C"`: no collation folds it). That hash is PostgreSQL's own and may change
 * between versions and platforms, which is why the renderer names both. Measured 1.6 to 2.2 times faster
 * than md5 and its hex digits.
 */
function rowHashSql(table: TableSchema, columns: readonly number[]): string {
  return `hashtextextended(ROW(${columns.map((i) => selectExpression(table.columns[i]!)).join(', ')})::text COLLATE "C", 0)`
}

/**
 * A row's segment: the low bits of the hash of its key (seeded apart from the row hash), or of its row hash
 * in a table without a key. By key, a changed row stays in one segment on both sides, and the second pass
 * finds its segment's rows by hashing only their keys (measured 2.7 times cheaper than their whole rows).
 */
function segmentSql(table: TableSchema, request: SegmentRequest, rowHash: string): string {
  const key = request.key ?? []
  const hash = key.length > 0 ? `hashtextextended(ROW(${key.map((i) => selectExpression(table.columns[i]!)).join(', ')})::text COLLATE "C", 1)` : rowHash
  return `(${hash} & ${request.segments - 1})::int`
}

/**
 * The query of verify's engine-side first pass: per segment, the row count, the sums of the high and the
 * low 32 bits of each row's hash (as numeric: order-independent and exact), and the count of rows the reader
 * would reject. Undefined when a column's values are not read from their own text. `OFFSET 0` keeps the
 * planner from inlining the hash into the grouping and each aggregate, which computed it again for each
 * (2.4 times slower).
 */
function segmentHashSql(table: TableSchema, schema: string, request: SegmentRequest): string | undefined {
  const bad = rejectedRowCondition(table, request, rejectCondition)
  if (bad === undefined) return undefined
  // a key's segment is computed from its columns, a keyless row's from its hash once that is computed
  const keyed = (request.key ?? []).length > 0
  return `SELECT seg, count(*)::text || ':' || sum(h >> 32)::text || ':' || sum(h & 4294967295)::text AS sums, count(*) FILTER (WHERE bad) AS bad
FROM (SELECT ${keyed ? 'kseg' : segmentSql(table, request, 'h')} AS seg, h, bad
      FROM (SELECT ${rowHashSql(table, request.columns)} AS h, ${keyed ? segmentSql(table, request, '') : 'NULL'} AS kseg, coalesce(${bad}, false) AS bad
            FROM ${tableName({ name: table.name }, schema)} OFFSET 0) r) s
GROUP BY seg`
}

/** The condition that selects the rows of the `wanted` segments of a {@link segmentHashSql} request. */
function segmentFilter(table: TableSchema, request: SegmentRequest, wanted: readonly number[]): string {
  return `${segmentSql(table, request, rowHashSql(table, request.columns))} = ANY('{${segmentLiterals(request, wanted).join(',')}}'::int[])`
}

/** The COPY text format (see {@link postgresSql}). */
export interface PostgresCopyText {
  /** Escapes a string for a field (`\\`, `\n`, `\r`, `\t`). */
  escape(s: string): string
  /** One canonical value as a field (`\N` for NULL). */
  encode(v: Value): string
  /** Undoes a field's escaping (also octal `\ooo` and hex `\xhh`). */
  decode(field: string): string
  /** Rows encoded straight into one byte buffer, exactly as `encode` joined by tabs and newlines. */
  readonly RowBuffer: typeof CopyTextBuffer
}

export type { CopyTextBuffer }

/**
 * PostgreSQL's statements (see {@link DialectSql}): `createTable`, `createIndex`, `addForeignKey`,
 * `resetIdentity`, `literal` and `script` as the SQL script target writes them. Engine-specific members:
 * the live target's DDL (`columnDefinition`, `createTableIn`, `createIndexIn`, `addForeignKeyIn`, which take
 * the target schema), the COPY text format (`copyText`), the reader's `selectExpression`, and verify's
 * `segmentHashSql` / `segmentFilter`.
 */
export const postgresSql: DialectSql & {
  columnDefinition(c: ColumnSchema): string
  createTableIn(schemaName: string, t: TableSchema, usedNames: Set<string>): string
  createIndexIn(schemaName: string, t: TableSchema, ix: IndexSchema, name: string): string
  addForeignKeyIn(schemaName: string, t: TableSchema, fk: ForeignKeySchema, name: string | undefined, notValid: boolean): string
  readonly copyText: PostgresCopyText
  paramText(v: Value): string | null
  selectExpression(column: ColumnSchema): string
  segmentHashSql(table: TableSchema, schema: string, request: SegmentRequest): string | undefined
  segmentFilter(table: TableSchema, request: SegmentRequest, wanted: readonly number[]): string
} = Object.freeze({
  quoteIdentifier: quote,
  tableName,
  createTable,
  dropTable: (t: TableSchema) => `DROP TABLE IF EXISTS ${quote(t.name)} CASCADE`,
  createIndex,
  addForeignKey,
  foreignKeysInCreate: false,
  resetIdentity,
  literal,
  script,
  columnDefinition,
  createTableIn,
  createIndexIn,
  addForeignKeyIn,
  copyText: Object.freeze({ escape: escapeCopyText, encode: encodeCopyValue, decode: unescapeCopy, RowBuffer: CopyTextBuffer }),
  paramText,
  selectExpression,
  segmentHashSql,
  segmentFilter,
})
