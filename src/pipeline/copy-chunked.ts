import { AbortError } from '../errors.js'
import type { Checkpoint } from '../journal/journal.js'
import type { TablePair } from '../plan/table-pair.js'
import type { TableReport } from '../report.js'
import { addChunkReport, ChunkedCheckpoints, type ChunkedResume } from './chunk-state.js'
import { chunkReadRange, type Chunk } from './chunks.js'
import type { CopyContext } from './copy-context.js'
import { emptyTableReport } from './copy-table.js'
import type { LanePool } from './lanes.js'
import type { ProgressEvent } from './progress.js'

/** What copying a table in chunks needs beyond one table's copy context. */
export interface ChunkedCopy {
  /** The copy context every chunk starts from (its connections, `after`, `until` and `checkpoint` are set per chunk). */
  base: Omit<CopyContext, 'source' | 'target'>
  pool: LanePool
  /** Writes the table's checkpoint. Absent: no journal. */
  checkpoint?: (cp: Checkpoint) => Promise<void>
  chunks: readonly Chunk[]
  /** A resumed table: each chunk's state. Absent: every chunk from its start. */
  resumed?: ChunkedResume['states']
}

/**
 * Copies a table as chunks of its key range, each on a lane or in a chunk thread of its own as they come free
 * (`LanePool.copyChunk`), each with the exact checkpoints of a whole table. The table's report sums the
 * chunks'. The first chunk that fails stops the start of the others; those running finish, then the failure is
 * the table's.
 */
export async function copyChunked(job: ChunkedCopy, pair: TablePair, report: TableReport, total: number | undefined): Promise<void> {
  const started = Date.now()
  const { base, pool, chunks } = job
  report.chunks = chunks.length
  const states = job.resumed
  const ledger = new ChunkedCheckpoints(report.name, chunks, states?.map((s) => s.checkpoint) ?? [], async (cp) => job.checkpoint?.(cp))
  // the chunk plan is in the journal before any row is written, so a resume finds the same chunks
  await job.checkpoint?.(ledger.tableCheckpoint())
  const subs: TableReport[] = chunks.map((_, i) => chunkReport(pair, states?.[i]?.state.carried, states?.[i]?.state.byKind))
  const progress = aggregateProgress(report, subs, total, started, base.onProgress)
  base.onProgress?.({ type: 'table-start', table: report.name, total, carried: sumOf(subs).read })
  let failure: { error: unknown; chunk: Chunk } | undefined
  try {
    await Promise.all(
      chunks.map(async (chunk) => {
        if (states?.[chunk.index]?.state.done) return
        // on a free lane, or in a chunk thread (lanes.ts), which opens no chunk once one failed or the run stopped
        const ctx: Omit<CopyContext, 'source' | 'target'> = {
          ...base,
          ...chunkReadRange(chunk, states?.[chunk.index]?.state.after),
          checkpoint: job.checkpoint ? ledger.forChunk(chunk.index) : undefined,
          onProgress: progress,
        }
        try {
          await pool.copyChunk(ctx, pair, subs[chunk.index]!, () => failure !== undefined || base.signal?.aborted === true)
        } catch (error) {
          failure ??= { error, chunk }
        }
      }),
    )
    if (!failure && base.signal?.aborted) failure = { error: new AbortError(), chunk: chunks[0]! }
  } finally {
    // the chunks' reports start from what each carried: the table's counts are their sum
    Object.assign(report, { read: 0, written: 0, rejected: 0, dropped: 0, inserted: 0, byKind: {} })
    for (const sub of subs) addChunkReport(report, sub, base.maxExamples)
    report.ms += Date.now() - started
  }
  if (failure) {
    report.status = 'failed'
    const sub = subs[failure.chunk.index]!
    report.error = `chunk ${failure.chunk.index + 1} of ${chunks.length}: ${sub.error ?? (failure.error instanceof Error ? failure.error.message : String(failure.error))}`
    endEvent(base.onProgress, report, 'failed')
    throw failure.error
  }
  report.status = 'done'
  endEvent(base.onProgress, report, 'done')
}

/** A chunk's own report, starting from what a resumed chunk carries. */
function chunkReport(pair: TablePair, carried: ChunkedResume['states'][number]['state']['carried'] | undefined, byKind: TableReport['byKind'] | undefined): TableReport {
  const r = emptyTableReport(pair)
  if (carried) Object.assign(r, { read: carried.read, written: carried.written, rejected: carried.rejected, dropped: carried.dropped })
  if (byKind) r.byKind = { ...byKind }
  return r
}

function sumOf(subs: readonly TableReport[]): { read: number; written: number; rejected: number; dropped: number } {
  const s = { read: 0, written: 0, rejected: 0, dropped: 0 }
  for (const r of subs) {
    s.read += r.read
    s.written += r.written
    s.rejected += r.rejected
    s.dropped += r.dropped
  }
  return s
}

/**
 * The progress of a chunked table as one table's: each chunk's batch event becomes the table's counts so far
 * (the sum over its chunks); the chunks' own start and end events are not passed on.
 */
function aggregateProgress(report: TableReport, subs: readonly TableReport[], total: number | undefined, started: number, onProgress: ((e: ProgressEvent) => void) | undefined): ((e: ProgressEvent) => void) | undefined {
  if (!onProgress) return undefined
  return (e) => {
    if (e.type !== 'batch') return
    onProgress({ type: 'batch', table: report.name, ...sumOf(subs), total, elapsedMs: Date.now() - started })
  }
}

function endEvent(onProgress: ((e: ProgressEvent) => void) | undefined, report: TableReport, status: 'done' | 'failed'): void {
  onProgress?.({ type: 'table-end', table: report.name, read: report.read, written: report.written, rejected: report.rejected, dropped: report.dropped, ms: report.ms, status })
}
