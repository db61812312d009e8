import type { SourceTableState } from '../dialect.js'
import { PreflightError, SourceChangedError } from '../errors.js'
import { BATCH_DEFAULTS, type FerryOptions } from '../options.js'
import { emptyTableReport } from '../pipeline/copy-table.js'
import type { ProgressEvent } from '../pipeline/progress.js'
import { resumeTables } from '../pipeline/resume-run.js'
import { sourceChanges } from '../pipeline/resume.js'
import type { RunState } from '../run/run-state.js'
import type { PlannedRun } from './planned-run.js'
import { generatedColumnNotes, withNotes } from './generated-notes.js'
import { preflight } from './preflight.js'
import { prepareRun, useExistingTargetTypes, type PreparedRun } from './prepare-run.js'

/**
 * The run's plan: reads the source's schema inside its snapshot, applies selection, transforms and identifier
 * rules, records the source's table states (refusing to resume over a changed source), works out where each
 * table resumes, and runs the preflight when asked.
 */
export async function planRun(run: RunState, options: FerryOptions): Promise<PlannedRun> {
  const { source, target } = { source: run.source.connection, target: run.target.connection }
  options.onProgress?.({ type: 'phase', phase: 'introspect' } satisfies ProgressEvent)
  run.report.snapshot = await source.snapshot()
  // kept tables (truncate, append, resume) decide the column types of a source that would infer them
  if (run.checkpoints || options.mode === 'truncate' || options.mode === 'append' || options.dataOnly) await useExistingTargetTypes(source, target)
  const prepared = prepareRun(await source.introspect(), target, options)
  run.report.snapshot = withNotes(run.report.snapshot, [
    ...(source.usageNotes?.('source') ?? []),
    ...(target.usageNotes?.('target') ?? []),
    ...generatedColumnNotes(prepared.targetSchema, target.dialect),
  ])
  run.report.renames = prepared.renames
  run.report.deferredForeignKeys = prepared.order.deferred
  const planned: PlannedRun = {
    ...prepared,
    reports: new Map(prepared.pairs.map((p) => [p.target.name, emptyTableReport(p)])),
    pairByName: new Map(prepared.pairs.map((p) => [p.target.name, p])),
    resumeAt: new Map(),
  }
  await recordSourceStates(run, prepared)
  if (run.checkpoints) planned.resumeAt = await resumeTables(run, planned, options.to)
  await runPreflight(run, prepared, options)
  return planned
}

/** The source's table states, taken inside the snapshot so they describe exactly the data this run reads. */
async function recordSourceStates(run: RunState, prepared: PreparedRun): Promise<void> {
  const source = run.source.connection
  if (!run.journal || !source.tableState) return
  const states = new Map<string, SourceTableState>()
  for (const p of prepared.pairs) states.set(p.target.name, await source.tableState(p.source))
  const changes = run.checkpoints ? sourceChanges(run.checkpoints, states) : []
  if (changes.length > 0) throw new SourceChangedError(changes)
  await run.journal.journal.sourceStates?.(run.journal.runId, [...states].map(([table, state]) => ({ table, state })))
}

async function runPreflight(run: RunState, prepared: PreparedRun, options: FerryOptions): Promise<void> {
  if ((options.preflight ?? 'off') === 'off') return
  options.onProgress?.({ type: 'phase', phase: 'preflight' })
  const issues = await preflight(run.source.connection, run.target.connection, prepared, {
    batchRows: options.batchRows ?? BATCH_DEFAULTS.rows,
    batchBytes: options.batchBytes ?? BATCH_DEFAULTS.bytes,
    maxExamples: options.maxExamples,
    signal: options.signal,
  })
  run.report.preflight = issues
  const blocking = issues.filter((i) => i.kind !== 'identifier_renamed')
  if (options.preflight === 'stop' && blocking.length > 0) {
    throw new PreflightError(`the preflight found ${blocking.length} problem(s): ${blocking.slice(0, 3).map((i) => i.message).join('; ')}`, blocking)
  }
}
