import type { PlannedRun } from '../plan/planned-run.js'
import type { ProgressEvent } from './progress.js'

/**
 * The `copy` phase event with what an overall progress line needs: how many tables the run copies, how many
 * a resumed run already finished, and the rows expected (every source table's estimate; absent when one has
 * none, rather than an ETA that runs out early).
 */
export function copyPhaseEvent(planned: PlannedRun): ProgressEvent {
  const estimates = planned.pairs.map((p) => p.source.rowCountEstimate)
  const done = planned.pairs.filter((p) => planned.resumeAt.get(p.target.name)?.done === true).length
  const known = estimates.every((n): n is number => n !== undefined)
  return { type: 'phase', phase: 'copy', tables: planned.pairs.length, done, ...(known ? { rows: estimates.reduce((a, b) => a + b, 0) } : {}) }
}
