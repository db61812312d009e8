import type { ConstraintProblem, SnapshotInfo } from './dialect.js'
import type { FailureKind } from './errors.js'
import type { DeferredForeignKey } from './plan/order.js'
import type { PreflightIssue } from './plan/preflight.js'
import type { Rename } from './schema/identifiers.js'

/** One rejected or dropped row, as the report shows it (all of them are in the journal). */
export interface RowProblem {
  /** Why: the failure kind (`duplicate_key`, `filtered`, …). */
  kind: FailureKind
  /** `rejected`: the row could not be written; `dropped`: it was deliberately not written. */
  action: 'rejected' | 'dropped'
  /** The row's key as the journal has it (`{"id":7}`, or a file's `line 12`). Absent: no key known. */
  key?: string
  /** The column at fault. Absent: the whole row. */
  column?: string
  /** What happened, naming the table, column and value where one is at fault. */
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
  /**
   * `done`: every row accounted for (also a table an interrupted run finished, when resuming); `failed`: an
   * error stopped it (see `error`); `skipped`: not copied, because the run stopped before it (or, in a
   * `schemaOnly` run, created without rows).
   */
  status: 'done' | 'failed' | 'skipped'
  /** Source rows read, rejected ones included (with what a resumed run carried over). */
  read: number
  /** Rows written to the target, stub rows a transform inserted included. */
  written: number
  /** Rows that could not be written: refused by the reader, a transform or the target. */
  rejected: number
  /** Rows deliberately not written (dedupe, filters, dangling foreign keys with `drop`). */
  dropped: number
  /** Rows a transform added (stub parents). */
  inserted: number
  /** Values changed by transforms or repaired on read, per column. */
  fixed: Record<string, number>
  /** Rejected and dropped rows by failure kind. */
  byKind: Partial<Record<FailureKind, number>>
  /** The first rejected and dropped rows (up to `maxExamples`, default 20). */
  examples: RowProblem[]
  /** Time spent copying this table, in milliseconds. */
  ms: number
  /** Copied with `jobs`: the key-range chunks the table was split into. Absent: copied whole. */
  chunks?: number
  /** The message of the error that failed it. Absent unless `status` is `failed`. */
  error?: string
  /**
   * How the rows went in: `pass-through` — the file's bytes went to the target's own CSV parser in one
   * transaction, checked on the way and counted (CSV into PostgreSQL; a PostgreSQL table's own COPY text into
   * another PostgreSQL database); `rows` — read, converted and written
   * batch by batch. Set once the table starts.
   */
  path?: 'pass-through' | 'rows'
  /**
   * Why a table its source could hand over as text (a CSV file; a PostgreSQL table, to a PostgreSQL target) took
   * the row path (pass-through not possible, turned off, or fallen back from).
   */
  pathNote?: string
  /** Set when this run resumed an interrupted one: the counts it carried over and where reading restarted. */
  resumed?: {
    /** The counts carried over from the interrupted run. */
    carried: { read: number; written: number; rejected: number; dropped: number }
    /** The last key read before the interruption (JSON), where reading continued after. Absent: from the start. */
    after?: string
    /** The interrupted run had finished this table: nothing was read again. */
    skipped: boolean
    /**
     * The table has no key to continue after (a keyless table read from a server): it was emptied on the target
     * and copied again from the start; says why and how many rows were removed. Absent: no restart.
     */
    restarted?: string
  }
}

/** Totals over all tables. */
export interface Totals {
  /** Sum of the tables' `read`. */
  read: number
  /** Sum of the tables' `written`. */
  written: number
  /** Sum of the tables' `rejected`. */
  rejected: number
  /** Sum of the tables' `dropped`. */
  dropped: number
  /** Sum of the tables' `inserted`. */
  inserted: number
  /** Values fixed, over every table and column. */
  fixed: number
}

/**
 * The outcome of a run that started, as data: `ferry()` returns it when the copy of rows began, also when
 * something stopped it on the way (`ok: false` and `error`); a run that cannot start throws instead.
 */
export interface Report {
  /** True when every table finished (rows may still have been rejected: see `clean`). */
  ok: boolean
  /**
   * True when `ok`, nothing was rejected or dropped, every constraint was created and validated, every view and
   * function was created, `verify` (when asked) found the target equal, and a script source applied every
   * data-changing statement (`snapshot.notApplied` is 0).
   */
  clean: boolean
  /** The source as it displays (no password). */
  source: string
  /** The target as it displays (no password). */
  target: string
  /** One per table of the run, in load order. */
  tables: TableReport[]
  /** Sums over `tables`. */
  totals: Totals
  /** Names the target could not keep, with the names they got. */
  renames: Rename[]
  /** Foreign keys the load order could not honour (self-references, cycles); created after the data like the rest. */
  deferredForeignKeys: DeferredForeignKey[]
  /** Indexes, keys and sequences not created, created unvalidated, or created changed. Empty: all created as they were. */
  constraints: ConstraintProblem[]
  /**
   * The source's views and functions and those given in the `objects` option, in the order they were created,
   * and their outcome: created from the SQL supplied, from the source's own definition (same engine), or not.
   */
  objects: { name: string; ok: boolean; error?: string }[]
  /** How consistent the source's read was. Absent when the run stopped before the snapshot. */
  snapshot?: SnapshotInfo
  /** What the preflight found (when the run's `preflight` option is `report` or `stop`), collation collisions first. */
  preflight?: PreflightIssue[]
  /** The journal file's path. Absent: no journal, or one that is not a file (a `MemoryJournal`). */
  journal?: string
  /** The backup taken of an existing SQLite target before the run changed it. */
  backup?: string
  /**
   * The result of `verify: true`: source and target compared after the copy. `expected` counts the differences
   * the run made on purpose (rows rejected or dropped, values fixed, stub rows inserted), which are not differences.
   */
  verify?: {
    equal: boolean
    expected?: { dropped: number; changed: number; inserted: number }
    tables: { name: string; equal: boolean; missing: number; extra: number; changed: number }[]
  }
  /** The whole run's time, in milliseconds. */
  ms: number
  /**
   * The error that stopped the run after it started (the copy of rows had begun; an abort through `signal` at any
   * point has `code` `aborted`). A run that cannot start has no report: `ferry()` throws its error instead.
   * Absent: nothing stopped the run.
   */
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
