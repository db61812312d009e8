import type { DialectCapabilities } from '../dialect.js'
import { RowError } from '../errors.js'
import { keyColumnIndexes, rowKey } from '../schema/rows.js'
import { ConversionFailure, makeConverter, type Converter } from '../schema/values.js'
import type { Row, TableSchema, Value } from '../schema/types.js'

/** What happened to one row on its way into the target's layout. */
export interface FitProblem {
  error: RowError
}

/** Options for {@link makeRowFitter}. */
export interface FitOptions {
  /** Remove U+0000 from text for targets that cannot store it, instead of rejecting the row. Default false. */
  stripNul?: boolean
}

/**
 * Builds the per-table step that turns source rows into target rows: projects columns (a schema transform
 * may drop or reorder them), converts values whose logical type changed, and applies the target's
 * capability limits (NUL in text, non-finite floats). Returns undefined when rows pass through unchanged.
 */
export function makeRowFitter(
  source: TableSchema,
  target: TableSchema,
  caps: DialectCapabilities,
  options: FitOptions = {},
): ((row: Row, onProblem: (e: RowError) => void, onFix: (column: string) => void) => Row | undefined) | undefined {
  const index = target.columns.map((c) => source.columns.findIndex((s) => s.name === (c.origin ?? c.name)))
  const missing = target.columns.filter((_, i) => index[i]! < 0)
  if (missing.length > 0) throw new Error(`target columns ${missing.map((c) => c.name).join(', ')} of ${target.name} have no source column`)
  const identity = index.length === source.columns.length && index.every((s, i) => s === i)

  const converters: (Converter | undefined)[] = target.columns.map((c, i) => {
    const s = source.columns[index[i]!]!
    return JSON.stringify(s.type) === JSON.stringify(c.type) ? undefined : makeConverter(c.type)
  })
  const nulCheck = target.columns.map((c) => !caps.textHoldsNul && (c.type.kind === 'text' || c.type.kind === 'json'))
  const finiteCheck = target.columns.map((c) => !caps.floatHoldsNonFinite && (c.type.kind === 'float32' || c.type.kind === 'float64'))
  // fractional seconds past what the target keeps (SQL Server's 7 digits into 6) are cut, not rounded: rounding
  // could carry into the next second, minute or day; each cut counts as a fix of the column
  const maxFraction = caps.maxTimestampPrecision
  const fractionCheck = target.columns.map(
    (c) => (c.type.kind === 'time' || c.type.kind === 'timestamp' || c.type.kind === 'timestamptz') && (c.type.precision === undefined || c.type.precision > maxFraction),
  )
  const anyWork = !identity || converters.some(Boolean) || nulCheck.some(Boolean) || finiteCheck.some(Boolean) || fractionCheck.some(Boolean)
  if (!anyWork) return undefined
  const keyIdx = keyColumnIndexes(source)
  const n = target.columns.length
  const problem = (kind: RowError['code'], reason: string, row: Row, i: number, value: Value) =>
    new RowError(kind, `${target.name}.${target.columns[i]!.name}: ${reason}`, {
      table: target.name,
      key: rowKey(source, row, keyIdx),
      column: target.columns[i]!.name,
      value,
      row,
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
          v = v.replaceAll('\0', '')
          onFix(target.columns[i]!.name)
        } else {
          onProblem(problem('nul_in_text', 'the target cannot store U+0000 in text (set stripNul to remove it)', row, i, v))
          return undefined
        }
      }
      if (finiteCheck[i] && typeof v === 'number' && !Number.isFinite(v)) {
        onProblem(problem('out_of_range', `the target cannot store ${v} in a float column`, row, i, v))
        return undefined
      }
      if (fractionCheck[i] && typeof v === 'string') {
        const cut = cutFraction(v, maxFraction)
        if (cut !== v) {
          v = cut
          onFix(target.columns[i]!.name)
        }
      }
      out[i] = v
    }
    return out
  }
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
