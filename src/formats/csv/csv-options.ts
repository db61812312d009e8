import { UsageError } from '../../errors.js'

/**
 * How a CSV file is written or read. Every field has a default that matches RFC 4180 with PostgreSQL's
 * NULL convention: an unquoted empty field is NULL and a quoted empty field (`""`) is the empty string.
 */
export interface CsvOptions {
  /** The first record names the columns. Default true. */
  header: boolean
  /** Field separator (one character). Default `,`. */
  delimiter: string
  /** Quote character (one character, or empty for none). Default `"`. */
  quote: string
  /** Escapes a quote inside a quoted field. Default: the quote itself (`""`). `\\` is common too. */
  escape: string
  /**
   * The unquoted field that means NULL. Default `''` (an unquoted empty field); a quoted field is never NULL,
   * so `""` stays the empty string. Set `\N` (PostgreSQL text) or `<NULL>` (web2py) where files use those.
   */
  null: string
  /** Text encoding of the file. Default `auto`: BOM, then UTF-16 by its zero bytes, then UTF-8. */
  encoding: string
  /** Writing: start the file with a byte-order mark. Default false (UTF-16 output always gets one). */
  bom: boolean
  /** Writing: line ending. Default `\n`. */
  eol: '\n' | '\r\n'
  /** Reading: rows sampled to infer column types. Default 1000. */
  sampleRows: number
  /** Reading: infer column types from the sample. Default true; false reads every column as text. */
  inferTypes: boolean
  /** Reading: longest record, in characters, before an open quote is declared unbalanced. Default 16 Mi. */
  maxRecordChars: number
}

/** The defaults of {@link CsvOptions}. */
export const CSV_DEFAULTS: Readonly<CsvOptions> = Object.freeze({
  header: true,
  delimiter: ',',
  quote: '"',
  escape: '"',
  null: '',
  encoding: 'auto',
  bom: false,
  eol: '\n',
  sampleRows: 1000,
  inferTypes: true,
  maxRecordChars: 16 * 1024 * 1024,
})

const BOOL_TRUE = new Set(['true', '1', 'yes', 'on'])

function bool(name: string, v: string): boolean {
  const l = v.toLowerCase()
  if (BOOL_TRUE.has(l)) return true
  if (['false', '0', 'no', 'off'].includes(l)) return false
  throw new UsageError(`csv option ${name}=${JSON.stringify(v)} is not true or false`)
}

function unescapeText(v: string): string {
  // lets URLs spell a tab delimiter as \t or the word "tab"
  if (v === '\\t' || v.toLowerCase() === 'tab') return '\t'
  return v
}

/**
 * Reads CSV options from URL query parameters (`?delimiter=;&null=\N&encoding=cp1252&header=false`) and
 * merges them over `base`. Unknown parameters are a `UsageError`, so a typo never passes silently.
 */
export function csvOptionsFromQuery(query: URLSearchParams, base: Partial<CsvOptions> = {}, allowed: readonly string[] = []): CsvOptions {
  const o: CsvOptions = { ...CSV_DEFAULTS, ...base }
  for (const [k, v] of query) {
    switch (k) {
      case 'header':
        o.header = bool(k, v)
        break
      case 'delimiter':
      case 'sep':
        o.delimiter = unescapeText(v)
        break
      case 'quote':
        o.quote = v
        break
      case 'escape':
        o.escape = v
        break
      case 'null':
        o.null = v
        break
      case 'encoding':
        o.encoding = v
        break
      case 'bom':
        o.bom = bool(k, v)
        break
      case 'eol':
        o.eol = v === 'crlf' || v === '\r\n' ? '\r\n' : '\n'
        break
      case 'sample':
      case 'sampleRows':
        o.sampleRows = Number(v)
        break
      case 'infer':
      case 'inferTypes':
        o.inferTypes = bool(k, v)
        break
      default:
        if (!allowed.includes(k)) throw new UsageError(`unknown csv option ${JSON.stringify(k)}`)
    }
  }
  return checkCsvOptions(o)
}

/** Validates options; throws a `UsageError` for a combination the parser cannot honour. */
export function checkCsvOptions(o: CsvOptions): CsvOptions {
  if (o.delimiter.length !== 1) throw new UsageError(`the csv delimiter must be one character, got ${JSON.stringify(o.delimiter)}`)
  if (o.quote.length > 1) throw new UsageError(`the csv quote must be one character or empty, got ${JSON.stringify(o.quote)}`)
  if (o.escape.length > 1) throw new UsageError(`the csv escape must be one character or empty, got ${JSON.stringify(o.escape)}`)
  if (o.quote === o.delimiter) throw new UsageError('the csv quote and delimiter must differ')
  if (!(o.sampleRows >= 0)) throw new UsageError('sampleRows must be a number ≥ 0')
  return o
}
