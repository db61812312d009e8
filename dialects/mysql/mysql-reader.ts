import type { Readable } from 'node:stream'
import type { ReadBatch, ReadOptions } from '../../src/dialect.js'
import { AbortError, RowError, SchemaError } from '../../src/errors.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import type { ColumnSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { canonicalTime, canonicalTimestamp, shortestFloat32, valueSize } from '../../src/schema/values.js'
import { mysqlSql } from './mysql-sql.js'
import { mysqlTypes, type ZeroDatePolicy } from './mysql-types.js'

/** The part of a mysql2 (callback) connection the reader uses. */
export interface StreamingConnection {
  query(options: { sql: string; values?: unknown[]; rowsAsArray?: boolean; typeCast?: unknown }): { stream(options?: { highWaterMark?: number }): Readable }
  /** Resumes a socket paused by back-pressure. */
  resume?(): void
}

/**
 * Reading a MySQL/MariaDB table: one streamed `SELECT` in key order (resuming after a key), every value taken
 * as the server's text or bytes and converted here, zero dates read as NULL or rejected.
 */

const q = mysqlSql.quoteIdentifier

interface Field {
  type: string
  name: string
  string(encoding?: string): string | null
  buffer(): Buffer | null
}

/**
 * The mysql2 typeCast of one read: every value arrives as the server's text, or as raw bytes for columns
 * read as bytes and for bit fields. Columns are selected under their position as alias (`AS \`3\``), which
 * is how the cast tells them apart (the driver does not show it the column's character set). The reader
 * converts each value itself, so none passes through JS Date or a lossy number parse.
 */
function rawTypeCast(table: TableSchema): (field: Field) => unknown {
  const bytes = table.columns.map((c) => mysqlTypes.readsAsBytes(c))
  return (field) => (field.type === 'BIT' || field.type === 'GEOMETRY' || bytes[Number(field.name)] ? field.buffer() : field.string('utf8'))
}

// a zero month or day (0000-00-00 included); the year 0 with a real month and day (0000-01-01) is a date
const ZERO_DATE_RE = /^(\d{4}-00-\d\d|\d{4}-\d\d-00)/
// TIME is an interval from -838:59:59 to 838:59:59; past a time of day it is carried in this form
const TIME_SPAN_RE = /^-?\d{2,3}:[0-5]\d:[0-5]\d(\.\d+)?$/
const INTEGER_RE = /^-?\d+$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

type Decoded = Value | { fail: string; kind: 'type_conversion' | 'invalid_encoding' } | { zero: string }


function bufferToBigInt(b: Buffer): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${b.toString('hex')}`)
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function intOf(b: bigint): number | bigint {
  return b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : b
}

/** Builds the decoder of one column: server text (or bytes) → canonical value. */
function columnDecoder(table: TableSchema, column: ColumnSchema): (raw: unknown) => Decoded {
  const t = column.type
  const where = `${table.name}.${column.name}`
  switch (t.kind) {
    case 'boolean': {
      const tinyint = /^tinyint/i.test(column.nativeType)
      return (raw) => {
        if (Buffer.isBuffer(raw)) return bufferToBigInt(raw) !== 0n
        if (raw === '0') return false
        if (raw === '1') return true
        // a tinyint(1) holds -128..127: any other integer is carried as the number (the value model's boolean
        // extension), which integer-backed booleans keep and a true boolean column refuses, naming it
        if (typeof raw === 'string' && INTEGER_RE.test(raw) && tinyint) return Number(raw)
        return {
          fail: `${where}: ${JSON.stringify(raw)} in a ${column.nativeType || 'boolean'} column is not a boolean (0 or 1); declare the column's type with the types option, e.g. { kind: 'int16' }`,
          kind: 'type_conversion',
        }
      }
    }
    case 'int16':
    case 'int32':
    case 'int64': {
      const wide = t.kind === 'int64'
      return (raw) => {
        if (Buffer.isBuffer(raw)) return intOf(bufferToBigInt(raw))
        const s = String(raw)
        return wide ? intOf(BigInt(s)) : Number(s)
      }
    }
    case 'float32':
      // FLOAT is read widened to double (exact); carried as the shortest decimal that names the float32
      return (raw) => shortestFloat32(Number(raw))
    case 'float64':
      return (raw) => Number(raw)
    case 'decimal':
      return (raw) => String(raw)
    case 'bytes':
      return (raw) => (Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw), 'utf8'))
    case 'text':
    case 'json':
    case 'uuid':
      // the session's utf8mb4 makes the server send text as UTF-8 whatever the column's character set; only
      // a binary column read as text (a type override) arrives as bytes, which must be valid UTF-8
      return (raw) => {
        if (!Buffer.isBuffer(raw)) return raw as string
        try {
          return utf8.decode(raw)
        } catch {
          return { fail: `${where}: bytes that are not valid UTF-8 in a text column`, kind: 'invalid_encoding' }
        }
      }
    case 'date':
      return (raw) => {
        const s = String(raw)
        if (ZERO_DATE_RE.test(s)) return { zero: s }
        return s.slice(0, 10)
      }
    case 'timestamp':
    case 'timestamptz': {
      const suffix = t.kind === 'timestamptz' ? '+00:00' : ''
      return (raw) => {
        const s = String(raw)
        if (ZERO_DATE_RE.test(s)) return { zero: s }
        const c = canonicalTimestamp(s, t.precision)
        return c === undefined ? { fail: `${where}: ${JSON.stringify(s)} is not a timestamp`, kind: 'type_conversion' } : c + suffix
      }
    }
    case 'time':
      return (raw) => {
        const s = String(raw)
        const c = canonicalTime(s, t.precision)
        if (c !== undefined) return c
        // MySQL's time is an interval (-838:59:59 to 838:59:59): carried as the server wrote it (the value
        // model's time extension), which a MySQL target keeps and a time-of-day column refuses, naming it
        return TIME_SPAN_RE.test(s) ? s : { fail: `${where}: ${JSON.stringify(s)} is not a time`, kind: 'type_conversion' }
      }
  }
}

/** Columns that order the rows and key resumption: the primary key, else a unique key of NOT NULL columns. */
function orderColumns(table: TableSchema): string[] {
  if (table.primaryKey) return table.primaryKey.columns
  const notNull = new Set(table.columns.filter((c) => !c.nullable).map((c) => c.name))
  return table.uniques.find((u) => u.columns.every((c) => notNull.has(c)))?.columns ?? []
}

/**
 * The rows after a key (`>`) or up to it (`<=`) in key order, spelled out — `(a > ?) OR (a = ? AND b > ?)`,
 * `(a < ?) OR (a = ? AND b <= ?)` — since row comparisons are not index ranges on every server version; the
 * key's values are appended to `values`.
 */
function boundCondition(order: readonly string[], key: readonly Value[], op: '>' | '<=', values: unknown[]): string {
  const ors: string[] = []
  for (let i = 0; i < order.length; i++) {
    const parts = order.slice(0, i).map((c) => `${q(c)} = ?`)
    const last = i === order.length - 1
    parts.push(`${q(order[i]!)} ${op === '>' ? '>' : last ? '<=' : '<'} ?`)
    ors.push(`(${parts.join(' AND ')})`)
    values.push(...key.slice(0, i + 1).map((v) => (typeof v === 'bigint' ? v.toString() : v)))
  }
  return `(${ors.join(' OR ')})`
}

/**
 * Decodes rows of server values (text or bytes, NULL as null) into a batch, the same way for the streamed read
 * and the paged one: a row whose value does not convert is rejected with its kind, key, column and value; a
 * zero date is NULL and listed as a fix (policy `null`) or rejects the row (`reject`). `last` is the row decoded
 * last, kept or rejected, for the batch's `lastKey`.
 */
class RowDecoder {
  last: Row | undefined
  readonly #decoders: ((raw: unknown) => Decoded)[]
  readonly #keyIdx: number[]

  constructor(
    private readonly table: TableSchema,
    private readonly zeroDates: ZeroDatePolicy,
  ) {
    this.#decoders = table.columns.map((c) => columnDecoder(table, c))
    this.#keyIdx = keyColumnIndexes(table)
  }

  /** Decodes one row into `batch` (its rows, or its rejects); returns the bytes of its values. */
  into(batch: ReadBatch, raw: readonly unknown[]): number {
    const { table, zeroDates } = this
    const n = this.#decoders.length
    const row: Row = new Array(n)
    let bytes = 0
    let problem: { message: string; kind: RowError['code']; column: string; value: unknown } | undefined
    let zeroCols: { column: string; value: string }[] | undefined
    for (let i = 0; i < n; i++) {
      const r = raw[i]
      if (r === null || r === undefined) {
        row[i] = null
        continue
      }
      const d = this.#decoders[i]!(r)
      if (d !== null && typeof d === 'object' && !(d instanceof Uint8Array)) {
        const column = table.columns[i]!.name
        if ('zero' in d) {
          if (zeroDates === 'reject') problem ??= { message: `${table.name}.${column}: zero date ${JSON.stringify(d.zero)}`, kind: 'zero_date', column, value: d.zero }
          else (zeroCols ??= []).push({ column, value: d.zero })
        } else problem ??= { message: d.fail, kind: d.kind, column, value: r }
        row[i] = null
        continue
      }
      row[i] = d as Value
      bytes += valueSize(d as Value)
    }
    this.last = row
    if (problem) {
      batch.rejected.push(new RowError(problem.kind, problem.message, { table: table.name, key: rowKey(table, row, this.#keyIdx), column: problem.column, value: problem.value, row }))
      return bytes
    }
    if (zeroCols) {
      batch.fixed ??= {}
      batch.fixes ??= []
      for (const z of zeroCols) {
        batch.fixed[z.column] = (batch.fixed[z.column] ?? 0) + 1
        batch.fixes.push({ column: z.column, kind: 'zero_date', message: `zero date ${JSON.stringify(z.value)} read as NULL`, row })
      }
    }
    batch.rows.push(row)
    return bytes
  }
}

/**
 * Streams a table in key order with bounded memory (mysql2's row stream pauses the socket between batches),
 * within the key range of `options` (`after`, `until`), only the rows matching `where` when given. Zero
 * dates become NULL and are counted in `fixed` and listed in `fixes` (policy `null`), or reject the row with
 * kind `zero_date` (policy `reject`).
 */
async function* readTable(
  conn: StreamingConnection,
  table: TableSchema,
  options: ReadOptions,
  zeroDates: ZeroDatePolicy,
  where?: string,
): AsyncGenerator<ReadBatch> {
  const order = orderColumns(table)
  const orderIdx = order.map((c) => table.columns.findIndex((x) => x.name === c))
  let sql = `SELECT ${table.columns.map((c, i) => `${mysqlSql.selectExpression(c)} AS \`${i}\``).join(', ')} FROM ${q(table.name)}`
  const values: unknown[] = []
  const conditions: string[] = []
  if (options.after && options.after.length === order.length && order.length > 0) conditions.push(boundCondition(order, options.after, '>', values))
  if (options.until && options.until.length > 0) {
    if (options.until.length !== order.length) throw new SchemaError(`cannot read a key range of ${table.name}: ${order.length === 0 ? 'it has no primary key' : `the bound has ${options.until.length} parts, the key ${order.length}`}`, { table: table.name })
    conditions.push(boundCondition(order, options.until, '<=', values))
  }
  // a condition of the caller's, without parameters (verify's segment filter)
  if (where !== undefined) conditions.push(`(${where})`)
  if (conditions.length > 0) sql += ` WHERE ${conditions.join(' AND ')}`
  if (order.length > 0) sql += ` ORDER BY ${order.map(q).join(', ')}`
  // a stream stopped early still receives the rest of its result: let the server stop instead
  if (options.limit !== undefined && Number.isFinite(options.limit)) sql += ` LIMIT ${Math.max(0, Math.floor(options.limit))}`

  const stream = conn.query({ sql, values, rowsAsArray: true, typeCast: rawTypeCast(table) }).stream({ highWaterMark: 256 })
  let batch: ReadBatch = { rows: [], rejected: [] }
  let bytes = 0
  const decode = new RowDecoder(table, zeroDates)
  // the batch's last row (kept or rejected): its key is taken once per batch, not once per row
  const withLastKey = (b: ReadBatch): ReadBatch => {
    if (orderIdx.length > 0 && decode.last) b.lastKey = orderIdx.map((i) => decode.last![i]!)
    return b
  }
  try {
    for await (const raw of stream as AsyncIterable<unknown[]>) {
      if (options.signal?.aborted) throw new AbortError()
      bytes += decode.into(batch, raw)
      if (batch.rows.length + batch.rejected.length >= options.batchRows || bytes >= options.batchBytes) {
        yield withLastKey(batch)
        batch = { rows: [], rejected: [] }
        bytes = 0
      }
    }
  } finally {
    // an early return (abort, an error downstream) destroys the stream; the rest of the result is then
    // discarded as it arrives, but a socket paused by back-pressure must be resumed or the connection hangs
    if (!stream.readableEnded) {
      stream.destroy()
      conn.resume?.()
    }
  }
  if (batch.rows.length + batch.rejected.length > 0) yield withLastKey(batch)
}

// ---------------------------------------------------------------------------------------------------------
// reading through plain statements (a Kysely instance): keyset pages of one SELECT each

/** Runs one SELECT with `?` parameters and gives its rows as objects keyed by column alias. */
export type MysqlSelect = (sql: string, values: readonly unknown[]) => Promise<Record<string, unknown>[]>

const GEOMETRY_RE = /^(geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection)\b/i

/**
 * A column as text whatever the caller's driver settings (no driver-side number, date or JSON parsing): the
 * server's own text in utf8mb4, the bytes of binary columns as hex, and bit fields as their number. What the
 * decoders then get is what the streaming path's typeCast gives them.
 */
function mysqlTextExpression(column: ColumnSchema): string {
  const e = mysqlSql.selectExpression(column)
  if (/^bit\b/i.test(column.nativeType)) return `CAST(${e} + 0 AS CHAR)`
  if (mysqlTypes.readsAsBytes(column) || GEOMETRY_RE.test(column.nativeType)) return `HEX(${e})`
  return `CAST(${e} AS CHAR CHARACTER SET utf8mb4)`
}

/** A value selected by {@link mysqlTextExpression} in the form the streaming path's typeCast gives it. */
function fromText(column: ColumnSchema, text: unknown): unknown {
  if (text === null || text === undefined) return null
  if (mysqlTypes.readsAsBytes(column) || GEOMETRY_RE.test(column.nativeType)) return Buffer.from(String(text), 'hex')
  return Buffer.isBuffer(text) ? text.toString('utf8') : String(text)
}

/** The WHERE clause of one page: after the last key read, up to `until` (see {@link boundCondition}), within the caller's condition. */
function pageWhere(table: TableSchema, order: readonly string[], after: readonly Value[] | undefined, until: readonly Value[] | undefined, where: string | undefined): { sql: string; values: unknown[] } {
  const parts: string[] = []
  const values: unknown[] = []
  if (after && after.length === order.length && order.length > 0) parts.push(boundCondition(order, after, '>', values))
  if (until && until.length > 0) {
    if (until.length !== order.length) throw new SchemaError(`cannot read a key range of ${table.name}: ${order.length === 0 ? 'it has no primary key' : `the bound has ${until.length} parts, the key ${order.length}`}`, { table: table.name })
    parts.push(boundCondition(order, until, '<=', values))
  }
  if (where !== undefined) parts.push(`(${where})`)
  return { sql: parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '', values }
}

/**
 * Reads a table with plain SELECTs through `select` (a caller's Kysely instance, which gives no access to a
 * row stream): keyset pages in key order (`WHERE key > last ORDER BY key LIMIT n`), each value selected as
 * text ({@link mysqlTextExpression}) and decoded by the same decoders as the streaming path, so the rows, the
 * rejects, the zero-date fixes and `lastKey` are the ones {@link readMysqlTable} gives. A table without a key
 * is paged with `LIMIT … OFFSET …`, which is stable inside the snapshot's transaction. Pages shrink so that
 * one holds about `batchBytes`.
 */
async function* readMysqlTablePaged(
  select: MysqlSelect,
  table: TableSchema,
  options: ReadOptions,
  zeroDates: ZeroDatePolicy,
  where?: string,
): AsyncGenerator<ReadBatch> {
  const decode = new RowDecoder(table, zeroDates)
  const order = orderColumns(table)
  const orderIdx = order.map((c) => table.columns.findIndex((x) => x.name === c))
  const head = `SELECT ${table.columns.map((c, i) => `${mysqlTextExpression(c)} AS \`${i}\``).join(', ')} FROM ${q(table.name)}`
  const orderBy = order.length > 0 ? ` ORDER BY ${order.map(q).join(', ')}` : ''
  const n = table.columns.length
  let after = options.after
  let offset = 0
  let left = options.limit !== undefined && Number.isFinite(options.limit) ? Math.max(0, Math.floor(options.limit)) : Infinity
  let pageRows = Math.max(1, Math.min(options.batchRows, 1000))
  let batch: ReadBatch = { rows: [], rejected: [] }
  let bytes = 0
  let lastRaw: Record<string, unknown> | undefined
  const withLastKey = (b: ReadBatch): ReadBatch => {
    if (orderIdx.length > 0 && decode.last) b.lastKey = orderIdx.map((i) => decode.last![i]!)
    return b
  }
  while (left > 0) {
    if (options.signal?.aborted) throw new AbortError()
    const want = Math.min(pageRows, left)
    const w = pageWhere(table, order, after, options.until, where)
    const paging = order.length > 0 ? ` LIMIT ${want}` : ` LIMIT ${want} OFFSET ${offset}`
    const page = await select(head + w.sql + orderBy + paging, w.values)
    let pageBytes = 0
    for (const raw of page) {
      const cells = new Array<unknown>(n)
      for (let i = 0; i < n; i++) cells[i] = fromText(table.columns[i]!, raw[String(i)])
      const size = decode.into(batch, cells)
      bytes += size
      pageBytes += size
      lastRaw = raw
      if (batch.rows.length + batch.rejected.length >= options.batchRows || bytes >= options.batchBytes) {
        yield withLastKey(batch)
        batch = { rows: [], rejected: [] }
        bytes = 0
      }
    }
    left -= page.length
    offset += page.length
    if (page.length < want) break
    // the next page starts after the server's own text of the last key (a rejected row's key included)
    if (orderIdx.length > 0) after = orderIdx.map((i) => fromText(table.columns[i]!, lastRaw![String(i)]) as Value)
    // the next page holds about batchBytes, and grows at most fourfold
    const perRow = Math.max(1, pageBytes / page.length)
    pageRows = Math.max(1, Math.min(options.batchRows, pageRows * 4, Math.floor(options.batchBytes / perRow)))
  }
  if (batch.rows.length + batch.rejected.length > 0) yield withLastKey(batch)
}

// ---------------------------------------------------------------------------------------------------------
// key bounds: where a table split into key ranges starts and ends

/**
 * The smallest and largest key of a table whose primary key is one integer column, decoded as the readers
 * decode that column (a number, or a bigint past 2^53); undefined for any other table or an empty one.
 * `select` runs the query (in the snapshot's transaction, when one is open).
 */
async function keyBounds(select: (sql: string) => Promise<Record<string, unknown>[]>, table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
  const key = table.primaryKey?.columns ?? []
  const column = key.length === 1 ? table.columns.find((c) => c.name === key[0]) : undefined
  if (!column || !(column.type.kind === 'int16' || column.type.kind === 'int32' || column.type.kind === 'int64')) return undefined
  const k = q(column.name)
  const [r] = await select(`SELECT CAST(MIN(${k}) AS CHAR) AS lo, CAST(MAX(${k}) AS CHAR) AS hi FROM ${q(table.name)}`)
  if (r?.lo === null || r?.lo === undefined || r.hi === null || r.hi === undefined) return undefined
  const decode = columnDecoder(table, column)
  const min = decode(String(r.lo))
  const max = decode(String(r.hi))
  return typeof min === 'number' || typeof min === 'bigint' ? { min, max: max as Value } : undefined
}

/**
 * Up to `count` keys that cut a table into `count + 1` parts of about equal row counts, in the reader's key
 * order (the primary key, else a NOT NULL unique key; the server's collations), decoded as the readers decode
 * them: the last key of each part, numbered by `ROW_NUMBER()` over the table's keys — or over a `RAND()` sample
 * of about 10 000 rows (at least 200 per part) of a bigger table. Undefined for a table read in no key order.
 * `select` runs the query (in the snapshot's transaction, when one is open).
 */
async function splitKeys(select: (sql: string) => Promise<Record<string, unknown>[]>, table: TableSchema, count: number, estimate: number): Promise<Value[][] | undefined> {
  const order = orderColumns(table)
  if (order.length === 0 || count < 1) return undefined
  const columns = order.map((n) => table.columns.find((c) => c.name === n)!)
  const keys = order.map(q).join(', ')
  const parts = Math.floor(count) + 1
  const fraction = estimate > 0 ? Math.max(10_000, 200 * parts) / estimate : 1
  const sample = fraction >= 1 ? '' : ` WHERE RAND() < ${fraction.toFixed(8)}`
  // row rn ends part j when rn * parts DIV n crosses j; the last row ends the last part
  const rows = await select(
    `SELECT ${columns.map((c, j) => `${mysqlTextExpression(c)} AS k${j}`).join(', ')} FROM (` +
      `SELECT ${keys}, ROW_NUMBER() OVER (ORDER BY ${keys}) AS dbferry_rn, COUNT(*) OVER () AS dbferry_n FROM (SELECT ${keys} FROM ${q(table.name)}${sample}) t` +
      `) s WHERE dbferry_rn < dbferry_n AND (dbferry_rn * ${parts}) DIV dbferry_n > ((dbferry_rn - 1) * ${parts}) DIV dbferry_n ORDER BY ${keys}`,
  )
  const decoders = columns.map((c) => columnDecoder(table, c))
  const out: Value[][] = []
  for (const r of rows) {
    const key = columns.map((c, j) => decoders[j]!(fromText(c, r[`k${j}`])))
    // a key the reader would reject (or turn into NULL) cannot bound a range it reads: its parts join instead
    if (key.every((v) => v !== null && !(typeof v === 'object' && !(v instanceof Uint8Array)))) out.push(key as Value[])
  }
  return out
}

/**
 * Streams a table in key order with one streamed SELECT (see `readTable` above). Beyond the contract it
 * carries `keyBounds` (a table's first and last integer key, decoded as the reader decodes it, for splitting
 * it into ranges) and `splitKeys` (sampled keys to split any other keyed table at).
 */
export const readMysqlTable: typeof readTable & { keyBounds: typeof keyBounds; splitKeys: typeof splitKeys } = Object.assign(readTable, { keyBounds, splitKeys })

/**
 * Beyond the contract, for a connection through plain statements (a Kysely instance): `readMysqlTable.paged`
 * ({@link readMysqlTablePaged}) and `readMysqlTable.textExpression` ({@link mysqlTextExpression}).
 */
readTable.paged = readMysqlTablePaged
readTable.textExpression = mysqlTextExpression
