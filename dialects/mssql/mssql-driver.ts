import sql from 'mssql'
import type { BulkColumnType } from './mssql-types.js'

/** The `mssql` module, imported only inside `dialects/mssql/`. */
export { sql }

/** Turns a {@link BulkColumnType} into the `mssql` type it names, with its length, precision and scale. */
export function driverType(t: BulkColumnType): sql.ISqlType {
  const types = sql as unknown as Record<string, (...args: unknown[]) => sql.ISqlType>
  const make = types[t.name]
  if (typeof make !== 'function') throw new TypeError(`mssql has no type ${t.name}`)
  if (t.length !== undefined) return make(t.length === 'max' ? sql.MAX : t.length)
  if (t.precision !== undefined) return make(t.precision, t.scale ?? 0)
  if (t.scale !== undefined) return make(t.scale)
  return make()
}

/** SQL Server error numbers dbferry maps to row failure kinds. */
export const ROW_ERROR_NUMBERS: Record<number, 'duplicate_key' | 'not_null' | 'truncation' | 'out_of_range' | 'type_conversion'> = {
  2627: 'duplicate_key',
  2601: 'duplicate_key',
  515: 'not_null',
  8152: 'truncation',
  2628: 'truncation',
  8115: 'out_of_range',
  220: 'out_of_range',
  517: 'out_of_range',
  242: 'out_of_range',
  241: 'type_conversion',
  245: 'type_conversion',
  8114: 'type_conversion',
}

/** The SQL Server error number of a driver error, when it has one. */
export function errorNumber(error: unknown): number | undefined {
  const e = error as { number?: number; originalError?: { info?: { number?: number } }; precedingErrors?: unknown[] }
  return e?.number ?? e?.originalError?.info?.number
}
