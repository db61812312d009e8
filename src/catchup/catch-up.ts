import type { ConnectionSpec } from '../connect.js'
import type { Connection, Dialect } from '../dialect.js'
import { AbortError, RowError, SchemaError, TransformError, UsageError, isDbferryError, type FailureKind } from '../errors.js'
import type { FerryOptions } from '../options.js'
import { makeRowFitter, type FitOptions } from '../pipeline/fit-rows.js'
import { prepareRun, type PreparedRun } from '../plan/prepare-run.js'
import type { TablePair } from '../plan/table-pair.js'
import { valueToJson } from '../schema/rows.js'
import type { TableSelection } from '../schema/select.js'
import type { Row, Value } from '../schema/types.js'
import { makeTransformContext } from '../transforms/context.js'
import type { BatchOutcome, TableTransformer, TransformContext } from '../transforms/transform.js'
import { targetApplier, type TargetApplier } from './apply.js'
import { selectionOf } from './capture.js'
import { canonicalKey, keyColumnsOf, keyObject, keyText, type ChangeEntry } from './keys.js'
import { CHANGE_TABLE } from './names.js'
import { readCurrentRows } from './read-rows.js'
import { captureSession, openWritable, type CaptureSession } from './session.js'

/** Options of {@link catchUp}. */
export interface CatchUpOptions extends Pick<FerryOptions, 'foreignKeys' | 'types' | 'transforms' | 'identifiers' | 'stripNul' | 'decimals' | 'signal'> {
  /** The captured source: a URL, a dbferry connection or a driver object (left open). */
  from: ConnectionSpec
  /** The target the bulk copy wrote: a URL, a dbferry connection or a driver object (left open). */
  to: ConnectionSpec
  /**
   * The tables to catch up, named as on the source (or a selection as `ferry` takes it): give the copy's own
   * selection. Entries of other tables stay in the change table for a later catch-up. Default: every table.
   */
  tables?: readonly string[] | TableSelection
  /** Change entries read per round. Default 10 000. */
  batchEntries?: number
  /** Rejected rows listed in the report. Default 100; counts stay exact. */
  maxRejects?: number
}

/** One table's catch-up. */
export interface CatchUpTableReport {
  /** The table's name on the target. */
  name: string
  /** Its name on the source, when it differs. */
  source?: string
  /** Rows written (inserted, or updated in place). */
  upserted: number
  /** Rows deleted from the target because the source no longer has them. */
  deleted: number
  /** Rows that could not be read, fitted or written: their change entries stay for the next catch-up. */
  rejected: number
  /** Rows a transform dropped: not written, and their entries removed. */
  dropped: number
}

/** A row catch-up could not apply: the table, its key, the column and value at fault, and why. */
export interface CatchUpReject {
  /** The table (its name on the target; on the source for a row that could not be read). */
  table: string
  /** The row's key by column name, or the change entry's key text when it could not be read. */
  key: Record<string, unknown> | string | undefined
  /** The column at fault. Absent: the engine named none and no one column breaks the rule. */
  column?: string
  /** The value at fault, as JSON (bigint as a string, bytes as hex). Absent: no one column at fault. */
  value?: unknown
  /** The failure kind (`type_conversion`, `truncation`, `not_null`, `foreign_key_violation`, …). */
  kind: FailureKind
  /** What went wrong, with the engine's reason. */
  message: string
}

/** What {@link catchUp} did. */
export interface CatchUpReport {
  /** Change entries read (and, except those of rejected rows or other tables, removed). */
  entries: number
  /** Distinct changed rows among them. */
  keys: number
  /** Entries removed from the change table, by id. */
  removed: number
  /** Entries left in the change table: of rejected rows, or of tables outside `tables`. */
  kept: number
  /** Per table with changes, in load order. */
  tables: CatchUpTableReport[]
  /** The first `maxRejects` rejected rows. */
  rejects: CatchUpReject[]
  /** True when nothing was rejected. */
  clean: boolean
  /** Notes on what this catch-up could not do exactly (transforms that only see the changed rows). Default empty. */
  notes: string[]
  /** Time it took, in milliseconds. */
  ms: number
}

/** Open connections and the run's plan, shared by {@link catchUp} and {@link cutover}. */
export interface CatchUpContext {
  /** The captured source. */
  source: CaptureSession
  /** The target, opened writable. */
  target: Connection
  /** Whether the target was opened here (and is closed by {@link closeCatchUp}). */
  targetOwned: boolean
  /** The namespace of the target's tables on engines with schemas; undefined: the session's default. */
  targetSchema: string | undefined
  /** Source and target shapes, load order and renames, as the copy planned them. */
  prepared: PreparedRun
}

/** Opens source and target and plans the tables as the copy did (selection, schema transforms, identifier rules). */
export async function openCatchUp(options: CatchUpOptions): Promise<CatchUpContext> {
  const source = await captureSession(await openWritable(options.from, 'catch-up'))
  let target: { connection: Connection; owned: boolean } | undefined
  try {
    target = await openWritable(options.to, 'catch-up target')
    const t = target.connection
    if (!(t.dialect as Partial<Dialect>).changes || !t.query || !t.dialect.sql) throw new UsageError(`${t.dialect.name} (${t.description}) cannot be a catch-up target: only SQLite, PostgreSQL, MySQL/MariaDB and SQL Server can`)
    if (!(await source.changeTableExists())) throw new UsageError(`${source.connection.description} has no change table ${CHANGE_TABLE}: run \`dbferry capture\` (captureChanges) before the copy`)
    // the change table is never part of the copy: prepareRun leaves it out as it does for the copy
    const prepared = prepareRun(await source.connection.introspect(), t, { ...options, tables: selectionOf(options.tables) })
    const targetSchema = t.dialect.capabilities.schemas ? (await t.identity?.())?.schema : undefined
    return { source, target: t, targetOwned: target.owned, targetSchema, prepared }
  } catch (error) {
    if (target?.owned) await target.connection.close().catch(() => {})
    await source.close().catch(() => {})
    throw error
  }
}

/** Closes what {@link openCatchUp} opened. */
export async function closeCatchUp(ctx: CatchUpContext): Promise<void> {
  try {
    await ctx.source.close()
  } finally {
    if (ctx.targetOwned) await ctx.target.close()
  }
}

/**
 * Applies the changes a capture recorded since the copy (or the last catch-up) to the target: for every
 * distinct changed key it reads the row as the source holds it now and upserts it into the target (fitted
 * to the target as the copy fits rows, and through the row transforms' batch processors when `transforms` are
 * given), or deletes it from the target when the source no longer has it. Upserts go parents first, deletes
 * children first. It then removes exactly the change entries it applied, by id (ids commit out of order, so no
 * watermark). Rows that cannot be read or written are rejected — named by table, key, column and value in the
 * report — and their entries stay, so the next catch-up tries them again.
 *
 * Safe to run repeatedly while the source is live: a row changed again meanwhile has a new entry, and applying a
 * row's current state twice gives the same target. An entry committed late with a smaller id than those read is
 * applied by the next catch-up.
 *
 * @example
 * const r = await catchUp({ from: 'mysql://root@127.0.0.1/app', to: 'postgres://postgres@127.0.0.1/app' })
 * console.log(r.tables.map((t) => `${t.name}: +${t.upserted} -${t.deleted}`).join('\n'))
 */
export async function catchUp(options: CatchUpOptions): Promise<CatchUpReport> {
  const ctx = await openCatchUp(options)
  try {
    return await catchUpWith(ctx, options)
  } finally {
    await closeCatchUp(ctx)
  }
}

/** One pair's changed keys in a round: key text → key values and the ids of its entries. */
type ChangedKeys = Map<string, { key: Value[]; ids: (number | bigint)[] }>

/** {@link catchUp} over open connections. */
export async function catchUpWith(ctx: CatchUpContext, options: CatchUpOptions): Promise<CatchUpReport> {
  const started = Date.now()
  const { source, prepared } = ctx
  const limit = options.batchEntries ?? 10_000
  const maxRejects = options.maxRejects ?? 100
  const report: CatchUpReport = { entries: 0, keys: 0, removed: 0, kept: 0, tables: [], rejects: [], clean: true, notes: [], ms: 0 }
  const reports = new Map<TablePair, CatchUpTableReport>()
  const reportOf = (pair: TablePair) => {
    let r = reports.get(pair)
    if (!r) {
      r = { name: pair.target.name, upserted: 0, deleted: 0, rejected: 0, dropped: 0 }
      if (pair.source.name !== pair.target.name) r.source = pair.source.name
      reports.set(pair, r)
    }
    return r
  }
  const reject = (pair: TablePair | undefined, e: RowError) => {
    report.clean = false
    if (pair) reportOf(pair).rejected++
    if (report.rejects.length < maxRejects) report.rejects.push({ table: e.table ?? pair?.target.name ?? '', key: e.key, column: e.column, value: valueToJson(e.value), kind: e.code, message: e.message })
  }
  const bySource = new Map(prepared.pairs.map((p) => [p.source.name, p]))
  const byFolded = new Map(prepared.pairs.map((p) => [p.source.name.toLowerCase(), p]))
  const order = new Map(prepared.order.order.map((name, i) => [name, i]))
  const sorted = (pairs: Iterable<TablePair>) => [...pairs].sort((a, b) => (order.get(a.target.name) ?? 0) - (order.get(b.target.name) ?? 0))
  const apply = targetApplier(ctx.target, ctx.targetSchema)
  const chain = await openTransforms(ctx, options, report)
  const fit: FitOptions = { stripNul: options.stripNul, decimals: options.decimals }
  const fitters = new Map(prepared.pairs.map((p) => [p, makeRowFitter(p.source, p.target, ctx.target.dialect.capabilities, fit)]))
  let lastId: bigint | undefined
  try {
    for (;;) {
      if (options.signal?.aborted) throw new AbortError()
      const entries = await readEntries(source, limit, lastId)
      if (entries.length === 0) break
      lastId = BigInt(entries.at(-1)!.id)
      report.entries += entries.length
      const changed = new Map<TablePair, ChangedKeys>()
      const done: (number | bigint)[] = []
      for (const entry of entries) {
        const pair = bySource.get(entry.table) ?? byFolded.get(entry.table.toLowerCase())
        if (!pair || keyColumnsOf(pair.source).length === 0) {
          report.kept++
          continue
        }
        const key = canonicalKey(pair.source, entry)
        if (key instanceof RowError) {
          reject(pair, key)
          report.kept++
          continue
        }
        let keys = changed.get(pair)
        if (!keys) changed.set(pair, (keys = new Map()))
        const k = keyText(key)
        const at = keys.get(k)
        if (at) at.ids.push(entry.id)
        else keys.set(k, { key, ids: [entry.id] })
      }
      // each pair's current rows, read before anything is written (the target may be the source's engine)
      const current = new Map<TablePair, Awaited<ReturnType<typeof readCurrentRows>>>()
      for (const [pair, keys] of changed) {
        report.keys += keys.size
        current.set(pair, await readCurrentRows(source.connection, pair.source, [...keys.values()].map((k) => k.key), source.schema))
      }
      // upserts parents first
      for (const pair of sorted(changed.keys())) {
        const keys = changed.get(pair)!
        const now = current.get(pair)!
        const r = reportOf(pair)
        const ids = (k: string) => keys.get(k)?.ids ?? []
        // a row read under a key no entry named would make its own key look deleted below: a bug, never guessed at
        for (const k of [...now.rows.keys(), ...now.rejected.keys()]) {
          if (!keys.has(k)) throw new SchemaError(`catch-up of ${pair.source.name}: read a row with key ${k}, which no change entry names`, { table: pair.source.name })
        }
        for (const [k, e] of now.rejected) {
          reject(pair, e)
          report.kept += ids(k).length
        }
        let rows: { k: string; row: Row }[] = []
        for (const [k, row] of now.rows) {
          const fitter = fitters.get(pair)
          let problem: RowError | undefined
          const fitted = fitter ? fitter(row, (e) => (problem = e), () => {}) : row
          if (fitted === undefined) {
            reject(pair, problem ?? new RowError('type_conversion', `${pair.target.name}: the row does not fit the target`, { table: pair.target.name, key: keyObject(keyColumnsOf(pair.source), keys.get(k)!.key) }))
            report.kept += ids(k).length
            continue
          }
          rows.push({ k, row: fitted })
        }
        rows = await runTransforms(chain.get(pair.target.name) ?? [], pair, rows, {
          dropped: (k) => {
            r.dropped++
            done.push(...ids(k))
          },
          rejected: (k, e) => {
            reject(pair, e)
            report.kept += ids(k).length
          },
        })
        for (const { k, row } of rows) {
          const refused = await apply.upsert(pair.target, row)
          if (refused) {
            reject(pair, refused)
            report.kept += ids(k).length
          } else {
            r.upserted++
            done.push(...ids(k))
          }
        }
      }
      // deletes children first
      for (const pair of sorted(changed.keys()).reverse()) {
        const keys = changed.get(pair)!
        const now = current.get(pair)!
        for (const [k, { key, ids }] of keys) {
          if (now.rows.has(k) || now.rejected.has(k)) continue
          const refused = await apply.delete(pair.target, targetKey(pair, key))
          if (refused) {
            reject(pair, refused)
            report.kept += ids.length
          } else {
            reportOf(pair).deleted++
            done.push(...ids)
          }
        }
      }
      await deleteEntries(source, done)
      report.removed += done.length
      if (entries.length < limit) break
    }
  } finally {
    await chain.close()
  }
  report.tables = sorted(reports.keys()).map((p) => reports.get(p)!)
  report.ms = Date.now() - started
  return report
}

/** The target's key values of a source key: the key columns as the target table orders them. */
function targetKey(pair: TablePair, key: readonly Value[]): Value[] {
  const sourceKey = keyColumnsOf(pair.source).map((c) => c.name)
  return keyColumnsOf(pair.target).map((c) => key[sourceKey.indexOf(c.origin ?? c.name)] ?? null)
}

/** Reads a round of change entries in id order, past `after` (reading only: entries are removed by id). */
async function readEntries(source: CaptureSession, limit: number, after: bigint | undefined): Promise<ChangeEntry[]> {
  const rows = await source.query(source.changes.readChanges(limit, source.schema, after))
  return rows.map((r) => ({ id: typeof r.id === 'bigint' ? r.id : typeof r.id === 'number' ? r.id : BigInt(String(r.id)), table: String(r.table_name), keyJson: String(r.key_json) }))
}

/** Removes exactly these entries from the change table, in statements of at most 1 000 ids. */
async function deleteEntries(source: CaptureSession, ids: readonly (number | bigint)[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) await source.query(source.changes.deleteChanges(ids.slice(i, i + 1000), source.schema))
}

/** The row transforms' processors per target table, over a transform context of this catch-up. */
async function openTransforms(ctx: CatchUpContext, options: CatchUpOptions, report: CatchUpReport): Promise<Map<string, { name: string; processor: TableTransformer }[]> & { close(): Promise<void> }> {
  const chains = new Map<string, { name: string; processor: TableTransformer }[]>() as Map<string, { name: string; processor: TableTransformer }[]> & { close(): Promise<void> }
  const transforms = options.transforms ?? []
  let tctx: (TransformContext & { close(): Promise<void> }) | undefined
  chains.close = async () => {
    await tctx?.close()
  }
  if (!transforms.some((t) => t.table)) return chains
  tctx = makeTransformContext(ctx.source.connection, ctx.target, ctx.prepared, new Map(), undefined, { ...options, from: options.from, to: options.to } as FerryOptions)
  report.notes.push(
    'row transforms ran on the changed rows only: a transform that decides by rows it saw earlier in the copy (dedupe choosing a kept row and remapping references to it, fixDanglingForeignKeys adding stubs) decides here among the changed rows and what it reads itself, and its remaps of the copy are not applied again',
  )
  for (const t of transforms) await t.start?.(tctx)
  for (const pair of ctx.prepared.pairs) {
    const list: { name: string; processor: TableTransformer }[] = []
    for (const t of transforms) {
      const processor = await t.table?.(pair.target, tctx)
      if (processor) list.push({ name: t.name, processor })
    }
    if (list.length > 0) chains.set(pair.target.name, list)
  }
  return chains
}

/**
 * Passes fitted rows through a table's transform chain (batch, then end), as the copy does; rows a transform
 * drops or rejects are reported by their key text and not written.
 */
async function runTransforms(
  chain: readonly { name: string; processor: TableTransformer }[],
  pair: TablePair,
  rows: { k: string; row: Row }[],
  on: { dropped(k: string): void; rejected(k: string, e: RowError): void },
): Promise<{ k: string; row: Row }[]> {
  if (chain.length === 0 || rows.length === 0) return rows
  const keyOf = new Map(rows.map((r) => [r.row, r.k]))
  let current = rows.map((r) => r.row)
  for (const { name, processor } of chain) {
    const out: BatchOutcome = {
      drop: (row) => on.dropped(keyOf.get(row) ?? ''),
      reject: (e) => on.rejected(keyOf.get(e.row as Row) ?? '', e),
      fix: () => {},
      remap: () => {},
    }
    try {
      const next = await processor.batch(current, out)
      const held = (await processor.end?.(out)) ?? []
      current = [...next, ...held]
    } catch (error) {
      if (isDbferryError(error)) throw error
      throw new TransformError(name, error instanceof Error ? error.message : String(error), { table: pair.target.name, cause: error })
    }
    // a transform may replace a row with a changed copy: it keeps the key text of the row in the same place
    for (const r of current) if (!keyOf.has(r)) keyOf.set(r, keyText(keyColumnsOf(pair.target).map((c) => r[pair.target.columns.indexOf(c)] ?? null)))
  }
  return current.map((row) => ({ k: keyOf.get(row)!, row }))
}
