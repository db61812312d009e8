import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'
import { ConversionFailure, INT_RANGES, makeConverter, type Converter } from '../../src/schema/values.js'

/**
 * Per-column converters for values read from SQLite. Each one answers the common case (the value already
 * has the storage class and shape its column expects) without a regex or an allocation, and hands anything
 * else to the core's {@link makeConverter}, which decides. The result is the same either way.
 */

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -100
}

function two(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1)
}

/** `YYYY-MM-DD` with a real calendar date, checked by character codes. */
function isCanonicalDate(s: string): boolean {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false
  const y = two(s, 0) * 100 + two(s, 2)
  const m = two(s, 5)
  const d = two(s, 8)
  if (y < 0 || m < 1 || m > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  return d <= (m === 2 && leap ? 29 : DAYS[m]!)
}

/** `HH:MM:SS` from offset `at`. */
function isCanonicalTime(s: string, at: number): boolean {
  if (s.charCodeAt(at + 2) !== 58 || s.charCodeAt(at + 5) !== 58) return false
  const h = two(s, at)
  const mi = two(s, at + 3)
  const se = two(s, at + 6)
  return h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && se >= 0 && se <= 59
}

/** The canonical converter for a column read from SQLite. */
export function sqliteConverter(c: ColumnSchema): Converter {
  const type = c.type
  if (type.kind === 'bytes' && c.nativeType.trim() === '') return untypedConverter()
  const slow = makeConverter(type)
  switch (type.kind) {
    case 'text':
      return (v) => (typeof v === 'string' ? v : slow(v))
    case 'float32':
    case 'float64':
      return (v) => (typeof v === 'number' ? v : slow(v))
    case 'int16':
    case 'int32':
    case 'int64': {
      const [lo, hi] = INT_RANGES[`${type.unsigned ? 'u' : ''}${type.kind}` as keyof typeof INT_RANGES]
      const loN = Number(lo)
      const hiN = Number(hi)
      return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= loN && v <= hiN ? v : slow(v))
    }
    case 'boolean':
      return (v) => (v === 0 ? false : v === 1 ? true : slow(v))
    case 'timestamp':
      // a timestamp without fraction is already canonical when its shape and values are
      return (v) => (typeof v === 'string' && v.length === 19 && v.charCodeAt(10) === 32 && isCanonicalDate(v) && isCanonicalTime(v, 11) ? v : slow(v))
    case 'date':
      return (v) => (typeof v === 'string' && v.length === 10 && isCanonicalDate(v) ? v : slow(v))
    case 'decimal':
      return decimalConverter(type, slow)
    default:
      return slow
  }
}

/** Decimals stored as REAL or INTEGER (NUMERIC affinity): JS prints them canonically unless in exponent form. */
function decimalConverter(type: Extract<LogicalType, { kind: 'decimal' }>, slow: Converter): Converter {
  const maxInt = type.precision === undefined ? Infinity : type.precision - (type.scale ?? 0)
  return (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return slow(v)
    const s = String(v)
    if (s.includes('e')) return slow(v)
    const neg = s.charCodeAt(0) === 45 ? 1 : 0
    const dot = s.indexOf('.')
    let intDigits = (dot < 0 ? s.length : dot) - neg
    if (intDigits === 1 && s.charCodeAt(neg) === 48) intDigits = 0
    return intDigits > maxInt ? slow(v) : s
  }
}

/**
 * A column with no declared type has BLOB affinity and holds anything: blobs pass as they are, text becomes
 * its UTF-8 bytes and numbers the bytes of their decimal text (see sqlite-types.ts).
 */
function untypedConverter(): Converter {
  return (v) => {
    if (v === null || v === undefined) return null
    if (v instanceof Uint8Array) return v
    if (typeof v === 'string') return Buffer.from(v, 'utf8')
    if (typeof v === 'number' || typeof v === 'bigint') return Buffer.from(String(v), 'utf8')
    return new ConversionFailure(`a ${typeof v} is not bytes`)
  }
}
