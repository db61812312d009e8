import type { Connection, ConstraintProblem } from '../dialect.js'
import { AbortError, ConnectionError, isDbferryError } from '../errors.js'
import type { Checkpoint } from '../journal/journal.js'
import type { FerryOptions } from '../options.js'
import { checkAccounting } from '../pipeline/copy-table.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'
import { runObjects } from './objects.js'

/**
 * The journal's checkpoint for the finishing step, kept beside the tables' checkpoints under this pseudo-table
 * name (parentheses: no table of a plan is named so by dbferry's own naming). `done` once indexes, foreign keys
 * and sequences are created; `lastKey` then holds the constraint problems finalize reported, so a resume that
 * finds it done reports them again without running finalize a second time.
 */
export const FINISH_CHECKPOINT = '(finish)'

/**
 * After the data: the target's secondary indexes, foreign keys and sequence/identity positions; then views and
 * functions (the user's SQL for them, or between databases of one engine their own definitions; the others are
 * listed as not created, with the reason); then every table's row accounting is checked.
 *
 * Finishing is resumable: a resumed run whose interrupted run finished this step (its checkpoint is done) takes
 * its constraint problems from the journal; otherwise it runs finalize again, which every engine makes
 * idempotent (an index or key that exists is recognised, positions are set again). A lost connection ends the
 * run with a resumable `ConnectionError`, never as one more failed constraint.
 */
export async function finishRun(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<void> {
  const target = run.target.connection
  const carried = finishedBefore(run.checkpoints)
  if (carried) {
    run.report.constraints = carried
  } else {
    options.onProgress?.({ type: 'phase', phase: 'finalize' })
    run.report.constraints = await finalizeTarget(target, planned, options)
    // an aborted finalize stops between statements, with steps left undone: never a finished step
    if (options.signal?.aborted) throw new AbortError('the run was aborted while creating indexes, foreign keys and sequences (run again with --resume to finish)')
    if (run.journal) await run.journal.journal.checkpoint(run.journal.runId, finishedCheckpoint(run.report.constraints))
  }
  if (options.objects || planned.sourceSchema.objects.length > 0) run.report.objects = await runObjects(target, options.objects ?? {}, planned.sourceSchema)
  for (const r of run.report.tables) checkAccounting(r)
}

/** The target's finalize, with a driver's lost connection read by the target's dialect as a resumable `ConnectionError`. */
async function finalizeTarget(target: Connection, planned: PlannedRun, options: FerryOptions): Promise<ConstraintProblem[]> {
  try {
    return await target.finalize(planned.targetSchema, { signal: options.signal })
  } catch (error) {
    throw lostWhileFinishing(error, target)
  }
}

const RESUME_HINT = 'run again with --resume to finish'

/**
 * A lost connection as a `ConnectionError` that says how to go on: a driver's error that the target's dialect
 * classifies `connectionLost`, or a `ConnectionError` the connection raised itself. Anything else unchanged.
 */
function lostWhileFinishing(error: unknown, target: Connection): unknown {
  if (error instanceof ConnectionError) {
    if (!error.message.includes('--resume')) error.message += ` (${RESUME_HINT})`
    return error
  }
  if (isDbferryError(error) || !(error instanceof Error)) return error
  const read = target.dialect.errors?.classify(error)
  if (!read?.connectionLost) return error
  return new ConnectionError(`lost the connection to ${target.description} while creating indexes, foreign keys and sequences: ${error.message} (${RESUME_HINT})`, {
    cause: error,
    driver: read.driver,
  })
}

/** The checkpoint that records the finishing step as done, with the constraint problems it reported. */
function finishedCheckpoint(constraints: readonly ConstraintProblem[]): Checkpoint {
  return { table: FINISH_CHECKPOINT, lastKey: JSON.stringify({ constraints }), read: 0, written: 0, rejected: 0, dropped: 0, done: true }
}

/** The constraint problems of an interrupted run that finished this step; undefined: finalize has to run. */
function finishedBefore(checkpoints: readonly Checkpoint[] | undefined): ConstraintProblem[] | undefined {
  const cp = checkpoints?.find((c) => c.table === FINISH_CHECKPOINT)
  if (!cp?.done || cp.lastKey === null) return undefined
  const { constraints } = JSON.parse(cp.lastKey) as { constraints?: ConstraintProblem[] }
  return constraints
}
