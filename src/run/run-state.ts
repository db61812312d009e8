import type { Connection } from '../dialect.js'
import type { Checkpoint, Journal } from '../journal/journal.js'
import type { Report } from '../report.js'

/** A connection of the run, and whether the run opened it (and so closes it). */
export interface RunConnection {
  connection: Connection
  owned: boolean
}

/** What one run holds from its start to its end: its connections, its journal and the report it fills. */
export interface RunState {
  readonly started: number
  readonly source: RunConnection
  readonly target: RunConnection
  /** The run's journal (absent without one), and whether the run opened it. */
  readonly journal?: { journal: Journal; runId: number; owned: boolean }
  /** Resume: the interrupted run's checkpoints (empty when there was none to resume). Absent: not resuming. */
  readonly checkpoints?: Checkpoint[]
  /** Resume: whether an interrupted run was found. */
  readonly interrupted: boolean
  /**
   * Not resuming: the checkpoints of the interrupted run the journal holds between this source and target (what
   * a resume would take up), kept resumable when this run cannot start. Absent: none, or resuming.
   */
  readonly interruptedRun?: Checkpoint[]
  readonly report: Report
  /** Called once the run ends (transforms' key sets). */
  onClose: (() => Promise<void>)[]
}
