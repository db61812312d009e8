import { DbferryError, TransformError } from '../errors.js'
import type { Checkpoint } from '../journal/journal.js'
import type { FerryOptions } from '../options.js'
import { withNotes } from '../plan/generated-notes.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'
import { makeTransformContext } from '../transforms/context.js'
import type { TableTransformer, Transform, TransformContext } from '../transforms/transform.js'
import { copyPhaseEvent } from './copy-progress.js'
import { copyChunked } from './copy-chunked.js'
import { copyTable } from './copy-table.js'
import { batchSizes, EarlyFinish, openLanes, splitTables, tableTotal } from './jobs.js'
import type { Chunk } from './chunks.js'
import type { LanePool } from './lanes.js'
import { confirmedCheckpoint } from './resume.js'
import { runScheduled } from './schedule.js'

/**
 * The copy: every table in plan order (several at once where the source reads concurrently in one snapshot
 * and the target writes tables independently), each through the transforms' batch processors into the
 * target's bulk path. Returns, when `verify` is asked, the keys of rows that will not be on the target.
 */
export async function copyTables(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<Map<string, string[]> | undefined> {
  // a schemaOnly run creates the tables and copies no rows: every table stays `skipped`
  if (options.schemaOnly) return undefined
  const { source, target } = { source: run.source.connection, target: run.target.connection }
  const missing = options.verify ? new Map(planned.pairs.map((p) => [p.target.name, [] as string[]])) : undefined
  const ctx = makeTransformContext(source, target, planned, planned.reports, run.journal, options)
  run.onClose.push(ctx.close)
  const transforms = options.transforms ?? []
  for (const t of transforms) await t.start?.(ctx)
  options.onProgress?.(copyPhaseEvent(planned))
  const pool = await openLanes(run, options)
  try {
    const parallel = source.dialect.capabilities.concurrentSnapshotReads && target.dialect.capabilities.concurrentWrites === true
    // with jobs, as many tables start as there are jobs; each waits for a lane (a chunked one for several)
    const concurrency = pool.size > 1 ? pool.size : parallel ? Math.max(1, options.concurrency ?? 1) : 1
    if (pool.size === 1) noteIgnoredConcurrency(run, options.concurrency)
    const split = await splitTables(run, planned, pool, options)
    const early = new EarlyFinish(pool, planned.targetSchema, options)
    try {
      await runScheduled(
        planned.order,
        concurrency,
        async (name) => {
          await copyOne(run, planned, name, transforms, ctx, options, { pool, ...split.get(name) }, missing?.get(name))
          if (planned.reports.get(name)!.status === 'done') early.table(planned.pairByName.get(name)!.target)
        },
        options.signal,
      )
    } finally {
      await early.settle()
    }
  } finally {
    await pool.close()
  }
  for (const t of transforms) await t.end?.(ctx)
  return missing
}

/**
 * Says once, in the report's notes, that a `concurrency` above 1 was not honoured and which side takes one
 * table at a time: a source whose snapshot is one session, or a target that cannot write tables independently.
 */
function noteIgnoredConcurrency(run: RunState, requested: number | undefined): void {
  if (requested === undefined || requested <= 1 || !run.report.snapshot) return
  const { source, target } = { source: run.source.connection.dialect, target: run.target.connection.dialect }
  const why = !source.capabilities.concurrentSnapshotReads
    ? `the ${source.name} source reads its snapshot one table at a time`
    : target.capabilities.concurrentWrites !== true
      ? `the ${target.name} target takes one table at a time`
      : undefined
  if (why) run.report.snapshot = withNotes(run.report.snapshot, [`--concurrency ${requested} ignored: ${why}`])
}

/** One table: skipped when a resumed run finished it, else copied after the transforms open their processors. */
async function copyOne(
  run: RunState,
  planned: PlannedRun,
  name: string,
  transforms: readonly Transform[],
  ctx: TransformContext,
  options: FerryOptions,
  jobs: { pool: LanePool; chunks?: Chunk[]; total?: number },
  missingKeys: string[] | undefined,
): Promise<void> {
  const journal = run.journal
  const pair = planned.pairByName.get(name)!
  const report = planned.reports.get(name)!
  const resume = planned.resumeAt.get(name)
  if (resume?.done) {
    report.status = 'done'
    if (journal) await journal.journal.checkpoint(journal.runId, confirmedCheckpoint(report, undefined, true))
    return
  }
  const transformers = await openProcessors(transforms, pair.target, ctx, name)
  const source = run.source.connection
  const { pool } = jobs
  const total = pool.size > 1 ? jobs.total : await tableTotal(source, pair, options)
  const base = {
    journal: journal ? { journal: journal.journal, runId: journal.runId } : undefined,
    ...batchSizes(options, pool.size, run.target.connection.dialect.capabilities),
    maxExamples: options.maxExamples ?? 20,
    fit: { stripNul: options.stripNul, decimals: options.decimals },
    signal: options.signal,
    onProgress: options.onProgress,
    transformers,
    checkpoint: journal ? async (cp: Checkpoint) => journal.journal.checkpoint(journal.runId, cp) : undefined,
    missingKeys,
    passThrough: options.passThrough,
  }
  const chunks = resume?.chunked?.chunks ?? jobs.chunks
  if (chunks) {
    await copyChunked({ base, pool, checkpoint: base.checkpoint, chunks, resumed: resume?.chunked?.states }, pair, report, total)
    return
  }
  if (pool.size === 1) {
    await copyTable({ ...base, source, target: run.target.connection, after: resume?.after }, pair, report, total)
    return
  }
  const lane = await pool.acquire()
  try {
    await copyTable({ ...base, source: lane.source, target: lane.target, after: resume?.after }, pair, report, total)
  } finally {
    pool.release(lane)
  }
}

/** Each transform's batch processor for one table; a transform that throws is named in the error. */
async function openProcessors(
  transforms: readonly Transform[],
  table: PlannedRun['targetSchema']['tables'][number],
  ctx: TransformContext,
  name: string,
): Promise<{ name: string; processor: TableTransformer }[]> {
  const out: { name: string; processor: TableTransformer }[] = []
  for (const t of transforms) {
    let processor
    try {
      processor = await t.table?.(table, ctx)
    } catch (error) {
      if (error instanceof DbferryError) throw error
      throw new TransformError(t.name, error instanceof Error ? error.message : String(error), { table: name, cause: error })
    }
    if (processor) out.push({ name: t.name, processor })
  }
  return out
}
