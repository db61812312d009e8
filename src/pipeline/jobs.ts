import { availableParallelism } from 'node:os'
import type { Connection, DialectCapabilities } from '../dialect.js'
import type { DatabaseSchema, TableSchema } from '../schema/types.js'
import { BATCH_DEFAULTS, THREADS_DEFAULT, type FerryOptions } from '../options.js'
import { withNotes } from '../plan/generated-notes.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { TablePair } from '../plan/table-pair.js'
import type { RunState } from '../run/run-state.js'
import { CHUNK_DEFAULTS, chunkCount, planChunks, planKeyChunks, planPageChunks, type Chunk } from './chunks.js'
import { LanePool } from './lanes.js'
import type { ResumeState } from './resume.js'

/** The most jobs {@link defaultJobs} gives. Default 8. */
export const MOST_DEFAULT_JOBS = 8

/**
 * The jobs a run copies with when `jobs` is not set. In worker threads (`threads`): one job per two cores
 * (`os.availableParallelism()`), at most {@link MOST_DEFAULT_JOBS} — a job's thread keeps a core busy, and the
 * servers' work for its rows (the COPY or LOAD DATA it feeds, the reads it asks) about as much again. In one
 * thread: 1, since jobs there only overlap waits on the servers — on 2 cores `--jobs 2` took 1.1–1.6× the
 * time of `--jobs 1` for every pair measured (bench/README.md, "`--jobs`") — so a copy that is not waiting on
 * a distant server gains nothing from more. A run whose ends cannot take several connections copies with one
 * whatever this says.
 */
export function defaultJobs(threads: boolean, cores: number = availableParallelism()): number {
  if (!threads) return 1
  return Math.min(MOST_DEFAULT_JOBS, Math.max(1, Math.floor(cores / 2)))
}

/**
 * The lanes a run copies with: `options.jobs` connection pairs (else {@link defaultJobs}) when the run can use
 * them, else the run's own pair alone — and then, when more jobs were asked for, the report's notes say why not.
 */
export async function openLanes(run: RunState, options: FerryOptions): Promise<LanePool> {
  const jobs = options.jobs ?? defaultJobs(options.threads ?? THREADS_DEFAULT)
  if (jobs <= 1 || options.schemaOnly) return LanePool.single(run)
  const why = whyOneJob(run, options)
  if (why) {
    // a default that the run cannot use is not worth a note: nobody asked for it
    if (options.jobs !== undefined) note(run, `--jobs ${jobs} ignored: ${why}`)
    return LanePool.single(run)
  }
  const pool = await LanePool.open(run, options, jobs)
  if (pool.guarantee) note(run, pool.guarantee)
  for (const n of pool.notes) note(run, n)
  return pool
}

/** Why a run copies with one job whatever `jobs` asks; undefined when it can use several. */
function whyOneJob(run: RunState, options: FerryOptions): string | undefined {
  if (typeof options.from !== 'string' || typeof options.to !== 'string') return 'the source and the target must be URLs (more connections are opened from them)'
  const source = run.source.connection.dialect
  const target = run.target.connection.dialect
  if (!source.capabilities.parallelConnections?.reads) return `the ${source.name} source is read by one connection`
  if (!target.capabilities.parallelConnections?.writes) return `the ${target.name} target is loaded by one connection`
  if ((options.transforms?.length ?? 0) > 0) return 'transforms see each table whole, in one job'
  return undefined
}

function note(run: RunState, text: string): void {
  if (run.report.snapshot) run.report.snapshot = withNotes(run.report.snapshot, [text])
}

/** What kinds of chunks a caller of {@link chunksFor} can resume. */
export interface ChunkKinds {
  /**
   * Also split tables whose chunks the target cannot count by key range: at read-order boundaries
   * (`Connection.splitKeys`: text, uuid, decimal, date and composite keys, SQLite rowid tables) and by page
   * ranges (`Connection.pageCount`: PostgreSQL tables without a key). Only for a caller that resumes a table's
   * chunks together from the target table's count (`--resume`, see `resumeUncountedChunks`). Default false:
   * integer-key ranges only (a queue run resumes each chunk alone, by counting its range on the target).
   */
  uncounted?: boolean
}

/**
 * The chunks a table is copied in with several jobs: by ranges of its integer key (see `planChunks`) when the
 * source can tell the key's bounds; with `kinds.uncounted`, else at sampled keys in the source's read order
 * (`planKeyChunks`), else — a table without a key — by page ranges (`planPageChunks`). Undefined — the table is
 * copied whole — for one job, a small table, a table none of these split, or a table a resume continues
 * unchunked. (A run with transforms has one job.)
 */
export async function chunksFor(source: Connection, pair: TablePair, resume: ResumeState | undefined, jobs: number, chunkRows: number | undefined, kinds: ChunkKinds = {}): Promise<Chunk[] | undefined> {
  if (jobs <= 1) return undefined
  // a table an interrupted run began unchunked goes on unchunked from where it stopped
  if (resume && (resume.after !== undefined || resume.carried.read > 0 || resume.restart)) return undefined
  const rows = chunkRows ?? CHUNK_DEFAULTS.rows
  const estimate = async () => pair.source.rowCountEstimate ?? (await source.count(pair.source))
  const bounds = await source.keyBounds?.(pair.source)
  if (bounds) return several(planChunks(bounds.min, bounds.max, await estimate(), rows, jobs))
  if (!kinds.uncounted || (!source.splitKeys && !source.pageCount)) return undefined
  const count = chunkCount(await estimate(), rows, jobs)
  if (count <= 1) return undefined
  const keys = await source.splitKeys?.(pair.source, count - 1)
  if (keys && keys.length > 0) return several(planKeyChunks(keys))
  // pages are only for a table without a key: one with a key is read in key order, chunk by chunk
  if (pair.source.primaryKey && pair.source.primaryKey.columns.length > 0) return undefined
  const pages = await source.pageCount?.(pair.source)
  return pages === undefined ? undefined : several(planPageChunks(pages, count))
}

function several(chunks: Chunk[]): Chunk[] | undefined {
  return chunks.length > 1 ? chunks : undefined
}

/**
 * Rows and bytes per batch: the options' (else the target's preferred rows, else the defaults), shared among
 * the jobs (each holds a batch being read, one being written and its encoding), so that N jobs keep about the
 * memory of one — down to 1 000 rows and 1 MiB.
 */
export function batchSizes(options: FerryOptions, jobs: number, target: Pick<DialectCapabilities, 'preferredBatchRows'>): { batchRows: number; batchBytes: number } {
  const rows = options.batchRows ?? target.preferredBatchRows ?? BATCH_DEFAULTS.rows
  const bytes = options.batchBytes ?? BATCH_DEFAULTS.bytes
  if (jobs <= 1) return { batchRows: rows, batchBytes: bytes }
  return { batchRows: Math.min(rows, Math.max(1_000, Math.ceil(rows / jobs))), batchBytes: Math.min(bytes, Math.max(1 << 20, Math.ceil(bytes / jobs))) }
}

/** A table's row count for progress: the source's estimate, else (with a progress listener) its count. */
export async function tableTotal(source: Connection, pair: TablePair, options: FerryOptions): Promise<number | undefined> {
  return pair.source.rowCountEstimate ?? (options.onProgress ? await source.count(pair.source).catch(() => undefined) : undefined)
}

/**
 * With several jobs, each table's chunks and progress total, asked of the run's source connection before any
 * copy starts: once copies run, that connection is one job's, busy with its own reads.
 */
export async function splitTables(run: RunState, planned: PlannedRun, pool: LanePool, options: FerryOptions): Promise<Map<string, { chunks?: Chunk[]; total?: number }>> {
  const out = new Map<string, { chunks?: Chunk[]; total?: number }>()
  if (pool.size === 1) return out
  const source = run.source.connection
  for (const name of planned.order.order) {
    const pair = planned.pairByName.get(name)!
    const resume = planned.resumeAt.get(name)
    if (resume?.done) continue
    // a resumed chunked table keeps its recorded chunks
    const chunks = resume?.chunked ? undefined : await chunksFor(source, pair, resume, pool.size, options.chunkRows, { uncounted: true })
    out.set(name, { chunks, total: await tableTotal(source, pair, options) })
  }
  return out
}

/**
 * With several jobs, each loaded table's secondary indexes, foreign keys (to its parents, loaded before it) and
 * identity position are made at once on a free lane, while other tables still load. The finishing step runs
 * finalize for every table afterwards as always: it is idempotent, so it finds these made (and reports their
 * problems), and makes whatever failed here. One job: nothing is done early.
 */
export class EarlyFinish {
  readonly #pending: Promise<void>[] = []

  constructor(
    private readonly pool: LanePool,
    private readonly schema: DatabaseSchema,
    private readonly options: FerryOptions,
  ) {}

  /** Starts the finishing of one loaded table (in the background). */
  table(table: TableSchema): void {
    if (this.pool.size === 1) return
    this.#pending.push(this.#finish(table))
  }

  async #finish(table: TableSchema): Promise<void> {
    const lane = await this.pool.acquire()
    const started = Date.now()
    let ok = true
    try {
      await lane.target.finalize({ ...this.schema, tables: [table] }, { signal: this.options.signal })
    } catch {
      // the finishing step makes it again, and reports what still fails
      ok = false
    } finally {
      this.pool.release(lane)
    }
    this.options.onProgress?.({ type: 'table-finalized', table: table.name, ms: Date.now() - started, ok })
  }

  /** Waits for every table started. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#pending)
  }
}
