import { ConversionFailure, INT_RANGES, makeConverter, type Converter } from '../../schema/values.js'
import type { LogicalType, Value } from '../../schema/types.js'
import type { CsvOptions } from './csv-options.js'

/**
 * Text forms of canonical values in CSV, and back. Writing and reading use the same rules, so a file
 * dbferry writes reads back to the same values:
 * NULL → the NULL marker, unquoted; the empty string → `""`; booleans `true`/`false`; numbers in JS form
 * (`NaN`, `Infinity`, `-Infinity` kept); bytes as `\x` + hex (PostgreSQL's bytea form); everything else
 * (decimals, dates, times, timestamps, uuid, json) is already a canonical string.
 */

/** Builds a function that renders one value as a CSV field (quoted when it must be). */
export function fieldFormatter(
  o: Pick<CsvOptions, 'delimiter' | 'quote' | 'escape' | 'null'>,
  booleans: readonly [string, string] = ['true', 'false'],
): (v: Value) => string {
  const q = o.quote
  const e = o.escape === '' ? q : o.escape
  const needs = new RegExp(`[${escapeClass(o.delimiter)}\\r\\n${q === '' ? '' : escapeClass(q)}${e !== q && e !== '' ? escapeClass(e) : ''}]`)
  const quoteAll = q === '' ? undefined : new RegExp(escapeRe(q), 'g')
  const escAll = e !== q && e !== '' ? new RegExp(escapeRe(e), 'g') : undefined
  const nullMarker = o.null
  const quoted = (s: string): string => {
    let body = s
    if (escAll) body = body.replace(escAll, e + e)
    if (quoteAll) body = body.replace(quoteAll, e + q)
    return q + body + q
  }
  const text = (s: string): string => {
    if (s === '') return q === '' || nullMarker !== '' ? '' : q + q
    if (s === nullMarker || needs.test(s)) {
      if (q === '') throw new Error(`cannot write ${JSON.stringify(s.slice(0, 40))} without a quote character`)
      return quoted(s)
    }
    return s
  }
  return (v) => {
    if (v === null) return nullMarker
    switch (typeof v) {
      case 'string':
        return text(v)
      case 'number':
        return Object.is(v, -0) ? '0' : String(v)
      case 'bigint':
        return v.toString()
      case 'boolean':
        return v ? booleans[0] : booleans[1]
      default:
        return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
    }
  }
}

/** The type name a file format shows for a logical type (no DDL is ever run on a file). */
export function fileTypeName(type: LogicalType): string {
  switch (type.kind) {
    case 'decimal':
      return type.precision === undefined ? 'decimal' : `decimal(${type.precision},${type.scale ?? 0})`
    case 'text':
      return type.length === undefined ? 'text' : `text(${type.length})`
    default:
      return type.kind
  }
}

/** Renders a header or row as one CSV line, ending with `eol`. */
export function recordFormatter(
  o: Pick<CsvOptions, 'delimiter' | 'quote' | 'escape' | 'null' | 'eol'>,
  booleans?: readonly [string, string],
): (values: readonly Value[]) => string {
  const f = fieldFormatter(o, booleans)
  return (values) => {
    let s = ''
    for (let i = 0; i < values.length; i++) s += (i === 0 ? '' : o.delimiter) + f(values[i]!)
    return s + o.eol
  }
}

/**
 * A whole CSV document — a header line, then one line per row — in the default CSV dialect of
 * {@link CsvOptions} (`,`, `"` doubled inside quotes, NULL as an unquoted empty field, `""` for the empty
 * string, `\n` line ends): the same writer the CSV target uses, for command output such as
 * `dbferry rejects --format csv`.
 */
export function csvDocument(header: readonly string[], rows: Iterable<readonly Value[]>): string {
  const line = recordFormatter({ delimiter: ',', quote: '"', escape: '"', null: '', eol: '\n' })
  let s = line(header)
  for (const r of rows) s += line(r)
  return s
}

const HEX = /^\\x([0-9a-fA-F]{2})*$/

/**
 * The reading side: a converter from a CSV field (string or NULL) to the column's canonical value. Bytes
 * accept `\x…` hex (as written) and otherwise take the text's UTF-8 bytes.
 */
export function fieldConverter(type: LogicalType): Converter {
  const base = makeConverter(type)
  if (type.kind === 'int16' || type.kind === 'int32' || type.kind === 'int64') {
    // most fields are short plain integers: skip the exact (BigInt) path for them
    const [lo, hi] = INT_RANGES[`${type.unsigned ? 'u' : ''}${type.kind}`].map(Number) as [number, number]
    return (v) => {
      if (typeof v === 'string' && v.length <= 15 && SHORT_INT.test(v)) {
        const n = Number(v)
        if (n >= lo && n <= hi) return n
      }
      return base(v)
    }
  }
  if (type.kind === 'decimal') {
    const room = type.precision === undefined ? Infinity : type.precision - (type.scale ?? 0)
    const scale = type.precision === undefined ? Infinity : (type.scale ?? 0)
    // more decimals than the scale would be rounded by some targets and refused by others: refuse here
    const checkScale = (d: Value | ConversionFailure): Value | ConversionFailure => {
      if (typeof d !== 'string' || scale === Infinity) return d
      const dot = d.indexOf('.')
      const decimals = dot < 0 ? 0 : d.length - dot - 1 - (d.slice(dot + 1).match(/0*$/)![0].length)
      return decimals > scale ? new ConversionFailure(`${d} has more decimals than decimal(${type.precision},${scale})`, 'truncation') : d
    }
    return (v) => {
      // a plain decimal without leading zeros is already canonical: only its size needs checking
      if (typeof v === 'string' && v.length <= 40 && PLAIN_DECIMAL.test(v)) {
        const neg = v.charCodeAt(0) === 45
        const dot = v.indexOf('.')
        const intPart = v.slice(neg ? 1 : 0, dot < 0 ? v.length : dot)
        const digits = intPart === '0' ? 0 : intPart.length
        // -0 and -0.00 lose their sign in canonical form: leave them to the general path
        if (digits <= room && !(neg && !NONZERO.test(v))) return checkScale(v)
      }
      return checkScale(base(v))
    }
  }
  if (type.kind === 'timestamp') {
    // the canonical form itself (seconds present, no trailing fractional zeros) passes as it is
    const p = type.precision ?? 6
    return (v) => {
      if (typeof v === 'string') {
        const m = CANON_TS.exec(v)
        if (m && (m[3] === undefined || m[3].length - 1 <= p)) return v
      }
      return base(v)
    }
  }
  if (type.kind !== 'bytes') return base
  return (v) => {
    if (typeof v === 'string' && HEX.test(v)) return Buffer.from(v.slice(2), 'hex')
    return base(v)
  }
}

const SHORT_INT = /^(0|-?[1-9]\d*)$/
const PLAIN_DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?$/
const NONZERO = /[1-9]/
// days 29–31 take the general path, which knows month lengths and leap years
const CANON_TS = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8]) (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d*[1-9])?$/

export { ConversionFailure }

function escapeClass(c: string): string {
  return c.replace(/[\\\]^-]/g, '\\$&')
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
