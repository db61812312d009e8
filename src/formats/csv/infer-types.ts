import { canonicalDate, canonicalTimestamp, canonicalTimestampTz, INT_RANGES } from '../../schema/values.js'
import type { LogicalType } from '../../schema/types.js'

/**
 * Infers a column's logical type from sampled text values (NULLs ignored). The result is the narrowest of
 * boolean, int32, int64, decimal, float64, date, timestamp, timestamptz that every sampled value fits,
 * else text. Values that a number type would change are kept as text: `007` (a leading zero), `+5`.
 * A decimal gets the scale it was seen with and room for larger numbers: precision max(18, digits + 6),
 * at most 38. A column with no non-NULL sample is text.
 */
export function inferColumnType(values: Iterable<string | null>): LogicalType {
  let cls: Cls | undefined
  let intDigits = 0
  let scale = 0
  let fraction = 0
  for (const v of values) {
    if (v === null) continue
    const c = classify(v)
    if (c.kind === 'decimal' || c.kind === 'int32' || c.kind === 'int64' || c.kind === 'bigint') {
      intDigits = Math.max(intDigits, c.intDigits)
      scale = Math.max(scale, c.scale)
    }
    if (c.kind === 'timestamp' || c.kind === 'timestamptz') fraction = Math.max(fraction, c.fraction)
    cls = cls === undefined ? c.kind : join(cls, c.kind)
    if (cls === 'text') return { kind: 'text' }
  }
  switch (cls) {
    case undefined:
    case 'text':
      return { kind: 'text' }
    case 'bool':
      return { kind: 'boolean' }
    case 'int32':
      return { kind: 'int32' }
    case 'int64':
      return { kind: 'int64' }
    case 'bigint':
    case 'decimal':
      return { kind: 'decimal', precision: Math.min(38, Math.max(18, intDigits + scale + 6)), scale }
    case 'float':
      return { kind: 'float64' }
    case 'date':
      return { kind: 'date' }
    case 'timestamp':
      return fraction > 0 ? { kind: 'timestamp', precision: Math.min(6, fraction) } : { kind: 'timestamp' }
    case 'timestamptz':
      return fraction > 0 ? { kind: 'timestamptz', precision: Math.min(6, fraction) } : { kind: 'timestamptz' }
  }
}

type Cls = 'bool' | 'int32' | 'int64' | 'bigint' | 'decimal' | 'float' | 'date' | 'timestamp' | 'timestamptz' | 'text'

type Classified =
  | { kind: 'int32' | 'int64' | 'bigint' | 'decimal'; intDigits: number; scale: number }
  | { kind: 'timestamp' | 'timestamptz'; fraction: number }
  | { kind: 'bool' | 'float' | 'date' | 'text' }

const INT = /^-?(0|[1-9]\d*)$/
const DEC = /^-?(0|[1-9]\d*)\.(\d+)$/
const FLOAT = /^-?(0|[1-9]\d*)(\.\d+)?[eE][+-]?\d+$/
const TS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.(\d+))?)?$/
const TSTZ = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.(\d+))?)?(Z|[+-]\d{2}(:?\d{2})?)$/i
const BOOLS = new Set(['true', 'false', 't', 'f'])

function classify(v: string): Classified {
  if (INT.test(v)) {
    const digits = v.replace('-', '').length
    if (digits <= 18 || (BigInt(v) >= INT_RANGES.int64[0] && BigInt(v) <= INT_RANGES.int64[1])) {
      const n = Number(v)
      const kind = n >= -2147483648 && n <= 2147483647 ? 'int32' : 'int64'
      return { kind, intDigits: digits, scale: 0 }
    }
    return { kind: 'bigint', intDigits: digits, scale: 0 }
  }
  const d = DEC.exec(v)
  if (d) return { kind: 'decimal', intDigits: d[1]!.length, scale: d[2]!.length }
  if (FLOAT.test(v)) return { kind: 'float' }
  const l = v.toLowerCase()
  if (l === 'nan' || l === 'infinity' || l === '-infinity') return { kind: 'float' }
  if (BOOLS.has(l)) return { kind: 'bool' }
  if (v.length === 10 && canonicalDate(v) === v) return { kind: 'date' }
  let m = TS.exec(v)
  if (m && canonicalTimestamp(v) !== undefined) return { kind: 'timestamp', fraction: m[3]?.length ?? 0 }
  m = TSTZ.exec(v)
  if (m && canonicalTimestampTz(v) !== undefined) return { kind: 'timestamptz', fraction: m[3]?.length ?? 0 }
  return { kind: 'text' }
}

const NUMERIC: Cls[] = ['int32', 'int64', 'bigint', 'decimal']

function join(a: Cls, b: Cls): Cls {
  if (a === b) return a
  const ia = NUMERIC.indexOf(a)
  const ib = NUMERIC.indexOf(b)
  if (ia >= 0 && ib >= 0) return NUMERIC[Math.max(ia, ib)]!
  // exact numbers and floats mix into float only when no exactness is lost: ints stay exact in float64
  if ((a === 'float' && (b === 'int32' || b === 'int64')) || (b === 'float' && (a === 'int32' || a === 'int64'))) return 'float'
  if ((a === 'float' && b === 'decimal') || (a === 'decimal' && b === 'float')) return 'float'
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp'
  return 'text'
}
