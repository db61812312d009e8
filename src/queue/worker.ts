import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import { connect } from '../connect.js'
import { isDbferryError, UsageError } from '../errors.js'
import type { TablePair } from '../plan/table-pair.js'
import { ChunkLedger, LostClaimError } from './chunk-ledger.js'
import { copyClaimedChunk, type WorkerConnections } from './chunk-copy.js'
import { QueueDb, runQueue, type BossJob } from './queue-db.js'
import { planFromJson, type ChunkJobData, type RunPlan } from './run-record.js'

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** The queue database's PostgreSQL URL (the one the coordinator was given). */
  queue: string
  /** Serve only this run, and return once it has ended. Absent: every run, until `signal` aborts. */
  run?: string
  /** Stops the worker: the chunk it copies stops at its next batch and goes back to the queue. */
  signal?: AbortSignal
  /** Seconds between two looks at an empty queue. Default 1. */
  pollSeconds?: number
  /** Seconds between heartbeats (a coordinator hands a silent worker's chunk to another). Default 2. */
  heartbeatSeconds?: number
  /** What the worker does, chunk by chunk. */
  onEvent?: (e: WorkerEvent) => void
}

/** One step of a worker: a chunk taken, finished, found done or held elsewhere, or failed. */
export interface WorkerEvent {
  type: 'chunk-start' | 'chunk-batch' | 'chunk-done' | 'chunk-skipped' | 'chunk-failed'
  run: string
  table: string
  /** The chunk's position, from 0. */
  index: number
  /** Rows of the chunk read so far (`chunk-batch`; with what an earlier attempt read) or in all (`chunk-done`). */
  read?: number
  /** Why (`chunk-skipped`, `chunk-failed`). */
  message?: string
  ms?: number
}

/** What a worker did before it returned. */
export interface WorkerSummary {
  /** Its id in the queue database (`host:pid:…`). */
  id: string
  /** Chunks it finished. */
  chunks: number
  /** Rows those chunks read. */
  rows: number
  /** Chunk attempts that failed (each went back to the queue, or failed the run after its last retry). */
  failed: number
}

/** A run a worker serves: its plan, its chunk ledger and, once a chunk needs them, its connections. */
interface RunSession {
  plan: RunPlan
  ledger: ChunkLedger
  pairs: Map<string, TablePair>
  conns?: WorkerConnections
}

/**
 * A worker of queue runs (`dbferry worker --queue …`): takes chunk jobs from the queue database one at a time
 * and copies each with the copy's own table path, on connections it opens from the run's plan (the source in the
 * coordinator's exported snapshot when the source can share one). It beats a heartbeat into the queue database;
 * a coordinator that misses them hands its chunk to another worker, and this one, if it was only slow, stops at
 * its next batch. Any number of workers on any number of machines may serve one run.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const db = await QueueDb.open(options.queue)
  const id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`
  const summary: WorkerSummary = { id, chunks: 0, rows: 0, failed: 0 }
  const sessions = new Map<string, RunSession>()
  const beat = heartbeat(db, id, options.heartbeatSeconds ?? 2)
  try {
    await beat.now()
    while (!options.signal?.aborted) {
      const runs = await copyingRuns(db, options.run)
      if (options.run !== undefined && runs.length === 0) break
      const job = await nextJob(db, runs)
      if (job) await serveJob(db, id, job, sessions, beat, summary, options)
      else await sleep((options.pollSeconds ?? 1) * 1_000, options.signal)
    }
  } finally {
    beat.stop()
    for (const s of sessions.values()) await closeConnections(s)
    await db.sql(`DELETE FROM dbferry_queue.workers WHERE id = $1`, [id]).catch(() => {})
    await db.close()
  }
  return summary
}

/** One delivered job: claim its chunk, copy it, finish it; a failure gives the chunk back to the queue. */
async function serveJob(db: QueueDb, worker: string, job: BossJob<ChunkJobData>, sessions: Map<string, RunSession>, beat: Heartbeat, summary: WorkerSummary, options: WorkerOptions): Promise<void> {
  const { run, table, index } = job.data
  const event = (type: WorkerEvent['type'], more: Partial<WorkerEvent> = {}) => options.onEvent?.({ type, run, table, index, ...more })
  const session = await sessionFor(db, run, sessions)
  if (!session) {
    await db.boss.complete(runQueue(run), job.id, { skipped: 'the run has ended' }).catch(() => {})
    event('chunk-skipped', { message: 'the run has ended' })
    return
  }
  const claim = await session.ledger.claim(table, index, worker, session.plan.staleSeconds)
  if (!claim) {
    // done already (a re-delivered job), or held by a live worker: nothing to do twice
    await db.boss.complete(runQueue(run), job.id, { skipped: 'done or held by another worker' }).catch(() => {})
    event('chunk-skipped', { message: 'done, or held by another worker' })
    return
  }
  const started = Date.now()
  event('chunk-start')
  beat.current = { run, table, index }
  try {
    const pair = session.pairs.get(table)
    if (!pair) throw new UsageError(`run ${run} has no table ${table}`)
    session.conns ??= await openConnections(session.plan)
    const report = await copyClaimedChunk(session.plan, session.ledger, session.conns, pair, index, claim, options.signal, (read) => event('chunk-batch', { read }))
    await session.ledger.finish(table, index, claim.attempt, report)
    // the chunk's state is what counts: once it is done the coordinator may end the run and remove its queue
    await db.boss.complete(runQueue(run), job.id).catch(() => {})
    summary.chunks++
    summary.rows += report.read
    event('chunk-done', { read: report.read, ms: Date.now() - started })
  } catch (error) {
    summary.failed++
    const message = error instanceof Error ? error.message : String(error)
    // the connections may be what failed: the next chunk opens new ones
    await closeConnections(session)
    // a queue removed meanwhile (the run ended) refuses the job's end: the chunk's state is what counts
    if (error instanceof LostClaimError) {
      await db.boss.complete(runQueue(run), job.id, { lost: message }).catch(() => {})
    } else {
      const final = job.retryCount >= job.retryLimit
      await session.ledger.release(table, index, claim.attempt, JSON.stringify({ code: isDbferryError(error) ? error.code : undefined, message }), final)
      await db.boss.fail(runQueue(run), job.id, { message }).catch(() => {})
    }
    event('chunk-failed', { message, ms: Date.now() - started })
  } finally {
    beat.current = undefined
  }
}

async function sessionFor(db: QueueDb, run: string, sessions: Map<string, RunSession>): Promise<RunSession | undefined> {
  const known = sessions.get(run)
  const r = await db.sql(`SELECT plan, state FROM dbferry_queue.runs WHERE id = $1`, [run])
  const row = r.rows[0]
  if (!row || row.state !== 'copying') {
    if (known) {
      await closeConnections(known)
      sessions.delete(run)
    }
    return undefined
  }
  if (known) return known
  const plan = planFromJson(row.plan)
  const session: RunSession = { plan, ledger: new ChunkLedger(db, run), pairs: new Map(plan.pairs.map((p) => [p.target.name, p])) }
  sessions.set(run, session)
  return session
}

/** The runs still copying, oldest first (the one asked for only, when `only` is given). */
async function copyingRuns(db: QueueDb, only: string | undefined): Promise<string[]> {
  const r = only === undefined ? await db.sql(`SELECT id FROM dbferry_queue.runs WHERE state = 'copying' ORDER BY created`) : await db.sql(`SELECT id FROM dbferry_queue.runs WHERE state = 'copying' AND id = $1`, [only])
  return r.rows.map((row) => String(row.id))
}

/** The next chunk job of the oldest run that has one. */
async function nextJob(db: QueueDb, runs: readonly string[]): Promise<BossJob<ChunkJobData> | undefined> {
  for (const run of runs) {
    // a run whose queue is gone has just ended
    const [job] = await db.boss.fetch<ChunkJobData>(runQueue(run), { includeMetadata: true, batchSize: 1 }).catch(() => [])
    if (job) return job
  }
  return undefined
}

/** The worker's source (in the coordinator's snapshot when there is one) and target for a run. */
async function openConnections(plan: RunPlan): Promise<WorkerConnections> {
  const source = (await connect(plan.from, { fallbackEncoding: plan.fallbackEncoding })).connection
  try {
    await source.snapshot(plan.snapshot === undefined ? undefined : { join: plan.snapshot })
    const target = (await connect(plan.to)).connection
    return { source, target }
  } catch (error) {
    await source.close().catch(() => {})
    throw error
  }
}

async function closeConnections(session: RunSession): Promise<void> {
  const conns = session.conns
  session.conns = undefined
  if (conns) await Promise.all([conns.source.close().catch(() => {}), conns.target.close().catch(() => {})])
}

/** The worker's heartbeat in the queue database, with the chunk it holds. */
interface Heartbeat {
  current?: { run: string; table: string; index: number }
  now(): Promise<void>
  stop(): void
}

function heartbeat(db: QueueDb, id: string, seconds: number): Heartbeat {
  const beat: Heartbeat = {
    current: undefined,
    async now() {
      const c = beat.current
      await db.sql(
        `INSERT INTO dbferry_queue.workers (id, host, pid, run, tbl, idx) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET seen = now(), run = $4, tbl = $5, idx = $6`,
        [id, hostname(), process.pid, c?.run ?? null, c?.table ?? null, c?.index ?? null],
      )
    },
    stop: () => clearInterval(timer),
  }
  // a heartbeat that fails (the queue database restarting) is retried at the next tick
  const timer = setInterval(() => void beat.now().catch(() => {}), seconds * 1_000)
  timer.unref()
  return beat
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
