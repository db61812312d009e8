import type { Connection } from '../dialect.js'
import { SchemaError } from '../errors.js'
import { decodeKey } from '../journal/keys.js'
import { chunkStart } from '../pipeline/chunk-state.js'
import type { Chunk } from '../pipeline/chunks.js'
import { copyTable, emptyTableReport } from '../pipeline/copy-table.js'
import { resumeState } from '../pipeline/resume.js'
import { restartNote, TargetCounter } from '../pipeline/resume-run.js'
import type { TablePair } from '../plan/table-pair.js'
import type { TableReport } from '../report.js'
import type { Value } from '../schema/types.js'
import type { ChunkLedger, Claim } from './chunk-ledger.js'
import type { RunPlan } from './run-record.js'

/** A worker's connections for one run: a source in the run's snapshot and a target. */
export interface WorkerConnections {
  source: Connection
  target: Connection
}

/**
 * Copies one claimed chunk with the copy's own table path (`copyTable`), exactly as a chunk of `--jobs` is
 * copied: intent and confirmation checkpoints around every batch — kept in the queue database and written only
 * while this attempt holds the chunk — and rejects recorded there once the target committed them. A chunk an
 * earlier attempt began (its worker died) goes on from what the target holds in the chunk's key range, as
 * `--resume` does; a whole table without a key to continue after starts over from an empty target table.
 * Returns the chunk's report.
 */
export async function copyClaimedChunk(plan: RunPlan, ledger: ChunkLedger, conns: WorkerConnections, pair: TablePair, index: number, claim: Claim, signal?: AbortSignal, onBatch?: (read: number) => void): Promise<TableReport> {
  const table = pair.target.name
  const chunk = chunkOf(index, claim)
  const report = emptyTableReport(pair)
  let after = chunkStart(chunk)
  if (claim.checkpoint) after = (await resumePoint(plan, conns.target, pair, chunk, claim, report)) ?? after
  await copyTable(
    {
      source: conns.source,
      target: conns.target,
      journal: { journal: { record: (_run, entries) => ledger.record(table, index, entries) }, runId: 0 },
      batchRows: plan.batchRows,
      batchBytes: plan.batchBytes,
      maxExamples: plan.maxExamples,
      fit: plan.fit,
      signal,
      onProgress: onBatch && ((e) => e.type === 'batch' && onBatch(e.read)),
      transformers: [],
      checkpoint: (cp) => ledger.checkpoint(table, index, claim.attempt, cp),
      after,
      until: chunk.until === undefined ? undefined : [chunk.until],
      passThrough: false,
    },
    pair,
    report,
    undefined,
  )
  return report
}

/** The chunk a claim names, with its bounds decoded. */
function chunkOf(index: number, claim: Claim): Chunk {
  const chunk: Chunk = { index }
  const after = decodeKey(claim.bounds.after)?.[0]
  const until = decodeKey(claim.bounds.until)?.[0]
  if (after !== undefined) chunk.after = after
  if (until !== undefined) chunk.until = until
  return chunk
}

/**
 * Where a chunk an earlier attempt began goes on: its checkpoint and the rows the target holds in its range
 * decide, as for a resumed table. The carried counts go into `report`. Undefined: from the chunk's start.
 */
async function resumePoint(plan: RunPlan, target: Connection, pair: TablePair, chunk: Chunk, claim: Claim, report: TableReport): Promise<Value[] | undefined> {
  const table = pair.target.name
  const label = `${table} (chunk ${chunk.index + 1} of ${claim.of})`
  // counted on a connection of its own, in a snapshot: the worker's target connection stays free to write
  const counter = await TargetCounter.open(plan.to, target)
  let rows: number
  try {
    rows = await counter.rows(pair.target, claim.of > 1 ? chunk : undefined)
  } finally {
    await counter.close()
  }
  const state = resumeState(label, claim.checkpoint, rows)
  if (state.restart) {
    // a chunk's rows cannot be told from its neighbours' without a position; a whole table can start over
    if (claim.of > 1 && state.restart.targetRows > 0) throw new SchemaError(`cannot continue ${label}: the target holds ${state.restart.targetRows} row(s) in its range that its checkpoint cannot place`, { table })
    report.resumed = { carried: { read: 0, written: 0, rejected: 0, dropped: 0 }, skipped: false, restarted: restartNote(state.restart.targetRows) }
    return undefined
  }
  Object.assign(report, state.carried)
  report.byKind = { ...state.byKind }
  report.resumed = { carried: { ...state.carried }, skipped: false }
  return state.after
}
