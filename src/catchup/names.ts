import { SchemaError } from '../errors.js'
import type { TableSchema } from '../schema/types.js'

/**
 * The names change capture gives what it creates in a source, one list for every engine: the change table, and
 * one trigger (or trigger set) per captured table, named for it so that removal finds exactly its own.
 */

/** The change table every engine's capture writes to. */
export const CHANGE_TABLE = 'dbferry_changes'

/** A schema without the change table: a copy never copies it, and verify never compares it. */
export function withoutChangeTable<S extends { tables: readonly { name: string }[] }>(schema: S): S {
  const own = (name: string) => name.toLowerCase() === CHANGE_TABLE
  return schema.tables.some((t) => own(t.name)) ? { ...schema, tables: schema.tables.filter((t) => !own(t.name)) } : schema
}

/** The primary key columns a capture records for a table; a table without one cannot be captured (a `SchemaError`). */
export function capturedKey(table: TableSchema): string[] {
  const key = table.primaryKey?.columns ?? []
  if (key.length === 0) throw new SchemaError(`${table.name} has no primary key to capture`, { table: table.name })
  return key
}

/** The DELETE of exactly these change entries, by id (`changeTable`: the change table's name as the engine writes it). */
export function deleteChangesSql(changeTable: string, ids: readonly (number | bigint)[]): string {
  return `DELETE FROM ${changeTable} WHERE id IN (${ids.map((i) => BigInt(i).toString()).join(', ')})`
}

/** The condition of a page of change entries past `after` (` WHERE id > …`), or nothing for the first page. */
export function pastId(after: bigint | undefined): string {
  return after === undefined ? '' : ` WHERE id > ${after}`
}

/** Every capture trigger's name starts with this, so the catalog query that lists them needs no table list. */
export const TRIGGER_PREFIX = 'dbferry_cap_'

/**
 * The name of a capture trigger (`kind`: `i`, `u`, `d` for engines with one trigger per event, `all` for one
 * trigger), at most `max` characters: a name that would be longer keeps a readable prefix and ends in 8 hex
 * digits of a hash of the whole, so two long table names never share a trigger.
 */
export function triggerName(kind: string, table: string, max: number): string {
  const full = `${TRIGGER_PREFIX}${kind}_${table}`
  if (new TextEncoder().encode(full).length <= max) return full
  const hash = fnv1a(full).toString(16).padStart(8, '0')
  let head = full
  // cut by characters until the bytes fit: the engines with the smallest limit (PostgreSQL) count bytes
  while (new TextEncoder().encode(`${head}_${hash}`).length > max) head = head.slice(0, -1)
  return `${head}_${hash}`
}

/** 32-bit FNV-1a over the UTF-16 code units: stable across runs and engines, no dependency. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}
