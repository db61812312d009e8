import { isUtf8 } from 'node:buffer'
import { createReadStream } from 'node:fs'
import type { ReadBatch, ReadOptions } from '../../dialect.js'
import { AbortError, RowError } from '../../errors.js'
import type { Row, TableSchema, Value } from '../../schema/types.js'
import { ConversionFailure, type Converter } from '../../schema/values.js'
import { fieldConverter } from './csv-format.js'
import type { CsvOptions } from './csv-options.js'
import { CsvRecordParser, type CsvItem } from './csv-parser.js'
import { detectEncoding, textDecoder, type DetectedEncoding } from './encoding.js'

/**
 * Streams a file's decoded text in chunks of `chunkBytes` (default 1 MiB). The first 64 KiB decide the
 * encoding (see `detectEncoding`); a BOM is dropped. `onEncoding` is told what was chosen.
 */
export async function* readText(
  path: string,
  options: Pick<CsvOptions, 'encoding'>,
  fallbackEncoding?: string,
  onEncoding?: (e: DetectedEncoding) => void,
  state?: TextState,
  chunkBytes = 1 << 20,
): AsyncGenerator<string> {
  const stream = createReadStream(path, { highWaterMark: chunkBytes })
  let decoder: ReturnType<typeof textDecoder> | undefined
  let utf8 = false
  let carry: Buffer | undefined
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (!decoder) {
        const det = detectEncoding(chunk.subarray(0, 1 << 16), options.encoding, fallbackEncoding)
        onEncoding?.(det)
        decoder = textDecoder(det.encoding)
        utf8 = det.encoding === 'utf8'
      }
      if (utf8 && state && !state.invalidUtf8) {
        // check validity on whole sequences: a character may straddle two chunks
        const bytes = carry ? Buffer.concat([carry, chunk]) : chunk
        const cut = utf8Boundary(bytes)
        if (!isUtf8(bytes.subarray(0, cut))) state.invalidUtf8 = true
        carry = cut < bytes.length ? Buffer.from(bytes.subarray(cut)) : undefined
      }
      const s = decoder.write(chunk)
      if (s.length > 0) yield s
    }
    if (carry && state) state.invalidUtf8 = true
    if (decoder) {
      const s = decoder.end()
      if (s.length > 0) yield s
    }
  } finally {
    stream.destroy()
  }
}

/** What reading a file's text found out on the way. */
export interface TextState {
  /** Bytes that are not valid UTF-8 were met (and decoded as U+FFFD) in a file read as UTF-8. */
  invalidUtf8: boolean
}

/** Where the last complete UTF-8 sequence of `b` ends (a sequence cut off by the chunk's end starts there). */
export function utf8Boundary(b: Buffer): number {
  const n = b.length
  for (let k = 1; k <= Math.min(3, n); k++) {
    const x = b[n - k]!
    if ((x & 0xc0) === 0x80) continue // continuation byte: look further back
    const need = x >= 0xf0 ? 4 : x >= 0xe0 ? 3 : x >= 0xc0 ? 2 : 1
    return need > k ? n - k : n
  }
  return n
}

const REPLACEMENT = '\ufffd'

/** Whether a record holds U+FFFD, the mark of bytes that did not decode. */
export function hasReplacement(fields: readonly (string | null)[]): boolean {
  for (const f of fields) if (f !== null && f.includes(REPLACEMENT)) return true
  return false
}

/** Streams the parsed items of a CSV file (records, blank lines, malformed records), in arrays per chunk. */
export async function* readCsvItems(path: string, options: CsvOptions, fallbackEncoding?: string, state?: TextState, chunkBytes?: number): AsyncGenerator<CsvItem[]> {
  const parser = new CsvRecordParser(options)
  for await (const text of readText(path, options, fallbackEncoding, undefined, state, chunkBytes)) {
    const items = parser.push(text)
    if (items.length > 0) yield items
  }
  const rest = parser.end()
  if (rest.length > 0) yield rest
}

/** The header (or generated names) and the first records of a file, for introspection. */
export interface CsvSample {
  /** Column names: the header's (an empty name becomes `column_<n>`), or `c1…` when the file has none. */
  header: string[]
  /** The first records' fields (null for a NULL field), blank and malformed lines skipped. */
  rows: (string | null)[][]
  /** Where and why the header could not be parsed (`line 1: …`). Absent: it parsed, or there is none. */
  headerProblem?: string
}

/** Reads the header and up to `options.sampleRows` records (a few at least, to count columns). */
export async function sampleCsv(path: string, options: CsvOptions, fallbackEncoding?: string): Promise<CsvSample> {
  let header: string[] | undefined
  const rows: (string | null)[][] = []
  let headerProblem: string | undefined
  const want = Math.max(options.sampleRows, 1)
  // small chunks: a sample of a thousand rows should not parse the megabyte behind them
  outer: for await (const items of readCsvItems(path, options, fallbackEncoding, undefined, 1 << 16)) {
    for (const it of items) {
      if (it.kind === 'blank') continue
      if (it.kind === 'malformed') {
        if (header === undefined && options.header) headerProblem = `line ${it.line}: ${it.reason}`
        continue
      }
      if (header === undefined && options.header) {
        header = it.fields.map((f, i) => (f === null || f === '' ? `column_${i + 1}` : f))
        continue
      }
      rows.push(it.fields)
      if (rows.length >= want) break outer
    }
  }
  if (header === undefined) {
    const n = rows.reduce((m, r) => Math.max(m, r.length), 0)
    header = Array.from({ length: n }, (_, i) => `c${i + 1}`)
  }
  return { header, rows, headerProblem }
}

/** Where a table's rows live and how to read them. */
export interface CsvTableSource {
  /** The file's path. */
  path: string
  /** Display name of the file in messages. */
  file: string
  /** How it is parsed. */
  options: CsvOptions
  /** Column names in the file's order (its header, or generated `c1…`). */
  header: string[]
  /** The encoding taken when none is given and the file's first bytes are not UTF-8 or UTF-16 (e.g. `cp1252`). Absent: such a file is refused. */
  fallbackEncoding?: string
  /** Rejects found before reading (multi-table files report them on their table's first batch). */
  preRejected?: RowError[]
  /** Line numbers in messages are shifted by this (a section of a larger file). Default 0. */
  lineOffset?: number
  /** Where the records come from instead of parsing `path` (multi-table files). Default: parse `path`. */
  items?: () => AsyncIterable<CsvItem[]>
}

/**
 * Reads a table from a CSV file in batches. Columns are matched to the header by name (the table may list
 * fewer or reordered columns); values are converted to each column's logical type. A malformed record or a
 * record with the wrong number of fields is a `malformed_record` reject with its line number; a value that
 * does not convert is a `type_conversion` reject. Batches are keyed by line number (`lastKey: [line]`).
 */
export async function* readCsvTable(src: CsvTableSource, table: TableSchema, read: ReadOptions): AsyncGenerator<ReadBatch> {
  const width = src.header.length
  const index = table.columns.map((c) => {
    const name = c.origin ?? c.name
    const i = src.header.indexOf(name)
    return i >= 0 ? i : src.header.indexOf(c.name)
  })
  const converters: Converter[] = table.columns.map((c) => fieldConverter(c.type))
  const after = read.after?.[0]
  const afterLine = typeof after === 'number' ? after : undefined
  let rows: Row[] = []
  let rejected: RowError[] = src.preRejected ? [...src.preRejected] : []
  let bytes = 0
  let lastLine = 0
  let headerSeen = !src.options.header
  const offset = src.lineOffset ?? 0
  const file = src.file

  const batch = (): ReadBatch => {
    const b: ReadBatch = { rows, rejected, lastKey: [lastLine] }
    rows = []
    rejected = []
    bytes = 0
    return b
  }

  const text: TextState = { invalidUtf8: false }
  const source = src.items ? src.items() : readCsvItems(src.path, src.options, src.fallbackEncoding, text)
  for await (const items of source) {
    if (read.signal?.aborted) throw new AbortError()
    for (const it of items) {
      if (it.kind === 'blank') continue
      const line = it.line + offset
      if (it.kind === 'malformed') {
        if (!headerSeen) {
          headerSeen = true
          continue
        }
        if (afterLine !== undefined && line <= afterLine) continue
        lastLine = line
        rejected.push(
          new RowError('malformed_record', `${file} line ${line}: ${it.reason}`, { table: table.name, key: `line ${line}`, row: [it.raw] }),
        )
        continue
      }
      if (!headerSeen) {
        headerSeen = true
        continue
      }
      if (afterLine !== undefined && line <= afterLine) continue
      lastLine = line
      const f = it.fields
      if (text.invalidUtf8 && hasReplacement(f)) {
        rejected.push(
          new RowError('invalid_encoding', `${file} line ${line}: bytes that are not valid UTF-8 (give the file's encoding, e.g. ?encoding=cp1252, or set fallbackEncoding)`, {
            table: table.name,
            key: `line ${line}`,
            row: f,
          }),
        )
        continue
      }
      if (f.length !== width) {
        rejected.push(
          new RowError('malformed_record', `${file} line ${line}: ${f.length} fields where the header has ${width}`, {
            table: table.name,
            key: `line ${line}`,
            row: f,
          }),
        )
        continue
      }
      const row: Value[] = new Array(index.length)
      let bad: RowError | undefined
      for (let c = 0; c < index.length; c++) {
        const i = index[c]!
        const raw = i >= 0 ? f[i]! : null
        if (raw === null) {
          row[c] = null
          continue
        }
        bytes += raw.length
        const v = converters[c]!(raw)
        if (v instanceof ConversionFailure) {
          const col = table.columns[c]!.name
          bad = new RowError(v.kind, `${table.name}.${col}: ${v.reason} (${file} line ${line})`, {
            table: table.name,
            key: `line ${line}`,
            column: col,
            value: raw,
            row: f,
          })
          break
        }
        row[c] = v
      }
      if (bad) rejected.push(bad)
      else rows.push(row)
      if (rows.length + rejected.length >= read.batchRows || bytes >= read.batchBytes) yield batch()
    }
  }
  if (rows.length > 0 || rejected.length > 0) yield batch()
}

/** Counts the records of a file (a full parse); used for progress where no estimate exists. */
export async function countCsvRecords(path: string, options: CsvOptions, fallbackEncoding?: string): Promise<number> {
  let n = 0
  for await (const items of readCsvItems(path, options, fallbackEncoding)) for (const it of items) if (it.kind !== 'blank') n++
  return Math.max(0, n - (options.header ? 1 : 0))
}

export type { CsvItem }
