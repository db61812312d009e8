import type { FerryOptions } from '../options.js'
import { checkAccounting } from '../pipeline/copy-table.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'
import { runObjects } from './objects.js'

/**
 * After the data: the target's secondary indexes, foreign keys and sequence/identity positions; then views and
 * functions (the user's SQL for them, or between databases of one engine their own definitions; the others are
 * listed as not created, with the reason); then every table's row accounting is checked.
 */
export async function finishRun(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<void> {
  const target = run.target.connection
  options.onProgress?.({ type: 'phase', phase: 'finalize' })
  run.report.constraints = await target.finalize(planned.targetSchema, { signal: options.signal })
  if (options.objects || planned.sourceSchema.objects.length > 0) run.report.objects = await runObjects(target, options.objects ?? {}, planned.sourceSchema)
  for (const r of run.report.tables) checkAccounting(r)
}
