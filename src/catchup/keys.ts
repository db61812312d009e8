import { RowError } from '../errors.js'
import { valueToJson } from '../schema/rows.js'
import type { ColumnSchema, TableSchema, Value } from '../schema/types.js'
import { ConversionFailure, makeConverter } from '../schema/values.js'

/** One change entry as the change table holds it. */
export interface ChangeEntry {
  /** The entry's id (auto-increment). */
  id: number | bigint
  /** The source table's name as the trigger wrote it. */
  table: string
  /** The key: a JSON array of the key columns' values, in key order. */
  keyJson: string
}

const MIN_SAFE = -(2n ** 53n)
const MAX_SAFE = 2n ** 53n
const BIG = '\u0000big:'

/** A bigint in the safe range as a number (the form readers give such integers). */
export function narrow(v: Value): Value {
  return typeof v === 'bigint' && v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v
}

/**
 * Parses a change entry's key (a JSON array of the key columns' values) without losing integers past 2^53:
 * such a number becomes a bigint. Throws for text that is not a JSON array.
 */
export function parseKeyJson(text: string): unknown[] {
  // long integers outside strings are quoted with a marker before parsing, so JSON.parse never rounds them
  const marked = text.replace(/("(?:[^"\\]|\\.)*")|(-?\d{16,})(?![\d.eE])/g, (m, str: string | undefined, big: string | undefined) => (str !== undefined ? m : `"${BIG}${big}"`))
  const parsed: unknown = JSON.parse(marked)
  if (!Array.isArray(parsed)) throw new Error(`a change entry's key is not a JSON array: ${text}`)
  return parsed.map((v) => (typeof v === 'string' && v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v))
}

/** The primary-key columns of a table, in key order. */
export function keyColumnsOf(table: TableSchema): ColumnSchema[] {
  return (table.primaryKey?.columns ?? []).map((k) => table.columns.find((c) => c.name === k)!).filter(Boolean)
}

/** A key's identity for maps: the JSON of its canonical values. */
export function keyText(values: readonly Value[]): string {
  return JSON.stringify(values.map((v) => valueToJson(narrow(v))))
}

/** A key's values by column name, as errors and reports show it. */
export function keyObject(columns: readonly ColumnSchema[], values: readonly Value[]): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  columns.forEach((c, i) => (o[c.name] = valueToJson(narrow(values[i] ?? null))))
  return o
}

/**
 * A change entry's key as canonical values of the table's key columns (the engines write dates and numbers in
 * their own JSON spelling); a `RowError` naming the table, key and column when a part does not convert.
 */
export function canonicalKey(table: TableSchema, entry: ChangeEntry): Value[] | RowError {
  const columns = keyColumnsOf(table)
  let raw: unknown[]
  try {
    raw = parseKeyJson(entry.keyJson)
  } catch (error) {
    return new RowError('type_conversion', `${table.name}: change entry ${String(entry.id)} holds no key (${error instanceof Error ? error.message : String(error)})`, { table: table.name, key: entry.keyJson, value: entry.keyJson })
  }
  if (raw.length !== columns.length) {
    return new RowError('type_conversion', `${table.name}: change entry ${String(entry.id)} has ${raw.length} key part(s), the primary key ${columns.length}`, { table: table.name, key: entry.keyJson, value: entry.keyJson })
  }
  const out: Value[] = []
  for (let i = 0; i < columns.length; i++) {
    const v = makeConverter(columns[i]!.type)(raw[i])
    if (v instanceof ConversionFailure) {
      return new RowError(v.kind, `${table.name}.${columns[i]!.name}: key ${entry.keyJson}: ${v.reason}`, { table: table.name, key: entry.keyJson, column: columns[i]!.name, value: raw[i] as Value })
    }
    out.push(narrow(v))
  }
  return out
}
