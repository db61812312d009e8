import { UsageError } from '../errors.js'
import { loadDatabase } from '../store/database.js'
import { buildExpectations, type CopyExpectations, type ExpectationEntry, type ExpectationRunReport } from './expectations.js'

/** Which run of a journal file verify expects the differences of. */
export interface JournalRunChoice {
  /** The journal file (an SQLite file a copy wrote). */
  path: string
  /**
   * A run id (`dbferry rejects` lists them). Default: the latest run from `source` to `target` that finished
   * (`ok`: every table done; rows may have been rejected). A run that could not start, or stopped, is passed over.
   */
  run?: number
  /** The source as it displays (no password): what the journal recorded the run's source as. */
  source: string
  /** The target as it displays. */
  target: string
}

interface RunRow {
  id: number
  source: string
  target: string
  finished_at: string | null
  ok: number | null
  report: string | null
}

/**
 * Reads a copy's expectations from its journal file, read-only: the chosen run's rejected, dropped, fixed and
 * inserted rows, its report's counts and tables (those not copied are excluded), and — when the run resumed
 * an interrupted one — the entries of the runs it continued, which hold the rows committed before the
 * interruption. Throws a `UsageError` when the file holds no such run, naming the runs it does hold.
 */
export async function readJournalExpectations(choice: JournalRunChoice): Promise<CopyExpectations & { runId: number }> {
  const Database = await loadDatabase('reading a journal')
  let db: InstanceType<typeof Database>
  try {
    db = new Database(choice.path, { readonly: true, fileMustExist: true })
  } catch (cause) {
    throw new UsageError(`cannot open the journal ${choice.path}: ${(cause as Error).message}`, { cause })
  }
  try {
    const run = pickRun(db, choice)
    const report = run.report === null ? undefined : (JSON.parse(run.report) as ExpectationRunReport)
    const ids = runChain(db, run, report?.tables.some((t) => (t as { resumed?: unknown }).resumed !== undefined) === true)
    const entries = entriesOf(db, ids)
    const resumed = ids.length > 1 ? ` (resuming run${ids.length > 2 ? 's' : ''} ${ids.slice(1).reverse().join(', ')})` : ''
    const input: Parameters<typeof buildExpectations>[0] = { origin: `journal ${choice.path}, run ${run.id}${resumed}`, entries }
    if (report) input.report = report
    return { ...buildExpectations(input), runId: run.id }
  } finally {
    db.close()
  }
}

type Db = { prepare(sql: string): { get(...p: unknown[]): unknown; all(...p: unknown[]): unknown[]; iterate(...p: unknown[]): Iterable<unknown> } }

/**
 * The run's id, and when it resumed an interrupted run, the ids of the runs it continued (back to the last one
 * that finished): a resumed table holds rows those runs committed and journaled.
 */
function runChain(db: Db, run: Pick<RunRow, 'id' | 'source' | 'target'>, resumed: boolean): number[] {
  const ids = [run.id]
  if (!resumed) return ids
  const earlier = db.prepare('SELECT id, finished_at, ok FROM run WHERE source = ? AND target = ? AND id < ? ORDER BY id DESC').all(run.source, run.target, run.id) as RunRow[]
  for (const r of earlier) {
    if (r.finished_at !== null && r.ok === 1) break
    ids.push(r.id)
  }
  return ids
}

function entriesOf(db: Db, ids: readonly number[]): Iterable<ExpectationEntry> {
  return db
    .prepare(`SELECT table_name AS "table", action, key, column_name AS "column" FROM entry WHERE run_id IN (${ids.map(() => '?').join(', ')}) AND action IN ('rejected', 'dropped', 'fixed', 'inserted')`)
    .iterate(...ids) as Iterable<ExpectationEntry>
}

/**
 * Hands `use` the entries a run journaled in a journal file (with those of the runs it resumed, when
 * `resumed`), streamed from the file, and returns what it returns: for `ferry({ verify: true })`, which
 * verifies before the run is recorded as finished.
 */
export async function withRunEntries<T>(path: string, runId: number, resumed: boolean, use: (entries: Iterable<ExpectationEntry>) => T): Promise<T> {
  const Database = await loadDatabase('reading a journal')
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const run = db.prepare('SELECT id, source, target FROM run WHERE id = ?').get(runId) as Pick<RunRow, 'id' | 'source' | 'target'> | undefined
    return use(run ? entriesOf(db, runChain(db, run, resumed)) : [])
  } finally {
    db.close()
  }
}

function pickRun(db: Db, choice: JournalRunChoice): RunRow {
  const columns = 'id, source, target, finished_at, ok, report'
  if (choice.run !== undefined) {
    const r = db.prepare(`SELECT ${columns} FROM run WHERE id = ?`).get(choice.run) as RunRow | undefined
    if (!r) throw new UsageError(`the journal ${choice.path} has no run ${choice.run}${runList(db)}`)
    return r
  }
  const r = db.prepare(`SELECT ${columns} FROM run WHERE source = ? AND target = ? AND finished_at IS NOT NULL AND ok = 1 ORDER BY id DESC LIMIT 1`).get(choice.source, choice.target) as RunRow | undefined
  if (!r) throw new UsageError(`the journal ${choice.path} has no finished run from ${choice.source} to ${choice.target}${runList(db)}; name one with --run <id>`)
  return r
}

/** The journal's latest runs, for an error message. */
function runList(db: Db): string {
  const rows = db.prepare('SELECT id, source, target, finished_at, ok FROM run ORDER BY id DESC LIMIT 10').all() as RunRow[]
  if (rows.length === 0) return ' (it holds no run)'
  const state = (r: RunRow) => (r.finished_at === null ? 'not finished' : r.ok === 1 ? 'finished' : 'failed')
  return `; its latest runs: ${rows.map((r) => `${r.id} ${r.source} → ${r.target} (${state(r)})`).join('; ')}`
}
