import type { Row, TableSchema } from '../schema/types.js'
import { rowObject, tableMatches } from './match.js'
import type { RowObject } from './dedupe.js'
import type { Transform } from './transform.js'

/** Options of {@link filterRows}. */
export interface FilterRowsOptions {
  /** The table, by source or target name. */
  table: string
  /** Keeps a row when it returns true. The row is given by column name (target and source names). */
  where: (row: RowObject) => boolean
  /** Why rows are left out, for the journal. Default `filtered out by filterRows(<table>)`. */
  reason?: string
}

/**
 * Row transform leaving out the rows of a table that `where` refuses. Each one is journaled as `filtered`
 * (dropped), so the accounting still adds up.
 *
 * @example
 * t.filterRows({ table: 'msg_log', where: (r) => r.created_on >= '2010-01-01' })
 */
export function filterRows(options: FilterRowsOptions): Transform {
  const name = `filterRows(${options.table})`
  const reason = options.reason ?? `filtered out by ${name}`
  return {
    name,
    table(table: TableSchema) {
      if (!tableMatches(table, options.table)) return undefined
      return {
        batch(rows, out) {
          const kept: Row[] = []
          for (const row of rows) {
            if (options.where(rowObject(table, row))) kept.push(row)
            else out.drop(row, 'filtered', reason)
          }
          return kept
        },
      }
    },
  }
}
