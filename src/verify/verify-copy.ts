import { MemoryJournal, type Journal } from '../journal/journal.js'
import type { FerryOptions } from '../options.js'
import type { PlannedRun } from '../plan/planned-run.js'
import type { RunState } from '../run/run-state.js'
import { buildExpectations, type ExpectationEntry } from './expectations.js'

/**
 * `ferry({ verify: true })`: compares source and target after the copy, expecting what the run did on purpose
 * (as `dbferry verify --journal` does from the journal file): the rows it rejected or dropped absent (by key;
 * `missing`, by target table, holds the keys collected in memory), the values it fixed changed and the stub
 * rows it inserted present — by key from the run's journal entries, by the report's counts without a journal.
 * The outcome goes into the report.
 */
export async function verifyCopy(run: RunState, planned: PlannedRun, options: FerryOptions, missing: Map<string, string[]>): Promise<void> {
  options.onProgress?.({ type: 'phase', phase: 'verify' })
  const { verify } = await import('./verify.js')
  const build = (entries?: Iterable<ExpectationEntry>) =>
    buildExpectations({ origin: entries ? `this run's journal` : `this run's report`, ...(entries ? { entries } : {}), report: run.report, extraAbsent: missing })
  const expect = run.journal ? await withJournalEntries(run.journal.journal, run.journal.runId, run.interrupted, build) : build()
  const v = await verify({
    a: options.from,
    b: options.to,
    tables: planned.pairs.map((p) => p.source.name),
    expect,
    signal: options.signal,
  })
  run.report.verify = {
    equal: v.equal,
    ...(v.expected ? { expected: { dropped: v.expected.dropped, changed: v.expected.changed, inserted: v.expected.inserted } } : {}),
    tables: v.tables.map((t) => ({ name: t.nameB ?? t.name, equal: t.equal, missing: t.missingCount, extra: t.extraCount, changed: t.changedCount })),
  }
}

/**
 * Builds from the entries this run (and, resuming, the runs it continued) journaled: re-read from a journal
 * file, or a {@link MemoryJournal}'s list; from none for another kind of journal (its keys are unknown: counts
 * apply).
 */
async function withJournalEntries<T>(journal: Journal, runId: number, resumed: boolean, build: (entries?: Iterable<ExpectationEntry>) => T): Promise<T> {
  if (journal instanceof MemoryJournal) {
    const ids = new Set([runId])
    const current = journal.runs[runId - 1]
    if (resumed && current) {
      for (let i = runId - 2; i >= 0; i--) {
        const r = journal.runs[i]!
        if (r.source !== current.source || r.target !== current.target) continue
        if (r.finished?.ok) break
        ids.add(r.id)
      }
    }
    return build(journal.entries.filter((e) => ids.has(e.runId)))
  }
  if (journal.location === undefined || journal.location === ':memory:') return build()
  const { withRunEntries } = await import('./journal-run.js')
  return withRunEntries(journal.location, runId, resumed, build)
}
