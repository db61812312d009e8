import type { Connection } from '../dialect.js'
import { RowError } from '../errors.js'
import type { Row, TableSchema, Value } from '../schema/types.js'
import { ConversionFailure, makeConverter } from '../schema/values.js'
import { keyColumnsOf, keyObject, keyText, narrow } from './keys.js'

/** The current state of changed keys in the source. */
export interface CurrentRows {
  /** Rows that exist, by {@link keyText}, as canonical values aligned with the table's columns. */
  rows: Map<string, Row>
  /** Rows that exist but did not convert, by key text: neither upserted nor deleted. */
  rejected: Map<string, RowError>
}

const INTEGER = new Set(['int16', 'int32', 'int64'])
const BATCH = { batchRows: 1000, batchBytes: 8 << 20 }

/**
 * Reads the rows of `keys` as they are now. Where the source's own reader finds a key exactly — a key whose
 * last column is an integer, on a table the reader orders by its primary key — the rows come from `read()` over
 * the smallest key ranges that hold them (consecutive integers share one range), converted exactly as the bulk
 * copy converted them. Other keys are read with one SELECT each through `query` and converted from the
 * driver's form with the column's converter.
 */
export async function readCurrentRows(source: Connection, table: TableSchema, keys: readonly Value[][], schema: string | undefined): Promise<CurrentRows> {
  const out: CurrentRows = { rows: new Map(), rejected: new Map() }
  if (keys.length === 0) return out
  if (await readsByKeyRange(source, table)) {
    for (const [after, until] of keyRanges(keys)) await readRange(source, table, after, until, out)
    return out
  }
  for (const key of keys) await readOne(source, table, key, schema, out)
  return out
}

/**
 * Whether `read()` with `after`/`until` finds rows by their primary key: the key's last column is an integer (so
 * the key just before one is known), and the reader orders by the key — every engine but SQLite's rowid
 * tables, where only an `INTEGER PRIMARY KEY` (the rowid itself) qualifies, which `keyBounds` tells.
 */
async function readsByKeyRange(source: Connection, table: TableSchema): Promise<boolean> {
  const columns = keyColumnsOf(table)
  if (columns.length === 0 || !INTEGER.has(columns.at(-1)!.type.kind)) return false
  if (table.rowid !== true) return true
  if (columns.length !== 1 || !source.keyBounds) return false
  return (await source.keyBounds(table)) !== undefined
}

/** Key ranges (`after` exclusive, `until` inclusive) covering exactly `keys`: one per run of consecutive integers. */
function keyRanges(keys: readonly Value[][]): [Value[], Value[]][] {
  const byPrefix = new Map<string, { prefix: Value[]; last: bigint[] }>()
  for (const k of keys) {
    const prefix = k.slice(0, -1)
    const id = keyText(prefix)
    let group = byPrefix.get(id)
    if (!group) byPrefix.set(id, (group = { prefix, last: [] }))
    group.last.push(BigInt(k.at(-1) as number | bigint))
  }
  const ranges: [Value[], Value[]][] = []
  for (const { prefix, last } of byPrefix.values()) {
    const sorted = [...new Set(last)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    let start = sorted[0]!
    let end = start
    const push = () => ranges.push([[...prefix, narrow(start - 1n)], [...prefix, narrow(end)]])
    for (const v of sorted.slice(1)) {
      if (v === end + 1n) end = v
      else {
        push()
        start = end = v
      }
    }
    push()
  }
  return ranges
}

async function readRange(source: Connection, table: TableSchema, after: Value[], until: Value[], out: CurrentRows): Promise<void> {
  const idx = keyColumnsOf(table).map((c) => table.columns.indexOf(c))
  const names = keyColumnsOf(table).map((c) => c.name)
  for await (const batch of source.read(table, { ...BATCH, after, until })) {
    for (const row of batch.rows) out.rows.set(keyText(idx.map((i) => row[i]!)), row)
    for (const e of batch.rejected) {
      const key = typeof e.key === 'object' && e.key !== null ? names.map((n) => (e.key as Record<string, unknown>)[n] as Value) : undefined
      if (key) out.rejected.set(keyText(key), e)
    }
  }
}

async function readOne(source: Connection, table: TableSchema, key: readonly Value[], schema: string | undefined, out: CurrentRows): Promise<void> {
  const sql = source.dialect.sql!
  const columns = keyColumnsOf(table)
  const where = columns.map((c, i) => `${sql.quoteIdentifier(c.name)} = ${sql.literal(key[i]!, c)}`).join(' AND ')
  const select = `SELECT ${table.columns.map((c) => sql.quoteIdentifier(c.name)).join(', ')} FROM ${sql.tableName(table, schema)} WHERE ${where}`
  const [found] = await source.query!(select)
  if (!found) return
  const values = Object.values(found)
  const row: Row = new Array(table.columns.length)
  for (let i = 0; i < table.columns.length; i++) {
    const c = table.columns[i]!
    const raw = found[c.name] ?? values[i]
    const v = raw === null || raw === undefined ? null : makeConverter(c.type)(raw)
    if (v instanceof ConversionFailure) {
      out.rejected.set(keyText(key), new RowError(v.kind, `${table.name}.${c.name}: ${v.reason}`, { table: table.name, key: keyObject(columns, key), column: c.name, value: raw as Value }))
      return
    }
    row[i] = narrow(v)
  }
  out.rows.set(keyText(key), row)
}
