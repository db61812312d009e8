import { existsSync } from 'node:fs'
import { connect } from '../connect.js'
import type { Connection } from '../dialect.js'
import { redact } from '../errors.js'
import type { FerryOptions } from '../options.js'
import type { Report } from '../report.js'
import { loadDatabase } from '../store/database.js'

/** The last run between a source and a target, finished, whose rows the target still holds exactly. */
export interface FinishedRun {
  /** Its report as the journal kept it. */
  report: Report
  /** What to tell the user: `nothing to resume: …`. */
  message: string
}

/**
 * What `--resume` finds when there is nothing to resume: the journal's last run between this source and target
 * finished, and every table of it holds on the target exactly the rows that run wrote. Undefined in every other
 * case (no journal file, an interrupted run to take up, a target that changed since, a database that cannot be
 * opened): then the resume goes ahead and says for itself what it finds.
 */
export async function finishedRun(options: FerryOptions): Promise<FinishedRun | undefined> {
  if (!options.resume || typeof options.journal !== 'string' || !existsSync(options.journal)) return undefined
  if (typeof options.from !== 'string' || typeof options.to !== 'string') return undefined
  try {
    const names = await runNames(options.from, options.to)
    const report = await lastRunReport(options.journal, names.source, names.target)
    if (!report?.ok) return undefined
    if (!(await targetHolds(options.to, report))) return undefined
    const rows = report.tables.reduce((n, t) => n + t.written, 0)
    return {
      report,
      message: `nothing to resume: the last run from ${report.source} to ${report.target} finished; the target holds the ${rows} rows of its ${report.tables.length} tables`,
    }
  } catch {
    return undefined // the resume itself reports what is wrong
  }
}

/** The source and target as a run's journal names them (as `openRun` does). */
async function runNames(from: string, to: string): Promise<{ source: string; target: string }> {
  const source = await connect(from)
  try {
    const target = await connect(to)
    try {
      return { source: source.connection.description, target: target.connection.description ?? redact(to) }
    } finally {
      await target.connection.close()
    }
  } finally {
    await source.connection.close()
  }
}

/**
 * The report of the journal's latest run between `source` and `target` when it finished ok (the run resume
 * would take up otherwise); undefined when that run is unfinished, failed, or none ran. Runs that could not
 * start are passed over. Read-only.
 */
async function lastRunReport(path: string, source: string, target: string): Promise<Report | undefined> {
  const Database = await loadDatabase('reading a journal')
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    // a run that could not start (refused before any table: `target_exists`, a changed source) left the target
    // as the run before it did: that one is the last run
    const latest = db
      .prepare(
        `SELECT finished_at, ok, report FROM run WHERE source = ? AND target = ?
         AND NOT (ok = 0 AND report IS NOT NULL AND json_array_length(report, '$.tables') = 0 AND json_extract(report, '$.error') IS NOT NULL)
         ORDER BY id DESC LIMIT 1`,
      )
      .get(source, target) as
      | { finished_at: string | null; ok: number | null; report: string | null }
      | undefined
    if (!latest || latest.finished_at === null || latest.ok !== 1 || latest.report === null) return undefined
    return JSON.parse(latest.report) as Report
  } finally {
    db.close()
  }
}

/** Whether every table of the report holds on the target exactly the rows the run wrote (counted by reading them). */
async function targetHolds(to: string, report: Report): Promise<boolean> {
  const { connection } = await connect(to)
  try {
    const tables = new Map((await connection.introspect()).tables.map((t) => [t.name, t]))
    await connection.snapshot()
    for (const r of report.tables) {
      const table = tables.get(r.name)
      if (!table || (await exactRows(connection, table)) !== r.written) return false
    }
    return report.tables.length > 0
  } finally {
    await connection.close()
  }
}

/** A table's exact row count, read through the engine's own reader (an engine's `count` may be an estimate). */
async function exactRows(connection: Connection, table: Parameters<Connection['read']>[0]): Promise<number> {
  let n = 0
  for await (const b of connection.read(table, { batchRows: 50_000, batchBytes: 64 << 20 })) n += b.rows.length + b.rejected.length
  return n
}
