import type { ResumeState } from '../pipeline/resume.js'
import type { TableReport } from '../report.js'
import type { PreparedRun } from './prepare-run.js'
import type { TablePair } from './table-pair.js'

/** A run once planned: the prepared schema, each table's report and, when resuming, where each table goes on. */
export interface PlannedRun extends PreparedRun {
  /** Each target table's report, by target name. */
  reports: Map<string, TableReport>
  pairByName: Map<string, TablePair>
  /** Resume: where each table continues. Empty when not resuming. */
  resumeAt: Map<string, ResumeState>
}
