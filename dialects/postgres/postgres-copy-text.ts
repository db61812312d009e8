import type { Value } from '../../src/schema/types.js'

/**
 * COPY text-format rows written straight into one growing byte buffer: values become their bytes without an
 * intermediate string per field or per line. The bytes are exactly those of `encodeValue` joined by tabs and
 * ended by a newline, UTF-8 encoded as `Buffer.write` does it (a lone surrogate becomes U+FFFD).
 */

/** Strings longer than this are escaped and encoded by the engine's native code, faster than a loop here. */
const LONG_STRING = 256
const BACKSLASH = 92
const TAB = 9
const NEWLINE = 10
const CR = 13

/**
 * A batch encoded once: the COPY text of its rows in one byte buffer, with the offset where each row starts,
 * so any range of rows can be sent again without encoding it again. Rows are written a field at a time with
 * {@link beginRow}, the `field`/`value` methods, {@link endRow}; {@link abandonRow} drops a row half written.
 */
export class CopyTextBuffer {
  buf: Buffer
  len = 0
  /** offsets[i] is where row i starts; offsets[rows] is the end. */
  offsets: number[] = [0]
  #fields = 0

  constructor(buf: Buffer) {
    this.buf = buf
  }

  get rows(): number {
    return this.offsets.length - 1
  }

  /** Rows [from, to) as one view of the buffer. */
  range(from: number, to: number): Buffer {
    return this.buf.subarray(this.offsets[from]!, this.offsets[to]!)
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

  /** Appends one canonical value as a field, as `encodeValue` would encode it. */
  value(v: Value | undefined): void {
    this.#separate()
    switch (typeof v) {
      case 'string':
        this.#string(v)
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
        if (typeof v === 'object') this.#ascii(`\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`)
        else this.#string(String(v))
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

const ESCAPE_RE = /[\\\n\r\t]/
const ESCAPE_ALL = /[\\\n\r\t]/g
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }
const escapeChar = (c: string): string => ESCAPED[c]!

/** Escapes a string for a COPY text-format field. */
export function escapeCopyText(s: string): string {
  return ESCAPE_RE.test(s) ? s.replace(ESCAPE_ALL, escapeChar) : s
}
