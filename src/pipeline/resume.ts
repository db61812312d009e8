import type { SourceTableState } from '../dialect.js'
import { SchemaError, type SourceChange } from '../errors.js'
import type { Checkpoint } from '../journal/journal.js'
import { decodeKey, encodeKey } from '../journal/keys.js'
import type { TableReport } from '../report.js'
import type { Value } from '../schema/types.js'
import type { Chunk } from './chunks.js'

/**
 * Crash-exact resume. Before a batch is written the engine records an intent (the batch's last source key and
 * the counts as they will be once it is written); after the target commits it, a confirmation. Batches commit
 * atomically on every target, so after a crash the target's exact row count tells which of the two states
 * the target is in — no row is lost and none is written twice, whatever moment the process died.
 */

/** Rejected and dropped rows by failure kind (`TableReport.byKind`). */
type ByKind = TableReport['byKind']

/** Counts carried in a checkpoint (with `byKind`, when the caller has them, kept in the envelope). */
interface Counts {
  read: number
  written: number
  rejected: number
  dropped: number
  byKind?: ByKind
}

/** The pending batch of an intent checkpoint. */
interface Pending extends Counts {
  key: string | null
  /** Rows handed to the target writer. */
  rows: number
}

interface Envelope {
  committed: string | null
  /** Rejected and dropped rows by kind up to `committed`. */
  kinds?: ByKind
  pending?: Pending & { kinds?: ByKind }
}

/** A checkpoint recording that everything up to `committedKey` is on the target. */
export function confirmedCheckpoint(report: TableReport, committedKey: readonly Value[] | undefined, done: boolean): Checkpoint {
  const envelope: Envelope = { committed: encodeKey(committedKey), kinds: { ...report.byKind } }
  return {
    table: report.name,
    lastKey: JSON.stringify(envelope),
    read: report.read,
    written: report.written,
    rejected: report.rejected,
    dropped: report.dropped,
    done,
  }
}

/**
 * A checkpoint recording that a batch ending at `pendingKey` with `rows` rows is about to be written;
 * `report` holds the counts with the batch's reader and transform outcomes already in, `written` not yet.
 */
export function intentCheckpoint(report: TableReport, committedKey: readonly Value[] | undefined, committed: Counts, pendingKey: readonly Value[] | undefined, rows: number): Checkpoint {
  const envelope: Envelope = {
    committed: encodeKey(committedKey),
    kinds: { ...committed.byKind },
    pending: { key: encodeKey(pendingKey), rows, read: report.read, written: report.written, rejected: report.rejected, dropped: report.dropped, kinds: { ...report.byKind } },
  }
  return { table: report.name, lastKey: JSON.stringify(envelope), read: committed.read, written: committed.written, rejected: committed.rejected, dropped: committed.dropped, done: false }
}

/** Where a table resumes and what it carries over from the interrupted run. */
export interface ResumeState {
  /** Read the source after this key; undefined: from the start. */
  after?: Value[]
  carried: Counts
  /**
   * The carried rejected and dropped rows by kind, adding up to `carried.rejected + carried.dropped` (rows the
   * target refused in the batch committed at the crash as `target_rejected`); empty for a checkpoint written
   * before kinds were kept.
   */
  byKind: ByKind
  done: boolean
  /** Rows the target refused in the batch that committed just before the crash (their details were not journaled). */
  unjournaledRejects: number
  /**
   * The interrupted run read this table in no resumable order (a table without a primary key read from a
   * server source: no key to continue after), so it starts over from an empty target table; set with the rows
   * the target holds now, which the copy removes first. Absent: continue after `after`.
   */
  restart?: { targetRows: number }
  /** A table copied in chunks: where each chunk goes on (`after` and `carried` above are then unused and the sums). */
  chunked?: {
    chunks: Chunk[]
    /** Per chunk: where it resumes (as a whole table would) and its checkpoint to carry. */
    states: { state: ResumeState; checkpoint: Checkpoint }[]
  }
}

/** What the report's `resumed` says about a table (`TableReport.resumed`). */
export type ResumedInfo = NonNullable<TableReport['resumed']>

/**
 * Decides where a table resumes, from its last checkpoint and the target's exact row count. Throws a
 * `SchemaError` when the target holds rows the checkpoints cannot explain (it changed since the run).
 * `interrupted` (default true) says whether the journal had an interrupted run at all, for the message.
 */
export function resumeState(table: string, cp: Checkpoint | undefined, targetRows: number, interrupted = true): ResumeState {
  const zero = { read: 0, written: 0, rejected: 0, dropped: 0 }
  if (!cp) {
    if (targetRows === 0) return { carried: zero, byKind: {}, done: false, unjournaledRejects: 0 }
    const why = interrupted ? 'that no checkpoint accounts for' : 'and the journal has no interrupted run between this source and target (the last one finished, or none ran)'
    throw new SchemaError(`cannot resume ${table}: the target holds ${targetRows} row(s) ${why}; use mode truncate or recreate to copy again`, { table })
  }
  const env = (cp.lastKey ? JSON.parse(cp.lastKey) : { committed: null }) as Envelope
  const committed: Counts = { read: cp.read, written: cp.written, rejected: cp.rejected, dropped: cp.dropped }
  if (cp.done) {
    if (targetRows !== cp.written) {
      // the table may have received stub rows from a transform after it finished; more than that is a change
      if (targetRows < cp.written) throw new SchemaError(`cannot resume ${table}: the target has ${targetRows} rows, the finished table had ${cp.written}`, { table })
    }
    return { carried: committed, byKind: { ...env.kinds }, done: true, unjournaledRejects: 0 }
  }
  const p = env.pending
  // no key to continue after (rows read, none of them carrying a position): reading from the start again and
  // appending would write every committed row twice, so the table starts over from empty
  if (env.committed === null && (p?.key ?? null) === null) return restartState(table, cp, p, targetRows)
  if (p && p.rows === 0 && targetRows === cp.written) {
    // the pending batch had nothing to write: it is complete once its rejects and drops were journaled, which
    // cannot be told apart here, so its counts are carried and its details may be missing
    return { after: decodeKey(p.key), carried: { read: p.read, written: cp.written, rejected: p.rejected, dropped: p.dropped }, byKind: { ...p.kinds }, done: false, unjournaledRejects: p.rejected + p.dropped - cp.rejected - cp.dropped }
  }
  if (targetRows === cp.written) return { after: decodeKey(env.committed), carried: committed, byKind: { ...env.kinds }, done: false, unjournaledRejects: 0 }
  if (p && targetRows > cp.written && targetRows <= cp.written + p.rows) {
    const written = targetRows - cp.written
    return {
      after: decodeKey(p.key),
      // the rows of the batch the target did not take were refused by it: their kinds were never journaled
      carried: { read: p.read, written: cp.written + written, rejected: p.rejected + (p.rows - written), dropped: p.dropped },
      byKind: addKind({ ...p.kinds }, 'target_rejected', p.rows - written),
      done: false,
      unjournaledRejects: p.rows - written + (p.rejected + p.dropped - cp.rejected - cp.dropped),
    }
  }
  throw new SchemaError(
    `cannot resume ${table}: the target has ${targetRows} rows but the checkpoint says ${cp.written}${p ? ` (+${p.rows} pending)` : ''}; it changed since the run (use mode recreate to start over)`,
    { table },
  )
}

/**
 * A table without a position starts over: its counts start at zero and the target's rows are removed before
 * it is copied again. The target must hold what the checkpoints explain (the committed rows, up to the pending
 * batch), or nothing at all (a crash after the rows were removed and before the first new checkpoint).
 */
function restartState(table: string, cp: Checkpoint, p: Pending | undefined, targetRows: number): ResumeState {
  const zero = { read: 0, written: 0, rejected: 0, dropped: 0 }
  const explained = targetRows === 0 || targetRows === cp.written || (p !== undefined && targetRows > cp.written && targetRows <= cp.written + p.rows)
  if (!explained) {
    throw new SchemaError(
      `cannot resume ${table}: the target has ${targetRows} rows but the checkpoint says ${cp.written}${p ? ` (+${p.rows} pending)` : ''}; it changed since the run (use mode recreate to start over)`,
      { table },
    )
  }
  const state: ResumeState = { carried: zero, byKind: {}, done: false, unjournaledRejects: 0 }
  if (targetRows > 0 || cp.read > 0 || p !== undefined) state.restart = { targetRows }
  return state
}

function addKind(byKind: ByKind, kind: keyof ByKind, n: number): ByKind {
  if (n > 0) byKind[kind] = (byKind[kind] ?? 0) + n
  return byKind
}

const STATE_FIELDS = ['rows', 'maxKey', 'bytes', 'modified'] as const

/**
 * The tables whose source state differs from the one the interrupted run recorded. Only tables the interrupted
 * run reached (those with a checkpoint) matter: the others start from nothing anyway. A table without a
 * recorded state (a journal from before states were kept) or a source that cannot tell is not compared.
 */
export function sourceChanges(checkpoints: readonly Checkpoint[], now: ReadonlyMap<string, SourceTableState>): SourceChange[] {
  const changes: SourceChange[] = []
  for (const cp of checkpoints) {
    const before = cp.sourceState
    const current = now.get(cp.table)
    if (!before || !current) continue
    const fields = STATE_FIELDS.filter((f) => before[f] !== undefined && current[f] !== undefined && before[f] !== current[f]).map((f) => ({
      field: f,
      before: before[f],
      now: current[f],
    }))
    if (fields.length > 0) changes.push({ table: cp.table, fields })
  }
  return changes
}
