import type { Readable } from 'node:stream'
import type { ReadBatch, ReadOptions } from '../../src/dialect.js'
import { AbortError, RowError } from '../../src/errors.js'
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
 * Streams a table in key order with bounded memory (mysql2's row stream pauses the socket between batches),
 * only the rows matching `where` when given. Zero dates become NULL and are counted in `fixed` and listed in
 * `fixes` (policy `null`), or reject the row with kind `zero_date` (policy `reject`).
 */
export async function* readMysqlTable(
  conn: StreamingConnection,
  table: TableSchema,
  options: ReadOptions,
  zeroDates: ZeroDatePolicy,
  where?: string,
): AsyncGenerator<ReadBatch> {
  const decoders = table.columns.map((c) => columnDecoder(table, c))
  const order = orderColumns(table)
  const orderIdx = order.map((c) => table.columns.findIndex((x) => x.name === c))
  const keyIdx = keyColumnIndexes(table)
  let sql = `SELECT ${table.columns.map((c, i) => `${mysqlSql.selectExpression(c)} AS \`${i}\``).join(', ')} FROM ${q(table.name)}`
  const values: unknown[] = []
  if (options.after && options.after.length === order.length && order.length > 0) {
    // (a > ?) OR (a = ? AND b > ?) …: row comparisons are not index ranges on every server version
    const ors: string[] = []
    for (let i = 0; i < order.length; i++) {
      const parts = order.slice(0, i).map((c) => `${q(c)} = ?`)
      parts.push(`${q(order[i]!)} > ?`)
      ors.push(`(${parts.join(' AND ')})`)
      values.push(...options.after.slice(0, i + 1).map((v) => (typeof v === 'bigint' ? v.toString() : v)))
    }
    sql += ` WHERE ${ors.join(' OR ')}`
  } else if (where !== undefined) {
    // a condition of the caller's, without parameters (verify's segment filter)
    sql += ` WHERE ${where}`
  }
  if (order.length > 0) sql += ` ORDER BY ${order.map(q).join(', ')}`
  // a stream stopped early still receives the rest of its result: let the server stop instead
  if (options.limit !== undefined && Number.isFinite(options.limit)) sql += ` LIMIT ${Math.max(0, Math.floor(options.limit))}`

  const stream = conn.query({ sql, values, rowsAsArray: true, typeCast: rawTypeCast(table) }).stream({ highWaterMark: 256 })
  let batch: ReadBatch = { rows: [], rejected: [] }
  let bytes = 0
  // the batch's last row (kept or rejected): its key is taken once per batch, not once per row
  let lastRow: Row | undefined
  const withLastKey = (b: ReadBatch): ReadBatch => {
    if (orderIdx.length > 0 && lastRow) b.lastKey = orderIdx.map((i) => lastRow![i]!)
    return b
  }
  const n = table.columns.length
  try {
    for await (const raw of stream as AsyncIterable<unknown[]>) {
      if (options.signal?.aborted) throw new AbortError()
      const row: Row = new Array(n)
      let problem: { message: string; kind: RowError['code']; column: string; value: unknown } | undefined
      let zeroCols: { column: string; value: string }[] | undefined
      for (let i = 0; i < n; i++) {
        const r = raw[i]
        if (r === null || r === undefined) {
          row[i] = null
          continue
        }
        const d = decoders[i]!(r)
        if (d !== null && typeof d === 'object' && !(d instanceof Uint8Array)) {
          if ('zero' in d) {
            const column = table.columns[i]!.name
            if (zeroDates === 'reject') problem ??= { message: `${table.name}.${column}: zero date ${JSON.stringify(d.zero)}`, kind: 'zero_date', column, value: d.zero }
            else (zeroCols ??= []).push({ column, value: d.zero })
            row[i] = null
          } else {
            problem ??= { message: d.fail, kind: d.kind, column: table.columns[i]!.name, value: r }
            row[i] = null
          }
          continue
        }
        row[i] = d as Value
        bytes += valueSize(d as Value)
      }
      if (problem) {
        batch.rejected.push(new RowError(problem.kind, problem.message, { table: table.name, key: rowKey(table, row, keyIdx), column: problem.column, value: problem.value, row }))
      } else {
        if (zeroCols) {
          batch.fixed ??= {}
          batch.fixes ??= []
          for (const z of zeroCols) {
            batch.fixed[z.column] = (batch.fixed[z.column] ?? 0) + 1
            batch.fixes.push({ column: z.column, kind: 'zero_date', message: `zero date ${JSON.stringify(z.value)} read as NULL`, row })
          }
        }
        batch.rows.push(row)
      }
      lastRow = row
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
