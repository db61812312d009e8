import { PreflightError } from './errors.js'
import { finishRun } from './finish/finish-run.js'
import type { FerryOptions } from './options.js'
import { copyTables } from './pipeline/copy-tables.js'
import { prepareTargetTables } from './pipeline/prepare-target.js'
import { planRun } from './plan/plan-run.js'
import type { Report } from './report.js'
import { closeRun, concludeRun, recordFailure } from './run/close-run.js'
import { openRun } from './run/open-run.js'
import { verifyCopy } from './verify/verify-copy.js'

export type { FerryOptions } from './options.js'
export { MemoryJournal } from './journal/journal.js'

/**
 * Copies a database: schema, rows, then keys. Returns a report of every table's counts; throws only for what
 * stops the whole run before it can report (bad options, a missing driver, a source or target that cannot be
 * opened, a preflight told to stop).
 *
 * @example
 * const report = await ferry({ from: 'sqlite:./app.db', to: 'postgres://postgres@127.0.0.1/app' })
 */
export async function ferry(options: FerryOptions): Promise<Report> {
  options.onProgress?.({ type: 'phase', phase: 'connect' })
  const run = await openRun(options)
  try {
    const planned = await planRun(run, options)
    await prepareTargetTables(run, planned, options)
    const missing = await copyTables(run, planned, options)
    await finishRun(run, planned, options)
    if (missing) await verifyCopy(run, planned, options, missing)
    run.report.ok = true
  } catch (error) {
    recordFailure(run.report, error)
    if (error instanceof PreflightError) {
      // nothing was written: the caller gets the error itself
      for (const close of run.onClose.splice(0)) await close().catch(() => {})
      await closeRun(run)
      throw error
    }
  }
  const report = await concludeRun(run)
  options.onProgress?.({ type: 'phase', phase: 'done' })
  return report
}
