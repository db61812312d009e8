import type { TableMatcher } from '../schema/select.js'
import type { DatabaseSchema } from '../schema/types.js'
import { tableMatches } from './match.js'
import type { Transform } from './transform.js'

/** Options of {@link tables}. */
export interface TablesOptions {
  /** Only these tables (names or patterns). Default: all. */
  include?: readonly TableMatcher[]
  /** Not these tables. Default: none. */
  exclude?: readonly TableMatcher[]
}

/**
 * Schema transform choosing tables by name or pattern, like the `tables` option of `ferry()` but usable in a
 * chain (e.g. after a rename). Foreign keys into a left-out table are dropped with it.
 *
 * @example
 * t.tables({ exclude: [/^msg_/, 'rms_sms_request'] })
 */
export function tables(options: TablesOptions): Transform {
  const keep = (t: { name: string; origin?: string }) =>
    (options.include === undefined || options.include.length === 0 || options.include.some((m) => tableMatches(t, m))) &&
    !(options.exclude ?? []).some((m) => tableMatches(t, m))
  return {
    name: 'tables',
    schema(schema: DatabaseSchema): DatabaseSchema {
      const kept = schema.tables.filter(keep)
      const names = new Set(kept.map((t) => t.name))
      return { ...schema, tables: kept.map((t) => ({ ...t, foreignKeys: t.foreignKeys.filter((f) => names.has(f.refTable)) })) }
    },
  }
}
