import type { Rename } from '../schema/identifiers.js'

/**
 * What a copy changed on purpose, so that verify expects it rather than reporting it: the rows it rejected or
 * dropped (absent from the target), the values it fixed (fraction cut, decimal rounded, NUL stripped, zero date
 * read as NULL, a foreign key set to NULL or pointed at the row dedupe kept), the rows a transform added (stub
 * parents), and the tables it did not copy. Built from a run's journal entries and report
 * ({@link buildExpectations}); verify matches rows by key, and falls back to counts where no key is known.
 */
export interface CopyExpectations {
  /** Where the expectations come from, as the report names it (`journal ./j.sqlite, run 3`). */
  origin: string
  /** Source tables the copy copied. Absent: unknown, no table counts as excluded. */
  copied?: ReadonlySet<string>
  /** The run's renames (identifiers the target could not keep). */
  renames: readonly Rename[]
  /** Source table name → target table name, where they differ (a transform or the identifier rules renamed it). */
  tableNames: ReadonlyMap<string, string>
  /** Per source table name. A table not listed expects nothing. */
  tables: ReadonlyMap<string, TableExpectations>
}

/** What one table of the copy is expected to differ by. */
export interface TableExpectations {
  /** Keys (journal JSON, `{"id":7}`) of rows rejected or dropped. */
  absent: Set<string>
  /** Rows rejected or dropped in all, keyed or not (the report's count, at least the keys known). */
  absentTotal: number
  /** Columns fixed per row key (journal JSON); column names as journaled (source or target names). */
  fixed: Map<string, Set<string>>
  /** Values fixed per column in all, keyed or not (the report's count, at least the keys known). */
  fixedTotal: Record<string, number>
  /** Keys of rows a transform inserted (stub parents). */
  inserted: Set<string>
  /** Rows inserted in all, keyed or not. */
  insertedTotal: number
}

/** One journal entry as expectations need it (the journal's `entry` row, or a `JournalEntry`). */
export interface ExpectationEntry {
  /** The target table's name. */
  table: string
  /** `rejected`, `dropped`, `fixed`, `inserted` or `remapped` (the last one is expected nowhere: its fix is). */
  action: string
  /** The row's key as the journal has it. Absent or null: not known. */
  key?: string | null
  /** The column a fix changed. */
  column?: string | null
}

/** The parts of a run's report expectations need: per table, its names and counts; the renames. */
export interface ExpectationRunReport {
  /** Per table of the run: target name, source name when different, and the counts (see `TableReport`). */
  tables: readonly { name: string; source?: string; rejected: number; dropped: number; inserted: number; fixed: Readonly<Record<string, number>> }[]
  /** Names the target could not keep. Default none. */
  renames?: readonly Rename[]
}

function emptyTable(): TableExpectations {
  return { absent: new Set(), absentTotal: 0, fixed: new Map(), fixedTotal: {}, inserted: new Set(), insertedTotal: 0 }
}

/**
 * Builds the expectations of one copy from its journal entries and its report (either may be absent: without a
 * report, the entries' own counts; without entries, the report's counts, matched by count only). `extraAbsent`
 * adds keys of rejected or dropped rows by target table (what `ferry({ verify: true })` collects in memory).
 */
export function buildExpectations(input: {
  origin: string
  entries?: Iterable<ExpectationEntry>
  report?: ExpectationRunReport
  extraAbsent?: ReadonlyMap<string, Iterable<string>>
}): CopyExpectations {
  const sourceOf = new Map<string, string>()
  const tables = new Map<string, TableExpectations>()
  const tableNames = new Map<string, string>()
  const tableOf = (target: string): TableExpectations => {
    const name = sourceOf.get(target) ?? target
    let t = tables.get(name)
    if (!t) tables.set(name, (t = emptyTable()))
    return t
  }
  for (const r of input.report?.tables ?? []) {
    const source = r.source ?? r.name
    sourceOf.set(r.name, source)
    if (source !== r.name) tableNames.set(source, r.name)
  }
  const keyedFixes = new Map<TableExpectations, Record<string, number>>()
  const absentEntries = new Map<TableExpectations, number>()
  const insertedEntries = new Map<TableExpectations, number>()
  for (const e of input.entries ?? []) {
    const t = tableOf(e.table)
    const key = e.key ?? undefined
    if (e.action === 'rejected' || e.action === 'dropped') {
      if (key !== undefined) t.absent.add(key)
      absentEntries.set(t, (absentEntries.get(t) ?? 0) + 1)
    } else if (e.action === 'fixed' && e.column) {
      if (key !== undefined) {
        let cols = t.fixed.get(key)
        if (!cols) t.fixed.set(key, (cols = new Set()))
        cols.add(e.column)
      }
      const counts = keyedFixes.get(t) ?? {}
      counts[e.column] = (counts[e.column] ?? 0) + 1
      keyedFixes.set(t, counts)
    } else if (e.action === 'inserted') {
      if (key !== undefined) t.inserted.add(key)
      insertedEntries.set(t, (insertedEntries.get(t) ?? 0) + 1)
    }
  }
  for (const [target, keys] of input.extraAbsent ?? []) {
    const t = tableOf(target)
    for (const k of keys) t.absent.add(k)
  }
  // totals: the report's counts (fixes counted without a journal entry are there), never fewer than the entries
  for (const r of input.report?.tables ?? []) {
    const t = tableOf(r.name)
    t.absentTotal = Math.max(t.absentTotal, r.rejected + r.dropped)
    t.insertedTotal = Math.max(t.insertedTotal, r.inserted)
    for (const [c, n] of Object.entries(r.fixed)) t.fixedTotal[c] = Math.max(t.fixedTotal[c] ?? 0, n)
  }
  for (const t of tables.values()) {
    t.absentTotal = Math.max(t.absentTotal, absentEntries.get(t) ?? 0, t.absent.size)
    t.insertedTotal = Math.max(t.insertedTotal, insertedEntries.get(t) ?? 0, t.inserted.size)
    for (const [c, n] of Object.entries(keyedFixes.get(t) ?? {})) t.fixedTotal[c] = Math.max(t.fixedTotal[c] ?? 0, n)
  }
  const out: CopyExpectations = { origin: input.origin, renames: input.report?.renames ?? [], tableNames, tables }
  if (input.report) out.copied = new Set(input.report.tables.map((r) => r.source ?? r.name))
  return out
}
