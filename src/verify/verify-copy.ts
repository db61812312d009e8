import type { FerryOptions } from '../options.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'

/**
 * `ferry({ verify: true })`: compares source and target after the copy, expecting the rows the run rejected or
 * dropped (`missing`, by table) to be absent from the target. The outcome goes into the report.
 */
export async function verifyCopy(run: RunState, planned: PlannedRun, options: FerryOptions, missing: Map<string, string[]>): Promise<void> {
  options.onProgress?.({ type: 'phase', phase: 'verify' })
  const { verify } = await import('./verify.js')
  const v = await verify({
    a: options.from,
    b: options.to,
    tables: planned.pairs.map((p) => p.source.name),
    renames: run.report.renames,
    expectDropped: Object.fromEntries(missing),
    signal: options.signal,
  })
  run.report.verify = {
    equal: v.equal,
    tables: v.tables.map((t) => ({ name: t.nameB ?? t.name, equal: t.equal, missing: t.missing.length, extra: t.extra.length, changed: t.changed.length })),
  }
}
