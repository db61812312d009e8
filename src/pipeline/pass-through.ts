import type { Connection, CsvText } from '../dialect.js'
import { AbortError, AccountingError, ConnectionError } from '../errors.js'
import type { TableReport } from '../report.js'
import type { FileTable, FileTableSource, FileTableTarget } from '../file-table.js'
import type { TablePair } from '../plan/table-pair.js'
import type { CopyContext } from './copy-context.js'
import { confirmedCheckpoint, intentCheckpoint } from './resume.js'

/**
 * The pass-through path: a CSV table that needs no change goes to a target that parses CSV itself as the
 * file's bytes, in one transaction, instead of being parsed and converted row by row in Node. The source
 * checks the bytes on the way (strict CSV, canonical text in typed columns) and counts the records; the
 * table commits only when the target's row count equals that count, so `read = written` is proven. Anything
 * else — a check that fails, a value or a line the target refuses, a count that differs — rolls the table
 * back, and the row path loads it, journaling each bad row with its line number: the outcome is the same
 * as without the pass-through, only slower. A database can hand over its own text the same way (a PostgreSQL
 * table to a PostgreSQL target, `CsvText.native`): its COPY output goes into the target's COPY unparsed,
 * with the same count check and the same fallback. A database that is one file hands a table to a target of
 * its engine as the file itself (SQLite → SQLite, {@link FileTableSource}): the target reads the rows from the
 * file in its own write transaction, never decoded in Node, under the same rules.
 */

/** `c` with the optional method of a {@link FileTableSource}, or undefined. */
function asFileTableSource(c: Connection): FileTableSource | undefined {
  return typeof (c as Partial<FileTableSource>).fileTable === 'function' ? (c as unknown as FileTableSource) : undefined
}

/** `c` with the optional method of a {@link FileTableTarget}, or undefined. */
function asFileTableTarget(c: Connection): FileTableTarget | undefined {
  return typeof (c as Partial<FileTableTarget>).copyFileTable === 'function' ? (c as unknown as FileTableTarget) : undefined
}

/**
 * Why `pair` cannot take the pass-through path between a source that hands over CSV text and a target that
 * loads it, or undefined when it can try. `resumes` (default false): the hand-over can start after a key (a
 * {@link FileTable}'s `after`), so a table resumed after rows already loaded may take it.
 */
export function passThroughBlocker(ctx: CopyContext, pair: TablePair, report: TableReport, resumes = false): string | undefined {
  if (ctx.transformers.length > 0) return `transforms process its rows (${ctx.transformers.map((t) => t.name).join(', ')})`
  const loaded = report.read + report.written + report.rejected + report.dropped > 0
  if ((!resumes && (ctx.after !== undefined || loaded)) || (loaded && ctx.after === undefined)) return 'it resumes after rows already loaded'
  if (ctx.until !== undefined) return 'it is one chunk of a table split by key ranges'
  // a chunk of a table without a key, by the pages it is stored in
  if (ctx.pages !== undefined) return 'it is one chunk of a table split by page ranges'
  const caps = ctx.target.dialect.capabilities
  const { source, target } = pair
  if (target.columns.length !== source.columns.length) return 'the target does not take every column of the file'
  const used = new Set<string>()
  for (const c of target.columns) {
    const from = source.columns.find((s) => s.name === (c.origin ?? c.name))
    if (!from || used.has(from.name)) return `column ${c.name} is not one column of the file`
    used.add(from.name)
    // a changed type means a conversion on the row path
    if (JSON.stringify(from.type) !== JSON.stringify(c.type)) return `column ${c.name} changes type on the way`
    const k = c.type.kind
    if ((k === 'float32' || k === 'float64') && !caps.floatHoldsNonFinite) return `the target cannot hold NaN or Infinity in ${c.name}`
    if ((k === 'time' || k === 'timestamp' || k === 'timestamptz') && (c.type.precision ?? 6) > caps.maxTimestampPrecision) return `${c.name} has more fractional digits than the target keeps`
  }
  return undefined
}

/**
 * Tries the pass-through path for one table. Returns true when the table is loaded and committed (the report
 * holds its counts, status `done`); false when the row path must load it, with `report.pathNote` saying why.
 * Throws only for what would stop the row path too: an abort, a lost connection, a failed checkpoint.
 */
export async function passThrough(ctx: CopyContext, pair: TablePair, report: TableReport, total: number | undefined): Promise<boolean> {
  report.path = 'rows'
  if (ctx.passThrough === false) return false
  const source = asFileTableSource(ctx.source)
  const target = asFileTableTarget(ctx.target)
  if (source && target && ctx.source.dialect.name === ctx.target.dialect.name) return fileTablePassThrough(ctx, pair, report, total, source, target)
  // nothing to explain where neither side could (any source but CSV files, a target that does not parse
  // CSV) or the user turned it off
  if (!ctx.source.csvText || !ctx.target.loadCsv || ctx.target.dialect.capabilities.loadsCsv !== true) return false
  const blocker = passThroughBlocker(ctx, pair, report)
  if (blocker !== undefined) {
    report.pathNote = blocker
    return false
  }
  const text = await ctx.source.csvText(pair.source)
  if (typeof text === 'string') {
    report.pathNote = text
    return false
  }
  // a database's own text forms are read back as the same values only by that engine: for any other target
  // the row path is the normal one, nothing to explain (and no byte was read: its COPY starts at the first chunk)
  if (text.native !== undefined && text.native !== ctx.target.dialect.name) return false
  // the file's fields by the target's names
  const nameOf = new Map(pair.target.columns.map((c) => [c.origin ?? c.name, c.name]))
  const started = Date.now()
  let last = 0
  const bytes = async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of text.bytes) {
      yield chunk
      if (ctx.onProgress && Date.now() - last > 250) {
        last = Date.now()
        ctx.onProgress({ type: 'batch', table: report.name, read: text.records(), written: 0, rejected: 0, dropped: 0, total, elapsedMs: Date.now() - started })
      }
    }
  }
  const handed: CsvText = {
    format: text.format,
    columns: text.columns.map((c) => nameOf.get(c) ?? c),
    bytes: bytes(),
    records: text.records,
    lastLine: text.lastLine,
  }
  let load
  try {
    load = await ctx.target.loadCsv!(pair.target, handed, { signal: ctx.signal })
  } catch (error) {
    if (error instanceof AbortError || error instanceof ConnectionError || ctx.signal?.aborted) throw error
    report.pathNote = `fell back to the row path: ${error instanceof Error ? error.message : String(error)}`
    return false
  }
  if (typeof load === 'string') {
    report.pathNote = load
    return false
  }
  const records = text.records()
  if (load.rows !== records) {
    await load.rollback()
    report.pathNote = `fell back to the row path: the target loaded ${load.rows} rows where the file has ${records} records`
    return false
  }
  // intent, commit, confirm (see resume.ts): before the commit the target holds none of the table's rows,
  // after it all of them, and the intent lets resume tell which
  const lastKey = text.lastLine ? [text.lastLine()] : undefined
  report.read = records
  const none = { read: 0, written: 0, rejected: 0, dropped: 0 }
  try {
    await ctx.checkpoint?.(intentCheckpoint(report, undefined, none, lastKey, records))
  } catch (error) {
    await load.rollback().catch(() => {})
    report.read = 0
    throw error
  }
  await load.commit()
  report.written = records
  report.path = 'pass-through'
  delete report.pathNote
  report.status = 'done'
  await ctx.checkpoint?.(confirmedCheckpoint(report, lastKey, true))
  return true
}

/**
 * The pass-through of a database file's table into a target of its engine ({@link FileTable}): the target copies
 * the rows in one transaction of its own. The intent checkpoint comes first (the copy and its commit are one
 * step, which nothing can interleave with), with the source's row count as the pending rows: after a crash the
 * target holds none of them or all of them, and resume tells which. Resumed tables continue after their last
 * committed key. Returns true when the table is committed; false, with `report.pathNote`, for the row path.
 */
async function fileTablePassThrough(ctx: CopyContext, pair: TablePair, report: TableReport, total: number | undefined, source: FileTableSource, target: FileTableTarget): Promise<boolean> {
  const blocker = passThroughBlocker(ctx, pair, report, true)
  if (blocker !== undefined) {
    report.pathNote = blocker
    return false
  }
  const from = await source.fileTable(pair.source, ctx.after === undefined ? {} : { after: ctx.after })
  if (typeof from === 'string') {
    report.pathNote = from
    return false
  }
  if (from.engine !== ctx.target.dialect.name) return false
  if (ctx.signal?.aborted) throw new AbortError()
  const started = Date.now()
  const committed = { read: report.read, written: report.written, rejected: report.rejected, dropped: report.dropped, byKind: { ...report.byKind } }
  report.read += from.rows
  let copied: { rows: number } | string
  try {
    await ctx.checkpoint?.(intentCheckpoint(report, ctx.after, committed, from.lastKey ?? ctx.after, from.rows))
    const onRows = (rows: number) =>
      ctx.onProgress?.({ type: 'batch', table: report.name, read: committed.read + rows, written: committed.written, rejected: report.rejected, dropped: report.dropped, total, elapsedMs: Date.now() - started })
    copied = await target.copyFileTable(from, pair.target, ctx.signal ? { signal: ctx.signal, onRows } : { onRows })
  } catch (error) {
    // the target holds what it held before (a failed checkpoint, a lost file): the row path would stop too
    report.read = committed.read
    throw error
  }
  if (typeof copied === 'string') {
    report.read = committed.read
    report.pathNote = `fell back to the row path: ${copied}`
    return false
  }
  if (copied.rows !== from.rows) {
    throw new AccountingError(`${ctx.target.dialect.name} target for ${report.name}: committed ${copied.rows} rows of a table handed over with ${from.rows}`, { table: report.name })
  }
  report.written += copied.rows
  report.path = 'pass-through'
  delete report.pathNote
  report.status = 'done'
  await ctx.checkpoint?.(confirmedCheckpoint(report, from.lastKey ?? ctx.after, true))
  ctx.onProgress?.({ type: 'batch', table: report.name, read: report.read, written: report.written, rejected: report.rejected, dropped: report.dropped, total, elapsedMs: Date.now() - started })
  return true
}
