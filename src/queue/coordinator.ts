import { randomUUID } from 'node:crypto'
import { AbortError, DbferryError, UsageError, type FailureKind } from '../errors.js'
import { encodeKey } from '../journal/keys.js'
import type { FerryOptions } from '../options.js'
import { addChunkReport } from '../pipeline/chunk-state.js'
import type { Chunk } from '../pipeline/chunks.js'
import { batchSizes, chunksFor } from '../pipeline/jobs.js'
import { withNotes } from '../plan/generated-notes.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { TableReport } from '../report.js'
import type { RunState } from '../run/run-state.js'
import { ChunkLedger, type ChunkRow } from './chunk-ledger.js'
import { QueueDb, runQueue } from './queue-db.js'
import { planToJson, type ChunkJobData, type RunPlan } from './run-record.js'

/** Queue runs' defaults. */
export const QUEUE_DEFAULTS = {
  /** Seconds without a heartbeat before a worker's chunk goes to another. Default 30. */
  staleSeconds: 30,
  /** Retries of a failed chunk. Default 2. */
  retries: 2,
  /** Seconds pg-boss lets a job stay active before expiring it (a chunk is far shorter). Default 4 hours. */
  expireSeconds: 4 * 3600,
  /** How often the coordinator looks at the chunks, in ms. Default 500. */
  pollMs: 500,
} as const

/**
 * The copy of a queue run (`options.queue`), in place of the local copy: plans every table's chunks (a table
 * split by its integer key as `--jobs` splits it, any other table as one chunk), records the plan and the chunks
 * in the queue database, enqueues one pg-boss job per chunk, then watches until every chunk is done. Workers
 * copy the chunks; this process hands a silent worker's chunk to another, finishes each table (indexes, its
 * foreign keys, identity) as soon as it and the tables it references are loaded, and fills the run's report
 * from the chunks' own. Returns, when `verify` is asked, the keys of rows that will not be on the target.
 */
export async function copyThroughQueue(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<Map<string, string[]> | undefined> {
  if (options.schemaOnly) return undefined
  const from = checkQueueRun(run, options)
  const db = await QueueDb.open(options.queue!, { supervise: true })
  const id = randomUUID().replaceAll('-', '').slice(0, 16)
  const ledger = new ChunkLedger(db, id)
  let state = 'failed'
  try {
    const snapshot = await shareSnapshot(run)
    const plan = runPlan(run, planned, options, from, snapshot)
    const chunks = await planChunks(run, planned, options)
    await db.boss.createQueue(runQueue(id), { retryLimit: options.queueRetries ?? QUEUE_DEFAULTS.retries, retryDelay: 1, expireInSeconds: QUEUE_DEFAULTS.expireSeconds })
    await db.sql(`INSERT INTO dbferry_queue.runs (id, source, target, plan) VALUES ($1, $2, $3, $4)`, [id, run.source.connection.description, run.target.connection.description, planToJson(plan)])
    await enqueue(db, ledger, id, chunks)
    noteRun(run, id, db.description, chunks, snapshot !== undefined)
    options.onProgress?.({ type: 'queue', run: id, queue: db.description, chunks: [...chunks.values()].reduce((n, c) => n + c.length, 0) })
    await watch(db, ledger, run, planned, options, plan.staleSeconds)
    state = 'copied'
    if (!options.verify) return undefined
    const missing = new Map<string, string[]>()
    for (const p of planned.pairs) missing.set(p.target.name, await ledger.missingKeys(p.target.name))
    return missing
  } finally {
    await db.sql(`UPDATE dbferry_queue.runs SET state = $2, report = $3, finished = now() WHERE id = $1`, [id, state, JSON.stringify(run.report.tables)]).catch(() => {})
    await db.boss.deleteQueue(runQueue(id)).catch(() => {})
    await db.close()
  }
}

/** Throws a `UsageError` when the run cannot go through a queue (checked before the run starts, and again here); else returns the source URL. */
export function checkQueueRun(run: RunState, options: FerryOptions): string {
  if (typeof options.from !== 'string' || typeof options.to !== 'string') throw new UsageError('--queue: the source and the target must be URLs (every worker opens its own connections from them)')
  if ((options.transforms?.length ?? 0) > 0) throw new UsageError('--queue: transforms see each table whole, in one process; run them without --queue')
  if (options.resume) throw new UsageError('--queue: a queue run is resumed by its workers (a killed worker\'s chunk goes on elsewhere); --resume is for local runs')
  const source = run.source.connection.dialect
  const target = run.target.connection.dialect
  if (!source.capabilities.parallelConnections?.reads) throw new UsageError(`--queue: the ${source.name} source is read by one connection`)
  if (!target.capabilities.parallelConnections?.writes) throw new UsageError(`--queue: the ${target.name} target is loaded by one connection`)
  return options.from
}

/** The source's exported snapshot, held open by this process's source connection until the run ends. */
async function shareSnapshot(run: RunState): Promise<string | undefined> {
  const shared = await run.source.connection.exportSnapshot?.({ lock: false })
  return shared?.id
}

function runPlan(run: RunState, planned: PlannedRun, options: FerryOptions, from: string, snapshot: string | undefined): RunPlan {
  return {
    from,
    to: options.to as string,
    pairs: planned.pairs,
    // a worker holds one chunk at a time: the run's batch sizes, not a share of them
    ...batchSizes(options, 1, run.target.connection.dialect.capabilities),
    maxExamples: options.maxExamples ?? 20,
    fit: { stripNul: options.stripNul, decimals: options.decimals },
    fallbackEncoding: options.fallbackEncoding,
    snapshot,
    staleSeconds: options.queueStaleSeconds ?? QUEUE_DEFAULTS.staleSeconds,
  }
}

/** Every table's chunks, in plan order: its key ranges when it splits (as for `--jobs`), else one whole chunk. */
async function planChunks(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<Map<string, Chunk[]>> {
  const out = new Map<string, Chunk[]>()
  // the workers are not known yet: split as for at least two jobs (never fewer chunks than `--jobs` would make)
  const jobs = Math.max(2, options.jobs ?? 2)
  for (const name of planned.order.order) {
    const pair = planned.pairByName.get(name)!
    out.set(name, (await chunksFor(run.source.connection, pair, undefined, jobs, options.chunkRows)) ?? [{ index: 0 }])
  }
  return out
}

/** Records the chunks, then sends their jobs (a worker that takes a job finds its chunk). */
async function enqueue(db: QueueDb, ledger: ChunkLedger, run: string, chunks: ReadonlyMap<string, Chunk[]>): Promise<void> {
  const rows = [...chunks].flatMap(([table, list]) =>
    list.map((c) => ({ table, index: c.index, of: list.length, bounds: { after: encodeKey(c.after === undefined ? undefined : [c.after]), until: encodeKey(c.until === undefined ? undefined : [c.until]) } })),
  )
  await ledger.add(rows)
  for (const c of rows) await send(db, ledger, run, c.table, c.index)
}

async function send(db: QueueDb, ledger: ChunkLedger, run: string, table: string, index: number): Promise<void> {
  const data: ChunkJobData = { run, table, index }
  const job = await db.boss.send(runQueue(run), data)
  if (job) await ledger.setJob(table, index, job)
}

function noteRun(run: RunState, id: string, queue: string, chunks: ReadonlyMap<string, Chunk[]>, shared: boolean): void {
  if (!run.report.snapshot) return
  const n = [...chunks.values()].reduce((s, c) => s + c.length, 0)
  const source = run.source.connection.dialect.name
  const guarantee = shared
    ? 'every worker reads the snapshot this process exported and holds open until the run ends'
    : `each worker reads the ${source} source in a snapshot of its own, started when it takes its first chunk: the copy is consistent only if the source does not change during the copy — or capture its changes first and run catch-up after (docs/catch-up.md)`
  run.report.snapshot = withNotes(run.report.snapshot, [`queue run ${id} at ${queue}: ${n} chunk(s) of ${chunks.size} table(s) copied by workers; ${guarantee}`])
}

/**
 * Waits for the run's chunks: hands a silent worker's chunk to another, reports each table once all its chunks
 * are done, finishes it once the tables it references are done too, and fails the run at the first chunk that
 * failed its last retry (the chunks not yet taken are cancelled; those running are fenced off by the run's end).
 */
async function watch(db: QueueDb, ledger: ChunkLedger, run: RunState, planned: PlannedRun, options: FerryOptions, staleSeconds: number): Promise<void> {
  const started = Date.now()
  const reported = new Set<string>()
  const finished = new Set<string>()
  const startedTables = new Set<string>()
  let handedOn = 0
  const parents = parentTables(planned)
  for (;;) {
    if (options.signal?.aborted) {
      await cancel(db, ledger)
      throw new AbortError('the run was aborted while workers copied its chunks (those not yet taken were cancelled)')
    }
    for (const lost of await ledger.reclaimStale(staleSeconds)) {
      handedOn++
      await send(db, ledger, ledger.run, lost.table, lost.index)
    }
    const byTable = groupByTable(await ledger.all())
    const failed = [...byTable.values()].flat().find((c) => c.state === 'failed')
    if (failed) {
      await cancel(db, ledger)
      throw failedChunk(planned, failed)
    }
    for (const [table, chunks] of byTable) {
      const report = planned.reports.get(table)!
      if (reported.has(table)) continue
      if (!startedTables.has(table) && chunks.some((c) => c.state !== 'pending')) {
        startedTables.add(table)
        options.onProgress?.({ type: 'table-start', table, total: planned.pairByName.get(table)?.source.rowCountEstimate })
      }
      if (chunks.every((c) => c.state === 'done')) {
        tableDone(report, chunks, options.maxExamples ?? 20, started)
        reported.add(table)
        options.onProgress?.({ type: 'table-end', table, read: report.read, written: report.written, rejected: report.rejected, dropped: report.dropped, ms: report.ms, status: 'done' })
      } else if (startedTables.has(table)) {
        const sum = chunkProgress(chunks)
        options.onProgress?.({ type: 'batch', table, ...sum, elapsedMs: Date.now() - started })
      }
    }
    await finishReady(run, planned, options, reported, finished, parents)
    if (reported.size === byTable.size) break
    await new Promise((resolve) => setTimeout(resolve, QUEUE_DEFAULTS.pollMs))
  }
  if (handedOn > 0 && run.report.snapshot) run.report.snapshot = withNotes(run.report.snapshot, [`${handedOn} chunk(s) handed to another worker after theirs stopped beating; each went on from what the target held`])
}

function groupByTable(rows: readonly ChunkRow[]): Map<string, ChunkRow[]> {
  const out = new Map<string, ChunkRow[]>()
  for (const r of rows) {
    const list = out.get(r.table) ?? []
    list.push(r)
    out.set(r.table, list)
  }
  return out
}

/** A table whose chunks are all done: its report is the sum of theirs. */
function tableDone(report: TableReport, chunks: readonly ChunkRow[], maxExamples: number, started: number): void {
  Object.assign(report, { read: 0, written: 0, rejected: 0, dropped: 0, inserted: 0, byKind: {}, fixed: {} })
  report.examples = []
  for (const c of chunks) if (c.report) addChunkReport(report, c.report, maxExamples)
  report.chunks = chunks.length
  report.status = 'done'
  report.ms = Date.now() - started
}

/** Counts so far of a table's chunks (their last checkpoints; a done chunk's report). */
function chunkProgress(chunks: readonly ChunkRow[]): { read: number; written: number; rejected: number; dropped: number } {
  const s = { read: 0, written: 0, rejected: 0, dropped: 0 }
  for (const c of chunks) {
    const from = c.report ?? c.checkpoint
    if (!from) continue
    s.read += from.read
    s.written += from.written
    s.rejected += from.rejected
    s.dropped += from.dropped
  }
  return s
}

/** The tables each table references (within the run), whose rows must be loaded before its foreign keys are made. */
function parentTables(planned: PlannedRun): Map<string, string[]> {
  const names = new Set(planned.pairs.map((p) => p.target.name))
  return new Map(planned.pairs.map((p) => [p.target.name, p.target.foreignKeys.map((fk) => fk.refTable).filter((t) => t !== p.target.name && names.has(t))]))
}

/**
 * Finishes (indexes, foreign keys, identity position) every loaded table whose referenced tables are loaded
 * too — the run's dependencies: chunks, then the table's finish, then its foreign keys. A failure here is not
 * the run's: the finishing step makes and reports it again.
 */
async function finishReady(run: RunState, planned: PlannedRun, options: FerryOptions, loaded: ReadonlySet<string>, finished: Set<string>, parents: ReadonlyMap<string, string[]>): Promise<void> {
  for (const table of loaded) {
    if (finished.has(table) || !(parents.get(table) ?? []).every((p) => loaded.has(p))) continue
    finished.add(table)
    const started = Date.now()
    const ok = await run.target.connection
      .finalize({ ...planned.targetSchema, tables: [planned.pairByName.get(table)!.target] }, { signal: options.signal })
      .then(
        () => true,
        () => false,
      )
    options.onProgress?.({ type: 'table-finalized', table, ms: Date.now() - started, ok })
  }
}

/** Cancels the chunks no worker has taken, and their jobs. */
async function cancel(db: QueueDb, ledger: ChunkLedger): Promise<void> {
  const jobs = await ledger.cancelPending().catch(() => [] as string[])
  if (jobs.length > 0) await db.boss.cancel(runQueue(ledger.run), jobs).catch(() => {})
}

/** The run's error for a chunk that failed its last retry, naming the table and the chunk. */
function failedChunk(planned: PlannedRun, chunk: ChunkRow): DbferryError {
  const report = planned.reports.get(chunk.table)
  const parsed = parseError(chunk.error)
  const message = `chunk ${chunk.index + 1} of ${chunk.of}: ${parsed.message} (after ${chunk.attempts} attempt(s))`
  if (report) {
    report.status = 'failed'
    report.error = message
  }
  return new DbferryError(parsed.code ?? 'connection', `${chunk.table}: ${message}`, { table: chunk.table })
}

function parseError(text: string | undefined): { code?: FailureKind; message: string } {
  if (!text) return { message: 'failed' }
  try {
    return JSON.parse(text) as { code?: FailureKind; message: string }
  } catch {
    return { message: text }
  }
}
