import { connect, type ConnectionSpec } from '../connect.js'
import type { Connection } from '../dialect.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'
import { valueToJson } from '../schema/rows.js'
import type { Checkpoint } from '../journal/journal.js'
import type { TableSchema } from '../schema/types.js'
import { ChunkedCheckpoints, countedByRange, isChunked, resumeChunks, resumeUncountedChunks } from './chunk-state.js'
import type { Chunk } from './chunks.js'
import { confirmedCheckpoint, resumeState, type ResumedInfo, type ResumeState } from './resume.js'

/**
 * Where each table of a resumed run goes on, from the interrupted run's checkpoints and the rows the target
 * really holds. Each table's state is carried into this run's journal at once, so that an interruption of
 * this run resumes just as well.
 */
export async function resumeTables(run: RunState, planned: PlannedRun, targetSpec: ConnectionSpec): Promise<Map<string, ResumeState>> {
  const journal = run.journal!
  const resumeAt = new Map<string, ResumeState>()
  const byTable = new Map((run.checkpoints ?? []).map((c) => [c.table, c]))
  const counter = await TargetCounter.open(targetSpec, run.target.connection)
  try {
    for (const p of planned.pairs) {
      const name = p.target.name
      const cp = byTable.get(name)
      const { state, restartWhy } = isChunked(cp)
        ? await chunkedState(name, cp!, (chunk) => counter.rows(p.target, chunk), () => counter.rows(p.target))
        : { state: resumeState(name, cp, await counter.rows(p.target), run.interrupted), restartWhy: undefined }
      resumeAt.set(name, state)
      const r = planned.reports.get(name)!
      Object.assign(r, state.carried)
      r.byKind = { ...state.byKind }
      const resumed: ResumedInfo = { carried: { ...state.carried }, after: state.after ? JSON.stringify(state.after.map(valueToJson)) : undefined, skipped: state.done }
      if (state.restart) resumed.restarted = restartWhy === undefined ? restartNote(state.restart.targetRows) : chunkedRestartNote(state.restart.targetRows, restartWhy)
      r.resumed = resumed
      // a table that starts over keeps the interrupted run's checkpoint until its first batch: the copy empties
      // its target table first, and a crash in between must still find the checkpoint that explains the rows
      if (cp) await journal.journal.checkpoint(journal.runId, carriedCheckpoint(r, state, cp))
      const unjournaled = state.chunked ? state.chunked.states.reduce((n, c) => n + c.state.unjournaledRejects, 0) : state.unjournaledRejects
      if (unjournaled > 0) {
        await journal.journal.record(journal.runId, [
          {
            table: name,
            action: 'rejected',
            kind: 'target_rejected',
            message: `${unjournaled} row(s) of the batch committed just before the interruption were rejected or dropped; their details were not journaled`,
            source: 'resume',
          },
        ])
      }
    }
  } finally {
    await counter.close()
  }
  return resumeAt
}

/** The checkpoint this run starts a resumed table from (see {@link resumeTables}). */
function carriedCheckpoint(r: Parameters<typeof confirmedCheckpoint>[0], state: ResumeState, cp: Checkpoint): Checkpoint {
  if (state.restart) return cp
  if (!state.chunked) return confirmedCheckpoint(r, state.after, state.done)
  const { chunks, states } = state.chunked
  const own = states.map((c) => confirmedCheckpoint({ ...r, ...c.state.carried, byKind: { ...c.state.byKind } }, c.state.after, c.state.done))
  return new ChunkedCheckpoints(r.name, chunks, own, async () => {}).tableCheckpoint()
}

/**
 * A chunked table's resume state: each chunk's, and their sums as the table's. Integer-key chunks are placed
 * by the target's rows in each chunk's range (`rowsIn`); chunks the target cannot count by range (read-order
 * boundaries, page ranges) by the target table's count (`tableRows`), or the table starts over (`restartWhy`).
 */
async function chunkedState(name: string, cp: Checkpoint, rowsIn: (chunk: Chunk) => Promise<number>, tableRows: () => Promise<number>): Promise<{ state: ResumeState; restartWhy?: string }> {
  const decided = countedByRange(cp) ? await resumeChunks(name, cp, rowsIn) : resumeUncountedChunks(name, cp, await tableRows())
  if ('restart' in decided) {
    return { state: { carried: { read: 0, written: 0, rejected: 0, dropped: 0 }, byKind: {}, done: false, unjournaledRejects: 0, restart: decided.restart }, restartWhy: decided.why }
  }
  const chunked = decided
  const carried = { read: 0, written: 0, rejected: 0, dropped: 0 }
  const byKind: ResumeState['byKind'] = {}
  for (const { state } of chunked.states) {
    carried.read += state.carried.read
    carried.written += state.carried.written
    carried.rejected += state.carried.rejected
    carried.dropped += state.carried.dropped
    for (const [k, n] of Object.entries(state.byKind)) byKind[k as keyof typeof byKind] = (byKind[k as keyof typeof byKind] ?? 0) + (n ?? 0)
  }
  return { state: { carried, byKind, done: chunked.states.every((c) => c.state.done), unjournaledRejects: 0, chunked } }
}

/** The report's reason for a table that starts over (a resumed table, or a queue chunk redone from its start). */
export function restartNote(targetRows: number): string {
  return `no key to continue after (no primary key, read in no resumable order): the ${targetRows} row(s) on the target were removed and the table copied again from the start`
}

/** The report's reason for a chunked table that starts over on resume instead of going on by chunk. */
export function chunkedRestartNote(targetRows: number, why: string): string {
  return `copied in chunks the target cannot count by key range, and ${why}: the ${targetRows} row(s) on the target were removed and the table copied again from the start`
}

/**
 * Exact row counts of the target's tables (a table that does not exist counts 0), or of one chunk's key range,
 * read through the target's own reader on a second connection. Only resume needs it, and only then is it worth a
 * full read.
 */
export class TargetCounter {
  private constructor(
    private readonly reader: Connection,
    private readonly existing: ReadonlySet<string>,
    private readonly owned: boolean,
  ) {}

  static async open(spec: ConnectionSpec, target: Connection): Promise<TargetCounter> {
    const owned = typeof spec === 'string'
    const reader = owned ? (await connect(spec)).connection : target
    try {
      const existing = new Set((await reader.introspect()).tables.map((t) => t.name))
      // the run's own target connection must stay free to write (a snapshot would hold it read-only)
      if (owned) await reader.snapshot()
      return new TargetCounter(reader, existing, owned)
    } catch (error) {
      if (owned) await reader.close().catch(() => {})
      throw error
    }
  }

  async rows(table: TableSchema, chunk?: Chunk): Promise<number> {
    if (!this.existing.has(table.name)) return 0
    const range = chunk ? { after: chunk.after === undefined ? undefined : [chunk.after], until: chunk.until === undefined ? undefined : [chunk.until] } : {}
    let n = 0
    for await (const b of this.reader.read(table, { batchRows: 50_000, batchBytes: 64 << 20, ...range })) n += b.rows.length + b.rejected.length
    return n
  }

  async close(): Promise<void> {
    if (this.owned) await this.reader.close()
  }
}
