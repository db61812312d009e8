import { RowError } from '../errors.js'
import { rowKey } from '../schema/rows.js'
import type { TableSchema, Value } from '../schema/types.js'
import { ConversionFailure, makeConverter } from '../schema/values.js'
import { requireColumn, rowObject, tableMatches } from './match.js'
import type { RowObject } from './dedupe.js'
import type { Transform } from './transform.js'

/** Options of {@link mapColumn}. */
export interface MapColumnOptions {
  /** The table, by source or target name. */
  table: string
  /** The column, by source or target name. */
  column: string
  /** The new value, from the old one and the whole row (by column name). */
  map: (value: Value, row: RowObject) => Value
  /** Journal each changed value (its key and the value as it was). Default false: only counted per column. */
  journal?: boolean
}

/**
 * Row transform replacing a column's values with `map(value, row)`. The result is converted to the column's
 * logical type; a value that does not convert rejects the row (`type_conversion`). Changed values are counted
 * in `report.fixed`.
 *
 * @example
 * t.mapColumn({ table: 'auth_user', column: 'email', map: (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v) })
 */
export function mapColumn(options: MapColumnOptions): Transform {
  const name = `mapColumn(${options.table}.${options.column})`
  return {
    name,
    table(table: TableSchema) {
      if (!tableMatches(table, options.table)) return undefined
      const i = requireColumn(table, options.column, name)
      const column = table.columns[i]!
      const convert = makeConverter(column.type)
      return {
        batch(rows, out) {
          const kept = []
          for (const row of rows) {
            const before = row[i] ?? null
            const mapped = options.map(before, rowObject(table, row))
            const v = mapped === null || mapped === undefined ? null : convert(mapped)
            if (v instanceof ConversionFailure) {
              out.reject(new RowError(v.kind, `${table.name}.${column.name}: ${name} returned a value that ${v.reason}`, { table: table.name, key: rowKey(table, row), column: column.name, value: mapped, row }))
              continue
            }
            if (v === before) {
              kept.push(row)
              continue
            }
            const copy = row.slice()
            copy[i] = v
            if (options.journal) out.fix(column.name, row, `${column.name} changed by ${name}`)
            else out.fix(column.name)
            kept.push(copy)
          }
          return kept
        },
      }
    },
  }
}
