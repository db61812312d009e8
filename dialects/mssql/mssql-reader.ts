import type { ReadBatch, ReadOptions } from '../../src/dialect.js'
import { ConnectionError, RowError, SchemaError } from '../../src/errors.js'
import type { Row, TableSchema, Value } from '../../src/schema/types.js'
import { ConversionFailure, makeConverter, valueSize, type Converter } from '../../src/schema/values.js'
import type { MssqlSession } from './mssql-sql.js'
import { mssqlErrors } from './mssql-errors.js'
import type { MssqlReadPlan } from './mssql-introspector.js'
import { mssqlSql } from './mssql-sql.js'
import { mssqlTypes } from './mssql-types.js'

/** A failed read stops the run as resumable (a `ConnectionError`), with the driver's fields. */
function readFailure(failure: unknown, table: TableSchema): Error {
  const c = mssqlErrors.classify(failure)
  return new ConnectionError(`reading ${table.name}: ${(failure as Error).message}`, { table: table.name, cause: failure, ...(c ? { driver: c.driver } : {}) })
}

/** The rows of one batch as they are converted, with the source's bytes they hold. */
interface Filling {
  rows: Row[]
  rejected: RowError[]
  bytes: number
  /** The batch's last source row, converted as far as it went, and as it came: its key is the batch's `lastKey`. */
  lastRow?: Row
  lastRaw?: unknown[]
}

/**
 * The most a batch of this reader holds, in `valueSize` bytes, below the run's `batchBytes`. tedious leaves
 * several kilobytes of garbage per row, so rows that wait long (three batches are alive: read ahead, fitted,
 * being written) outlive the young generation and are promoted. 512 KiB batches (about 2 500 rows of a
 * 7-column table): a million-row copy to PostgreSQL peaked at 191–203 MB against 218–219 MB with 1 MiB, and
 * was no slower (bench/README.md).
 */
const READ_AHEAD_BYTES = 1 << 19

const emptyBatch = (): Filling => ({ rows: [], rejected: [], bytes: 0 })

/** An integer's decimal text as tedious writes a bigint: an optional minus sign, then digits. */
const SHORT_INTEGER = /^-?\d+$/

/**
 * Streams a table with one request in stream mode. Each row is converted as it arrives (temporal columns come
 * as text, varchar in legacy code pages as bytes decoded here, then every value passes the column's canonical
 * converter), so the driver's row arrays die young instead of waiting in a queue. Read-ahead is one batch,
 * bounded by rows and bytes (`batchRows`; `batchBytes`, at most {@link READ_AHEAD_BYTES}): once a batch is
 * complete, the request pauses until the consumer takes it. `after` and `until` bound the key range read.
 */
async function* readTable(session: MssqlSession, table: TableSchema, plan: MssqlReadPlan, options: ReadOptions, defaultSchema: string): AsyncGenerator<ReadBatch> {
  const request = session.request()
  const key = table.primaryKey?.columns ?? []
  const keyIdx = key.map((k) => table.columns.findIndex((c) => c.name === k))
  /** A key bound's parts as parameters `@<prefix>0`, `@<prefix>1`, … of the request, as SQL reads them. */
  const bound = (values: readonly Value[], prefix: string): string[] =>
    key.map((_, i) => {
      const col = table.columns[keyIdx[i]!]!
      const p = mssqlSql.insertParameter(values[i] ?? null, col.type)
      session.input(request, `${prefix}${i}`, p.type, p.value)
      return p.sql.replaceAll('@p', `@${prefix}${i}`)
    })
  const afterParams = options.after && key.length > 0 ? bound(options.after, 'a') : undefined
  let untilParams: string[] | undefined
  if (options.until && options.until.length > 0) {
    if (options.until.length !== key.length) throw new SchemaError(`cannot read a key range of ${table.name}: ${key.length === 0 ? 'it has no primary key' : `the bound has ${options.until.length} parts, the key ${key.length}`}`, { table: table.name })
    untilParams = bound(options.until, 'u')
  }
  const width = table.columns.length
  const budget = Math.min(options.batchBytes, READ_AHEAD_BYTES)
  const converters: Converter[] = table.columns.map((c) => makeConverter(c.type))
  // tedious hands bigint over as decimal text; up to 15 characters it is a safe integer, which Number() reads
  // exactly and the converter then takes without a BigInt round trip (the longer ones keep that exact path)
  const bigintText = table.columns.map((c) => c.type.kind === 'int64')
  const codePages = plan.codePages
  const decodes = codePages.some((cp) => cp !== undefined)
  const ready: Filling[] = []
  let filling = emptyBatch()
  let done = false
  let failure: unknown
  // a converter that throws is a bug: it stops the read as itself, not as a lost connection
  let bug: unknown
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }

  /** A row's key: converted values where conversion reached them, else the values as read. */
  const keyOf = (row: Row, raw: unknown[]): Value[] | undefined => (keyIdx.length > 0 ? keyIdx.map((k) => row[k] ?? (raw[k] as Value) ?? null) : undefined)
  const batchOf = (f: Filling): ReadBatch => {
    const lastKey = f.lastRow && f.lastRaw ? keyOf(f.lastRow, f.lastRaw) : undefined
    return { rows: f.rows, rejected: f.rejected, ...(lastKey ? { lastKey } : {}) }
  }

  /** Converts one source row into the batch being filled, or rejects it there. */
  const take = (raw: unknown[]) => {
    const row: Row = new Array(width)
    let error: RowError | undefined
    for (let i = 0; i < width; i++) {
      let v = raw[i]
      if (decodes && codePages[i] !== undefined && v instanceof Uint8Array) {
        try {
          v = mssqlTypes.decodeCodePage(v, codePages[i]!)
        } catch (e) {
          error = new RowError('invalid_encoding', `${table.columns[i]!.name}: ${(e as Error).message}`, { table: table.name, column: table.columns[i]!.name, cause: e })
          break
        }
      }
      if (bigintText[i] && typeof v === 'string' && v.length <= 15 && SHORT_INTEGER.test(v)) v = Number(v)
      const c = converters[i]!(v)
      if (c instanceof ConversionFailure) {
        error = new RowError(c.kind, `${table.columns[i]!.name}: ${c.reason}`, { table: table.name, column: table.columns[i]!.name, value: v })
        break
      }
      row[i] = c
      filling.bytes += valueSize(c)
    }
    // the key is taken once per batch (batchOf), not per row
    filling.lastRow = row
    filling.lastRaw = raw
    if (error) {
      const k = keyOf(row, raw)
      filling.rejected.push(new RowError(error.code as 'type_conversion', error.message, { table: table.name, column: error.column, value: error.value, row: raw as Row, ...(k ? { key: k.map(String).join(',') } : {}) }))
    } else {
      filling.rows.push(row)
    }
    if (filling.rows.length + filling.rejected.length >= options.batchRows || filling.bytes >= budget) {
      ready.push(filling)
      filling = emptyBatch()
      // one complete batch ahead of the consumer is enough: wait until it is taken
      request.pause()
      notify()
    }
  }

  request.stream = true
  request.arrayRowMode = true
  request.on('row', (raw: unknown[]) => {
    try {
      take(raw)
    } catch (e) {
      // thrown here it would escape into the driver's event loop
      bug ??= e
      request.cancel()
      notify()
    }
  })
  request.on('error', (e: unknown) => {
    failure ??= e
    notify()
  })
  request.on('done', () => {
    done = true
    notify()
  })
  request.query(mssqlSql.selectTable(table, plan.selects, defaultSchema, afterParams, untilParams))
  const onAbort = () => request.cancel()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      if (bug !== undefined) throw bug
      if (failure !== undefined) throw readFailure(failure, table)
      const next = ready.shift()
      if (next) {
        if (ready.length === 0) request.resume()
        yield batchOf(next)
        continue
      }
      if (done) {
        if (filling.rows.length > 0 || filling.rejected.length > 0) yield batchOf(filling)
        return
      }
      request.resume()
      await new Promise<void>((r) => (wake = r))
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    if (!done) request.cancel()
  }
}

/**
 * The smallest and largest key of a table whose primary key is one integer column, converted as the reader
 * converts that column (a number, or a bigint past 2^53), read in the session's transaction (the snapshot)
 * when one is open; undefined for any other table or an empty one. A driver error is thrown as it is.
 */
async function keyBounds(session: MssqlSession, table: TableSchema, defaultSchema: string): Promise<{ min: Value; max: Value } | undefined> {
  const key = table.primaryKey?.columns ?? []
  const column = key.length === 1 ? table.columns.find((c) => c.name === key[0]) : undefined
  if (!column || !(column.type.kind === 'int16' || column.type.kind === 'int32' || column.type.kind === 'int64')) return undefined
  const k = mssqlSql.quoteIdentifier(column.name)
  // as text: tedious gives bigint as a string anyway, and no value passes through a double
  const res = await session.request().query(`SELECT CONVERT(varchar(40), MIN(${k})) AS lo, CONVERT(varchar(40), MAX(${k})) AS hi FROM ${mssqlSql.qualified(table, defaultSchema)}`)
  const row = res.recordset[0] as { lo: string | null; hi: string | null } | undefined
  if (!row || row.lo === null || row.hi === null) return undefined
  const convert = makeConverter(column.type)
  const min = convert(row.lo)
  const max = convert(row.hi)
  return min instanceof ConversionFailure || max instanceof ConversionFailure ? undefined : { min, max }
}

/**
 * Streams a table with one request in stream mode (see `readTable` above). Beyond the contract it carries
 * `keyBounds` (a table's first and last integer key, converted as the reader converts it, for splitting it
 * into ranges).
 */
export const readMssqlTable: typeof readTable & { keyBounds: typeof keyBounds } = Object.assign(readTable, { keyBounds })
