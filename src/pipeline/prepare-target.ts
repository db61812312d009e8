import { existsSync } from 'node:fs'
import type { ConnectionSpec } from '../connect.js'
import type { TargetMode } from '../dialect.js'
import { SchemaError, UsageError } from '../errors.js'
import type { FerryOptions } from '../options.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'

/**
 * Before the data: backs up a target file the run is about to change (engines with `onlineBackup`), then
 * creates, truncates or checks the target tables (keys but no foreign keys), and lists the tables in load order.
 */
export async function prepareTargetTables(run: RunState, planned: PlannedRun, options: FerryOptions): Promise<void> {
  const asked = targetModeOf(options)
  const mode = run.checkpoints ? 'append' : asked
  if (options.dataOnly) await requireTargetTables(run, planned)
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

/**
 * The mode a run treats existing target tables with: the option, else `append` for a `dataOnly` run (which
 * writes into tables that exist), else `create`. Refuses the combinations that contradict each other
 * (`schemaOnly` with `dataOnly` or `verify`; `dataOnly` with a mode that creates tables).
 */
export function targetModeOf(options: Pick<FerryOptions, 'mode' | 'schemaOnly' | 'dataOnly' | 'verify'>): TargetMode {
  if (options.schemaOnly && options.dataOnly) throw new UsageError('schemaOnly and dataOnly exclude each other: a run without either copies both')
  if (options.schemaOnly && options.verify) throw new UsageError('verify compares rows, and a schemaOnly run copies none')
  if (options.dataOnly && (options.mode === 'create' || options.mode === 'recreate')) {
    throw new UsageError(`dataOnly writes into tables the target has: mode append (its default) or truncate, not ${options.mode}`)
  }
  return options.mode ?? (options.dataOnly ? 'append' : 'create')
}

/** A `dataOnly` run: every table it writes must exist on the target already (checked before anything is written). */
async function requireTargetTables(run: RunState, planned: PlannedRun): Promise<void> {
  const target = run.target.connection
  const existing = (await target.introspect()).tables.map((t) => t.name)
  const lower = new Set(existing.map((n) => n.toLowerCase()))
  const missing = planned.targetSchema.tables.map((t) => t.name).filter((n) => !existing.includes(n) && !lower.has(n.toLowerCase()))
  if (missing.length > 0) {
    throw new SchemaError(
      `dataOnly: the target ${target.description} has no table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (create ${missing.length > 1 ? 'them' : 'it'} first, e.g. with a schemaOnly run)`,
      { table: missing[0] },
    )
  }
}
