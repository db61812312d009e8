import { UsageError } from '../errors.js'
import type { TableMatcher } from '../schema/select.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, Row, TableSchema, Value } from '../schema/types.js'
import type { TransformContext } from './transform.js'

/**
 * Helpers shared by the transforms. Users name tables and columns by their source names; after renames and
 * identifier fitting the target names may differ, so everything matches on `name` and on `origin`.
 */

/** Whether a table (target shape) is the one a user named, by its target name or its source name. */
export function tableMatches(table: Pick<TableSchema, 'name' | 'origin'>, m: TableMatcher): boolean {
  if (typeof m === 'string') return table.name === m || table.origin === m
  m.lastIndex = 0
  if (m.test(table.name)) return true
  m.lastIndex = 0
  return table.origin !== undefined && m.test(table.origin)
}

/** Whether a table matches any of the matchers; an absent list matches every table. */
export function tableSelected(table: Pick<TableSchema, 'name' | 'origin'>, list: readonly TableMatcher[] | undefined): boolean {
  return list === undefined || list.some((m) => tableMatches(table, m))
}

/** Whether a column is the one a user named (target or source name). */
export function columnMatches(column: Pick<ColumnSchema, 'name' | 'origin'>, name: string): boolean {
  return column.name === name || column.origin === name
}

/** A column's index by target or source name, or -1. */
export function columnIndex(table: Pick<TableSchema, 'columns'>, name: string): number {
  const exact = table.columns.findIndex((c) => c.name === name)
  return exact >= 0 ? exact : table.columns.findIndex((c) => c.origin === name)
}

/** A column's index, or a `UsageError` naming the transform, table and column. */
export function requireColumn(table: TableSchema, name: string, by: string): number {
  const i = columnIndex(table, name)
  if (i < 0) throw new UsageError(`${by}: table ${table.name} has no column ${JSON.stringify(name)}`)
  return i
}

/** Finds a table of a schema by target or source name. */
export function findTable(schema: Pick<DatabaseSchema, 'tables'>, name: string): TableSchema | undefined {
  return schema.tables.find((t) => t.name === name) ?? schema.tables.find((t) => t.origin === name)
}

/** Splits `table.column` at the last dot. */
export function splitColumnRef(ref: string, by: string): [string, string] {
  const dot = ref.lastIndexOf('.')
  if (dot <= 0 || dot === ref.length - 1) throw new UsageError(`${by}: ${JSON.stringify(ref)} must be "table.column"`)
  return [ref.slice(0, dot), ref.slice(dot + 1)]
}

/**
 * One value's part of a key string. Numbers, bigints and numeric strings give the same text, because
 * loosely typed sources (SQLite) hold `14` in one table and `'14'` in another and both mean the same key.
 */
export function keyPart(v: Value): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (v instanceof Uint8Array) return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
  return ''
}

/** The key string of some columns of a row, or undefined when one of them is NULL (NULL matches nothing). */
export function keyOf(row: Row, indexes: readonly number[]): string | undefined {
  if (indexes.length === 1) {
    const v = row[indexes[0]!]
    return v === null || v === undefined ? undefined : keyPart(v)
  }
  const parts: string[] = []
  for (const i of indexes) {
    const v = row[i]
    if (v === null || v === undefined) return undefined
    parts.push(keyPart(v))
  }
  return JSON.stringify(parts)
}

/** Encodes values as JSON that keeps bigints and bytes, for key stores. */
export function encodeValues(values: readonly Value[]): string {
  return JSON.stringify(values.map((v) => (typeof v === 'bigint' ? { $b: v.toString() } : v instanceof Uint8Array ? { $x: Buffer.from(v).toString('hex') } : v)))
}

/** Decodes {@link encodeValues}. */
export function decodeValues(text: string): Value[] {
  return (JSON.parse(text) as unknown[]).map((v) => {
    if (v !== null && typeof v === 'object') {
      const o = v as { $b?: string; $x?: string }
      if (o.$b !== undefined) return BigInt(o.$b)
      if (o.$x !== undefined) return Buffer.from(o.$x, 'hex')
    }
    return v as Value
  })
}

/** Column indexes of a foreign key's child columns and parent columns in their target tables. */
export function foreignKeyIndexes(child: TableSchema, fk: ForeignKeySchema, parent: TableSchema): { columns: number[]; refColumns: number[] } {
  return {
    columns: fk.columns.map((c) => columnIndex(child, c)),
    refColumns: fk.refColumns.map((c) => columnIndex(parent, c)),
  }
}

/** A row as an object keyed by target column name (and by source name where it differs). */
export function rowObject(table: TableSchema, row: Row): Record<string, Value> {
  const o: Record<string, Value> = {}
  table.columns.forEach((c, i) => {
    o[c.name] = row[i] ?? null
    if (c.origin !== undefined && c.origin !== c.name && !(c.origin in o)) o[c.origin] = row[i] ?? null
  })
  return o
}

/**
 * Reads a whole source table in the target table's column layout (columns found by `origin`), without
 * type conversion. Used by pre-passes (dedupe `keep: 'last'`, deferred foreign-key checks); key strings
 * ({@link keyPart}) make the unconverted values compare equal to converted ones.
 */
export async function* scanTarget(ctx: TransformContext, table: TableSchema): AsyncIterable<Row[]> {
  const source = findTable(ctx.sourceSchema, table.origin ?? table.name)
  if (!source) throw new UsageError(`no source table for ${table.name}`)
  const index = table.columns.map((c) => source.columns.findIndex((s) => s.name === (c.origin ?? c.name)))
  const identity = index.length === source.columns.length && index.every((s, i) => s === i)
  for await (const b of ctx.source.read(source, { batchRows: 10_000, batchBytes: 8 << 20, signal: ctx.signal })) {
    yield identity ? b.rows : b.rows.map((r) => index.map((s) => (s < 0 ? null : (r[s] ?? null))))
  }
}
