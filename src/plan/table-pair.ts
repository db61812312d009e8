import type { TableSchema } from '../schema/types.js'

/** A table's source and target shapes. */
export interface TablePair {
  source: TableSchema
  target: TableSchema
}
