import type { SourceTableState } from '../dialect.js'
import type { FailureKind } from '../errors.js'

/** What a journal entry records about one source row. */
export type JournalAction = 'rejected' | 'dropped' | 'fixed' | 'inserted' | 'remapped'

/** One journaled event about a row. */
export interface JournalEntry {
  /** The target table's name. */
  table: string
  /** What happened to the row. */
  action: JournalAction
  /** The failure kind of a rejected or dropped row; for the other actions, the action itself. */
  kind: FailureKind | 'fixed' | 'inserted' | 'remapped'
  /**
   * The row's key: JSON of its key values by column (`{"id":7}`, SQLite's `{"rowid":5}`), or a file source's
   * own text (`line 12`); for `remapped`, the key remapped from. Absent: no key known.
   */
  key?: string
  /** The column concerned. Absent: the whole row. */
  column?: string
  /** What happened, as the report shows it. */
  message: string
  /**
   * The source row as JSON (bigint as string, bytes as `\\x…` hex); for `fixed`, only the changed column with
   * its value as it was (`{"bio": "line one\nline two"}`).
   */
  row?: string
  /** Who did it: a transform's name, the reader, or the target. */
  source: string
}

/** A run as the journal keeps it. */
export interface JournalRun {
  /** The source as it displays (no password); with `target`, what resume matches an interrupted run by. */
  source: string
  /** The target as it displays (no password). */
  target: string
  /** When the run started (ISO 8601, UTC). */
  startedAt: string
  /** The run's options as text, kept for the record. Absent: not recorded (`ferry()` records none). */
  options?: string
}

/** A per-table checkpoint: everything up to `lastKey` is committed on the target. */
export interface Checkpoint {
  /** The target table's name. */
  table: string
  /**
   * Where the table stands, as opaque JSON the copy writes and reads back: the last committed source key and,
   * before a batch is written, that batch's last key and counts. Null: no key (read from the table's start).
   */
  lastKey: string | null
  /** Source rows read, as committed on the target. */
  read: number
  /** Rows written, as committed on the target. */
  written: number
  /** Rows rejected, as committed on the target. */
  rejected: number
  /** Rows dropped, as committed on the target. */
  dropped: number
  /** The table is finished: a resume skips it. */
  done: boolean
  /** From `resumePoint`: the source table's state when the interrupted run read it, if it was recorded. */
  sourceState?: SourceTableState
}

/**
 * Where rejected and dropped rows, fixes and checkpoints go. The default is an SQLite file
 * (`openJournal`, stored by `src/store`); {@link MemoryJournal} keeps entries in memory.
 */
export interface Journal {
  /** Records a new run and returns its id, which every other call names. */
  startRun(run: JournalRun): number | Promise<number>
  /** Records entries about rows. */
  record(runId: number, entries: readonly JournalEntry[]): void | Promise<void>
  /** Records a table's checkpoint; the run's latest per table is the one resume reads. */
  checkpoint(runId: number, checkpoint: Checkpoint): void | Promise<void>
  /** Records the source tables' states at the start of a run (resume compares them with the source's then). */
  sourceStates?(runId: number, states: readonly { table: string; state: SourceTableState }[]): void | Promise<void>
  /** The latest checkpoint per table of the latest unfinished run for the same source and target. */
  resumePoint?(run: JournalRun): Checkpoint[] | undefined | Promise<Checkpoint[] | undefined>
  /** Marks the run finished, with whether it was `ok` and its report as JSON (resume takes up only a run not finished ok). */
  finishRun(runId: number, summary: { ok: boolean; report: string }): void | Promise<void>
  /** Releases the journal (closes its file). Called by the run only on a journal it opened itself. */
  close(): void | Promise<void>
  /** Where it is, for the report (a path), when it is a file. */
  readonly location?: string
}

/** A journal that keeps everything in memory; useful in tests and when no file is wanted. */
export class MemoryJournal implements Journal {
  /** Every entry recorded, in order, with its run's id. */
  readonly entries: (JournalEntry & { runId: number })[] = []
  /** Every checkpoint recorded, in order (not one per table: later ones do not replace earlier ones). */
  readonly checkpoints: (Checkpoint & { runId: number })[] = []
  /** Every source table state recorded, in order. */
  readonly states: { runId: number; table: string; state: SourceTableState }[] = []
  /** The runs, in order; a run's id is its position plus one. `finished` is set by `finishRun`. */
  readonly runs: (JournalRun & { id: number; finished?: { ok: boolean; report: string } })[] = []

  /** Adds a run; its id is its position in `runs` plus one. */
  startRun(run: JournalRun): number {
    this.runs.push({ ...run, id: this.runs.length + 1 })
    return this.runs.length
  }
  /** Appends the entries to `entries`. */
  record(runId: number, entries: readonly JournalEntry[]): void {
    for (const e of entries) this.entries.push({ ...e, runId })
  }
  /** Appends the checkpoint to `checkpoints`. */
  checkpoint(runId: number, checkpoint: Checkpoint): void {
    this.checkpoints.push({ ...checkpoint, runId })
  }
  /** Appends the states to `states`. */
  sourceStates(runId: number, states: readonly { table: string; state: SourceTableState }[]): void {
    for (const s of states) this.states.push({ ...s, runId })
  }
  /** Sets the run's `finished`; an unknown id is ignored. */
  finishRun(runId: number, summary: { ok: boolean; report: string }): void {
    const run = this.runs[runId - 1]
    if (run) run.finished = summary
  }
  /** Does nothing: everything stays readable after the run. */
  close(): void {}
}
