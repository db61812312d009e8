import { createHash } from 'node:crypto'
import { canonicalDecimal } from '../schema/values.js'
import type { ColumnSchema, LogicalKind, Value } from '../schema/types.js'
import { daysFromCivil } from '../schema/civil-days.js'

/**
 * Engine-independent normalisation of canonical values for comparison. Two engines that hold the same data
 * hand back values that differ in form (`true` vs `1`, `'1.50'` vs `1.5`, `'…+02:00'` vs `'… UTC'`, jsonb's
 * reordered keys); each value becomes a *token*, a string equal on both sides exactly when the values are
 * equal under the column's tolerances. Tokens carry a class letter and text carries its length, so a row's
 * tokens can be joined without ambiguity.
 */

/** What a user may relax per column. Every field defaults to exact comparison. */
export interface ColumnTolerance {
  /** Floats equal when `|a - b| <= floatEpsilon`. Default 0 (equal by value; float32 columns at float32 precision). */
  floatEpsilon?: number
  /**
   * Fractional-second digits timestamps and times are rounded to. Default: the smaller precision of the two
   * columns, 9 for a column that declares none (a value carries only the digits it has, so nothing a copy cut
   * is hidden: `…05.123456789` against `…05.123456` differs). Set 6 to accept cuts to microseconds.
   */
  timestampPrecision?: number
  /** Ignore trailing spaces in text. Default false (true when either column is fixed-width `char(n)`). */
  trimTrailingSpaces?: boolean
  /** Compare text case-insensitively. Default false. */
  caseInsensitive?: boolean
}

/**
 * Tolerances keyed by `table.column`, `table.*`, `*.column` or `*`. The most specific pattern wins; fields
 * of less specific patterns fill in what it leaves out. Default none (exact).
 */
export type Tolerances = Readonly<Record<string, ColumnTolerance>>

/** Resolves the tolerance of one column from a {@link Tolerances} map. */
export function toleranceFor(tolerances: Tolerances | undefined, table: string, column: string): ColumnTolerance {
  if (!tolerances) return {}
  return {
    ...tolerances['*'],
    ...tolerances[`*.${column}`],
    ...tolerances[`${table}.*`],
    ...tolerances[`${table}.${column}`],
  }
}

/** How one column pair is compared. */
export interface ColumnNormalizer {
  /** The token of a value, as hashed. With a float epsilon this is the value on an epsilon grid. */
  hashToken(v: Value): string
  /** The token of a value, as compared row by row. */
  token(v: Value): string
  /** Whether two {@link token}s are equal under the tolerance. */
  equal(a: string, b: string): boolean
}

type ValueClass = 'number' | 'time' | 'timeofday' | 'json' | 'uuid' | 'text' | 'bytes' | 'mixed'

const NUMERIC: ReadonlySet<LogicalKind> = new Set(['boolean', 'int16', 'int32', 'int64', 'decimal', 'float32', 'float64'])
const TEMPORAL: ReadonlySet<LogicalKind> = new Set(['date', 'timestamp', 'timestamptz'])

function classOf(kind: LogicalKind): ValueClass {
  if (NUMERIC.has(kind)) return 'number'
  if (TEMPORAL.has(kind)) return 'time'
  if (kind === 'time') return 'timeofday'
  if (kind === 'json') return 'json'
  if (kind === 'uuid') return 'uuid'
  if (kind === 'bytes') return 'bytes'
  return 'text'
}

/** The comparison class of a column pair: their common class, json/uuid winning over text, else `mixed`. */
function pairClass(a: LogicalKind, b: LogicalKind): ValueClass {
  const ca = classOf(a)
  const cb = classOf(b)
  if (ca === cb) return ca
  const pair = new Set([ca, cb])
  // a text column copied into a typed one (or read through a type override) compares by the typed value;
  // text that does not parse stays text, so it still differs
  if (pair.has('text')) {
    for (const c of ['json', 'uuid', 'number', 'time', 'timeofday'] as const) if (pair.has(c)) return c
  }
  return 'mixed'
}

/**
 * The precision a column without a declared one is compared at: the most a canonical value carries. A loosely
 * typed source (SQLite text) may hold 9 digits in an undeclared column; comparing at 6 would call a cut equal.
 */
const UNDECLARED_PRECISION = 9

function precisionOf(c: ColumnSchema): number | undefined {
  const t = c.type
  return t.kind === 'time' || t.kind === 'timestamp' || t.kind === 'timestamptz' ? t.precision : undefined
}

const PLAIN_DECIMAL = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/
const PADDED_DECIMAL = /^-?(?:0|[1-9]\d*)\.\d*0$/

/** Canonical number text: exact integers and decimals without trailing zeros, `-0` as `0`. */
export function numberText(v: number | bigint | string): string | undefined {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN'
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity'
    if (v === 0) return '0'
    const t = String(v)
    // the shortest round-trip form is canonical unless it uses an exponent
    return t.includes('e') ? numberText(t) : t
  }
  if (PLAIN_DECIMAL.test(v)) return v === '-0' ? '0' : v
  if (PADDED_DECIMAL.test(v)) {
    // '12.50' → '12.5', '3.00' → '3': the common case of a decimal read at its column's scale
    let end = v.length
    while (v.charCodeAt(end - 1) === 48) end--
    if (v.charCodeAt(end - 1) === 46) end--
    const out = v.slice(0, end)
    return out === '-0' ? '0' : out
  }
  const t = v.trim()
  const l = t.toLowerCase()
  if (l === 'nan') return 'NaN'
  if (l === 'infinity' || l === '+infinity' || l === 'inf') return 'Infinity'
  if (l === '-infinity' || l === '-inf') return '-Infinity'
  const d = canonicalDecimal(t)
  if (d === undefined) return undefined
  const s = d.includes('.') ? d.replace(/0+$/, '').replace(/\.$/, '') : d
  return s === '-0' ? '0' : s
}

function text(s: string): string {
  return `s${s.length}:${s}`
}

function bytesToken(v: Uint8Array): string {
  // a digest keeps tokens small for large blobs; equal length and md5 is equality for verification
  const h = createHash('md5').update(v).digest('base64')
  return `x${v.byteLength}:${h}`
}

const TS_RE = /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i
const TIME_RE = /^(-)?(\d{1,3}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/

/** Rounds `whole` seconds plus a fraction given as digits to `p` digits; returns `seconds.fraction` text. */
function roundSeconds(whole: number, digits: string | undefined, p: number): string {
  let frac = digits ?? ''
  let carry = 0
  if (frac.length > p) {
    const kept = frac.slice(0, p)
    const up = frac.charCodeAt(p) >= 53 // '5'
    if (up) {
      if (p === 0 || /^9*$/.test(kept)) {
        carry = 1
        frac = '0'.repeat(p)
      } else frac = (BigInt(kept) + 1n).toString().padStart(p, '0')
    } else frac = kept
  }
  let end = frac.length
  while (end > 0 && frac.charCodeAt(end - 1) === 48) end--
  const secs = whole + carry
  return end === 0 ? String(secs) : `${secs}.${frac.slice(0, end)}`
}

// days of recently seen dates: a column's dates repeat, and the civil-date arithmetic is the costly part
const dayCache = new Map<string, number>()

function daysOf(date: string, y: number, m: number, d: number): number {
  let days = dayCache.get(date)
  if (days === undefined) {
    days = daysFromCivil(y, m, d)
    if (dayCache.size >= 50_000) dayCache.clear()
    dayCache.set(date, days)
  }
  return days
}

function digits2(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48
  const b = s.charCodeAt(at + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

/** The common canonical shape `YYYY-MM-DD HH:MM:SS[.f]` without an offset, parsed without a regex. */
function fastTimestamp(v: string, p: number): string | undefined {
  const n = v.length
  if (n < 19 || v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58) return undefined
  const sep = v.charCodeAt(10)
  if (sep !== 32 && sep !== 84) return undefined
  let frac: string | undefined
  if (n > 19) {
    if (v.charCodeAt(19) !== 46 || n === 20) return undefined
    for (let i = 20; i < n; i++) {
      const c = v.charCodeAt(i)
      if (c < 48 || c > 57) return undefined
    }
    frac = v.slice(20)
  }
  const y = digits2(v, 0) * 100 + digits2(v, 2)
  const mo = digits2(v, 5)
  const d = digits2(v, 8)
  const h = digits2(v, 11)
  const mi = digits2(v, 14)
  const s = digits2(v, 17)
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || mi < 0 || s < 0) return undefined
  return `t${roundSeconds(daysOf(v.slice(0, 10), y, mo, d) * 86400 + h * 3600 + mi * 60 + s, frac, p)}`
}

/** Token of a date, timestamp or timestamp with offset: UTC seconds since the epoch, rounded to `p` digits. */
export function timeToken(v: string, p: number): string | undefined {
  const fast = fastTimestamp(v, p)
  if (fast !== undefined) return fast
  const m = TS_RE.exec(v.trim())
  if (!m) return undefined
  const [, y, mo, d, h = '0', mi = '0', s = '0', f, off] = m
  if (+mo! < 1 || +mo! > 12 || +d! < 1 || +d! > 31) return undefined
  let secs = daysOf(`${y}-${mo}-${d}`, +y!, +mo!, +d!) * 86400 + +h * 3600 + +mi * 60 + +s
  if (off && off.toUpperCase() !== 'Z') {
    const digits = off.slice(1).replace(':', '')
    const minutes = +digits.slice(0, 2) * 60 + +(digits.slice(2, 4) || '0')
    secs -= (off[0] === '-' ? -1 : 1) * minutes * 60
  }
  return `t${roundSeconds(secs, f, p)}`
}

/** Token of a time of day (or a MySQL duration): seconds, rounded to `p` digits. */
export function timeOfDayToken(v: string, p: number): string | undefined {
  const m = TIME_RE.exec(v.trim())
  if (!m) return undefined
  const [, neg, h, mi, s = '0', f] = m
  const r = roundSeconds(+h! * 3600 + +mi! * 60 + +s, f, p)
  return `h${neg && r !== '0' ? '-' : ''}${r}`
}

/** JSON with object keys sorted, so jsonb's reordering and whitespace do not count as a difference. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}

/** Token by the JS value alone, for values outside their column pair's class. */
function looseToken(v: Value, fold: (s: string) => string): string {
  if (v === null) return 'N'
  if (typeof v === 'boolean') return v ? 'n1' : 'n0'
  if (typeof v === 'number' || typeof v === 'bigint') return `n${numberText(v)}`
  if (typeof v === 'string') return text(fold(v))
  return bytesToken(v)
}

/**
 * Builds the normaliser of one column pair (`a` on the first database, `b` on the second). Numbers compare by
 * value across boolean/integer/decimal/float columns, decimals whatever their scale, timestamps in UTC at one
 * precision, JSON by value, UUIDs case-insensitively, bytes and text exactly (unless tolerated).
 */
export function columnNormalizer(a: ColumnSchema, b: ColumnSchema, tolerance: ColumnTolerance = {}): ColumnNormalizer {
  const cls = pairClass(a.type.kind, b.type.kind)
  const fixed = (c: ColumnSchema) => c.type.kind === 'text' && c.type.fixed === true
  const trim = tolerance.trimTrailingSpaces ?? (fixed(a) || fixed(b))
  const lower = tolerance.caseInsensitive === true
  const fold = (s: string): string => {
    let out = trim ? s.replace(/ +$/, '') : s
    if (lower) out = out.toLowerCase()
    return out
  }
  const exactEqual = (x: string, y: string) => x === y

  switch (cls) {
    case 'number': {
      const f32 = a.type.kind === 'float32' || b.type.kind === 'float32'
      const eps = tolerance.floatEpsilon ?? 0
      const token = (v: Value): string => {
        if (v === null) return 'N'
        if (typeof v === 'boolean') return v ? 'n1' : 'n0'
        if (typeof v === 'number') return `n${numberText(f32 ? Math.fround(v) : v)}`
        if (typeof v === 'bigint') return `n${v}`
        if (typeof v === 'string') {
          const n = numberText(v)
          if (n !== undefined) return `n${f32 ? numberText(Math.fround(Number(n))) : n}`
        }
        return looseToken(v, fold)
      }
      if (!(eps > 0)) return { token, hashToken: token, equal: exactEqual }
      const grid = (t: string): string => {
        if (t[0] !== 'n') return t
        const n = Number(t.slice(1))
        return Number.isFinite(n) ? `q${Math.round(n / eps)}` : t
      }
      return {
        token,
        hashToken: (v) => grid(token(v)),
        equal(x, y) {
          if (x === y) return true
          if (x[0] !== 'n' || y[0] !== 'n') return false
          return Math.abs(Number(x.slice(1)) - Number(y.slice(1))) <= eps
        },
      }
    }
    case 'time':
    case 'timeofday': {
      const p = Math.max(0, Math.min(tolerance.timestampPrecision ?? Math.min(precisionOf(a) ?? UNDECLARED_PRECISION, precisionOf(b) ?? UNDECLARED_PRECISION), 9))
      const parse = cls === 'time' ? timeToken : timeOfDayToken
      const token = (v: Value): string => (typeof v === 'string' ? (parse(v, p) ?? text(v)) : looseToken(v, fold))
      return { token, hashToken: token, equal: exactEqual }
    }
    case 'json': {
      const token = (v: Value): string => {
        if (typeof v !== 'string') return looseToken(v, fold)
        try {
          return `j${stableJson(JSON.parse(v))}`
        } catch {
          return text(fold(v))
        }
      }
      return { token, hashToken: token, equal: exactEqual }
    }
    case 'uuid': {
      const token = (v: Value): string => (typeof v === 'string' ? `u${v.trim().toLowerCase()}` : looseToken(v, fold))
      return { token, hashToken: token, equal: exactEqual }
    }
    default: {
      const token = (v: Value): string => looseToken(v, fold)
      return { token, hashToken: token, equal: exactEqual }
    }
  }
}

/** Kinds whose canonical values two readers of any engines give in the same form when the types are equal. */
const DIRECT_ANY_ENGINE: ReadonlySet<LogicalKind> = new Set(['boolean', 'int16', 'int32', 'int64', 'float64', 'text', 'bytes', 'date', 'time', 'timestamp'])
/** Kinds whose form depends on the engine (a decimal's scale, a float32's widening, an offset): same engine only. */
const DIRECT_SAME_ENGINE: ReadonlySet<LogicalKind> = new Set(['decimal', 'float32', 'timestamptz'])

function sameType(a: ColumnSchema['type'], b: ColumnSchema['type']): boolean {
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined)
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined)
  if (ka.length !== kb.length) return false
  return ka.every((k) => JSON.stringify((a as Record<string, unknown>)[k]) === JSON.stringify((b as Record<string, unknown>)[k]))
}

/**
 * Whether a column pair's first-pass hash may take the canonical values as they are instead of their tokens.
 * Always sound — equal values give equal tokens — and fast where the forms agree whenever the values do:
 * the same logical type on both sides, no tolerance, and a kind whose canonical form is unique (decimals,
 * float32 and timestamps with offset only between two databases of the same engine). Where forms could
 * differ for equal values (uuid case, JSON key order, `char(n)` padding), the token is hashed.
 */
export function hashesDirectly(a: ColumnSchema, b: ColumnSchema, tolerance: ColumnTolerance, sameEngine: boolean): boolean {
  if (!isExact(tolerance) || !sameType(a.type, b.type)) return false
  const kind = a.type.kind
  if (kind === 'text' && a.type.fixed === true) return false
  return DIRECT_ANY_ENGINE.has(kind) || (sameEngine && DIRECT_SAME_ENGINE.has(kind))
}

/** Whether two columns have the same logical type (every field equal). */
export function sameLogicalType(a: ColumnSchema, b: ColumnSchema): boolean {
  return sameType(a.type, b.type)
}

/** Whether a tolerance relaxes anything. */
export function isExact(tolerance: ColumnTolerance): boolean {
  return !((tolerance.floatEpsilon ?? 0) > 0) && tolerance.timestampPrecision === undefined && tolerance.trimTrailingSpaces !== true && tolerance.caseInsensitive !== true
}
