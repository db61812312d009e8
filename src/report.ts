import type { ConstraintProblem, SnapshotInfo } from './dialect.js'
import type { FailureKind } from './errors.js'
import type { DeferredForeignKey } from './plan/order.js'
import type { PreflightIssue } from './plan/preflight.js'
import type { Rename } from './schema/identifiers.js'

/** One rejected or dropped row, as the report shows it (all of them are in the journal). */
export interface RowProblem {
  kind: FailureKind
  action: 'rejected' | 'dropped'
  key?: string
  column?: string
  message: string
  /** Which part of the run decided: `reader`, `target`, or a transform's name. */
  by: string
}

/** Per-table outcome. `read + inserted = written + rejected + dropped` always holds for a finished table. */
export interface TableReport {
  /** The target table's name. */
  name: string
  /** The source table's name, when different. */
  source?: string
  status: 'done' | 'failed' | 'skipped'
  read: number
  written: number
  rejected: number
  dropped: number
  /** Rows a transform added (stub parents). */
  inserted: number
  /** Values changed by transforms or repaired on read, per column. */
  fixed: Record<string, number>
  /** Rejected and dropped rows by failure kind. */
  byKind: Partial<Record<FailureKind, number>>
  /** The first rejected and dropped rows (up to `maxExamples`, default 20). */
  examples: RowProblem[]
  ms: number
  error?: string
  /**
   * How the rows went in: `pass-through` — the file's bytes went to the target's own CSV parser in one
   * transaction, checked on the way and counted (CSV into PostgreSQL); `rows` — read, converted and written
   * batch by batch. Set once the table starts.
   */
  path?: 'pass-through' | 'rows'
  /** Why a CSV table took the row path (pass-through not possible, turned off, or fallen back from). */
  pathNote?: string
  /** Set when this run resumed an interrupted one: the counts it carried over and where reading restarted. */
  resumed?: { carried: { read: number; written: number; rejected: number; dropped: number }; after?: string; skipped: boolean }
}

/** Totals over all tables. */
export interface Totals {
  read: number
  written: number
  rejected: number
  dropped: number
  inserted: number
  fixed: number
}

/** The outcome of a run, as data. */
export interface Report {
  /** True when every table finished (rows may still have been rejected: see `clean`). */
  ok: boolean
  /** True when `ok` and nothing was rejected or dropped and every constraint was created and validated. */
  clean: boolean
  source: string
  target: string
  tables: TableReport[]
  totals: Totals
  renames: Rename[]
  deferredForeignKeys: DeferredForeignKey[]
  constraints: ConstraintProblem[]
  /** Views/functions created from user-supplied SQL, in order, and their outcome. */
  objects: { name: string; ok: boolean; error?: string }[]
  snapshot?: SnapshotInfo
  /** What the preflight found (when the run's `preflight` option is `report` or `stop`), collation collisions first. */
  preflight?: PreflightIssue[]
  journal?: string
  /** The backup taken of an existing SQLite target before the run changed it. */
  backup?: string
  /** The result of `verify: true`: source and target compared after the copy. */
  verify?: { equal: boolean; tables: { name: string; equal: boolean; missing: number; extra: number; changed: number }[] }
  ms: number
  /** The error that stopped the run, if one did. */
  error?: { code: string; message: string }
}

/** The CLI's exit code for a report: 0 clean, 3 done with rejects/drops/constraint problems, 1 failed. */
export function exitCodeOf(report: Report): 0 | 1 | 3 {
  if (!report.ok) return 1
  return report.clean ? 0 : 3
}

/** Sums the tables' counts. */
export function totalsOf(tables: readonly TableReport[]): Totals {
  const t: Totals = { read: 0, written: 0, rejected: 0, dropped: 0, inserted: 0, fixed: 0 }
  for (const r of tables) {
    t.read += r.read
    t.written += r.written
    t.rejected += r.rejected
    t.dropped += r.dropped
    t.inserted += r.inserted
    for (const n of Object.values(r.fixed)) t.fixed += n
  }
  return t
}
