import type { Row, TableSchema, Value } from './types.js'

/** JSON for a canonical value: bigint as a string, bytes as `\x…` hex, non-finite floats as strings. */
export function valueToJson(v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
  return v
}

/** Driver values as stable JSON text (bigint as a string, bytes as hex), to compare two reads of one engine. */
export function stateJson(values: readonly unknown[]): string {
  return JSON.stringify(values.map(valueToJson))
}

/** A row as a JSON object keyed by column name, for the journal. */
export function rowToJson(table: Pick<TableSchema, 'columns'>, row: readonly unknown[]): string {
  const o: Record<string, unknown> = {}
  table.columns.forEach((c, i) => {
    o[c.name] = valueToJson(row[i])
  })
  return JSON.stringify(o)
}

/** Column indexes of the key that identifies a row: the primary key, else the first unique key, else none. */
export function keyColumnIndexes(table: TableSchema): number[] {
  const cols = table.primaryKey?.columns ?? table.uniques[0]?.columns ?? []
  return cols.map((c) => table.columns.findIndex((x) => x.name === c)).filter((i) => i >= 0)
}

/** The row's key as an object (`{ id: 7 }`) for errors; undefined for a table without a key. */
export function rowKey(table: TableSchema, row: readonly unknown[], indexes = keyColumnIndexes(table)): Record<string, unknown> | undefined {
  if (indexes.length === 0) return undefined
  const o: Record<string, unknown> = {}
  for (const i of indexes) o[table.columns[i]!.name] = valueToJson(row[i])
  return o
}

/** A string form of a key for maps and the journal: JSON of the key object (`{"id":1}`, SQLite `{"rowid":…}`). */
export function keyString(key: Record<string, unknown> | string | undefined): string | undefined {
  if (key === undefined) return undefined
  return typeof key === 'string' ? key : JSON.stringify(key)
}

/** Whether two canonical values are equal (bytes by content). */
export function sameValue(a: Value, b: Value): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b
  return a === b
}

/** Copies a row (shallow: values are immutable apart from bytes, which transforms must not mutate). */
export function copyRow(row: Row): Row {
  return row.slice()
}
