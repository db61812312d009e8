import { existsSync } from 'node:fs'
import type { ConnectionSpec } from '../connect.js'
import type { FerryOptions } from '../options.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'

/**
 * Before the data: backs up a target file the run is about to change (engines with `onlineBackup`), then
 * creates, truncates or checks the target tables (keys but no foreign keys), and lists the tables in load order.
 */
export async function prepareTargetTables(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<void> {
  const mode = run.checkpoints ? 'append' : (options.mode ?? 'create')
  if (mode !== 'create' && options.backup !== false) run.report.backup = await backupTarget(run, options.to, options.backup)
  options.onProgress?.({ type: 'phase', phase: 'prepare' })
  await run.target.connection.prepareTarget(planned.targetSchema, { mode, signal: options.signal })
  run.report.tables = planned.order.order.map((n) => planned.reports.get(n)!)
}

/** Backs up an existing target file; returns the backup's path, or undefined when there is none to back up. */
async function backupTarget(run: RunState, spec: ConnectionSpec, dest: boolean | string | undefined): Promise<string | undefined> {
  const dialect = run.target.connection.dialect
  if (typeof spec !== 'string' || !dialect.capabilities.onlineBackup) return undefined
  const file = dialect.localFile?.(spec)
  if (file === undefined || file === ':memory:' || !existsSync(file)) return undefined
  const path = typeof dest === 'string' ? dest : `${file}.${new Date().toISOString().replace(/[:.]/g, '-')}.backup`
  const { backup } = await import('../backup.js')
  await backup(file, path)
  return path
}
