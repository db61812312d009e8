import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import type { CsvText, CsvTextFormat } from '../../dialect.js'
import type { LogicalType, TableSchema } from '../../schema/types.js'
import { ConversionFailure } from '../../schema/values.js'
import { fieldConverter } from './csv-format.js'
import type { CsvTableSource } from './csv-source.js'
import { detectEncoding, textDecoder, type TextChunkDecoder } from './encoding.js'

/**
 * The CSV side of the pass-through path: a table's file handed to the target as bytes, checked on the way so
 * that the target's own CSV parser gives exactly the rows `readCsvTable` would give. Whatever the check
 * cannot prove equal throws a {@link CsvTextMismatch}; the engine then rolls the table back and reads it row
 * by row, where each problem becomes a journaled reject with its line number.
 *
 * Strict CSV is what both parsers agree on: a field is either unquoted (no quote character in it) or quoted
 * from its first to its last character; records end with LF or CRLF. The field of a typed column must be the
 * value's canonical text, so the target reads it as the very value the row path would send it. Two things
 * the reader takes and a COPY does not are mended in the bytes sent: blank lines after the header are left
 * out (the reader skips them; a COPY would read a row of NULLs or fail), and every record ends as the header
 * does (a COPY refuses line endings that change between LF and CRLF). Files without either go as they are.
 */

/** Why a file's text cannot go to the target unparsed; thrown while its bytes are read. */
export class CsvTextMismatch extends Error {
  override readonly name = 'CsvTextMismatch'
}

const LF = 10
const CR = 13
const CR_BYTE = Buffer.from([CR])
const NO_BYTES = Buffer.alloc(0)
const LATIN1_NAMES = new Set(['latin1', 'iso88591', 'l1', 'isolatin1', 'binary'])

/** A fast check of a field's bytes; false means "not proven", and the text check decides. */
type ByteCheck = (b: Uint8Array, from: number, to: number) => boolean
/** Whether a field's text is the canonical text of a value of the column's type (see {@link textCheck}). */
type TextCheck = (raw: string) => boolean

const BOOL_WORDS = new Set(['1', 't', 'true', 'y', 'yes', 'on', '0', 'f', 'false', 'n', 'no', 'off'])
const HEX_BYTES = /^\\x([0-9a-fA-F]{2})*$/

/** Drops trailing zeros of the first fractional part (and a point left bare): `10:00:00.500` → `10:00:00.5`. */
function stripFractionZeros(s: string): string {
  return s.replace(/\.(\d*?)0*(?=\D|$)/, (_m, kept: string) => (kept === '' ? '' : `.${kept}`))
}

/**
 * Whether a field of a column of `type` may pass unparsed: the row path converts it without a failure, and
 * the target reads the text itself as the value the row path would send. That holds for the canonical text
 * of the value (`12`, `12.50`, `2024-01-02 10:00:00.5`), and for these spellings of the same value:
 * booleans in any of dbferry's words (`t`, `yes`, `on`, `1`, any case), floats in any decimal form (both
 * sides round to the nearest double), times with trailing fractional zeros, UUIDs in upper case.
 * Undefined for text, which passes as it is.
 */
export function textCheck(type: LogicalType): TextCheck | undefined {
  if (type.kind === 'text') return undefined
  const convert = fieldConverter(type)
  return (raw) => {
    const v = convert(raw)
    if (v instanceof ConversionFailure || v === null) return false
    switch (type.kind) {
      case 'boolean':
        return BOOL_WORDS.has(raw.toLowerCase())
      case 'float64':
        return typeof v === 'number' && raw === raw.trim()
      case 'uuid':
        return raw.toLowerCase() === v
      case 'time':
      case 'timestamp':
      case 'timestamptz':
        return stripFractionZeros(raw) === v
      case 'bytes':
        return HEX_BYTES.test(raw)
      case 'json':
        return v === raw
      default:
        // integers, decimals, dates, float32: the text the row path would send
        return (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') && String(v) === raw
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

function digitsAt(b: Uint8Array, at: number, n: number): number {
  let v = 0
  for (let i = at; i < at + n; i++) {
    const c = b[i]! - 48
    if (c < 0 || c > 9) return -1
    v = v * 10 + c
  }
  return v
}

function validDate(b: Uint8Array, a: number): boolean {
  if (b[a + 4] !== 45 || b[a + 7] !== 45) return false
  const y = digitsAt(b, a, 4)
  const m = digitsAt(b, a + 5, 2)
  const d = digitsAt(b, a + 8, 2)
  if (y < 0 || m < 1 || m > 12 || d < 1) return false
  const days = m === 2 ? ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
  return d <= days
}

/**
 * A check of a field's bytes for the common canonical forms, so most fields are proven without making a
 * string. It must never accept what {@link textCheck} refuses (the tests compare the two).
 */
export function byteCheck(type: LogicalType): ByteCheck | undefined {
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'int64': {
      // digits that fit whatever the value: 4 for int16, 9 for int32, 18 for int64
      const max = type.kind === 'int16' ? 4 : type.kind === 'int32' ? 9 : 18
      const signed = type.unsigned !== true
      return (b, a, e) => {
        let i = a
        if (signed && b[i] === 45) i++
        const n = e - i
        if (n < 1 || n > max) return false
        // a leading zero, or -0, is not canonical
        if (b[i] === 48) return n === 1 && i === a
        for (; i < e; i++) if (!isDigit(b[i]!)) return false
        return true
      }
    }
    case 'decimal': {
      const p = type.precision
      const s = type.scale ?? 0
      return (b, a, e) => {
        let i = a
        const neg = b[i] === 45
        if (neg) i++
        const is = i
        let nonZero = false
        while (i < e && isDigit(b[i]!)) {
          if (b[i] !== 48) nonZero = true
          i++
        }
        const id = i - is
        if (id === 0 || (id > 1 && b[is] === 48)) return false
        let fd = 0
        if (i < e) {
          if (b[i] !== 46) return false
          const fs = ++i
          while (i < e && isDigit(b[i]!)) {
            if (b[i] !== 48) nonZero = true
            i++
          }
          if (i !== e || i === fs) return false
          fd = e - fs
        }
        if (neg && !nonZero) return false
        const ip = id === 1 && b[is] === 48 ? 0 : id
        return p === undefined || (ip <= p - s && fd <= s)
      }
    }
    case 'float64':
      return (b, a, e) => {
        let i = a
        if (b[i] === 45) i++
        const is = i
        while (i < e && isDigit(b[i]!)) i++
        if (i === is) return false
        if (i === e) return true
        if (b[i] !== 46) return false
        const fs = ++i
        while (i < e && isDigit(b[i]!)) i++
        return i === e && i > fs
      }
    case 'boolean':
      return (b, a, e) => {
        const n = e - a
        const c = b[a]
        if (n === 1) return c === 116 || c === 102 || c === 49 || c === 48 // t f 1 0
        if (n === 4) return c === 116 && b[a + 1] === 114 && b[a + 2] === 117 && b[a + 3] === 101 // true
        if (n === 5) return c === 102 && b[a + 1] === 97 && b[a + 2] === 108 && b[a + 3] === 115 && b[a + 4] === 101 // false
        return false
      }
    case 'date':
      return (b, a, e) => e - a === 10 && validDate(b, a)
    case 'timestamp': {
      const p = type.precision ?? 6
      return (b, a, e) => {
        const n = e - a
        if (n < 19 || b[a + 10] !== 32 || b[a + 13] !== 58 || b[a + 16] !== 58 || !validDate(b, a)) return false
        const h = digitsAt(b, a + 11, 2)
        const mi = digitsAt(b, a + 14, 2)
        const se = digitsAt(b, a + 17, 2)
        if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return false
        if (n === 19) return true
        // trailing zeros are allowed: the target drops them as the row path does
        return b[a + 19] === 46 && n - 20 >= 1 && n - 20 <= p && digitsAt(b, a + 20, n - 20) >= 0
      }
    }
    case 'bytes':
      return (b, a, e) => {
        if (e - a < 2 || b[a] !== 92 || b[a + 1] !== 120 || (e - a) % 2 !== 0) return false
        for (let i = a + 2; i < e; i++) {
          const c = b[i]! | 0x20
          if (!(isDigit(c) || (c >= 97 && c <= 102))) return false
        }
        return true
      }
    default:
      return undefined
  }
}

/** Options of {@link CsvTextScanner}. */
export interface ScannerOptions {
  /** The delimiter byte. */
  delimiter: number
  /** The quote byte. */
  quote: number
  /** The escape byte inside quoted fields; equal to `quote` for doubled quotes, -1 for none. */
  escape: number
  /** The unquoted field meaning NULL, as bytes. */
  null: Uint8Array
  /** The first record is a header (its field count is checked; its fields are not). */
  header: boolean
  /** Column names in the file's order (messages). */
  names: readonly string[]
  /** Per field of the file: the checks of its column (both undefined for text). */
  checks: readonly { bytes?: ByteCheck; text?: TextCheck }[]
  /** How field bytes decode, for the text checks. */
  encoding: 'utf8' | 'latin1'
  /** Longest record in bytes (the reader's maxRecordChars: a longer one is malformed there). */
  maxRecordBytes: number
}

/**
 * Checks CSV bytes pushed in chunks against strict CSV and the columns' canonical forms, counting records.
 * Throws a {@link CsvTextMismatch} at the first record it cannot prove.
 */
export class CsvTextScanner {
  #tail: Buffer | undefined
  #line = 1
  #records = 0
  #lastLine = 0
  #headerPending: boolean
  /** the line ending of the first record: 1 LF, 2 CRLF */
  #eol = 0
  // the bytes to send from the buffer being scanned: `#parts` holds what comes before `#from` once anything
  // was left out or added, and stays empty for a file that needs no mending
  #parts: Buffer[] = []
  #from = 0
  readonly #o: ScannerOptions
  /** every byte above these is plain data (outside quotes; inside quotes): one comparison skips it */
  readonly #plainAbove: number
  readonly #quotedAbove: number
  /** per field: whether its column has a check (typed) */
  readonly #typed: boolean[]

  constructor(options: ScannerOptions) {
    this.#o = options
    this.#headerPending = options.header
    this.#plainAbove = Math.max(options.delimiter, options.quote, LF, CR)
    this.#quotedAbove = Math.max(options.quote, options.escape, LF)
    this.#typed = options.checks.map((c) => c.text !== undefined)
  }

  /** Records seen so far (the header not counted). */
  get records(): number {
    return this.#records
  }

  /** The line the last record started on (0 before the first). */
  get lastLine(): number {
    return this.#lastLine
  }

  /**
   * Checks the next bytes and returns those of its whole records to send on (the same bytes unless they
   * needed mending); a record cut off at the end waits for the next push.
   */
  push(chunk: Buffer): Buffer {
    return this.#run(this.#tail ? Buffer.concat([this.#tail, chunk]) : chunk, false)
  }

  /** Ends the input (the last record needs no line ending) and returns the last bytes to send. */
  end(): Buffer {
    return this.#tail ? this.#run(this.#tail, true) : NO_BYTES
  }

  #run(buf: Buffer, final: boolean): Buffer {
    this.#from = 0
    let pos = 0
    while (pos < buf.length) {
      const end = this.#record(buf, pos, final)
      if (end < 0) break
      pos = end
    }
    this.#tail = pos < buf.length ? buf.subarray(pos) : undefined
    if (this.#tail && this.#tail.length > this.#o.maxRecordBytes) this.#fail('a record longer than maxRecordChars (or an unbalanced quote)')
    const rest = buf.subarray(this.#from, pos)
    if (this.#parts.length === 0) return rest
    const parts = this.#parts
    this.#parts = []
    parts.push(rest)
    return Buffer.concat(parts)
  }

  /** Sends `insert` (or nothing) instead of the bytes from `start` to `end` of the buffer being scanned. */
  #mend(buf: Buffer, start: number, end: number, insert?: Buffer): void {
    this.#parts.push(buf.subarray(this.#from, start))
    if (insert) this.#parts.push(insert)
    this.#from = end
  }

  #fail(reason: string): never {
    throw new CsvTextMismatch(`line ${this.#line}: ${reason}`)
  }

  /** Checks one record from `start`; returns where the next begins, or -1 when it is cut off. */
  #record(b: Buffer, start: number, final: boolean): number {
    const n = b.length
    const o = this.#o
    const q = o.quote
    const esc = o.escape
    const d = o.delimiter
    const plainAbove = this.#plainAbove
    const quotedAbove = this.#quotedAbove
    const typed = this.#typed
    const header = this.#headerPending
    const first = b[start]
    if (first === LF || first === CR) {
      if (header) this.#fail('a blank line before the header')
      // a blank line: the reader skips it, so it is not sent
      let end = start + 1
      if (first === CR) {
        if (end >= n && !final) return -1
        if (b[end] !== LF) this.#fail('a carriage return that is not part of a CRLF line ending')
        end++
      }
      this.#mend(b, start, end)
      this.#line++
      return end
    }
    let i = start
    let field = 0
    let lines = 0
    for (;;) {
      const fs = i
      if (b[i] === q) {
        let escaped = false
        i++
        for (;;) {
          if (i >= n) {
            if (!final) return -1
            this.#fail('an unbalanced quote')
          }
          const c = b[i]!
          if (c > quotedAbove) {
            i++
            continue
          }
          if (c === LF) {
            lines++
            i++
            continue
          }
          if (c === 0) this.#fail('a NUL byte')
          if (c === q) {
            // doubled (an escaped quote), or the closing one
            if (esc === q) {
              if (i + 1 >= n && !final) return -1
              if (b[i + 1] === q) {
                escaped = true
                i += 2
                continue
              }
            }
            i++
            break
          }
          if (c === esc) {
            if (i + 1 >= n) {
              if (!final) return -1
              this.#fail('an unbalanced quote')
            }
            const e = b[i + 1]
            if (e === q || e === esc) {
              escaped = true
              i += 2
              continue
            }
          }
          i++
        }
        if (i < n) {
          const c = b[i]
          if (c !== d && c !== LF && c !== CR) this.#fail('a character after a closing quote')
        } else if (!final) return -1
        if (!header && typed[field]) this.#check(field, b, fs + 1, i - 1, escaped, true)
      } else {
        let c = 0
        for (; i < n; i++) {
          c = b[i]!
          if (c > plainAbove) continue
          if (c === d || c === LF || c === CR || c === q || c === 0) break
        }
        if (i >= n) {
          if (!final) return -1
        } else if (c === q) this.#fail('a quote inside an unquoted field')
        else if (c === 0) this.#fail('a NUL byte')
        // a line of just \. ends a COPY's data early
        if (field === 0 && i - fs === 2 && b[fs] === 92 && b[fs + 1] === 46 && (i >= n || c !== d)) this.#fail('a line holding only \\.')
        if (!header && typed[field]) this.#check(field, b, fs, i, false, false)
      }
      field++
      if (i >= n) return this.#endRecord(start, n, field, lines + 1, header)
      const c = b[i]
      if (c === d) {
        i++
        continue
      }
      if (c === LF) {
        // sent with the first record's line ending
        if (this.#eol === 0) this.#eol = 1
        else if (this.#eol === 2) this.#mend(b, i, i, CR_BYTE)
        return this.#endRecord(start, i + 1, field, lines + 1, header)
      }
      // CR: only as part of CRLF
      if (i + 1 >= n && !final) return -1
      if (b[i + 1] !== LF) this.#fail('a carriage return that is not part of a CRLF line ending')
      if (this.#eol === 0) this.#eol = 2
      else if (this.#eol === 1) this.#mend(b, i, i + 1)
      return this.#endRecord(start, i + 2, field, lines + 1, header)
    }
  }

  #endRecord(start: number, end: number, fields: number, lines: number, header: boolean): number {
    const o = this.#o
    if (end - start > o.maxRecordBytes) this.#fail('a record longer than maxRecordChars')
    if (fields !== o.names.length) this.#fail(`${fields} fields where the header has ${o.names.length}`)
    if (header) this.#headerPending = false
    else {
      this.#records++
      this.#lastLine = this.#line
    }
    this.#line += lines
    return end
  }

  #check(field: number, b: Buffer, a: number, e: number, escaped: boolean, wasQuoted: boolean): void {
    const check = this.#o.checks[field]!
    if (!wasQuoted) {
      const nul = this.#o.null
      if (e - a === nul.length && (nul.length === 0 || b.compare(nul, 0, nul.length, a, e) === 0)) return
    }
    if (!escaped && check.bytes?.(b, a, e)) return
    let raw = b.toString(this.#o.encoding, a, e)
    if (escaped) raw = this.#unescape(raw)
    if (!check.text!(raw)) {
      const shown = raw.length > 60 ? `${raw.slice(0, 60)}…` : raw
      this.#fail(`${this.#o.names[field]} ${JSON.stringify(shown)} is not the canonical text of its value`)
    }
  }

  #unescape(s: string): string {
    const q = String.fromCharCode(this.#o.quote)
    const e = String.fromCharCode(this.#o.escape)
    if (this.#o.escape === this.#o.quote) return s.replaceAll(q + q, q)
    let out = ''
    for (let i = 0; i < s.length; i++) {
      if (s[i] === e && (s[i + 1] === q || s[i + 1] === e)) i++
      out += s[i]
    }
    return out
  }
}

function asciiByte(s: string): number | undefined {
  if (s.length !== 1) return undefined
  const c = s.charCodeAt(0)
  return c > 0 && c < 128 && c !== LF && c !== CR ? c : undefined
}

/**
 * A table's file as {@link CsvText} for the pass-through path, or the reason it cannot be: options the
 * contract cannot express (no quote character, non-ASCII delimiter, quote or escape; a NULL marker with a
 * delimiter, quote or line break in it), or a table whose columns are not exactly the file's. Files in
 * UTF-8 or ISO-8859-1 go as they are (a UTF-8 byte-order mark dropped); other encodings are decoded as the
 * reader decodes them and sent as UTF-8.
 */
export async function openCsvText(src: CsvTableSource, table: TableSchema): Promise<CsvText | string> {
  const o = src.options
  if (src.items || src.lineOffset) return 'the table is a section of a larger file'
  const delimiter = asciiByte(o.delimiter)
  const quote = asciiByte(o.quote)
  if (quote === undefined) return o.quote === '' ? 'the file has no quote character' : 'the quote character is not ASCII'
  if (delimiter === undefined) return 'the delimiter is not an ASCII character'
  const escape = o.escape === '' ? -1 : asciiByte(o.escape)
  if (escape === undefined) return 'the escape character is not ASCII'
  if (!/^[\x20-\x7e]*$/.test(o.null) || o.null.includes(o.delimiter) || o.null.includes(o.quote)) return `the NULL marker ${JSON.stringify(o.null)} cannot be passed on`
  const header = src.header
  if (header.length === 0) return 'the file has no columns'
  if (new Set(header).size !== header.length) return 'the header names a column twice'
  const byName = new Map(table.columns.map((c) => [c.origin ?? c.name, c]))
  if (byName.size !== header.length || !header.every((h) => byName.has(h))) return 'the table does not have exactly the columns of the file'

  const sample = Buffer.alloc(1 << 16)
  const fh = await open(src.path, 'r')
  let got: number
  try {
    got = (await fh.read(sample, 0, sample.length, 0)).bytesRead
  } finally {
    await fh.close()
  }
  const detected = detectEncoding(sample.subarray(0, got), o.encoding, src.fallbackEncoding)
  const name = detected.encoding.toLowerCase().replace(/[^a-z0-9]/g, '')
  const encoding: 'utf8' | 'latin1' = LATIN1_NAMES.has(name) ? 'latin1' : 'utf8'
  const transcode = detected.encoding !== 'utf8' && encoding !== 'latin1'

  const format: CsvTextFormat = {
    delimiter: o.delimiter,
    quote: o.quote,
    // no escape at all: the scanner refuses doubled quotes, so the target's default (the quote) is safe
    escape: escape < 0 ? o.quote : o.escape,
    null: o.null,
    header: o.header,
    encoding,
  }
  const scanner = new CsvTextScanner({
    delimiter,
    quote,
    escape,
    null: Buffer.from(o.null, 'latin1'),
    header: o.header,
    names: header,
    checks: header.map((h) => {
      const t = byName.get(h)!.type
      return { bytes: byteCheck(t), text: textCheck(t) }
    }),
    encoding,
    maxRecordBytes: o.maxRecordChars,
  })
  const path = src.path
  /** The file's text as UTF-8 (or latin1) chunks: transcoded, or without its BOM. */
  async function* text(): AsyncGenerator<Buffer> {
    const stream = createReadStream(path, { highWaterMark: 1 << 20 })
    const decoder: TextChunkDecoder | undefined = transcode ? textDecoder(detected.encoding) : undefined
    let first = true
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        let b = chunk
        if (decoder) b = Buffer.from(decoder.write(chunk), 'utf8')
        else if (first && encoding === 'utf8' && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3)
        first = false
        yield b
      }
      if (decoder) yield Buffer.from(decoder.end(), 'utf8')
    } finally {
      stream.destroy()
    }
  }
  /** What goes to the target: each chunk's whole records as the scanner passes them on. */
  async function* bytes(): AsyncGenerator<Buffer> {
    for await (const b of text()) {
      if (b.length === 0) continue
      const send = scanner.push(b)
      if (send.length > 0) yield send
    }
    const last = scanner.end()
    if (last.length > 0) yield last
  }
  return {
    format,
    columns: header,
    bytes: bytes(),
    records: () => scanner.records,
    lastLine: () => scanner.lastLine,
  }
}
