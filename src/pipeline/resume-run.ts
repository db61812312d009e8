import { connect, type ConnectionSpec } from '../connect.js'
import type { Connection } from '../dialect.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'
import { valueToJson } from '../schema/rows.js'
import type { DatabaseSchema } from '../schema/types.js'
import { confirmedCheckpoint, resumeState, type ResumedInfo, type ResumeState } from './resume.js'

/**
 * Where each table of a resumed run goes on, from the interrupted run's checkpoints and the rows the target
 * really holds. Each table's state is carried into this run's journal at once, so that an interruption of
 * this run resumes just as well.
 */
export async function resumeTables(run: RunState, planned: PlannedRun, targetSpec: ConnectionSpec): Promise<Map<string, ResumeState>> {
  const journal = run.journal!
  const resumeAt = new Map<string, ResumeState>()
  const rows = await exactRowCounts(targetSpec, run.target.connection, planned.targetSchema)
  const byTable = new Map((run.checkpoints ?? []).map((c) => [c.table, c]))
  for (const p of planned.pairs) {
    const name = p.target.name
    const state = resumeState(name, byTable.get(name), rows.get(name) ?? 0, run.interrupted)
    resumeAt.set(name, state)
    const r = planned.reports.get(name)!
    Object.assign(r, state.carried)
    r.byKind = { ...state.byKind }
    const resumed: ResumedInfo = { carried: { ...state.carried }, after: state.after ? JSON.stringify(state.after.map(valueToJson)) : undefined, skipped: state.done }
    if (state.restart) resumed.restarted = restartNote(state.restart.targetRows)
    r.resumed = resumed
    // a table that starts over keeps the interrupted run's checkpoint until its first batch: the copy empties
    // its target table first, and a crash in between must still find the checkpoint that explains the rows
    const cp = byTable.get(name)
    if (cp) await journal.journal.checkpoint(journal.runId, state.restart ? cp : confirmedCheckpoint(r, state.after, state.done))
    if (state.unjournaledRejects > 0) {
      await journal.journal.record(journal.runId, [
        {
          table: name,
          action: 'rejected',
          kind: 'target_rejected',
          message: `${state.unjournaledRejects} row(s) of the batch committed just before the interruption were rejected or dropped; their details were not journaled`,
          source: 'resume',
        },
      ])
    }
  }
  return resumeAt
}

/** The report's reason for a table that starts over. */
function restartNote(targetRows: number): string {
  return `no key to continue after (no primary key, read in no resumable order): the ${targetRows} row(s) on the target were removed and the table copied again from the start`
}

/**
 * Exact row counts of the target's tables, read through the target's own reader on a second connection
 * (tables that do not exist count 0). Only resume needs it, and only then is it worth a full read.
 */
async function exactRowCounts(spec: ConnectionSpec, target: Connection, schema: DatabaseSchema): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  const reader = typeof spec === 'string' ? (await connect(spec)).connection : target
  try {
    const existing = new Set((await reader.introspect()).tables.map((t) => t.name))
    // the run's own target connection must stay free to write (a snapshot would hold it read-only)
    if (reader !== target) await reader.snapshot()
    for (const t of schema.tables) {
      if (!existing.has(t.name)) continue
      let n = 0
      for await (const b of reader.read(t, { batchRows: 50_000, batchBytes: 64 << 20 })) n += b.rows.length + b.rejected.length
      counts.set(t.name, n)
    }
  } finally {
    if (reader !== target) await reader.close()
  }
  return counts
}
