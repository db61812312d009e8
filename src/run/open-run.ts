import { connect } from '../connect.js'
import { UsageError, redact } from '../errors.js'
import type { Checkpoint, Journal } from '../journal/journal.js'
import { openJournal } from '../journal/open.js'
import type { FerryOptions } from '../options.js'
import { totalsOf, type Report } from '../report.js'
import type { RunConnection, RunState } from './run-state.js'

/**
 * The run's first step: checks the options, opens the journal (first, so that a missing better-sqlite3 stops
 * the run before anything is created on the target), connects the source and the target, and starts the
 * journal's run (carrying an interrupted run's checkpoints when resuming). Throws when the run cannot start;
 * then nothing is left open.
 */
export async function openRun(options: FerryOptions): Promise<RunState> {
  checkOptions(options)
  const started = Date.now()
  const journal = await openRunJournal(options)
  let source: RunConnection | undefined
  try {
    source = await connect(options.from, { fallbackEncoding: options.fallbackEncoding })
    const target = await connect(options.to, { create: true })
    await refuseSameDatabase(source, target).catch(async (error) => {
      if (target.owned) await target.connection.close().catch(() => {})
      throw error
    })
    const report = emptyReport(source.connection.description, target.connection.description ?? (typeof options.to === 'string' ? redact(options.to) : 'target'))
    if (!journal) return { started, source, target, interrupted: false, report, onClose: [] }
    report.journal = journal.journal.location
    const run = { source: report.source, target: report.target, startedAt: new Date().toISOString() }
    const found = await journal.journal.resumePoint?.(run)
    const checkpoints = options.resume ? (found ?? []) : undefined
    // not resuming: an interrupted run this one must not hide from a later resume if it cannot start
    const interruptedRun = !options.resume && found !== undefined && found.length > 0 ? found : undefined
    const runId = await journal.journal.startRun(run)
    // the interrupted run's checkpoints and source states pass to this run as they are, so that if this one
    // fails before it moves on (a changed source, an unreachable server) the next resume still finds them
    if (checkpoints) await carryCheckpoints(journal.journal, runId, checkpoints)
    return {
      started,
      source,
      target,
      journal: { ...journal, runId },
      checkpoints,
      interrupted: options.resume === true && found !== undefined,
      ...(interruptedRun ? { interruptedRun } : {}),
      report,
      onClose: [],
    }
  } catch (error) {
    if (source?.owned) await source.connection.close().catch(() => {})
    if (journal?.owned) await Promise.resolve(journal.journal.close()).catch(() => {})
    throw error
  }
}

/**
 * Refuses a run whose source and target are one database (the same server's database and schema, the same
 * file): it would empty or append to the very tables it reads. Checked on the servers' own identities, so two
 * spellings of one server (localhost and 127.0.0.1, a symlinked file) are caught before anything is written.
 */
async function refuseSameDatabase(source: RunConnection, target: RunConnection): Promise<void> {
  const [a, b] = [source.connection, target.connection]
  if (!a.identity || !b.identity || a.dialect.name !== b.dialect.name) return
  const [ia, ib] = await Promise.all([a.identity(), b.identity()])
  if (ia.server === ib.server && ia.database === ib.database && (ia.schema ?? '') === (ib.schema ?? '')) {
    throw new UsageError(
      `the source and the target are the same database (${a.description}${ia.schema ? `, schema ${ia.schema}` : ''}): copying it onto itself would overwrite what it reads`,
    )
  }
}

function checkOptions(options: FerryOptions): void {
  if (!((options.batchRows ?? 10_000) > 0) || !((options.batchBytes ?? 8 << 20) > 0)) throw new UsageError('batchRows and batchBytes must be positive')
  if (options.resume && !options.journal) throw new UsageError('resume needs a journal (the checkpoints are kept there)')
}

async function openRunJournal(options: FerryOptions): Promise<{ journal: Journal; owned: boolean } | undefined> {
  if (typeof options.journal === 'string') return { journal: await openJournal(options.journal), owned: true }
  return options.journal ? { journal: options.journal, owned: false } : undefined
}

function emptyReport(source: string, target: string): Report {
  return { ok: false, clean: false, source, target, tables: [], totals: totalsOf([]), renames: [], deferredForeignKeys: [], constraints: [], objects: [], ms: 0 }
}

/**
 * Copies an interrupted run's checkpoints and source states, unchanged, to a later run: the run that resumes
 * it, or one that could not start and so left the interrupted run's work as it was.
 */
export async function carryCheckpoints(journal: Journal, runId: number, checkpoints: readonly Checkpoint[]): Promise<void> {
  for (const { sourceState: _, ...cp } of checkpoints) await journal.checkpoint(runId, cp)
  const states = checkpoints.flatMap((c) => (c.sourceState ? [{ table: c.table, state: c.sourceState }] : []))
  if (states.length > 0) await journal.sourceStates?.(runId, states)
}
