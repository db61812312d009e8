import type { CsvOptions } from '../csv/csv-options.js'
import { hasReplacement, readCsvItems, type TextState } from '../csv/csv-source.js'

/**
 * Reads web2py's multi-table CSV (`DAL.export_to_csv_file`): for each table a `TABLE <name>` line, a CSV
 * header of `table.column` names, the rows, a blank line (web2py writes two); after the last table an `END`
 * line. A table web2py exported with no rows has no header line either.
 */

/** One thing found in a multi-table file, in file order. */
export type MultiCsvEvent =
  | { kind: 'table'; name: string; line: number }
  | { kind: 'header'; columns: string[]; line: number }
  | { kind: 'row'; fields: (string | null)[]; line: number }
  | { kind: 'malformed'; line: number; reason: string; raw: string }
  | { kind: 'invalid'; line: number; fields: (string | null)[] }
  | { kind: 'end'; line: number }

/** Strips web2py's `table.` prefix from a header name. */
export function columnName(table: string, header: string): string {
  return header.startsWith(`${table}.`) ? header.slice(table.length + 1) : header
}

/**
 * Streams the events of a multi-table file. Lines outside any table that are not `TABLE …` or `END` are
 * reported as malformed. Batches of events come per decoded chunk.
 */
export async function* readMultiCsv(path: string, options: CsvOptions, fallbackEncoding?: string): AsyncGenerator<MultiCsvEvent[]> {
  let state: 'between' | 'header' | 'rows' | 'done' = 'between'
  let table = ''
  const text: TextState = { invalidUtf8: false }
  for await (const items of readCsvItems(path, { ...options, header: false }, fallbackEncoding, text)) {
    const out: MultiCsvEvent[] = []
    for (const it of items) {
      if (state === 'done') break
      if (it.kind === 'blank') {
        if (state !== 'between') state = 'between'
        continue
      }
      if (it.kind === 'malformed') {
        out.push({ kind: 'malformed', line: it.line, reason: it.reason, raw: it.raw })
        continue
      }
      const f = it.fields
      if (state === 'between') {
        const first = f.length === 1 ? (f[0] ?? '').trim() : undefined
        if (first === 'END') {
          out.push({ kind: 'end', line: it.line })
          state = 'done'
        } else if (first !== undefined && first.startsWith('TABLE ')) {
          table = first.slice(6).trim()
          out.push({ kind: 'table', name: table, line: it.line })
          state = 'header'
        } else {
          out.push({ kind: 'malformed', line: it.line, reason: 'a line outside any table (expected TABLE <name> or END)', raw: f.join(',') })
        }
        continue
      }
      if (state === 'header') {
        out.push({ kind: 'header', columns: f.map((h, i) => columnName(table, h ?? `column_${i + 1}`)), line: it.line })
        state = 'rows'
        continue
      }
      // a row with bytes that did not decode as UTF-8 is rejected, not loaded with U+FFFD in it
      if (text.invalidUtf8 && hasReplacement(f)) out.push({ kind: 'invalid', fields: f, line: it.line })
      else out.push({ kind: 'row', fields: f, line: it.line })
    }
    if (out.length > 0) yield out
    if (state === 'done') return
  }
}
