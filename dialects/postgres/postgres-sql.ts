import type { CreateTableOptions, DialectSql, ScriptFrame, SegmentRequest } from '../../src/dialect.js'
import type { ColumnSchema, ForeignKeySchema, IndexSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { ConversionFailure, makeConverter } from '../../src/schema/values.js'
import { hexPieces, stringPieces } from '../../src/schema/value-pieces.js'
import { rejectedRowCondition, segmentLiterals } from '../../src/verify/engine-sql.js'
import { postgresTypes } from './postgres-types.js'

/**
 * Statements as PostgreSQL writes them, with no driver: the SQL script target's DDL and literals, the live
 * target's DDL (named keys, collations, generated columns, NOT VALID foreign keys), the COPY text format both
 * ways, the COPY binary format for writing, and the select expressions the reader and verify's server-side hashing share.
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
      } else {
        const from = at
        at = multibyteInto(buf, at, c, s, i)
        // four bytes: a surrogate pair, whose low half was written too
        if (at - from === 4) i++
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
// the COPY binary format

/*
 * `COPY … FROM STDIN (FORMAT binary)`: a header, then per row an int16 field count and per field an int32
 * length (-1 for NULL) and the value in the type's binary (`*_recv`) form, then an int16 -1. The server skips
 * parsing text, but reads the bytes as the column's own type: an encoder exists only for the built-in types
 * below, takes only the JS values whose binary form is what the server would make of the same value's COPY
 * text (typmods, rounding to a column's precision and length checks are applied by the server either way),
 * and throws {@link NotBinaryExact} for anything else, so the writer can fall back to text.
 */

/** A value whose binary form could differ from what the server reads from its text: the caller sends text. */
class NotBinaryExact extends Error {
  constructor(what: string) {
    super(`not exact in COPY binary: ${what}`)
  }
}

/** Whether `error` is an encoder's {@link NotBinaryExact}. */
function isNotBinaryExact(error: unknown): boolean {
  return error instanceof NotBinaryExact
}

/**
 * Strings of more characters than this are UTF-8 encoded by the engine's native code: with no escaping to do
 * first, it took less time than the loop here in a micro-benchmark from a few dozen characters on.
 */
const SHORT_BINARY_STRING = 24
/** The signature, flags and header extension length that start every binary COPY. */
const BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)])
/** The int16 -1 that ends every binary COPY. */
const BINARY_TRAILER = Buffer.from([0xff, 0xff])

/** Appends one value's length and bytes; throws {@link NotBinaryExact} when it cannot (the row is then dropped from the batch). */
type BinaryEncoder = (b: CopyBinaryBuffer, v: Value) => void

const TWO_32 = 4294967296

/**
 * A batch encoded once in COPY binary form, the counterpart of {@link CopyTextBuffer}: rows of the given field
 * encoders in one byte buffer with their offsets, large strings and blobs kept out of it and sent as pieces
 * (a blob as views of itself). The header and trailer are not in the buffer: each COPY sends them around the
 * range of rows it carries.
 */
class CopyBinaryBuffer {
  buf: Buffer
  len = 0
  /** offsets[i] is where row i starts; offsets[rows] is the end. */
  offsets: number[] = [0]
  /** The large values, in the order of their offsets (a string's bytes or a blob, sent after its length). */
  #large: LargeValue[] = []
  readonly #encoders: readonly BinaryEncoder[]

  /** `encoders`: one per field of a row, in the order of the COPY's column list. */
  constructor(buf: Buffer, encoders: readonly BinaryEncoder[]) {
    this.buf = buf
    this.#encoders = encoders
  }

  get rows(): number {
    return this.offsets.length - 1
  }

  /** How many large values the rows written so far hold. */
  get largeValues(): number {
    return this.#large.length
  }

  /** The bytes of [start, end) of the buffer with the large values in that range (views, or pieces made when asked for). */
  *pieces(start: number, end: number): Generator<Buffer> {
    let at = start
    // a large value never starts a row (its count and length come first), but may end one: it belongs to the
    // range that ends where it sits
    for (const large of this.#large) {
      if (large.at <= start) continue
      if (large.at > end) break
      if (large.at > at) yield this.buf.subarray(at, large.at)
      const v = large.value
      if (typeof v === 'string') for (const piece of stringPieces(v, PIECE)) yield Buffer.from(piece, 'utf8')
      else for (let i = 0; i < v.byteLength; i += PIECE * 2) yield Buffer.from(v.buffer, v.byteOffset + i, Math.min(PIECE * 2, v.byteLength - i))
      at = large.at
    }
    if (end > at) yield this.buf.subarray(at, end)
  }

  /** Rows [from, to) as one Buffer, without the header (tests). */
  range(from: number, to: number): Buffer {
    return Buffer.concat([...this.pieces(this.offsets[from]!, this.offsets[to]!)])
  }

  /** Makes room for `bytes` more bytes; returns where they go. */
  reserve(bytes: number): number {
    const need = this.len + bytes
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2))
      this.buf.copy(next, 0, 0, this.len)
      this.buf = next
    }
    return this.len
  }

  /** Appends `row`'s `columns` as one tuple; throws (leaving the batch as it was) when a value cannot be encoded. */
  row(row: Row, columns: readonly number[]): void {
    const start = this.len
    const large = this.#large.length
    const n = columns.length
    try {
      this.reserve(2)
      this.buf[this.len++] = n >> 8
      this.buf[this.len++] = n & 0xff
      for (let j = 0; j < n; j++) {
        const v = row[columns[j]!]
        if (v === null || v === undefined) this.#int32(-1)
        else this.#encoders[j]!(this, v)
      }
    } catch (error) {
      this.len = start
      // by count, not offset: the row before may end with a large value, which sits at this row's start
      this.#large.length = large
      throw error
    }
    this.offsets.push(this.len)
  }

  #int32(n: number): void {
    this.reserve(4)
    this.len = this.buf.writeInt32BE(n, this.len)
  }

  /** A field of `size` bytes: writes the length and returns where the bytes go (the caller fills them). */
  fixed(size: number): number {
    const at = this.reserve(4 + size)
    const buf = this.buf
    buf[at] = 0
    buf[at + 1] = size >> 16
    buf[at + 2] = (size >> 8) & 0xff
    buf[at + 3] = size & 0xff
    this.len = at + 4 + size
    return at + 4
  }

  /** A field holding `s` as UTF-8, after `prefix` (jsonb's version byte) when given. */
  text(s: string, prefix?: number): void {
    const extra = prefix === undefined ? 0 : 1
    if (s.length > LARGE_VALUE) {
      this.#int32(Buffer.byteLength(s, 'utf8') + extra)
      if (prefix !== undefined) this.#byte(prefix)
      this.#large.push({ at: this.len, value: s })
      return
    }
    const at = this.reserve(4 + extra + s.length * 3) + 4
    let end = at
    if (prefix !== undefined) this.buf[end++] = prefix
    end = s.length > SHORT_BINARY_STRING ? end + this.buf.write(s, end) : utf8Into(this.buf, end, s)
    this.buf.writeInt32BE(end - at, at - 4)
    this.len = end
  }

  /** A field holding `bytes` as they are. */
  bytes(bytes: Uint8Array): void {
    this.#int32(bytes.byteLength)
    if (bytes.byteLength > LARGE_VALUE) {
      this.#large.push({ at: this.len, value: bytes })
      return
    }
    const at = this.reserve(bytes.byteLength)
    this.buf.set(bytes, at)
    this.len = at + bytes.byteLength
  }

  #byte(b: number): void {
    this.reserve(1)
    this.buf[this.len++] = b
  }
}

/** Writes `s` as UTF-8 at `at` (a lone surrogate as U+FFFD, as `Buffer.write` does); returns the end. */
function utf8Into(buf: Buffer, at: number, s: string): number {
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) buf[at++] = c
    else {
      const from = at
      at = multibyteInto(buf, at, c, s, i)
      // four bytes: a surrogate pair, whose low half was written too
      if (at - from === 4) i++
    }
  }
  return at
}

/**
 * Writes the non-ASCII UTF-16 unit `c` (`s[i]`) as UTF-8 at `at`, with the low half that follows it when it
 * opens a surrogate pair (four bytes, the only case that writes four); a lone surrogate as U+FFFD, as
 * `Buffer.write` writes it. Returns the end. Shared by the text and the binary COPY encoders.
 */
function multibyteInto(buf: Buffer, at: number, c: number, s: string, i: number): number {
  if (c < 0x800) {
    buf[at++] = 0xc0 | (c >> 6)
    buf[at++] = 0x80 | (c & 0x3f)
  } else if (c < 0xd800 || c > 0xdfff) {
    buf[at++] = 0xe0 | (c >> 12)
    buf[at++] = 0x80 | ((c >> 6) & 0x3f)
    buf[at++] = 0x80 | (c & 0x3f)
  } else {
    const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0
    if (d >= 0xdc00 && d <= 0xdfff) {
      // a surrogate pair: one code point, four bytes (no more than its two code units' six)
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
      buf[at++] = 0xf0 | (cp >> 18)
      buf[at++] = 0x80 | ((cp >> 12) & 0x3f)
      buf[at++] = 0x80 | ((cp >> 6) & 0x3f)
      buf[at++] = 0x80 | (cp & 0x3f)
    } else {
      buf[at++] = 0xef
      buf[at++] = 0xbf
      buf[at++] = 0xbd
    }
  }
  return at
}

/** A safe integer as an int64 at `at`. */
function writeInt64(buf: Buffer, at: number, n: number): void {
  const hi = Math.floor(n / TWO_32)
  const lo = n - hi * TWO_32
  buf[at] = (hi >> 24) & 0xff
  buf[at + 1] = (hi >> 16) & 0xff
  buf[at + 2] = (hi >> 8) & 0xff
  buf[at + 3] = hi & 0xff
  buf[at + 4] = (lo >>> 24) & 0xff
  buf[at + 5] = (lo >>> 16) & 0xff
  buf[at + 6] = (lo >>> 8) & 0xff
  buf[at + 7] = lo & 0xff
}

/**
 * An integer encoder for a signed type of `bytes` bytes: bigints within range, and numbers that are safe
 * integers (past 2^53 a number's text, `String(2 ** 62)`, names another integer than the number).
 */
function integerEncoder(bytes: 2 | 4 | 8): BinaryEncoder {
  const bigMax = 2n ** BigInt(bytes * 8 - 1)
  const min = bytes === 8 ? -Number.MAX_SAFE_INTEGER : -Number(bigMax)
  const max = bytes === 8 ? Number.MAX_SAFE_INTEGER : Number(bigMax) - 1
  return (b, v) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < min || v > max) throw new NotBinaryExact(`${v} in an int${bytes}`)
      const at = b.fixed(bytes)
      if (bytes === 2) b.buf.writeInt16BE(v, at)
      else if (bytes === 4) b.buf.writeInt32BE(v, at)
      else writeInt64(b.buf, at, v)
      return
    }
    if (typeof v !== 'bigint' || v < -bigMax || v >= bigMax) throw new NotBinaryExact(`${typeof v} in an int${bytes}`)
    const at = b.fixed(bytes)
    if (bytes === 8) b.buf.writeBigInt64BE(v, at)
    else if (bytes === 4) b.buf.writeInt32BE(Number(v), at)
    else b.buf.writeInt16BE(Number(v), at)
  }
}

const f32 = new Float32Array(1)
const f32bits = new Uint32Array(f32.buffer)

/**
 * Whether the double `v` lies exactly halfway between its nearest single `f` and the next single beyond it:
 * there rounding the double (ties to even) and the server's `strtof` of its shortest text may disagree.
 */
function float32Tie(v: number, f: number): boolean {
  f32[0] = f
  f32bits[0] = Math.abs(v) > Math.abs(f) ? f32bits[0]! + 1 : f32bits[0]! - 1
  return Math.abs(v - f) * 2 === Math.abs(f32[0]! - f)
}

const encodeFloat4: BinaryEncoder = (b, v) => {
  if (typeof v !== 'number') throw new NotBinaryExact(`${typeof v} in a float4`)
  const f = Math.fround(v)
  // past the range of real, or a non-zero value that underflows to zero: the server refuses its text
  if (f !== v && v === v && (!Number.isFinite(f) || f === 0 || float32Tie(v, f))) throw new NotBinaryExact(`${v} in a float4`)
  const at = b.fixed(4)
  b.buf.writeFloatBE(f, at)
}

const encodeFloat8: BinaryEncoder = (b, v) => {
  if (typeof v !== 'number') throw new NotBinaryExact(`${typeof v} in a float8`)
  const at = b.fixed(8)
  b.buf.writeDoubleBE(v, at)
}

const encodeBool: BinaryEncoder = (b, v) => {
  if (typeof v !== 'boolean') throw new NotBinaryExact(`${typeof v} in a bool`)
  const at = b.fixed(1)
  b.buf[at] = v ? 1 : 0
}

const encodeText: BinaryEncoder = (b, v) => {
  if (typeof v !== 'string') throw new NotBinaryExact(`${typeof v} in a text column`)
  b.text(v)
}

/** jsonb's binary form: a version byte (1), then the JSON text. */
const encodeJsonb: BinaryEncoder = (b, v) => {
  if (typeof v !== 'string') throw new NotBinaryExact(`${typeof v} in a jsonb`)
  b.text(v, 1)
}

const encodeBytea: BinaryEncoder = (b, v) => {
  if (!(v instanceof Uint8Array)) throw new NotBinaryExact(`${typeof v} in a bytea`)
  b.bytes(v)
}

/** `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case) as its 16 bytes; other spellings uuid_in takes go as text. */
const encodeUuid: BinaryEncoder = (b, v) => {
  if (typeof v !== 'string' || v.length !== 36 || v.charCodeAt(8) !== 45 || v.charCodeAt(13) !== 45 || v.charCodeAt(18) !== 45 || v.charCodeAt(23) !== 45) {
    throw new NotBinaryExact(`${String(v)} in a uuid`)
  }
  const at = b.fixed(16)
  for (let i = 0, k = 0; k < 16; k++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++
    const hi = hexValue(v.charCodeAt(i))
    const lo = hexValue(v.charCodeAt(i + 1))
    // the row is dropped from the batch when an encoder throws, bytes already written with it
    if ((hi | lo) < 0) throw new NotBinaryExact(`${v} in a uuid`)
    b.buf[at + k] = (hi << 4) | lo
    i += 2
  }
}

// numeric: base-10000 digits with the weight of the first, a sign word and the display scale
const NUMERIC_POS = 0x0000
const NUMERIC_NEG = 0x4000
const NUMERIC_SPECIAL: Readonly<Record<string, number>> = { NaN: 0xc000, Infinity: 0xd000, '-Infinity': 0xf000 }
/** Digits before the point and after it that `numeric_in` takes (weight in an int16, dscale in 14 bits). */
const NUMERIC_MAX_INT_DIGITS = 131072
const NUMERIC_MAX_SCALE = 16383

/** The decimal text of a value the way the text path would send it (see {@link paramText}). */
function decimalText(v: Value): string {
  if (typeof v === 'string') return v
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return paramText(v)!
  throw new NotBinaryExact(`${typeof v} in a numeric`)
}

/** `[-]digits[.digits]` (and PostgreSQL's `NaN`, `Infinity`, `-Infinity`) as numeric's binary form. */
/** The base-10000 groups of the numeric being encoded (grown for long ones, reused). */
let numericGroups = new Uint16Array(64)

/** Writes `x` as a big-endian 16-bit word at `at`. */
function word(buf: Buffer, at: number, x: number): void {
  buf[at] = (x >> 8) & 0xff
  buf[at + 1] = x & 0xff
}

const encodeNumeric: BinaryEncoder = (b, v) => {
  const s = decimalText(v)
  const c0 = s.charCodeAt(0)
  // NaN, Infinity, -Infinity: the sign word alone
  const special = c0 === 78 || c0 === 73 || (c0 === 45 && s.charCodeAt(1) === 73) ? NUMERIC_SPECIAL[s] : undefined
  if (special !== undefined) {
    const at = b.fixed(8)
    b.buf.writeUInt32BE(0, at)
    word(b.buf, at + 4, special)
    word(b.buf, at + 6, 0)
    return
  }
  const n = s.length
  const negative = c0 === 45
  let i = negative ? 1 : 0
  let point = n
  for (let k = i; k < n; k++) {
    const c = s.charCodeAt(k)
    if (c === 46 && point === n && k > i && k < n - 1) point = k
    else if (c < 48 || c > 57) throw new NotBinaryExact(`${JSON.stringify(s)} in a numeric`)
  }
  if (point === i || i === n) throw new NotBinaryExact(`${JSON.stringify(s)} in a numeric`)
  const scale = point === n ? 0 : n - point - 1
  if (point - i > NUMERIC_MAX_INT_DIGITS || scale > NUMERIC_MAX_SCALE) throw new NotBinaryExact('numeric beyond its text limits')
  while (i < point - 1 && s.charCodeAt(i) === 48) i++
  // groups of four digits aligned on the point: the first integer group may be short, the last fraction one padded
  const intDigits = point - i
  const count = Math.ceil(intDigits / 4) + Math.ceil(scale / 4)
  if (numericGroups.length < count) numericGroups = new Uint16Array(count * 2)
  const groups = numericGroups
  let g = 0
  let k = i
  for (let len = intDigits % 4 || 4; k < point; len = 4) {
    let x = 0
    for (const e = k + len; k < e; k++) x = x * 10 + s.charCodeAt(k) - 48
    groups[g++] = x
  }
  for (k = point + 1; k < n; ) {
    let x = 0
    for (let d = 0; d < 4; d++, k++) x = x * 10 + (k < n ? s.charCodeAt(k) - 48 : 0)
    groups[g++] = x
  }
  let first = 0
  while (first < g && groups[first] === 0) first++
  let end = g
  while (end > first && groups[end - 1] === 0) end--
  const ndigits = end - first
  const weight = ndigits === 0 ? 0 : Math.ceil(intDigits / 4) - 1 - first
  const at = b.fixed(8 + 2 * ndigits)
  const buf = b.buf
  word(buf, at, ndigits)
  word(buf, at + 2, weight)
  word(buf, at + 4, negative && ndigits > 0 ? NUMERIC_NEG : NUMERIC_POS)
  word(buf, at + 6, scale)
  for (let j = 0; j < ndigits; j++) word(buf, at + 8 + 2 * j, groups[first + j]!)
}

// dates and times: days (int32) and microseconds (int64) since 2000-01-01, as the server counts them
const USECS_PER_DAY = 86_400_000_000
/** Days from 1970-01-01 to 2000-01-01. */
const EPOCH_2000_DAYS = 10957
const INT64_MAX = 0x7fffffffffffffffn
const INT64_MIN = -0x8000000000000000n
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Two ASCII digits at `i`, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/** Days since 2000-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0). */
function daysSince2000(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468 - EPOCH_2000_DAYS
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0

/**
 * The `YYYY-MM-DD` at the start of `s` as days since 2000-01-01, with `bc` for a ` BC` suffix; NaN unless a
 * valid date of years 1–9999 AD or 1–4713 BC (the rest, rare, goes as text).
 */
function parseDate(s: string, bc: boolean): number {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN
  const hi = twoDigits(s, 0)
  const lo = twoDigits(s, 2)
  const m = twoDigits(s, 5)
  const d = twoDigits(s, 8)
  if (hi < 0 || lo < 0 || m < 1 || m > 12 || d < 1) return NaN
  let y = hi * 100 + lo
  if (y === 0 || (bc && y > 4713)) return NaN
  if (bc) y = 1 - y
  if (d > (m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!)) return NaN
  return daysSince2000(y, m, d)
}

/** Where the last time {@link parseTime} read ended (a module variable: no object per value). */
let timeEnd = 0

/**
 * `HH:MM:SS[.f{1,6}]` at `i` of `s` as microseconds (and where it ends in {@link timeEnd}); NaN unless valid
 * (24:00:00 only when `allow24`).
 */
function parseTime(s: string, i: number, allow24: boolean): number {
  const h = twoDigits(s, i)
  const m = twoDigits(s, i + 3)
  const sec = twoDigits(s, i + 6)
  if (s.charCodeAt(i + 2) !== 58 || s.charCodeAt(i + 5) !== 58 || h < 0 || m < 0 || sec < 0 || m > 59 || sec > 59) return NaN
  let end = i + 8
  let frac = 0
  if (s.charCodeAt(end) === 46) {
    let digits = 0
    for (end++; end < s.length; end++, digits++) {
      const c = s.charCodeAt(end) - 48
      if (c < 0 || c > 9) break
      frac = frac * 10 + c
    }
    // more than microseconds: the server's rounding of the text is not repeated here
    if (digits === 0 || digits > 6) return NaN
    frac *= 10 ** (6 - digits)
  }
  if (h > 23 && !(allow24 && h === 24 && m === 0 && sec === 0 && frac === 0)) return NaN
  timeEnd = end
  return ((h * 60 + m) * 60 + sec) * 1_000_000 + frac
}

/** An int64 field of microseconds: days × a day + `us`, exactly (through BigInt only far from 2000). */
function writeMicros(b: CopyBinaryBuffer, days: number, us: number): void {
  const at = b.fixed(8)
  // within ±100 000 days of 2000 the sum stays below 2^53
  if (days > -100_000 && days < 100_000) writeInt64(b.buf, at, days * USECS_PER_DAY + us)
  else b.buf.writeBigInt64BE(BigInt(days) * BigInt(USECS_PER_DAY) + BigInt(us), at)
}

/** ` BC` at `i` (and the string ends there), or the string ends at `i`; undefined when something else follows. */
function eraAt(s: string, i: number): boolean | undefined {
  if (i === s.length) return false
  return i + 3 === s.length && s.endsWith(' BC') ? true : undefined
}

function infinityOf(v: string): 1 | -1 | 0 {
  return v === 'infinity' ? 1 : v === '-infinity' ? -1 : 0
}

const encodeDate: BinaryEncoder = (b, v) => {
  if (typeof v !== 'string') throw new NotBinaryExact(`${typeof v} in a date`)
  const inf = infinityOf(v)
  const bc = inf === 0 ? eraAt(v, 10) : false
  const days = inf !== 0 ? (inf > 0 ? 0x7fffffff : -0x80000000) : bc === undefined ? NaN : parseDate(v, bc)
  if (Number.isNaN(days)) throw new NotBinaryExact(`${JSON.stringify(v)} in a date`)
  const at = b.fixed(4)
  b.buf.writeInt32BE(days, at)
}

const encodeTime: BinaryEncoder = (b, v) => {
  const us = typeof v === 'string' ? parseTime(v, 0, true) : NaN
  if (Number.isNaN(us) || timeEnd !== (v as string).length) throw new NotBinaryExact(`${String(v)} in a time`)
  const at = b.fixed(8)
  writeInt64(b.buf, at, us)
}

/** A timestamp encoder; `withZone` takes (and requires) a `±HH[:MM]` offset after the time, as timestamptz does. */
function timestampEncoder(withZone: boolean): BinaryEncoder {
  return (b, v) => {
    if (typeof v !== 'string') throw new NotBinaryExact(`${typeof v} in a timestamp`)
    const inf = infinityOf(v)
    if (inf !== 0) {
      const at = b.fixed(8)
      b.buf.writeBigInt64BE(inf > 0 ? INT64_MAX : INT64_MIN, at)
      return
    }
    const us = v.charCodeAt(10) === 32 ? parseTime(v, 11, false) : NaN
    let end = Number.isNaN(us) ? -1 : timeEnd
    let offset = 0
    if (withZone && end >= 0) {
      const sign = v.charCodeAt(end)
      const h = twoDigits(v, end + 1)
      let m = 0
      end += 3
      if (v.charCodeAt(end) === 58) {
        m = twoDigits(v, end + 1)
        end += 3
      }
      if ((sign !== 43 && sign !== 45) || h < 0 || h > 15 || m < 0 || m > 59) end = -1
      else offset = (sign === 45 ? -1 : 1) * (h * 60 + m) * 60_000_000
    }
    const bc = end < 0 ? undefined : eraAt(v, end)
    const days = bc === undefined ? NaN : parseDate(v, bc)
    if (Number.isNaN(days)) throw new NotBinaryExact(`${JSON.stringify(v)} in a timestamp`)
    writeMicros(b, days, us - offset)
  }
}

/**
 * The binary encoder of each built-in type (`pg_type.typname` in `pg_catalog`) whose binary form the writer
 * can make exactly; other types (domains, enums, arrays, extensions, intervals…) have none, and a table with
 * such a column is copied as text.
 */
const BINARY_ENCODERS: Readonly<Record<string, BinaryEncoder>> = {
  bool: encodeBool,
  int2: integerEncoder(2),
  int4: integerEncoder(4),
  int8: integerEncoder(8),
  float4: encodeFloat4,
  float8: encodeFloat8,
  numeric: encodeNumeric,
  text: encodeText,
  varchar: encodeText,
  bpchar: encodeText,
  json: encodeText,
  jsonb: encodeJsonb,
  bytea: encodeBytea,
  uuid: encodeUuid,
  date: encodeDate,
  time: encodeTime,
  timestamp: timestampEncoder(false),
  timestamptz: timestampEncoder(true),
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

/** The COPY binary format (see {@link postgresSql}). */
export interface PostgresCopyBinary {
  /** The bytes that start every binary COPY (signature, flags, header extension length). */
  readonly header: Buffer
  /** The bytes that end every binary COPY (an int16 -1). */
  readonly trailer: Buffer
  /**
   * The binary encoder of each built-in type (`pg_type.typname`) it can write exactly; a type missing here is
   * sent as text. An encoder throws an error that `isNotExact` recognises for a value it does not take.
   */
  readonly encoders: Readonly<Record<string, BinaryEncoder>>
  /** Whether an error is an encoder's refusal of a value (then the value goes as text). */
  isNotExact(error: unknown): boolean
  /** Rows encoded straight into one byte buffer as binary tuples, with their offsets (no header or trailer). */
  readonly RowBuffer: typeof CopyBinaryBuffer
}

export type { BinaryEncoder, CopyBinaryBuffer }

/**
 * PostgreSQL's statements (see {@link DialectSql}): `createTable`, `createIndex`, `addForeignKey`,
 * `resetIdentity`, `literal` and `script` as the SQL script target writes them. Engine-specific members:
 * the live target's DDL (`columnDefinition`, `createTableIn`, `createIndexIn`, `addForeignKeyIn`, which take
 * the target schema), the COPY text and binary formats (`copyText`, `copyBinary`), the reader's `selectExpression`, and verify's
 * `segmentHashSql` / `segmentFilter`.
 */
export const postgresSql: DialectSql & {
  columnDefinition(c: ColumnSchema): string
  createTableIn(schemaName: string, t: TableSchema, usedNames: Set<string>): string
  createIndexIn(schemaName: string, t: TableSchema, ix: IndexSchema, name: string): string
  addForeignKeyIn(schemaName: string, t: TableSchema, fk: ForeignKeySchema, name: string | undefined, notValid: boolean): string
  readonly copyText: PostgresCopyText
  readonly copyBinary: PostgresCopyBinary
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
  copyBinary: Object.freeze({ header: BINARY_HEADER, trailer: BINARY_TRAILER, encoders: BINARY_ENCODERS, isNotExact: isNotBinaryExact, RowBuffer: CopyBinaryBuffer }),
  paramText,
  selectExpression,
  segmentHashSql,
  segmentFilter,
})
