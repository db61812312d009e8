import type { LogicalType, Value } from './types.js'

/**
 * Conversion of loosely typed values (SQLite cells, CSV fields, dump literals) into the canonical model of
 * DESIGN §3. A converter is built once per column and called per value; it returns the canonical value or
 * a {@link ConversionFailure} (never throws on the hot path, never returns a silent NULL).
 */

/** Why a value did not convert. */
export class ConversionFailure {
  constructor(
    readonly reason: string,
    readonly kind: 'type_conversion' | 'out_of_range' | 'truncation' = 'type_conversion',
  ) {}
}

/** A per-column converter. `null` and `undefined` come back as `null`. */
export type Converter = (value: unknown) => Value | ConversionFailure

const INT_RE = /^[+-]?\d+$/
const DEC_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/
const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/
const TSTZ_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)$/i
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Inclusive integer ranges per logical integer kind. */
export const INT_RANGES = {
  int16: [-32768n, 32767n],
  int32: [-2147483648n, 2147483647n],
  int64: [-9223372036854775808n, 9223372036854775807n],
  uint16: [0n, 65535n],
  uint32: [0n, 4294967295n],
  uint64: [0n, 18446744073709551615n],
} as const

function fail(reason: string, kind?: ConversionFailure['kind']): ConversionFailure {
  return new ConversionFailure(reason, kind)
}

/** Days in month `m` (1–12) of proleptic Gregorian year `y`: February has 29 in leap years. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

function validDate(y: string, m: string, d: string): boolean {
  const mm = +m
  const dd = +d
  return mm >= 1 && mm <= 12 && dd >= 1 && dd <= daysInMonth(+y, mm)
}

function validTime(h: string, mi: string, s: string | undefined): boolean {
  return +h <= 23 && +mi <= 59 && (s === undefined || +s <= 59)
}

function fraction(f: string | undefined, precision: number | undefined): string {
  if (f === undefined) return ''
  const digits = f.slice(0, Math.max(precision ?? 6, 0))
  const trimmed = digits.replace(/0+$/, '')
  return trimmed === '' ? '' : `.${trimmed}`
}

/** Normalises a `YYYY-MM-DD` date string; undefined if not one. */
export function canonicalDate(text: string): string | undefined {
  const m = DATE_RE.exec(text.trim())
  if (!m || !validDate(m[1]!, m[2]!, m[3]!)) return undefined
  return `${m[1]}-${m[2]}-${m[3]}`
}

/** Normalises `HH:MM[:SS[.f]]` to `HH:MM:SS[.f]` (trailing fractional zeros removed); undefined if not one. */
export function canonicalTime(text: string, precision?: number): string | undefined {
  const m = TIME_RE.exec(text.trim())
  if (!m || !validTime(m[1]!, m[2]!, m[3])) return undefined
  return `${m[1]}:${m[2]}:${m[3] ?? '00'}${fraction(m[4], precision)}`
}

/**
 * Normalises a timestamp to `YYYY-MM-DD HH:MM:SS[.ffffff]` (a date alone gets midnight); undefined if not one.
 */
export function canonicalTimestamp(text: string, precision?: number): string | undefined {
  if (isCanonicalTimestamp(text, precision ?? 6)) return text
  const m = TS_RE.exec(text.trim())
  if (!m || !validDate(m[1]!, m[2]!, m[3]!)) return undefined
  if (m[4] === undefined) return `${m[1]}-${m[2]}-${m[3]} 00:00:00`
  if (!validTime(m[4], m[5]!, m[6])) return undefined
  return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}${fraction(m[7], precision)}`
}

function digitsAt(s: string, from: number, count: number): number {
  let n = 0
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/**
 * Whether `s` is already a canonical timestamp (`YYYY-MM-DD HH:MM:SS[.f…]`, fraction without trailing zeros
 * and within `precision`), checked without a regular expression: the common case on the hot path.
 */
function isCanonicalTimestamp(s: string, precision: number): boolean {
  const n = s.length
  if (n < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 32 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false
  const y = digitsAt(s, 0, 4)
  const mo = digitsAt(s, 5, 2)
  const d = digitsAt(s, 8, 2)
  const h = digitsAt(s, 11, 2)
  const mi = digitsAt(s, 14, 2)
  const se = digitsAt(s, 17, 2)
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return false
  if (n === 19) return true
  const f = n - 20
  return s.charCodeAt(19) === 46 && f >= 1 && f <= precision && digitsAt(s, 20, f) >= 0 && s.charCodeAt(n - 1) !== 48
}

/** Normalises a timestamp with offset to `YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM`; undefined if not one. */
export function canonicalTimestampTz(text: string, precision?: number): string | undefined {
  const m = TSTZ_RE.exec(text.trim())
  if (!m || !validDate(m[1]!, m[2]!, m[3]!) || !validTime(m[4]!, m[5]!, m[6])) return undefined
  const off = m[8]!.toUpperCase()
  let offset = '+00:00'
  if (off !== 'Z') {
    const digits = off.slice(1).replace(':', '')
    offset = `${off[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`
  }
  return `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}${fraction(m[7], precision)}${offset}`
}

/**
 * The digits before and after the point of a decimal string that is already canonical (`-?(0|[1-9]\d*)(\.\d+)?`,
 * not a negative zero), checked without a regular expression; undefined for anything else. Before the point,
 * a lone `0` counts as no digit, as in {@link decimalShape}.
 */
function canonicalDecimalShape(s: string): [number, number] | undefined {
  const n = s.length
  let i = s.charCodeAt(0) === 45 ? 1 : 0
  const start = i
  let nonZero = false
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) break
    if (c !== 48) nonZero = true
    i++
  }
  const intDigits = i - start
  // no digits, or a redundant leading zero ('012'): not canonical
  if (intDigits === 0 || (intDigits > 1 && s.charCodeAt(start) === 48)) return undefined
  let fracDigits = 0
  if (i < n) {
    if (s.charCodeAt(i) !== 46 || i === n - 1) return undefined
    for (let j = i + 1; j < n; j++) {
      const c = s.charCodeAt(j)
      if (c < 48 || c > 57) return undefined
      if (c !== 48) nonZero = true
    }
    fracDigits = n - i - 1
  }
  // '-0' and '-0.00' are canonically '0' and '0.00'
  if (start === 1 && !nonZero) return undefined
  return [intDigits === 1 && s.charCodeAt(start) === 48 ? 0 : intDigits, fracDigits]
}

/** Canonical form of an exact decimal string: no leading `+`, no exponent, no redundant zeros before the point. */
export function canonicalDecimal(text: string): string | undefined {
  if (canonicalDecimalShape(text) !== undefined) return text
  const t = text.trim()
  if (!DEC_RE.test(t)) return undefined
  if (/[eE]/.test(t)) return expandExponent(t)
  let sign = ''
  let body = t
  if (body[0] === '+' || body[0] === '-') {
    sign = body[0] === '-' ? '-' : ''
    body = body.slice(1)
  }
  let [int = '', frac] = body.split('.')
  int = int.replace(/^0+(?=\d)/, '')
  if (int === '') int = '0'
  const out = frac === undefined || frac === '' ? int : `${int}.${frac}`
  return sign && /[1-9]/.test(out) ? `-${out}` : out
}

function expandExponent(t: string): string {
  const [mant, expText] = t.toLowerCase().split('e') as [string, string]
  const exp = Number(expText)
  let sign = ''
  let m = mant
  if (m[0] === '+' || m[0] === '-') {
    sign = m[0] === '-' ? '-' : ''
    m = m.slice(1)
  }
  const [i = '', f = ''] = m.split('.')
  let digits = i + f
  let point = i.length + exp
  if (point <= 0) {
    digits = '0'.repeat(1 - point) + digits
    point = 1
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length)
  const res = canonicalDecimal(`${digits.slice(0, point)}.${digits.slice(point)}`.replace(/\.$/, ''))!
  return sign && /[1-9]/.test(res) ? `-${res}` : res
}

/** Number of digits before and after the point of a canonical decimal string. */
function decimalShape(text: string): [number, number] {
  const body = text[0] === '-' ? text.slice(1) : text
  const [i = '', f = ''] = body.split('.')
  return [i === '0' ? 0 : i.length, f.length]
}

function integerConverter(kind: 'int16' | 'int32' | 'int64', unsigned: boolean): Converter {
  const [lo, hi] = INT_RANGES[`${unsigned ? 'u' : ''}${kind}` as keyof typeof INT_RANGES]
  const loN = Number(lo)
  const hiN = Number(hi)
  return (v) => {
    if (v === null || v === undefined) return null
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) return fail(`${v} is not an integer`)
      // past 2^53 a double cannot be compared with the bounds as doubles (2^63-1 rounds up to 2^63)
      if (!Number.isSafeInteger(v)) {
        const b = BigInt(v)
        if (b < lo || b > hi) return fail(`${v} is outside ${kind}${unsigned ? ' unsigned' : ''}`, 'out_of_range')
        return b
      }
      if (v < loN || v > hiN) return fail(`${v} is outside ${kind}${unsigned ? ' unsigned' : ''}`, 'out_of_range')
      return v
    }
    if (typeof v === 'bigint') {
      if (v < lo || v > hi) return fail(`${v} is outside ${kind}${unsigned ? ' unsigned' : ''}`, 'out_of_range')
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
    }
    if (typeof v === 'boolean') return v ? 1 : 0
    if (typeof v === 'string') {
      const t = v.trim()
      if (!INT_RE.test(t)) {
        // "12.0" from a REAL-affinity export is an integer by value
        const d = canonicalDecimal(t)
        if (d !== undefined && /^-?\d+(\.0*)?$/.test(d)) return integerConverter(kind, unsigned)(BigInt(d.split('.')[0]!))
        return fail(`${JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v)} is not an integer`)
      }
      const b = BigInt(t)
      if (b < lo || b > hi) return fail(`${t} is outside ${kind}${unsigned ? ' unsigned' : ''}`, 'out_of_range')
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
    }
    return fail(`${valueOf(v)} is not an integer`)
  }
}

/** The value as a reject message shows it: JSON (bytes as hex), cut to 80 characters. */
function shown(v: unknown): string {
  const t = v instanceof Uint8Array ? `0x${Buffer.from(v.subarray(0, 40)).toString('hex')}` : typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? String(v))
  return t.length > 80 ? `${t.slice(0, 79)}…` : t
}

/** A value and, when it is not text, what it is: `20240101 (a number)`, `"x"`. */
function valueOf(v: unknown): string {
  return typeof v === 'string' ? shown(v) : `${shown(v)} (a ${describe(v)})`
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return 'blob'
  return typeof v
}

const TRUE_WORDS = new Set(['1', 't', 'true', 'y', 'yes', 'on'])
const FALSE_WORDS = new Set(['0', 'f', 'false', 'n', 'no', 'off'])

const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** Options for {@link makeConverter}. */
export interface ConverterOptions {
  /**
   * Decodes bytes that arrive for a text column and are not valid UTF-8; returns undefined to reject.
   * Default: reject.
   */
  decodeInvalidText?: (bytes: Uint8Array) => string | undefined
  /**
   * Decimal places past the column's scale: `reject` them (a `truncation` failure unless they are zeros) or
   * `keep` them exact, for a source whose declared scale binds nothing (SQLite), so that the target's scale
   * is applied once, where the row is fitted to the target (`decimals` policy). Default `reject`.
   */
  decimalPlaces?: 'reject' | 'keep'
  /**
   * Fractional-second digits kept: `column` cuts them to the column's precision (6 when undeclared); `keep`
   * keeps all a canonical value can carry (9), for a source whose declared precision binds nothing (SQLite
   * text), so that a cut happens once, where the row is fitted to the target, and is counted. Default `column`.
   */
  fraction?: 'column' | 'keep'
}

/**
 * Builds the converter for one column's logical type. Accepts what loosely typed sources hold: numbers,
 * bigints, strings, bytes, booleans.
 */
export function makeConverter(type: LogicalType, options: ConverterOptions = {}): Converter {
  switch (type.kind) {
    case 'boolean':
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'boolean') return v
        if (typeof v === 'number' || typeof v === 'bigint') {
          if (v == 0) return false
          if (v == 1) return true
          return fail(`${v} is not a boolean (0 or 1)`)
        }
        if (typeof v === 'string') {
          const t = v.trim().toLowerCase()
          if (TRUE_WORDS.has(t)) return true
          if (FALSE_WORDS.has(t)) return false
        }
        return fail(`${valueOf(v)} is not a boolean`)
      }
    case 'int16':
    case 'int32':
    case 'int64':
      return integerConverter(type.kind, type.unsigned === true)
    case 'decimal': {
      const p = type.precision
      const s = type.scale ?? 0
      const keepPlaces = options.decimalPlaces === 'keep'
      return (v) => {
        if (v === null || v === undefined) return null
        // the common case: text already in canonical form that fits the column, returned as it is
        if (typeof v === 'string') {
          const shape = canonicalDecimalShape(v)
          if (shape !== undefined && (p === undefined || (shape[0] <= p - s && (keepPlaces || shape[1] <= s)))) return v
        }
        let d: string | undefined
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) return fail(`${v} is not a decimal`)
          d = canonicalDecimal(String(v))
        } else if (typeof v === 'bigint') d = v.toString()
        else if (typeof v === 'string') d = canonicalDecimal(v)
        if (d === undefined) return fail(`${valueOf(v)} is not a decimal`)
        if (p !== undefined) {
          const [ip, fp] = decimalShape(d)
          if (ip > p - s) return fail(`${d} does not fit decimal(${p},${s})`, 'out_of_range')
          // more fraction digits than the scale: fine if they are zeros, otherwise the target would round
          if (fp > s && !keepPlaces) {
            const point = d.indexOf('.')
            if (/[1-9]/.test(d.slice(point + 1 + s))) return fail(`${d} has more than ${s} decimal places (decimal(${p},${s}) would round it)`, 'truncation')
            d = s === 0 ? d.slice(0, point) : d.slice(0, point + 1 + s)
          }
        }
        return d
      }
    }
    case 'float32':
    case 'float64':
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'number') return v
        if (typeof v === 'bigint') return Number(v)
        if (typeof v === 'string') {
          const t = v.trim()
          if (DEC_RE.test(t)) return Number(t)
          const l = t.toLowerCase()
          if (l === 'nan') return NaN
          if (l === 'inf' || l === 'infinity' || l === '+infinity' || l === '+inf') return Infinity
          if (l === '-inf' || l === '-infinity') return -Infinity
        }
        return fail(`${valueOf(v)} is not a number`)
      }
    case 'text':
    case 'json': {
      const isJson = type.kind === 'json'
      const decode = options.decodeInvalidText
      return (v) => {
        if (v === null || v === undefined) return null
        let s: string
        if (typeof v === 'string') s = v
        else if (typeof v === 'number' || typeof v === 'bigint') s = String(v)
        else if (typeof v === 'boolean') s = v ? '1' : '0'
        else if (v instanceof Uint8Array) {
          try {
            s = textDecoder.decode(v)
          } catch {
            const d = decode?.(v)
            if (d === undefined) return fail('bytes that are not valid UTF-8 in a text column')
            s = d
          }
        } else return fail(`${valueOf(v)} is not text`)
        if (isJson) {
          try {
            JSON.parse(s)
          } catch {
            return fail(`${JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s)} is not valid JSON`)
          }
        }
        return s
      }
    }
    case 'bytes':
      return (v) => {
        if (v === null || v === undefined) return null
        if (v instanceof Uint8Array) return v
        if (typeof v === 'string') return Buffer.from(v, 'utf8')
        return fail(`${valueOf(v)} is not bytes`)
      }
    case 'date':
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'string') {
          const d = canonicalDate(v) ?? canonicalTimestamp(v)?.replace(/ 00:00:00$/, '')
          if (d !== undefined && d.length === 10) return d
        }
        return fail(`${valueOf(v)} is not a date (YYYY-MM-DD)`)
      }
    case 'time': {
      const p = options.fraction === 'keep' ? 9 : type.precision
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'string') {
          const t = canonicalTime(v, p)
          if (t !== undefined) return t
        }
        return fail(`${valueOf(v)} is not a time (HH:MM:SS)`)
      }
    }
    case 'timestamp': {
      const p = options.fraction === 'keep' ? 9 : type.precision
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'string') {
          const t = canonicalTimestamp(v, p)
          if (t !== undefined) return t
        }
        return fail(`${valueOf(v)} is not a timestamp (YYYY-MM-DD HH:MM:SS)`)
      }
    }
    case 'timestamptz': {
      const p = options.fraction === 'keep' ? 9 : type.precision
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'string') {
          const t = canonicalTimestampTz(v, p)
          if (t !== undefined) return t
          // a timestamp without offset in a timestamptz column is read as UTC
          const u = canonicalTimestamp(v, p)
          if (u !== undefined) return `${u}+00:00`
        }
        return fail(`${valueOf(v)} is not a timestamp with offset`)
      }
    }
    case 'uuid':
      return (v) => {
        if (v === null || v === undefined) return null
        if (typeof v === 'string' && UUID_RE.test(v.trim())) return v.trim().toLowerCase()
        if (v instanceof Uint8Array && v.length === 16) {
          const h = Buffer.from(v).toString('hex')
          return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
        }
        return fail(`${valueOf(v)} is not a UUID`)
      }
  }
}

/** Approximate in-memory size of a value, for batch sizing by bytes. */
export function valueSize(v: Value): number {
  if (v === null) return 1
  switch (typeof v) {
    case 'string':
      return v.length + 8
    case 'number':
    case 'boolean':
      return 8
    case 'bigint':
      return 16
    default:
      return (v as Uint8Array).byteLength + 8
  }
}

/**
 * A single-precision value as the shortest decimal that names it: the number with the fewest significant
 * digits (1 to 9) that rounds to the same float32, so `real` 9.8 is 9.8 and not 9.800000190734863 — what a
 * float64 column of the target then holds, and what a file prints. NaN, ±Infinity and ±0 stay as they are.
 */
export function shortestFloat32(x: number): number {
  const f = Math.fround(x)
  if (!Number.isFinite(f) || f === 0) return f
  for (let p = 1; p < 9; p++) {
    const n = Number(f.toPrecision(p))
    if (Math.fround(n) === f) return n
  }
  return Number(f.toPrecision(9))
}
