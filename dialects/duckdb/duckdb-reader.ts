import { DuckDBBlobValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api'
import type { ReadBatch, ReadOptions } from '../../src/dialect.js'
import { AbortError, RowError, SchemaError } from '../../src/errors.js'
import { civilFromDays } from '../../src/schema/civil-days.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import type { ColumnSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { ConversionFailure, makeConverter, valueSize, type Converter } from '../../src/schema/values.js'
import { duckdbErrors } from './duckdb-errors.js'
import { duckdbSql } from './duckdb-sql.js'
import { duckdbTypes } from './duckdb-types.js'

const q = duckdbSql.quoteIdentifier

/** Where a read happens. */
export interface DuckdbReadContext {
  connection: DuckDBConnection
  schema: string
  description: string
}

/** Types whose values the driver gives as the JS value dbferry wants (numbers, bigints, booleans, strings, blobs). */
const NATIVE_READ = /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|VARCHAR|BLOB)$/

/** The column's type as DuckDB declares it: its own when introspected from DuckDB, else the type map's. */
function declaredType(c: ColumnSchema): string {
  return c.nativeDialect === 'duckdb' && c.nativeType !== '' ? c.nativeType.toUpperCase() : duckdbTypes.toNative(c.type).toUpperCase()
}

/**
 * The select expression of a column. Numbers, text and blobs come as they are; a TIMESTAMP WITH TIME ZONE as
 * microseconds since the epoch (its text would follow the session's TimeZone); nested types as JSON text; every
 * other type as DuckDB's own text for it (exact for DECIMAL, DATE, TIME, TIMESTAMP, UUID, INTERVAL, …), which
 * the column's converter then checks and puts in canonical form.
 */
function selectExpression(c: ColumnSchema): string {
  const t = declaredType(c)
  const col = q(c.name)
  if (NATIVE_READ.test(t)) return col
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') return `epoch_us(${col})`
  if (c.type.kind === 'json' && t !== 'JSON') return `CAST(to_json(${col}) AS VARCHAR)`
  return `CAST(${col} AS VARCHAR)`
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')
const MICROS_PER_DAY = 86_400_000_000n

/** Microseconds since 1970-01-01 UTC as a canonical `YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`, or undefined past year 9999. */
function timestamptzText(micros: bigint): string | undefined {
  let days = micros / MICROS_PER_DAY
  let rest = micros % MICROS_PER_DAY
  if (rest < 0n) {
    rest += MICROS_PER_DAY
    days -= 1n
  }
  const [y, m, d] = civilFromDays(Number(days))
  if (y < 1 || y > 9999) return undefined
  const r = Number(rest)
  const secs = Math.floor(r / 1_000_000)
  const frac = r % 1_000_000
  const f = frac === 0 ? '' : `.${pad(frac, 6).replace(/0+$/, '')}`
  return `${pad(y, 4)}-${pad(m)}-${pad(d)} ${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}${f}+00:00`
}

/** The converter of one column: the driver's value → canonical value, or why not. */
function converterFor(c: ColumnSchema): Converter {
  const t = declaredType(c)
  const canonical = makeConverter(c.type)
  if (t === 'TIMESTAMP WITH TIME ZONE' || t === 'TIMESTAMPTZ') {
    return (v) => {
      if (v === null) return null
      const text = typeof v === 'bigint' ? timestamptzText(v) : undefined
      return text ?? new ConversionFailure(`${String(v)} µs is not a timestamp between the years 1 and 9999`, 'out_of_range')
    }
  }
  if (c.type.kind === 'bytes') return (v) => canonical(v instanceof DuckDBBlobValue ? v.bytes : v)
  return canonical
}

/**
 * How rows are ordered and found again: the primary key, else DuckDB's `rowid` (stable while the source is
 * read in one transaction).
 */
interface KeyPlan {
  /** Expressions selected after the columns for `lastKey` (none when the key is made of columns). */
  extra: string[]
  orderBy: string
  /** The condition for "after this key", with one parameter per key part. */
  after: string
  /** The condition for "at or before this key" (a range's `until`); its parameters come from `untilParams`. */
  until: string
  /** The parameters of `until` for a key. */
  untilParams(key: readonly Value[]): DuckDBValue[]
  /** How many values a key has. */
  parts: number
  /** The key of a row: canonical values of its key columns, or its rowid. */
  key(row: Row, raw: readonly unknown[]): Value[]
}

function keyPlan(table: TableSchema): KeyPlan {
  const pk = (table.primaryKey?.columns ?? []).map((n) => table.columns.findIndex((c) => c.name === n))
  if (pk.length > 0 && !pk.includes(-1)) {
    const cols = pk.map((i) => q(table.columns[i]!.name))
    // parameters are cast to the key's own types: a canonical string compares as the timestamp it names
    const params = pk.map((i) => `CAST(? AS ${declaredType(table.columns[i]!)})`)
    const list = (xs: string[]) => (xs.length === 1 ? xs[0]! : `(${xs.join(', ')})`)
    // `(a, b) <= (…)` is spelled out: with `(a, b) > (…)` beside it, DuckDB folds the two row comparisons
    // into a BETWEEN of structs, which it then refuses
    const ors = cols.map((c, i) => [...cols.slice(0, i).map((p, j) => `${p} = ${params[j]}`), `${c} ${i === cols.length - 1 ? '<=' : '<'} ${params[i]}`].join(' AND '))
    return {
      extra: [],
      orderBy: cols.join(', '),
      after: `${list(cols)} > ${list(params)}`,
      until: `(${ors.map((o) => `(${o})`).join(' OR ')})`,
      untilParams: (key) => cols.flatMap((_, i) => key.slice(0, i + 1).map(parameter)),
      parts: pk.length,
      key: (row) => pk.map((i) => row[i]!),
    }
  }
  const n = table.columns.length
  return {
    extra: ['rowid'],
    orderBy: 'rowid',
    after: 'rowid > CAST(? AS BIGINT)',
    until: 'rowid <= CAST(? AS BIGINT)',
    untilParams: (key) => key.map(parameter),
    parts: 1,
    key: (_row, raw) => [raw[n] as bigint],
  }
}

/** A key value as a parameter (bytes as a BLOB, booleans and the rest as they are). */
function parameter(v: Value | undefined): DuckDBValue {
  if (v === undefined || v === null) return null
  if (v instanceof Uint8Array) return new DuckDBBlobValue(v)
  if (typeof v === 'number' && !Number.isInteger(v)) return v
  return typeof v === 'number' ? BigInt(v) : (v as DuckDBValue)
}

/** The WHERE clause of a read's key range (`after` exclusive, `until` inclusive) and its parameters. */
function rangeWhere(table: TableSchema, plan: KeyPlan, options: ReadOptions): { sql: string; params: DuckDBValue[] | undefined } {
  const conditions: string[] = []
  const params: DuckDBValue[] = []
  if (options.after && options.after.length > 0) {
    conditions.push(plan.after)
    params.push(...options.after.map(parameter))
  }
  if (options.until && options.until.length > 0) {
    if (options.until.length !== plan.parts) throw new SchemaError(`cannot read a key range of ${table.name}: the bound has ${options.until.length} parts, the key ${plan.parts}`, { table: table.name })
    conditions.push(plan.until)
    params.push(...plan.untilParams(options.until))
  }
  return conditions.length > 0 ? { sql: ` WHERE ${conditions.join(' AND ')}`, params } : { sql: '', params: undefined }
}

/**
 * Streams a table in key order with one query (the primary key, else `rowid`), converting each chunk of the
 * result. Batches end at `batchRows` rows or about `batchBytes` bytes; `after` resumes past a key given back
 * as a batch's `lastKey`, and `until` ends the read at a key (inclusive). A value that does not convert (a
 * date past year 9999, `infinity`) rejects its row.
 */
async function* readTable(ctx: DuckdbReadContext, table: TableSchema, options: ReadOptions): AsyncGenerator<ReadBatch> {
  const plan = keyPlan(table)
  const n = table.columns.length
  const select = [...table.columns.map(selectExpression), ...plan.extra].join(', ')
  const where = rangeWhere(table, plan, options)
  const limit = options.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : ''
  const sql = `SELECT ${select} FROM ${duckdbSql.tableName(table, ctx.schema)}${where.sql} ORDER BY ${plan.orderBy}${limit}`
  const converters = table.columns.map(converterFor)
  const keyIdx = keyColumnIndexes(table)
  const fail = (error: unknown) => duckdbErrors.toDbferryError(error, `reading ${table.name} on ${ctx.description}`, { table: table.name })

  let result
  try {
    result = await ctx.connection.stream(sql, where.params)
  } catch (error) {
    throw fail(error)
  }
  let rows: Row[] = []
  let rejected: RowError[] = []
  let bytes = 0
  // the last row read, whose key a batch ends at: its key is built only when a batch is handed on
  let lastRow: Row | undefined
  let lastRaw: unknown[] = []
  for (;;) {
    if (options.signal?.aborted) throw new AbortError()
    let chunk
    try {
      chunk = await result.fetchChunk()
    } catch (error) {
      throw fail(error)
    }
    if (!chunk || chunk.rowCount === 0) break
    for (const raw of chunk.getRows() as unknown[][]) {
      const row: Row = new Array(n)
      let bad: RowError | undefined
      for (let i = 0; i < n; i++) {
        const v = converters[i]!(raw[i] ?? null)
        if (v instanceof ConversionFailure) {
          const column = table.columns[i]!.name
          row[i] = null
          bad ??= new RowError(v.kind, `${table.name}.${column}: ${v.reason}`, { table: table.name, column, value: String(raw[i]), row })
          continue
        }
        row[i] = v
        bytes += valueSize(v)
      }
      lastRow = row
      lastRaw = raw
      if (bad) {
        const key = rowKey(table, row, keyIdx)
        rejected.push(key ? new RowError(bad.code, bad.message, { table: table.name, key, column: bad.column!, value: bad.value, row }) : bad)
      } else rows.push(row)
      if (rows.length + rejected.length >= options.batchRows || bytes >= options.batchBytes) {
        yield { rows, rejected, lastKey: plan.key(row, raw) }
        rows = []
        rejected = []
        bytes = 0
      }
    }
  }
  if (rows.length > 0 || rejected.length > 0) yield { rows, rejected, lastKey: plan.key(lastRow!, lastRaw) }
}

/**
 * The smallest and largest key of a table whose primary key is one integer column, converted as the reader
 * converts that column (a number, or a bigint past 2^53), read in the connection's transaction (the
 * snapshot); undefined for any other table or an empty one.
 */
async function keyBounds(ctx: DuckdbReadContext, table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
  const key = table.primaryKey?.columns ?? []
  const column = key.length === 1 ? table.columns.find((c) => c.name === key[0]) : undefined
  if (!column || !(column.type.kind === 'int16' || column.type.kind === 'int32' || column.type.kind === 'int64')) return undefined
  const k = q(column.name)
  let row: unknown[] | undefined
  try {
    row = (await ctx.connection.runAndReadAll(`SELECT min(${k}), max(${k}) FROM ${duckdbSql.tableName(table, ctx.schema)}`)).getRows()[0]
  } catch (error) {
    throw duckdbErrors.toDbferryError(error, `reading the key bounds of ${table.name} on ${ctx.description}`, { table: table.name })
  }
  if (!row || row[0] === null || row[1] === null) return undefined
  const convert = converterFor(column)
  const min = convert(row[0])
  const max = convert(row[1])
  return min instanceof ConversionFailure || max instanceof ConversionFailure ? undefined : { min, max }
}

/**
 * Streams a table in key order with one query (see `readTable` above). Beyond the contract it carries
 * `keyBounds` (a table's first and last integer key, converted as the reader converts it, for splitting it
 * into ranges).
 */
export const readDuckdbTable: typeof readTable & { keyBounds: typeof keyBounds } = Object.assign(readTable, { keyBounds })
