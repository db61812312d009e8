import { AbortError, DbferryError, SchemaError } from './errors.js'
import { finishRun } from './finish/finish-run.js'
import type { FerryOptions } from './options.js'
import { copyTables } from './pipeline/copy-tables.js'
import { prepareTargetTables } from './pipeline/prepare-target.js'
import { planRun } from './plan/plan-run.js'
import { checkQueueRun, copyThroughQueue } from './queue/coordinator.js'
import type { Report } from './report.js'
import { closeRun, concludeRun, keepInterruptedRun, recordFailure } from './run/close-run.js'
import { openRun } from './run/open-run.js'
import type { RunState } from './run/run-state.js'
import { verifyCopy } from './verify/verify-copy.js'

export type { FerryOptions } from './options.js'
export { MemoryJournal } from './journal/journal.js'

/**
 * Copies a database: schema, rows, then keys.
 *
 * Two outcomes, never both:
 * - **throws** a {@link DbferryError} (its `code` says why) when the run cannot start, that is for anything
 *   found before the copy of rows begins: bad options (`usage`), a missing driver (`not_available`), a source
 *   or target that cannot be opened (`connection`), a source and target that are one database (`usage`), a
 *   schema that cannot be read or mapped (`schema`), target tables that already exist in mode `create`
 *   (`target_exists`, naming them), a preflight told to stop (`preflight`), a resume refused (`source_changed`,
 *   `schema`). Nothing was written to the target's tables; the journal records the attempt.
 * - **returns** the {@link Report} of a run that started: every table's counts, and `ok: false` with `error`
 *   when something stopped it on the way (a lost connection, a transform that threw, an abort through
 *   `signal` — an aborted run always reports, with `error.code` `aborted`). Check `report.ok` (the run
 *   finished) and `report.clean` (nothing rejected, dropped or left uncreated).
 *
 * @example
 * const report = await ferry({ from: 'sqlite:./app.db', to: 'postgres://postgres@127.0.0.1/app' })
 * if (!report.clean) throw new Error(report.error?.message ?? `${report.totals.rejected} row(s) rejected`)
 */
export async function ferry(options: FerryOptions): Promise<Report> {
  options.onProgress?.({ type: 'phase', phase: 'connect' })
  const run = await openRun(options)
  // how far the run got: a failure before `copy` means it could not start
  let step: 'plan' | 'prepare' | 'copy' = 'plan'
  try {
    if (options.queue) checkQueueRun(run, options)
    const planned = await planRun(run, options)
    step = 'prepare'
    await prepareTargetTables(run, planned, options)
    step = 'copy'
    const missing = options.queue ? await copyThroughQueue(run, planned, options) : await copyTables(run, planned, options)
    await finishRun(run, planned, options)
    if (missing) await verifyCopy(run, planned, options, missing)
    run.report.ok = true
  } catch (caught) {
    const error = asAbortWhenAborted(caught, options.signal)
    recordFailure(run.report, error)
    if (step !== 'copy' && !(error instanceof AbortError)) throw await cannotStart(run, error, step)
  }
  const report = await concludeRun(run)
  options.onProgress?.({ type: 'phase', phase: 'done' })
  return report
}

/**
 * A failure after the caller aborted the run is the abort's, whatever error the interrupted step surfaced (a
 * cancelled query, a closed stream): the caller stopped the run, and its report says so.
 */
function asAbortWhenAborted(error: unknown, signal: AbortSignal | undefined): unknown {
  if (!signal?.aborted || error instanceof AbortError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new AbortError(`the run was aborted (then: ${message})`)
}

/**
 * Ends a run that could not start: the journal records it (and keeps an interrupted run it did not touch
 * resumable), everything it opened is closed, and the error to throw is returned — for tables that exist
 * while the journal holds an interrupted run of this source and target, with the advice to resume it.
 */
async function cannotStart(run: RunState, error: unknown, step: 'plan' | 'prepare'): Promise<unknown> {
  const exists = error instanceof DbferryError && error.code === 'target_exists'
  // the target's tables are as they were: failed before preparing them, or a `create` that refused them
  if (run.interruptedRun && (step === 'plan' || exists)) await keepInterruptedRun(run).catch(() => {})
  // the run's own error is what the caller needs: a failure to record it must not replace it
  await concludeRun(run).catch(() => closeRun(run).catch(() => {}))
  if (!run.interruptedRun || !exists) return error
  return new SchemaError(
    `${error.message}; ${run.report.journal ? `the journal ${run.report.journal}` : 'the journal'} holds an interrupted run of this source and target: run the same command with --resume (resume: true) to continue it`,
    { code: 'target_exists', table: error.table, cause: error },
  )
}
