import type { DialectCapabilities } from '../dialect.js'
import type { TableSchema } from './types.js'

/** The target's limits on a table's shape that {@link tableShapeProblems} checks. */
export type ShapeCapabilities = Pick<DialectCapabilities, 'identifierTrailingSpace' | 'maxColumns'>

/**
 * What the target would refuse when it creates `table` (names as they go to the target): a table, column,
 * key or index name ending in a space where the target refuses it, more columns than it allows. One line
 * each, naming the table and the column, so that the run stops before the first table is created rather than
 * half-way through.
 */
export function tableShapeProblems(table: TableSchema, caps: ShapeCapabilities): string[] {
  const problems: string[] = []
  if (caps.identifierTrailingSpace === false) {
    const spaced = (n: string | undefined): n is string => n !== undefined && /\s$/.test(n)
    if (spaced(table.name)) problems.push(`table "${table.name}": the name ends in a space, which the target refuses`)
    for (const c of table.columns) if (spaced(c.name)) problems.push(`${table.name}."${c.name}": the column name ends in a space, which the target refuses`)
    const named = [table.primaryKey?.name, ...table.uniques.map((u) => u.name), ...table.indexes.map((i) => i.name), ...table.foreignKeys.map((f) => f.name)]
    for (const n of named) if (spaced(n)) problems.push(`${table.name}: the key or index name "${n}" ends in a space, which the target refuses`)
  }
  if (caps.maxColumns !== undefined && table.columns.length > caps.maxColumns) {
    problems.push(`${table.name}: ${table.columns.length} columns, more than the ${caps.maxColumns} the target allows in one table (the first past it: ${table.columns[caps.maxColumns]!.name})`)
  }
  return problems
}
