import type { BaseDialect, TableWriter } from '../dialect.js'
import { AbortError, AccountingError, ConnectionError, RowError, TransformError, isDbferryError, type FailureKind } from '../errors.js'
import type { Checkpoint, Journal, JournalEntry } from '../journal/journal.js'
import type { TableReport } from '../report.js'
import { keyString, rowKey, rowToJson, valueToJson } from '../schema/rows.js'
import type { Row, TableSchema, Value } from '../schema/types.js'
import { confirmedCheckpoint, intentCheckpoint } from './resume.js'
import type { BatchOutcome } from '../transforms/transform.js'
import { makeRowFitter, type FitFix } from './fit-rows.js'
import { passThrough } from './pass-through.js'
import type { TablePair } from '../plan/table-pair.js'
import type { CopyContext } from './copy-context.js'

/** A fresh, empty report for a table. */
export function emptyTableReport(pair: TablePair): TableReport {
  const r: TableReport = {
    name: pair.target.name,
    status: 'skipped',
    read: 0,
    written: 0,
    rejected: 0,
    dropped: 0,
    inserted: 0,
    fixed: {},
    byKind: {},
    examples: [],
    ms: 0,
  }
  if (pair.source.name !== pair.target.name) r.source = pair.source.name
  return r
}

/** Collects the outcome of rows for one table: counts, examples and journal entries. */
export class TableLedger {
  readonly entries: JournalEntry[] = []
  constructor(
    readonly report: TableReport,
    readonly table: TableSchema,
    private readonly maxExamples: number,
    private readonly journaling: boolean,
    /** Collects the keys of rejected and dropped rows (for verify's expected differences). */
    private readonly missingKeys?: string[],
  ) {}

  private note(kind: FailureKind, action: 'rejected' | 'dropped', by: string, e: { key?: unknown; column?: string; message: string; row?: readonly unknown[] }): void {
    this.report.byKind[kind] = (this.report.byKind[kind] ?? 0) + 1
    const key = keyString(e.key as Record<string, unknown> | string | undefined)
    if (key !== undefined) this.missingKeys?.push(key)
    if (this.report.examples.length < this.maxExamples) {
      this.report.examples.push({ kind, action, key, column: e.column, message: e.message, by })
    }
    if (this.journaling) {
      this.entries.push({
        table: this.report.name,
        action,
        kind,
        key,
        column: e.column,
        message: e.message,
        row: e.row ? rowToJson(this.table, e.row) : undefined,
        source: by,
      })
    }
  }

  reject(error: RowError, by: string): void {
    this.report.rejected++
    this.note(error.code, 'rejected', by, error)
  }

  drop(row: Row, kind: FailureKind, message: string, by: string, column?: string, key?: unknown): void {
    this.report.dropped++
    this.note(kind, 'dropped', by, { key, column, message, row })
  }

  fix(column: string, by: string, n = 1, row?: Row, detail?: string): void {
    this.report.fixed[column] = (this.report.fixed[column] ?? 0) + n
    if (this.journaling && (row !== undefined || detail !== undefined)) {
      this.entries.push({ table: this.report.name, action: 'fixed', kind: 'fixed', key: row ? keyString(rowKey(this.table, row)) : undefined, column, message: detail ?? `${column} changed`, row: row ? this.#valueAsItWas(column, row) : undefined, source: by })
    }
  }

  /** A value the row fitter changed (`FIT_FIX_KINDS`): counted on its column, journaled as `<kind>: <change>` with the value as it was. */
  fitted(column: string, by: string, fix: FitFix): void {
    this.report.fixed[column] = (this.report.fixed[column] ?? 0) + 1
    if (this.journaling) {
      this.entries.push({ table: this.report.name, action: 'fixed', kind: 'fixed', key: keyString(fix.key as Record<string, unknown> | undefined), column, message: `${fix.kind}: ${fix.message}`, row: JSON.stringify({ [column]: valueToJson(fix.value) }), source: by })
    }
  }

  #columnIndex: Map<string, number> | undefined

  /**
   * A fixed value's journal record: `{"column": value as it was}` (the key is in the entry's own field), or the
   * whole row for a column this table does not have. With the whole row, the 800 000 values `collapseMultiline`
   * changes in the transforms bench made a journal of 379 MB instead of 254 MB.
   */
  #valueAsItWas(column: string, row: Row): string {
    this.#columnIndex ??= new Map(this.table.columns.map((c, i) => [c.name, i]))
    const i = this.#columnIndex.get(column)
    return i === undefined ? rowToJson(this.table, row) : JSON.stringify({ [column]: valueToJson(row[i]) })
  }

  remap(from: unknown, to: unknown, by: string, detail?: string): void {
    if (this.journaling) {
      this.entries.push({
        table: this.report.name,
        action: 'remapped',
        kind: 'remapped',
        key: JSON.stringify(from),
        message: detail ?? `${JSON.stringify(from)} → ${JSON.stringify(to)}`,
        row: JSON.stringify({ from, to }),
        source: by,
      })
    }
  }

  async flush(journal: CopyContext['journal']): Promise<void> {
    if (journal && this.entries.length > 0) {
      await journal.journal.record(journal.runId, this.entries)
    }
    this.entries.length = 0
  }
}

async function runChain(
  chain: CopyContext['transformers'],
  from: number,
  rows: Row[],
  ledger: TableLedger,
  atEnd: boolean,
): Promise<Row[]> {
  let current = rows
  for (let i = from; i < chain.length; i++) {
    const { name, processor } = chain[i]!
    let removed = 0
    const out: BatchOutcome = {
      drop: (row, kind, message, column) => {
        removed++
        ledger.drop(row, kind, message, name, column, rowKey(ledger.table, row))
      },
      reject: (error) => {
        removed++
        ledger.reject(error, name)
      },
      fix: (column, row, detail) => ledger.fix(column, name, 1, row, detail),
      remap: (from, to, detail) => ledger.remap(from, to, name, detail),
    }
    const before = current.length
    let next: Row[]
    try {
      if (atEnd && i === from) {
        next = ((await processor.end?.(out)) as Row[] | undefined) ?? []
      } else {
        next = await processor.batch(current, out)
      }
    } catch (error) {
      if (isDbferryError(error)) throw error
      throw new TransformError(name, error instanceof Error ? error.message : String(error), { table: ledger.table.name, cause: error })
    }
    const expected = atEnd && i === from ? next.length : before - removed
    if (next.length !== expected) {
      throw new AccountingError(
        `transform ${name} on ${ledger.table.name}: got ${before} rows, passed on ${next.length}, reported ${removed} dropped or rejected`,
        { table: ledger.table.name },
      )
    }
    current = next
  }
  return current
}

/**
 * Copies one table: reads batches (one ahead), fits them to the target, runs the transform chain, writes
 * through the target's bulk path, and keeps the ledger. Throws only for what stops the table.
 */
export async function copyTable(ctx: CopyContext, pair: TablePair, report: TableReport, total: number | undefined): Promise<void> {
  const started = Date.now()
  const ledger = new TableLedger(report, pair.target, ctx.maxExamples, ctx.journal !== undefined, ctx.missingKeys)
  const fit = makeRowFitter(pair.source, pair.target, ctx.target.dialect.capabilities, ctx.fit)
  const onFitProblem = (e: RowError) => ledger.reject(e, 'target')
  const onFitFix = (column: string, fix?: FitFix) => (fix ? ledger.fitted(column, 'target', fix) : ledger.fix(column, 'target'))
  ctx.onProgress?.({ type: 'table-start', table: report.name, total, carried: report.read })
  let writer: TableWriter | undefined
  // the last state the target has committed, and the last state write() reported (committed or not)
  const counts = () => ({ read: report.read, written: report.written, rejected: report.rejected, dropped: report.dropped, byKind: { ...report.byKind } })
  let committedKey: readonly Value[] | undefined = ctx.after
  let committedCounts = counts()
  let writtenKey = committedKey
  let writtenCounts = committedCounts
  let inflight: Promise<void> | undefined
  // a resumed table's carried kinds are its own from here on (the report's `resumed.carried` keeps what was carried)
  report.byKind = { ...report.byKind }
  try {
    if (report.resumed?.restarted !== undefined) await emptyTargetTable(ctx, pair)
    if (await passThrough(ctx, pair, report, total)) return
    writer = await ctx.target.openWriter(pair.target)
    const confirm = async () => {
      // the journal gets a batch's entries only once the target committed it, so a resume never repeats them
      await ledger.flush(ctx.journal)
      committedKey = writtenKey
      committedCounts = writtenCounts
      await ctx.checkpoint?.(confirmedCheckpoint(report, committedKey, false))
    }
    // intent, write, confirm at commit: see resume.ts for why this order makes a crash at any point exact
    const write = async (rows: Row[], lastKey: readonly Value[] | undefined) => {
      if (rows.length > 0) {
        const pendingRows = report.written - committedCounts.written + rows.length
        await ctx.checkpoint?.(intentCheckpoint(report, committedKey, committedCounts, lastKey ?? writtenKey, pendingRows))
        const res = await writer!.write(rows)
        if (res.written + res.rejected.length !== rows.length) {
          throw new AccountingError(
            `${ctx.target.dialect.name} writer for ${report.name}: given ${rows.length} rows, wrote ${res.written}, rejected ${res.rejected.length}`,
            { table: report.name },
          )
        }
        report.written += res.written
        for (const e of res.rejected) ledger.reject(e, 'target')
        if (lastKey !== undefined) writtenKey = lastKey
        writtenCounts = counts()
        if (res.committed !== false) await confirm()
      } else {
        if (lastKey !== undefined) writtenKey = lastKey
        writtenCounts = counts()
        // nothing to write: confirm at once if nothing else is pending
        if (report.written === committedCounts.written) await confirm()
      }
    }
    const batches = ctx.source.read(pair.source, { batchRows: ctx.batchRows, batchBytes: ctx.batchBytes, signal: ctx.signal, after: ctx.after, until: ctx.until, pages: ctx.pages })
    // one write in flight: the next batch is read while the target loads this one (a synchronous reader such
    // as SQLite's cannot overlap otherwise); fitting, transforms and checkpoints still run strictly in order
    for await (const batch of batches) {
      if (inflight) await inflight
      // a synchronous reader and writer (SQLite to SQLite) never leave the microtask queue, so without this a
      // signal handler (Ctrl-C) and timers would only run once the whole table is copied
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (ctx.signal?.aborted) throw new AbortError()
      report.read += batch.rows.length + batch.rejected.length
      for (const e of batch.rejected) ledger.reject(e, 'reader')
      if (batch.fixed) for (const [c, n] of Object.entries(batch.fixed)) ledger.fix(c, 'reader', n)
      if (batch.fixes) for (const f of batch.fixes) ledger.fix(f.column, 'reader', 0, f.row, `${f.kind}: ${f.message}`)
      let rows = batch.rows
      if (fit) {
        const fitted: Row[] = []
        for (const r of rows) {
          const f = fit(r, onFitProblem, onFitFix)
          if (f !== undefined) fitted.push(f)
        }
        rows = fitted
      }
      if (ctx.transformers.length > 0) rows = await runChain(ctx.transformers, 0, rows, ledger, false)
      inflight = write(rows, batch.lastKey)
      // a failure surfaces at the await above or below, not as an unhandled rejection meanwhile
      inflight.catch(() => {})
      ctx.onProgress?.({
        type: 'batch',
        table: report.name,
        read: report.read,
        written: report.written,
        rejected: report.rejected,
        dropped: report.dropped,
        total,
        elapsedMs: Date.now() - started,
      })
    }
    if (inflight) await inflight
    for (let i = 0; i < ctx.transformers.length; i++) {
      if (!ctx.transformers[i]!.processor.end) continue
      const held = await runChain(ctx.transformers, i, [], ledger, true)
      await write(held, undefined)
    }
    await writer.close()
    writtenCounts = counts()
    await ledger.flush(ctx.journal)
    report.status = 'done'
    await ctx.checkpoint?.(confirmedCheckpoint(report, writtenKey, true))
  } catch (error) {
    error = namedForTable(error, report.name, [ctx.source.dialect, ctx.target.dialect])
    report.status = 'failed'
    report.error = error instanceof Error ? error.message : String(error)
    // rows read whose outcome the run never learned: the batch being fitted or written when the table stopped
    const inFlight = report.read + report.inserted - report.written - report.rejected - report.dropped
    if (inFlight > 0) report.error += ` (${inFlight} row(s) in flight: read but not yet written, rejected or dropped when it stopped; a resume reads them again)`
    // never abort under a write that is still running
    await inflight?.catch(() => {})
    // abort commits what write() reported written: record that as committed; if abort fails, the intent
    // checkpoint stands and resume asks the target what it holds. A lost connection leaves the write that was
    // under way in doubt (its COMMIT may have reached the server before the connection went): the intent
    // stands then too, whatever abort says, and resume counts the target's rows
    if (writer?.abort) {
      const aborted = await writer.abort().then(
        () => true,
        () => false,
      )
      if (aborted && !(error instanceof ConnectionError)) {
        await ledger.flush(ctx.journal).catch(() => {})
        await ctx.checkpoint?.(confirmedCheckpoint({ ...report, ...writtenCounts }, writtenKey, false)).catch(() => {})
      }
    }
    throw error
  } finally {
    report.ms += Date.now() - started
    ctx.onProgress?.({
      type: 'table-end',
      table: report.name,
      read: report.read,
      written: report.written,
      rejected: report.rejected,
      dropped: report.dropped,
      ms: report.ms,
      status: report.status === 'done' ? 'done' : 'failed',
    })
  }
}

/**
 * Empties a table's target table before a resumed run copies it again from the start (it had no key to continue
 * after), through the target's own `truncate` mode, so no row of the interrupted run is written twice.
 */
async function emptyTargetTable(ctx: CopyContext, pair: TablePair): Promise<void> {
  await ctx.target.prepareTarget({ dialect: ctx.target.dialect.name, tables: [pair.target], objects: [] }, { mode: 'truncate', signal: ctx.signal })
}

/**
 * A driver's error for a lost connection (reset, closed, terminated by the server) as a `ConnectionError` that
 * names the table, with the driver's fields; other errors pass unchanged. The source's and the target's
 * dialects say what their driver's errors mean.
 */
function namedForTable(error: unknown, table: string, dialects: readonly BaseDialect[]): unknown {
  if (isDbferryError(error) || !(error instanceof Error)) return error
  for (const d of dialects) {
    const read = d.errors?.classify(error)
    if (read?.connectionLost) {
      return new ConnectionError(`lost the connection while copying ${table}: ${error.message} (run again with --resume to continue)`, { table, cause: error, driver: read.driver })
    }
  }
  return error
}

/** Checks `read + inserted = written + rejected + dropped` for a finished table. */
export function checkAccounting(report: TableReport): void {
  if (report.status !== 'done') return
  const inflow = report.read + report.inserted
  const outflow = report.written + report.rejected + report.dropped
  if (inflow !== outflow) {
    throw new AccountingError(
      `${report.name}: read ${report.read} + inserted ${report.inserted} ≠ written ${report.written} + rejected ${report.rejected} + dropped ${report.dropped}`,
      { table: report.name },
    )
  }
}
