import type { DialectCapabilities } from '../dialect.js'
import { RowError } from '../errors.js'
import { keyColumnIndexes, rowKey } from '../schema/rows.js'
import { ConversionFailure, makeConverter, type Converter } from '../schema/values.js'
import type { LogicalType, Row, TableSchema, Value } from '../schema/types.js'

/** What happened to one row on its way into the target's layout. */
export interface FitProblem {
  error: RowError
}

/**
 * The classes of value the fitter changes and counts as a fix, one list for the copy (which journals each fix
 * as `<kind>: <what changed>`) and the plan (which lists each class as a preflight issue of that kind):
 * `nul_stripped` (U+0000 removed under `stripNul`), `fraction_cut` (fractional seconds past what the target
 * keeps), `decimal_rounded` (decimal places past the target's scale, under `decimals: 'round'`).
 */
export const FIT_FIX_KINDS = ['nul_stripped', 'fraction_cut', 'decimal_rounded'] as const

/** One of {@link FIT_FIX_KINDS}. */
export type FitFixKind = (typeof FIT_FIX_KINDS)[number]

/** One value the fitter changed: its class, the source row's key, the value as it was, and what became of it. */
export interface FitFix {
  kind: FitFixKind
  /** The source row's key (`rowKey`), or undefined for a table without one. */
  key: unknown
  /** The value as the source had it. */
  value: Value
  /** `<table>.<column>: <before> → <after> (why)`. */
  message: string
}

/** Options for {@link makeRowFitter}. */
export interface FitOptions {
  /** Remove U+0000 from text for targets that cannot store it, instead of rejecting the row. Default false. */
  stripNul?: boolean
  /**
   * A decimal with more places than the target column's scale: `reject` the row (a `truncation` reject naming
   * the value), or `round` it half away from zero (12.345 → 12.35, -0.005 → -0.01) and count a
   * `decimal_rounded` fix. Places past the scale that are all zeros are dropped either way. Default `reject`.
   */
  decimals?: 'reject' | 'round'
}

/** The per-row step {@link makeRowFitter} builds: the row in the target's layout, or undefined when rejected. */
export type RowFitter = (row: Row, onProblem: (e: RowError) => void, onFix: (column: string, fix?: FitFix) => void) => Row | undefined

/**
 * Builds the per-table step that turns source rows into target rows: projects columns (a schema transform
 * may drop or reorder them), converts values whose logical type changed, and applies the target's
 * limits (NUL in text, non-finite floats, fractional seconds, a decimal's scale). Returns undefined when rows
 * pass through unchanged.
 */
export function makeRowFitter(source: TableSchema, target: TableSchema, caps: DialectCapabilities, options: FitOptions = {}): RowFitter | undefined {
  const index = target.columns.map((c) => source.columns.findIndex((s) => s.name === (c.origin ?? c.name)))
  const missing = target.columns.filter((_, i) => index[i]! < 0)
  if (missing.length > 0) throw new Error(`target columns ${missing.map((c) => c.name).join(', ')} of ${target.name} have no source column`)
  const identity = index.length === source.columns.length && index.every((s, i) => s === i)

  // places past the scale are kept here (decimalPlaces: keep) and decided below, under the decimals policy
  const converters: (Converter | undefined)[] = target.columns.map((c, i) => {
    const s = source.columns[index[i]!]!
    return JSON.stringify(s.type) === JSON.stringify(c.type) ? undefined : makeConverter(c.type, { decimalPlaces: 'keep' })
  })
  const nulCheck = target.columns.map((c) => !caps.textHoldsNul && (c.type.kind === 'text' || c.type.kind === 'json'))
  const finiteCheck = target.columns.map((c) => !caps.floatHoldsNonFinite && (c.type.kind === 'float32' || c.type.kind === 'float64'))
  // a source boolean that holds an integer (MySQL tinyint(1) = 2): only a target that keeps integers there takes it
  const booleanCheck = target.columns.map((c) => !caps.booleanHoldsIntegers && c.type.kind === 'boolean')
  // fractional seconds past what the target keeps (its column's precision, at most the engine's) are cut, not
  // rounded: rounding could carry into the next second, minute or day; each cut counts as a fix of the column.
  // A source column that declares no more digits than that holds none to cut
  const maxFraction = caps.maxTimestampPrecision
  const fractionLimit = target.columns.map((c) => (isTemporal(c.type) ? Math.min(c.type.precision ?? maxFraction, maxFraction) : -1))
  const fractionCheck = target.columns.map((c, i) => {
    const s = source.columns[index[i]!]!.type
    return fractionLimit[i]! >= 0 && (!isTemporal(s) || s.precision === undefined || s.precision > fractionLimit[i]!)
  })
  // every decimal column with a declared scale: a loosely typed source (SQLite) holds any number of places
  const scaleOf = target.columns.map((c) => (c.type.kind === 'decimal' && c.type.precision !== undefined ? (c.type.scale ?? 0) : -1))
  const round = options.decimals === 'round'
  const anyWork = !identity || converters.some(Boolean) || nulCheck.some(Boolean) || finiteCheck.some(Boolean) || booleanCheck.some(Boolean) || fractionCheck.some(Boolean) || scaleOf.some((s) => s >= 0)
  if (!anyWork) return undefined
  const keyIdx = keyColumnIndexes(source)
  const n = target.columns.length
  const where = (i: number) => `${target.name}.${target.columns[i]!.name}`
  const problem = (kind: RowError['code'], reason: string, row: Row, i: number, value: Value) =>
    new RowError(kind, `${where(i)}: ${reason}`, {
      table: target.name,
      key: rowKey(source, row, keyIdx),
      column: target.columns[i]!.name,
      value,
      row,
    })
  const fixOf = (kind: FitFixKind, row: Row, i: number, before: Value, after: string): FitFix => ({
    kind,
    key: rowKey(source, row, keyIdx),
    value: before,
    message: `${where(i)}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
  })

  return (row, onProblem, onFix) => {
    const out: Row = identity ? row : new Array(n)
    for (let i = 0; i < n; i++) {
      let v: Value = identity ? row[i]! : row[index[i]!]!
      const conv = converters[i]
      if (conv !== undefined && v !== null) {
        const r = conv(v)
        if (r instanceof ConversionFailure) {
          onProblem(problem(r.kind, r.reason, row, i, v))
          return undefined
        }
        v = r
      }
      if (nulCheck[i] && typeof v === 'string' && v.includes('\0')) {
        if (options.stripNul) {
          const before = v
          v = v.replaceAll('\0', '')
          onFix(target.columns[i]!.name, fixOf('nul_stripped', row, i, before, v))
        } else {
          onProblem(problem('nul_in_text', 'the target cannot store U+0000 in text (set stripNul to remove it)', row, i, v))
          return undefined
        }
      }
      if (finiteCheck[i] && typeof v === 'number' && !Number.isFinite(v)) {
        onProblem(problem('out_of_range', `the target cannot store ${v} in a float column`, row, i, v))
        return undefined
      }
      if (booleanCheck[i] && typeof v === 'number') {
        if (v !== 0 && v !== 1) {
          onProblem(problem('out_of_range', `the target's boolean holds only true and false, not ${v}`, row, i, v))
          return undefined
        }
        v = v === 1
      }
      if (fractionCheck[i] && typeof v === 'string') {
        const cut = cutFraction(v, fractionLimit[i]!)
        if (cut !== v) {
          const f = fixOf('fraction_cut', row, i, v, cut)
          f.message += ` (the target keeps ${fractionLimit[i]} fractional digits; cut, not rounded)`
          onFix(target.columns[i]!.name, f)
          v = cut
        }
      }
      const scale = scaleOf[i]!
      if (scale >= 0 && typeof v === 'string') {
        const dot = v.indexOf('.')
        if (dot >= 0 && v.length - dot - 1 > scale) {
          const type = target.columns[i]!.type as Extract<LogicalType, { kind: 'decimal' }>
          const shown = `decimal(${type.precision},${scale})`
          if (!/[1-9]/.test(v.slice(dot + 1 + scale))) {
            // zeros past the scale change nothing
            v = scale === 0 ? v.slice(0, dot) : v.slice(0, dot + 1 + scale)
          } else if (!round) {
            onProblem(problem('truncation', `${v} has more than ${scale} decimal places (${shown} would round it; set decimals: 'round' to round it)`, row, i, v))
            return undefined
          } else {
            const rounded = roundDecimal(v, scale)
            if (integerDigits(rounded) > type.precision! - scale) {
              onProblem(problem('out_of_range', `${v} rounded to ${rounded} does not fit ${shown}`, row, i, v))
              return undefined
            }
            const f = fixOf('decimal_rounded', row, i, v, rounded)
            f.message += ` (${shown}: rounded half away from zero)`
            onFix(target.columns[i]!.name, f)
            v = rounded
          }
        }
      }
      out[i] = v
    }
    return out
  }
}

function isTemporal(t: LogicalType): t is Extract<LogicalType, { kind: 'time' | 'timestamp' | 'timestamptz' }> {
  return t.kind === 'time' || t.kind === 'timestamp' || t.kind === 'timestamptz'
}

/**
 * Rounds a canonical decimal string to `scale` places, half away from zero (the digit after the last kept one
 * decides, on the magnitude: 12.345 → 12.35, -0.005 → -0.01, 1.994 → 1.99); exact, on the digits.
 */
export function roundDecimal(value: string, scale: number): string {
  const negative = value[0] === '-'
  const body = negative ? value.slice(1) : value
  const dot = body.indexOf('.')
  if (dot < 0 || body.length - dot - 1 <= scale) return value
  const digits = body.slice(0, dot) + body.slice(dot + 1, dot + 1 + scale)
  let kept = BigInt(digits)
  if (body.charCodeAt(dot + 1 + scale) >= 53) kept += 1n
  let text = kept.toString().padStart(scale + 1, '0')
  if (scale > 0) text = `${text.slice(0, text.length - scale)}.${text.slice(text.length - scale)}`
  return negative && kept !== 0n ? `-${text}` : text
}

/** Digits before the point of a canonical decimal, a lone 0 counting as none (as the converter counts them). */
function integerDigits(d: string): number {
  const body = d[0] === '-' ? d.slice(1) : d
  const dot = body.indexOf('.')
  const int = dot < 0 ? body : body.slice(0, dot)
  return int === '0' ? 0 : int.length
}

const FRACTION = /(\d{2}:\d{2}:\d{2})\.(\d+)/

/** Cuts the fractional seconds of a canonical time or timestamp to `digits` (trailing zeros dropped). */
export function cutFraction(value: string, digits: number): string {
  // canonical forms: a fraction starts at the first '.', and one of at most `digits` digits needs no work
  const dot = value.indexOf('.')
  if (dot < 0) return value
  let end = dot + 1
  while (end < value.length && value.charCodeAt(end) >= 48 && value.charCodeAt(end) <= 57) end++
  if (end - dot - 1 <= digits) return value
  const m = FRACTION.exec(value)
  if (!m || m[2]!.length <= digits) return value
  const kept = m[2]!.slice(0, digits).replace(/0+$/, '')
  return value.replace(FRACTION, kept === '' ? m[1]! : `${m[1]}.${kept}`)
}
