import type { TableMatcher } from '../schema/select.js'
import type { Row } from '../schema/types.js'
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
}

const BREAKS = /\r\n|\r|\n/g

/**
 * Replaces line breaks (CRLF, CR, LF) inside text values with `replacement` (a space by default), for
 * targets and tools that read one record per line. Counts changed values per column (`report.fixed`) and
 * journals each change with the row as it was; every other value stays byte-identical.
 *
 * @example
 * t.collapseMultiline({ tables: ['or_organisation', 'gis_layer_js'] })
 */
export function collapseMultiline(options: CollapseMultilineOptions = {}): Transform {
  const replacement = options.replacement ?? ' '
  const shown = replacement === ' ' ? 'a space' : JSON.stringify(replacement)
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
      return {
        batch(rows, out) {
          return rows.map((row) => {
            let copy: Row | undefined
            for (const i of idx) {
              const v = row[i]
              if (typeof v !== 'string' || (!v.includes('\n') && !v.includes('\r'))) continue
              copy ??= row.slice()
              BREAKS.lastIndex = 0
              let n = 0
              copy[i] = v.replace(BREAKS, () => {
                n++
                return replacement
              })
              out.fix(table.columns[i]!.name, row, `${n} line break${n === 1 ? '' : 's'} replaced by ${shown}`)
            }
            return copy ?? row
          })
        },
      }
    },
  }
}
