import { DuckDBBlobValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api'
import type { ReadBatch, ReadOptions } from '../../src/dialect.js'
import { AbortError, RowError } from '../../src/errors.js'
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
    return { extra: [], orderBy: cols.join(', '), after: `${list(cols)} > ${list(params)}`, key: (row) => pk.map((i) => row[i]!) }
  }
  const n = table.columns.length
  return { extra: ['rowid'], orderBy: 'rowid', after: 'rowid > CAST(? AS BIGINT)', key: (_row, raw) => [raw[n] as bigint] }
}

/** A key value as a parameter (bytes as a BLOB, booleans and the rest as they are). */
function parameter(v: Value | undefined): DuckDBValue {
  if (v === undefined || v === null) return null
  if (v instanceof Uint8Array) return new DuckDBBlobValue(v)
  if (typeof v === 'number' && !Number.isInteger(v)) return v
  return typeof v === 'number' ? BigInt(v) : (v as DuckDBValue)
}

/**
 * Streams a table in key order with one query (the primary key, else `rowid`), converting each chunk of the
 * result. Batches end at `batchRows` rows or about `batchBytes` bytes; `after` resumes past a key given back
 * as a batch's `lastKey`. A value that does not convert (a date past year 9999, `infinity`) rejects its row.
 */
export async function* readDuckdbTable(ctx: DuckdbReadContext, table: TableSchema, options: ReadOptions): AsyncGenerator<ReadBatch> {
  const plan = keyPlan(table)
  const n = table.columns.length
  const select = [...table.columns.map(selectExpression), ...plan.extra].join(', ')
  const where = options.after && options.after.length > 0 ? ` WHERE ${plan.after}` : ''
  const limit = options.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : ''
  const sql = `SELECT ${select} FROM ${duckdbSql.tableName(table, ctx.schema)}${where} ORDER BY ${plan.orderBy}${limit}`
  const converters = table.columns.map(converterFor)
  const keyIdx = keyColumnIndexes(table)
  const fail = (error: unknown) => duckdbErrors.toDbferryError(error, `reading ${table.name} on ${ctx.description}`, { table: table.name })

  let result
  try {
    result = await ctx.connection.stream(sql, where ? options.after!.map(parameter) : undefined)
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
