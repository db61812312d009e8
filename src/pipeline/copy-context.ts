import type { Connection } from '../dialect.js'
import type { Checkpoint, Journal } from '../journal/journal.js'
import type { Value } from '../schema/types.js'
import type { TableTransformer } from '../transforms/transform.js'
import type { FitOptions } from './fit-rows.js'
import type { ProgressEvent } from './progress.js'

/** What copying one table needs from the run. */
export interface CopyContext {
  source: Connection
  target: Connection
  /** Where rejected, dropped and fixed rows are recorded (a journal, or a queue run's shared store). Absent: not recorded. */
  journal?: { journal: Pick<Journal, 'record'>; runId: number }
  batchRows: number
  batchBytes: number
  maxExamples: number
  fit: FitOptions
  signal?: AbortSignal
  onProgress?: (e: ProgressEvent) => void
  /** Transforms' batch processors for this table, with their names. */
  transformers: { name: string; processor: TableTransformer }[]
  /** Records checkpoints (intent before each write, confirmation after). Absent: no checkpoints. */
  checkpoint?: (cp: Checkpoint) => Promise<void>
  /** Resume: read the source after this key (a chunk: after its lower bound, or its last committed key). */
  after?: readonly Value[]
  /** A chunk: read no row past this key (inclusive). Absent: the table's end. */
  until?: readonly Value[]
  /** A chunk of a table without a key: read only the rows stored in these pages (`ReadOptions.pages`). Absent: every page. */
  pages?: { from?: number; to?: number }
  /** When set, the keys of rows that will not be on the target are collected here. */
  missingKeys?: string[]
  /** Let a CSV table that needs no change go to a target that parses CSV as bytes (see pass-through.ts). Default true. */
  passThrough?: boolean
}
