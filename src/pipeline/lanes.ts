import { connect } from '../connect.js'
import type { Connection } from '../dialect.js'
import type { FerryOptions } from '../options.js'
import type { RunState } from '../run/run-state.js'

/** One job of a parallel copy: a source connection reading the run's snapshot and a target connection. */
export interface Lane {
  readonly index: number
  readonly source: Connection
  readonly target: Connection
}

/**
 * The connections `--jobs` copies with: the run's own pair and `jobs - 1` more, each taken by one chunk (or
 * table) at a time. The extra sources read the run's snapshot where the source can share it (PostgreSQL's
 * exported snapshot), else a snapshot each, which `guarantee` says.
 */
export class LanePool {
  readonly #free: Lane[]
  readonly #waiting: ((lane: Lane) => void)[] = []

  private constructor(
    readonly lanes: readonly Lane[],
    /** What the extra source connections guarantee, for the report's snapshot notes. */
    readonly guarantee: string | undefined,
  ) {
    this.#free = [...lanes]
  }

  /** The run's own connections only: one job. */
  static single(run: RunState): LanePool {
    return new LanePool([{ index: 0, source: run.source.connection, target: run.target.connection }], undefined)
  }

  /**
   * Opens `jobs - 1` more connection pairs from the run's URLs. Throws (after closing what it opened) when
   * one cannot be opened or cannot join the snapshot.
   */
  static async open(run: RunState, options: FerryOptions, jobs: number): Promise<LanePool> {
    const { sources, joined } = await joinedSources(run, options, jobs - 1)
    const lanes: Lane[] = [{ index: 0, source: run.source.connection, target: run.target.connection }]
    try {
      for (const source of sources) lanes.push({ index: lanes.length, source, target: (await connect(options.to)).connection })
    } catch (error) {
      await closeLanes(lanes.slice(1))
      await Promise.all(sources.slice(lanes.length - 1).map((s) => s.close().catch(() => {})))
      throw error
    }
    const name = run.source.connection.dialect.name
    const guarantee =
      joined !== undefined
        ? `--jobs ${jobs}: ${jobs} source connections read one snapshot (${joined})`
        : `--jobs ${jobs}: each of the ${jobs} ${name} source connections reads its own snapshot, started one after another: the copy is consistent only if the source does not change while they start${run.source.connection.exportSnapshot && !options.snapshotLock ? ' (--snapshot-lock starts them together under a brief lock on the source)' : ''}`
    return new LanePool(lanes, guarantee)
  }

  /** How many jobs run at once. */
  get size(): number {
    return this.lanes.length
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

  /** Closes the connections it opened (not the run's own). */
  async close(): Promise<void> {
    await closeLanes(this.lanes.slice(1))
  }
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
