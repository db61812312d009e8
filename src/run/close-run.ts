import { DbferryError, redact } from '../errors.js'
import { totalsOf, type Report } from '../report.js'
import { carryCheckpoints } from './open-run.js'
import type { RunState } from './run-state.js'

/** Puts a failure that ended the run into its report. */
export function recordFailure(report: Report, error: unknown): void {
  report.ok = false
  report.error = {
    code: error instanceof DbferryError ? error.code : 'error',
    message: redact(error instanceof Error ? error.message : String(error)),
  }
}

/**
 * The run's last step: totals, whether it is clean (ok, verified equal where verified, nothing rejected or
 * dropped, every constraint, view and function created, every data-changing statement of a script source applied), the journal's
 * record of the run, and every connection it opened closed.
 */
export async function concludeRun(run: RunState): Promise<Report> {
  const report = run.report
  report.totals = totalsOf(report.tables)
  report.clean =
    report.ok &&
    report.verify?.equal !== false &&
    report.totals.rejected === 0 &&
    report.totals.dropped === 0 &&
    report.constraints.length === 0 &&
    // a view or function of the source that is not on the target is part of the database not moved
    report.objects.every((o) => o.ok) &&
    // a script statement that would have changed data and was not applied is data not moved
    (report.snapshot?.notApplied ?? 0) === 0
  report.ms = Date.now() - run.started
  for (const close of run.onClose.splice(0)) await close().catch(() => {})
  if (run.journal) await run.journal.journal.finishRun(run.journal.runId, { ok: report.ok, report: JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) })
  await closeRun(run)
  return report
}

/**
 * For a run that could not start and left the target's tables as they were: passes the interrupted run the
 * journal holds (`interruptedRun`) on to this run's record, which is now the latest between this source and
 * target, so that a resume still takes it up.
 */
export async function keepInterruptedRun(run: RunState): Promise<void> {
  if (run.journal && run.interruptedRun) await carryCheckpoints(run.journal.journal, run.journal.runId, run.interruptedRun)
}

/** Closes what the run opened: its connections and its journal, never what the caller handed in. */
export async function closeRun(run: RunState): Promise<void> {
  if (run.source.owned) await run.source.connection.close().catch(() => {})
  if (run.target.owned) await run.target.connection.close().catch(() => {})
  if (run.journal?.owned) await run.journal.journal.close()
}
