import { connect } from '../connect.js'
import type { Connection } from '../dialect.js'
import { THREADS_DEFAULT, type FerryOptions } from '../options.js'
import type { TablePair } from '../plan/table-pair.js'
import type { TableReport } from '../report.js'
import { withNotes } from '../plan/generated-notes.js'
import type { RunState } from '../run/run-state.js'
import { copyTable } from './copy-table.js'
import { ChunkThreads, threadEntry, threadsRefusal, type ChunkContext } from './thread-lanes.js'

/** One job of a parallel copy: a source connection reading the run's snapshot and a target connection. */
export interface Lane {
  readonly index: number
  readonly source: Connection
  readonly target: Connection
}

/**
 * The connections `--jobs` copies with. In one thread: the run's own pair and `jobs - 1` more, each taken by one
 * chunk (or table) at a time. With threads (`FerryOptions.threads`): `jobs` worker threads, each with a pair of
 * its own, copy the chunks; the run's own pair, in the main thread, copies the tables that are not split and
 * finishes loaded tables early. The extra sources read the run's snapshot where the source can share it
 * (PostgreSQL's exported snapshot), else a snapshot each, which `guarantee` says.
 */
export class LanePool {
  readonly #free: Lane[]
  readonly #waiting: ((lane: Lane) => void)[] = []
  /** With threads: the run whose report gets, at close, how many chunks each thread copied. */
  #run: RunState | undefined

  private constructor(
    readonly lanes: readonly Lane[],
    /** What the extra source connections guarantee, for the report's snapshot notes. */
    readonly guarantee: string | undefined,
    /** The chunk threads. Absent: chunks are copied on the lanes, in this thread. */
    readonly threads?: ChunkThreads,
    /** Other notes for the report (why threads were not used). */
    readonly notes: readonly string[] = [],
  ) {
    this.#free = [...lanes]
  }

  /** The run's own connections only: one job. */
  static single(run: RunState): LanePool {
    return new LanePool([{ index: 0, source: run.source.connection, target: run.target.connection }], undefined)
  }

  /**
   * With threads (`options.threads`, default {@link THREADS_DEFAULT}, where {@link threadsRefusal} allows):
   * starts `jobs` chunk threads. Else opens `jobs - 1` more connection pairs from the run's URLs. Throws (after
   * closing what it opened) when one cannot be opened or cannot join the snapshot.
   */
  static async open(run: RunState, options: FerryOptions, jobs: number): Promise<LanePool> {
    const refusal = (options.threads ?? THREADS_DEFAULT) ? threadsRefusal(options.from, options.to) : undefined
    if ((options.threads ?? THREADS_DEFAULT) && refusal === undefined) return LanePool.#openThreads(run, options, jobs)
    const notes = options.threads === true && refusal ? [`--threads ignored: ${refusal}`] : []
    const { sources, joined } = await joinedSources(run, options, jobs - 1)
    const lanes: Lane[] = [{ index: 0, source: run.source.connection, target: run.target.connection }]
    try {
      for (const source of sources) lanes.push({ index: lanes.length, source, target: (await connect(options.to)).connection })
    } catch (error) {
      await closeLanes(lanes.slice(1))
      await Promise.all(sources.slice(lanes.length - 1).map((s) => s.close().catch(() => {})))
      throw error
    }
    return new LanePool(lanes, guaranteeOf(run, options, jobs, joined, ''), undefined, notes)
  }

  /**
   * `jobs` chunk threads, their sources in the run's snapshot where it is shared (what holds it joinable ends
   * once all joined, before they open their targets). Throws, with the threads ended, when one cannot open.
   */
  static async #openThreads(run: RunState, options: FerryOptions, jobs: number): Promise<LanePool> {
    const shared = await run.source.connection.exportSnapshot?.({ lock: options.snapshotLock === true })
    let threads: ChunkThreads
    let guarantees: string[]
    try {
      threads = ChunkThreads.start(threadEntry()!, { from: options.from as string, to: options.to as string, fallbackEncoding: options.fallbackEncoding, join: shared?.id }, jobs)
      guarantees = await threads.joined()
    } finally {
      await shared?.release?.()
    }
    await threads.ready()
    const joined = shared === undefined ? undefined : guarantees[0]
    const own: Lane = { index: 0, source: run.source.connection, target: run.target.connection }
    const where = ` (one in each worker thread, which copy the chunks; the run's own connections copy the tables not split)`
    const pool = new LanePool([own], guaranteeOf(run, options, jobs, joined, where), threads)
    pool.#run = run
    return pool
  }

  /** How many jobs run at once: the chunk threads, or the lanes. */
  get size(): number {
    return this.threads?.size ?? this.lanes.length
  }

  /**
   * Copies one chunk of a split table: in a chunk thread, or on a free lane. `skip()`, asked once a thread or a
   * lane is free, says not to start it after all (another chunk failed, or the run was aborted). `report` ends
   * holding the chunk's counts, whether it finished or failed.
   */
  async copyChunk(ctx: ChunkContext, pair: TablePair, report: TableReport, skip: () => boolean): Promise<void> {
    if (this.threads) return this.threads.copy(ctx, pair, report, skip)
    const lane = await this.acquire()
    try {
      if (skip()) return
      await copyTable({ ...ctx, source: lane.source, target: lane.target }, pair, report, undefined)
    } finally {
      this.release(lane)
    }
  }

  /** Waits for a free lane. */
  acquire(): Promise<Lane> {
    const lane = this.#free.pop()
    if (lane) return Promise.resolve(lane)
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  /** Gives a lane back (to the longest waiter). */
  release(lane: Lane): void {
    const next = this.#waiting.shift()
    if (next) next(lane)
    else this.#free.push(lane)
  }

  /** Closes the connections it opened (not the run's own) and ends the chunk threads. */
  async close(): Promise<void> {
    await Promise.all([closeLanes(this.lanes.slice(1)), this.threads?.close()])
    const run = this.#run
    if (this.threads && run?.report.snapshot) {
      // which threads copied how many chunks: the report shows where the chunks ran
      const by = this.threads.copiedBy()
      const text = `--jobs ${by.length}: ${by.reduce((n, t) => n + t.chunks, 0)} chunk(s) copied in worker threads (${by.map((t) => `thread ${t.threadId}: ${t.chunks}`).join(', ')})`
      run.report.snapshot = withNotes(run.report.snapshot, [text])
    }
  }
}

/** What the jobs' source connections guarantee: one shared snapshot (`joined`), or one each and when that holds. */
function guaranteeOf(run: RunState, options: FerryOptions, jobs: number, joined: string | undefined, where: string): string {
  const name = run.source.connection.dialect.name
  return joined !== undefined
    ? `--jobs ${jobs}: ${jobs} source connections read one snapshot (${joined})${where}`
    : `--jobs ${jobs}: each of the ${jobs} ${name} source connections${where} reads its own snapshot, started one after another: the copy is consistent only if the source does not change while they start${run.source.connection.exportSnapshot && !options.snapshotLock ? ' (--snapshot-lock starts them together under a brief lock on the source)' : ''}`
}

async function closeLanes(lanes: readonly Lane[]): Promise<void> {
  await Promise.all(lanes.flatMap((l) => [l.source.close().catch(() => {}), l.target.close().catch(() => {})]))
}

/**
 * `count` more source connections, each in the run's snapshot where the source can share it (`joined`: the
 * guarantee they report), else in a snapshot of its own. What holds the shared snapshot joinable (MySQL's read
 * lock, which holds every write on the source's server) ends as soon as they have started, before any target
 * connection is opened. Throws, with what it opened closed, when one cannot be opened or cannot join.
 */
async function joinedSources(run: RunState, options: FerryOptions, count: number): Promise<{ sources: Connection[]; joined?: string }> {
  const sources: Connection[] = []
  const shared = await run.source.connection.exportSnapshot?.({ lock: options.snapshotLock === true })
  let joined: string | undefined
  try {
    for (let i = 0; i < count; i++) {
      const source = (await connect(options.from, { fallbackEncoding: options.fallbackEncoding })).connection
      sources.push(source)
      const info = await source.snapshot(shared === undefined ? undefined : { join: shared.id })
      if (shared !== undefined) joined = info.guarantee
    }
  } catch (error) {
    await Promise.all(sources.map((s) => s.close().catch(() => {})))
    throw error
  } finally {
    await shared?.release?.()
  }
  return { sources, joined }
}
