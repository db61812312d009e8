import type { ReadBatch, ReadOptions } from '../../src/dialect.js'
import { ConnectionError, RowError } from '../../src/errors.js'
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

/**
 * Streams a table with one request in stream mode: rows queue up to two batches, then the request pauses
 * until the consumer has taken a batch (bounded memory). Temporal columns arrive as text, varchar in legacy
 * code pages as bytes decoded here; every value then passes the column's canonical converter.
 */
export async function* readMssqlTable(session: MssqlSession, table: TableSchema, plan: MssqlReadPlan, options: ReadOptions, defaultSchema: string): AsyncGenerator<ReadBatch> {
  const request = session.request()
  let afterParams: string[] | undefined
  const key = table.primaryKey?.columns ?? []
  const keyIdx = key.map((k) => table.columns.findIndex((c) => c.name === k))
  if (options.after && key.length > 0) {
    afterParams = key.map((k, i) => {
      const col = table.columns[keyIdx[i]!]!
      const p = mssqlSql.insertParameter(options.after![i] ?? null, col.type)
      session.input(request, `a${i}`, p.type, p.value)
      return p.sql.replaceAll('@p', `@a${i}`)
    })
  }
  const converters: Converter[] = table.columns.map((c) => makeConverter(c.type))
  const queue: unknown[][] = []
  let done = false
  let failure: unknown
  let wake: (() => void) | undefined
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
  }
  request.stream = true
  request.arrayRowMode = true
  request.on('row', (r: unknown[]) => {
    queue.push(r)
    if (queue.length >= options.batchRows * 2) request.pause()
    if (queue.length >= options.batchRows) notify()
  })
  request.on('error', (e: unknown) => {
    failure ??= e
    notify()
  })
  request.on('done', () => {
    done = true
    notify()
  })
  request.query(mssqlSql.selectTable(table, plan.selects, defaultSchema, afterParams))
  const onAbort = () => request.cancel()
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    for (;;) {
      if (queue.length < options.batchRows && !done && failure === undefined) {
        request.resume()
        await new Promise<void>((r) => (wake = r))
        continue
      }
      if (failure !== undefined) throw readFailure(failure, table)
      const rows: Row[] = []
      const rejected: RowError[] = []
      let bytes = 0
      let lastKey: Value[] | undefined
      let taken = 0
      while (taken < queue.length && taken < options.batchRows && bytes < options.batchBytes) {
        const raw = queue[taken++]!
        const row: Row = new Array(table.columns.length)
        let error: RowError | undefined
        for (let i = 0; i < table.columns.length; i++) {
          let v = raw[i]
          const cp = plan.codePages[i]
          if (cp !== undefined && v instanceof Uint8Array) {
            try {
              v = mssqlTypes.decodeCodePage(v, cp)
            } catch (e) {
              error = new RowError('invalid_encoding', `${table.columns[i]!.name}: ${(e as Error).message}`, { table: table.name, column: table.columns[i]!.name, cause: e })
              break
            }
          }
          const c = converters[i]!(v)
          if (c instanceof ConversionFailure) {
            error = new RowError(c.kind, `${table.columns[i]!.name}: ${c.reason}`, { table: table.name, column: table.columns[i]!.name, value: v })
            break
          }
          row[i] = c
        }
        if (keyIdx.length > 0) lastKey = keyIdx.map((k) => row[k] ?? (raw[k] as Value) ?? null)
        if (error) {
          rejected.push(new RowError(error.code as 'type_conversion', error.message, { table: table.name, column: error.column, value: error.value, row: raw, ...(lastKey ? { key: lastKey.map(String).join(',') } : {}) }))
          continue
        }
        rows.push(row)
        for (const v of row) bytes += valueSize(v)
      }
      queue.splice(0, taken)
      if (rows.length > 0 || rejected.length > 0) yield { rows, rejected, ...(lastKey ? { lastKey } : {}) }
      if (done && queue.length === 0) return
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    if (!done) request.cancel()
  }
}
