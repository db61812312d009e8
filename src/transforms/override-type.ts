import { UsageError } from '../errors.js'
import type { DatabaseSchema, LogicalType } from '../schema/types.js'
import { columnMatches, tableMatches } from './match.js'
import type { Transform } from './transform.js'

/** Options of {@link overrideType}. */
export interface OverrideTypeOptions {
  /** The table, by source or target name. */
  table: string
  /** The column, by source or target name. */
  column: string
  /** The logical type the target column gets. */
  type: LogicalType
  /** Whether the target column accepts NULL. Default: unchanged. */
  nullable?: boolean
}

/**
 * Schema transform giving a column another logical type on the target (like the `types` option of `ferry()`).
 * Values are converted on the way (`'42'` → 42); a value that does not convert becomes a rejected row
 * (`type_conversion`), never a silent NULL.
 *
 * @example
 * t.overrideType({ table: 'or_organisation', column: 'budget', type: { kind: 'decimal', precision: 12, scale: 2 } })
 */
export function overrideType(options: OverrideTypeOptions): Transform {
  const name = `overrideType(${options.table}.${options.column})`
  return {
    name,
    schema(schema: DatabaseSchema): DatabaseSchema {
      let hit = false
      const tables = schema.tables.map((t) => {
        if (!tableMatches(t, options.table)) return t
        return {
          ...t,
          columns: t.columns.map((c) => {
            if (!columnMatches(c, options.column)) return c
            hit = true
            // the native type belonged to the old logical type: let the target's type map choose
            return { ...c, type: options.type, nativeType: '', nullable: options.nullable ?? c.nullable }
          }),
        }
      })
      if (!hit) throw new UsageError(`${name}: no such column`)
      return { ...schema, tables }
    },
  }
}
