import { UsageError } from '../errors.js'
import type { DatabaseSchema, TableSchema } from '../schema/types.js'
import { columnMatches, splitColumnRef, tableMatches } from './match.js'
import type { Transform } from './transform.js'

/** Options of {@link rename}. */
export interface RenameOptions {
  /** Table renames, source name → target name. */
  tables?: Readonly<Record<string, string>>
  /** Column renames, `table.column` (source names) → new column name. */
  columns?: Readonly<Record<string, string>>
}

/**
 * Schema transform renaming tables and columns on the target. Keys, indexes and foreign keys (in every table
 * that points at a renamed one) follow; rows still come from the source names (`origin`), and other
 * transforms keep accepting the source names.
 *
 * @example
 * t.rename({ tables: { or_organisation: 'organisation' }, columns: { 'auth_user.email': 'email_address' } })
 */
export function rename(options: RenameOptions): Transform {
  const tableRenames = Object.entries(options.tables ?? {})
  const columnRenames = Object.entries(options.columns ?? {}).map(([ref, to]) => [...splitColumnRef(ref, 'rename'), to] as const)
  return {
    name: 'rename',
    schema(schema: DatabaseSchema): DatabaseSchema {
      const tableNames = new Map<string, string>()
      const columnNames = new Map<string, Map<string, string>>() // table (old name) → old column → new
      for (const [from, to] of tableRenames) {
        const t = schema.tables.find((x) => tableMatches(x, from))
        if (!t) throw new UsageError(`rename: no table ${JSON.stringify(from)}`)
        tableNames.set(t.name, to)
      }
      for (const [table, column, to] of columnRenames) {
        const t = schema.tables.find((x) => tableMatches(x, table))
        const c = t?.columns.find((x) => columnMatches(x, column))
        if (!t || !c) throw new UsageError(`rename: no column ${table}.${column}`)
        if (!columnNames.has(t.name)) columnNames.set(t.name, new Map())
        columnNames.get(t.name)!.set(c.name, to)
      }
      const col = (table: string, c: string) => columnNames.get(table)?.get(c) ?? c
      const tables = schema.tables.map((t): TableSchema => {
        const cols = (list: string[]) => list.map((c) => col(t.name, c))
        return {
          ...t,
          name: tableNames.get(t.name) ?? t.name,
          origin: t.origin ?? t.name,
          columns: t.columns.map((c) => ({ ...c, name: col(t.name, c.name), origin: c.origin ?? c.name })),
          primaryKey: t.primaryKey ? { ...t.primaryKey, columns: cols(t.primaryKey.columns) } : undefined,
          uniques: t.uniques.map((u) => ({ ...u, columns: cols(u.columns) })),
          indexes: t.indexes.map((i) => ({ ...i, columns: cols(i.columns) })),
          foreignKeys: t.foreignKeys.map((f) => ({
            ...f,
            columns: cols(f.columns),
            refTable: tableNames.get(f.refTable) ?? f.refTable,
            refColumns: f.refColumns.map((c) => col(f.refTable, c)),
          })),
        }
      })
      const seen = new Set<string>()
      for (const t of tables) {
        if (seen.has(t.name)) throw new UsageError(`rename: two tables would be named ${t.name}`)
        seen.add(t.name)
        const cs = new Set<string>()
        for (const c of t.columns) {
          if (cs.has(c.name)) throw new UsageError(`rename: two columns of ${t.name} would be named ${c.name}`)
          cs.add(c.name)
        }
      }
      return { ...schema, tables }
    },
  }
}
