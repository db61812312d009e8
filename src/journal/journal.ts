import type { SourceTableState } from '../dialect.js'
import type { FailureKind } from '../errors.js'

/** What a journal entry records about one source row. */
export type JournalAction = 'rejected' | 'dropped' | 'fixed' | 'inserted' | 'remapped'

/** One journaled event about a row. */
export interface JournalEntry {
  table: string
  action: JournalAction
  kind: FailureKind | 'fixed' | 'inserted' | 'remapped'
  /** The row's key as JSON (primary key values, rowid, or `#ordinal`). */
  key?: string
  column?: string
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
  source: string
  target: string
  startedAt: string
  options?: string
}

/** A per-table checkpoint: everything up to `lastKey` is committed on the target. */
export interface Checkpoint {
  table: string
  lastKey: string | null
  read: number
  written: number
  rejected: number
  dropped: number
  done: boolean
  /** From `resumePoint`: the source table's state when the interrupted run read it, if it was recorded. */
  sourceState?: SourceTableState
}

/**
 * Where rejected and dropped rows, fixes and checkpoints go. The default is an SQLite file
 * (`openJournal`, stored by `src/store`); {@link MemoryJournal} keeps entries in memory.
 */
export interface Journal {
  startRun(run: JournalRun): number | Promise<number>
  record(runId: number, entries: readonly JournalEntry[]): void | Promise<void>
  checkpoint(runId: number, checkpoint: Checkpoint): void | Promise<void>
  /** Records the source tables' states at the start of a run (resume compares them with the source's then). */
  sourceStates?(runId: number, states: readonly { table: string; state: SourceTableState }[]): void | Promise<void>
  /** The latest checkpoint per table of the latest unfinished run for the same source and target. */
  resumePoint?(run: JournalRun): Checkpoint[] | undefined | Promise<Checkpoint[] | undefined>
  finishRun(runId: number, summary: { ok: boolean; report: string }): void | Promise<void>
  close(): void | Promise<void>
  /** Where it is, for the report (a path), when it is a file. */
  readonly location?: string
}

/** A journal that keeps everything in memory; useful in tests and when no file is wanted. */
export class MemoryJournal implements Journal {
  readonly entries: (JournalEntry & { runId: number })[] = []
  readonly checkpoints: (Checkpoint & { runId: number })[] = []
  readonly states: { runId: number; table: string; state: SourceTableState }[] = []
  readonly runs: (JournalRun & { id: number; finished?: { ok: boolean; report: string } })[] = []

  startRun(run: JournalRun): number {
    this.runs.push({ ...run, id: this.runs.length + 1 })
    return this.runs.length
  }
  record(runId: number, entries: readonly JournalEntry[]): void {
    for (const e of entries) this.entries.push({ ...e, runId })
  }
  checkpoint(runId: number, checkpoint: Checkpoint): void {
    this.checkpoints.push({ ...checkpoint, runId })
  }
  sourceStates(runId: number, states: readonly { table: string; state: SourceTableState }[]): void {
    for (const s of states) this.states.push({ ...s, runId })
  }
  finishRun(runId: number, summary: { ok: boolean; report: string }): void {
    const run = this.runs[runId - 1]
    if (run) run.finished = summary
  }
  close(): void {}
}
