import type { TableMatcher } from '../schema/select.js'
import { columnMatches, tableSelected } from './match.js'
import type { Transform } from './transform.js'

/** Options of {@link collapseMultiline}. */
export interface CollapseMultilineOptions {
  /** Tables to clean, by name or pattern. Default: every table. */
  tables?: readonly TableMatcher[]
  /** Columns to clean, as `column` or `table.column`. Default: every text column of the chosen tables. */
  columns?: readonly string[]
  /** What each line break (CRLF, CR or LF) becomes. Default one space. */
  replacement?: string
  /**
   * Journal each changed value (the row's key and the value as it was), so the original text can be found
   * again. Default true; false only counts them per column (a million changed values make a journal of
   * about 250 MB).
   */
  journal?: boolean
}

/** How many line breaks the last {@link collapseBreaks} replaced. */
let replaced = 0

/**
 * `text` with each line break (CRLF, CR or LF) replaced by `replacement`, or undefined when it has none;
 * sets `replaced`. Found with `indexOf` rather than a regular expression: a third of the time on the bench's
 * multi-line text, and no callback per break.
 */
function collapseBreaks(text: string, replacement: string): string | undefined {
  let lf = text.indexOf('\n')
  let cr = text.indexOf('\r')
  if (lf < 0 && cr < 0) return undefined
  let out = ''
  let from = 0 // start of the text not yet copied
  let n = 0
  while (lf >= 0 || cr >= 0) {
    const at = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf
    out += text.slice(from, at) + replacement
    from = at === cr && lf === cr + 1 ? cr + 2 : at + 1
    n++
    if (lf >= 0 && lf < from) lf = text.indexOf('\n', from)
    if (cr >= 0 && cr < from) cr = text.indexOf('\r', from)
  }
  replaced = n
  return out + text.slice(from)
}

/**
 * Replaces line breaks (CRLF, CR, LF) inside text values with `replacement` (a space by default), for
 * targets and tools that read one record per line. Counts changed values per column (`report.fixed`) and
 * journals each change with the row's key and the value as it was; every other value stays byte-identical.
 *
 * @example
 * t.collapseMultiline({ tables: ['or_organisation', 'gis_layer_js'] })
 */
export function collapseMultiline(options: CollapseMultilineOptions = {}): Transform {
  const replacement = options.replacement ?? ' '
  const journal = options.journal ?? true
  const shown = replacement === ' ' ? 'a space' : JSON.stringify(replacement)
  // one message per count of breaks, built once
  const messages: string[] = []
  return {
    name: `collapseMultiline(${options.tables?.map(String).join(', ') ?? '*'})`,
    table(table) {
      if (!tableSelected(table, options.tables)) return undefined
      const idx: number[] = []
      table.columns.forEach((c, i) => {
        if (c.type.kind !== 'text') return
        if (options.columns) {
          const wanted = options.columns.some((ref) => {
            const dot = ref.lastIndexOf('.')
            if (dot < 0) return columnMatches(c, ref)
            return (ref.slice(0, dot) === table.name || ref.slice(0, dot) === table.origin) && columnMatches(c, ref.slice(dot + 1))
          })
          if (!wanted) return
        }
        idx.push(i)
      })
      if (idx.length === 0) return undefined
      const names = idx.map((i) => table.columns[i]!.name)
      // one row's changes, applied once all are journaled, so each entry has the row's key as it was
      const at: number[] = []
      const to: string[] = []
      const breaks: number[] = []
      return {
        // in place (the rows are the chain's): copying each changed row cost about 0.1 s a million rows
        batch(rows, out) {
          for (const row of rows) {
            let changes = 0
            for (let x = 0; x < idx.length; x++) {
              const v = row[idx[x]!]
              if (typeof v !== 'string') continue
              const collapsed = collapseBreaks(v, replacement)
              if (collapsed === undefined) continue
              at[changes] = x
              to[changes] = collapsed
              breaks[changes++] = replaced
            }
            for (let c = 0; c < changes; c++) {
              const n = breaks[c]!
              if (journal) out.fix(names[at[c]!]!, row, (messages[n] ??= `${n} line break${n === 1 ? '' : 's'} replaced by ${shown}`))
              else out.fix(names[at[c]!]!)
            }
            for (let c = 0; c < changes; c++) row[idx[at[c]!]!] = to[c]!
          }
          return rows
        },
      }
    },
  }
}
