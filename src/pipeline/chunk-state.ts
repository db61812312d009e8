import { SchemaError } from '../errors.js'
import type { Checkpoint } from '../journal/journal.js'
import { decodeKey, encodeKey } from '../journal/keys.js'
import type { TableReport } from '../report.js'
import type { Value } from '../schema/types.js'
import { chunkReadRange, countableOnTarget, type Chunk, type KeyRange, type PageRange } from './chunks.js'
import { resumeState, type ResumeState } from './resume.js'

/**
 * The checkpoint of a table copied in chunks. A chunk keeps its own checkpoint, exactly as a whole table does
 * (intent before a batch, confirmation at commit; see resume.ts), and the table's checkpoint holds all of them
 * with the chunk bounds, so a resume finds the same chunks whatever `--jobs` it runs with. After a crash each
 * chunk's state is decided from the rows the target holds in that chunk's key range: chunks commit
 * independently, and only the range tells one chunk's rows from another's.
 */

/**
 * One chunk in the table's checkpoint: its bounds (encoded keys) and its own latest checkpoint. `by` says what
 * the bounds are: absent, one integer key value each (the only kind journals written before read-order and page
 * chunks hold, still read the same way); `order`, key tuples in the source's read order; `pages`, a page range
 * (`after`/`until` null).
 */
interface ChunkRecord {
  after: string | null
  until: string | null
  by?: 'order' | 'pages'
  pages?: PageRange
  checkpoint: Omit<Checkpoint, 'table' | 'sourceState'>
}

/** The table checkpoint's `lastKey` when the table is copied in chunks. */
interface ChunkedEnvelope {
  chunks: ChunkRecord[]
}

/** Whether a checkpoint is a chunked table's (see {@link ChunkedCheckpoints}). */
export function isChunked(cp: Checkpoint | undefined): boolean {
  return chunkedEnvelope(cp) !== undefined
}

function chunkedEnvelope(cp: Checkpoint | undefined): ChunkedEnvelope | undefined {
  if (!cp?.lastKey) return undefined
  const env = JSON.parse(cp.lastKey) as Partial<ChunkedEnvelope>
  return Array.isArray(env.chunks) ? (env as ChunkedEnvelope) : undefined
}

/** The chunks a chunked checkpoint recorded, in order. */
export function recordedChunks(cp: Checkpoint): Chunk[] {
  return chunkedEnvelope(cp)!.chunks.map((c, index) => {
    const chunk: Chunk = { index }
    if (c.by === 'pages') return { index, pages: { ...c.pages } }
    if (c.by === 'order') {
      const range: KeyRange = {}
      const after = decodeKey(c.after)
      const until = decodeKey(c.until)
      if (after !== undefined) range.after = after
      if (until !== undefined) range.until = until
      return { index, range }
    }
    const after = decodeKey(c.after)?.[0]
    const until = decodeKey(c.until)?.[0]
    if (after !== undefined) chunk.after = after
    if (until !== undefined) chunk.until = until
    return chunk
  })
}

/**
 * Keeps the latest checkpoint of every chunk of one table and writes the table's checkpoint whenever one of
 * them changes. Chunks of a table run at once; each call writes the whole set as it is at that moment.
 */
export class ChunkedCheckpoints {
  readonly #records: ChunkRecord[]

  constructor(
    readonly table: string,
    chunks: readonly Chunk[],
    /** Each chunk's checkpoint to start from (a resumed chunk's, or none). */
    start: readonly (Checkpoint | undefined)[],
    private readonly write: (cp: Checkpoint) => Promise<void>,
  ) {
    this.#records = chunks.map((c, i) => ({
      ...chunkBounds(c),
      checkpoint: strip(start[i] ?? { table, lastKey: null, read: 0, written: 0, rejected: 0, dropped: 0, done: false }),
    }))
  }

  /** The checkpoint writer for one chunk: records it and writes the table's. */
  forChunk(index: number): (cp: Checkpoint) => Promise<void> {
    return async (cp) => {
      this.#records[index]!.checkpoint = strip(cp)
      await this.write(this.tableCheckpoint())
    }
  }

  /** The table's checkpoint: every chunk's, and the committed counts summed over them. */
  tableCheckpoint(): Checkpoint {
    const sum = (f: 'read' | 'written' | 'rejected' | 'dropped') => this.#records.reduce((n, r) => n + r.checkpoint[f], 0)
    const envelope: ChunkedEnvelope = { chunks: this.#records }
    return {
      table: this.table,
      lastKey: JSON.stringify(envelope),
      read: sum('read'),
      written: sum('written'),
      rejected: sum('rejected'),
      dropped: sum('dropped'),
      done: this.#records.every((r) => r.checkpoint.done),
    }
  }
}

/** A chunk's bounds as its record keeps them (see {@link ChunkRecord}). */
function chunkBounds(c: Chunk): Omit<ChunkRecord, 'checkpoint'> {
  if (c.pages) return { after: null, until: null, by: 'pages', pages: { ...c.pages } }
  if (c.range) return { after: encodeKey(c.range.after), until: encodeKey(c.range.until), by: 'order' }
  return { after: encodeKey(c.after === undefined ? undefined : [c.after]), until: encodeKey(c.until === undefined ? undefined : [c.until]) }
}

function strip(cp: Checkpoint): ChunkRecord['checkpoint'] {
  return { lastKey: cp.lastKey, read: cp.read, written: cp.written, rejected: cp.rejected, dropped: cp.dropped, done: cp.done }
}

/** Where each chunk of an interrupted chunked table goes on. */
export type ChunkedResume = NonNullable<ResumeState['chunked']>

/**
 * Decides every chunk's resume point from its checkpoint and the rows the target holds in its key range
 * (`rowsIn`), as {@link resumeState} does for a whole table. A chunk that would have to start over (rows on the
 * target that no key position explains) cannot: its rows cannot be told from the other chunks' — it throws.
 */
export async function resumeChunks(table: string, cp: Checkpoint, rowsIn: (chunk: Chunk) => Promise<number>): Promise<ChunkedResume> {
  const envelope = chunkedEnvelope(cp)!
  const chunks = recordedChunks(cp)
  const states: ChunkedResume['states'] = []
  for (const chunk of chunks) {
    const own: Checkpoint = { table, ...envelope.chunks[chunk.index]!.checkpoint }
    // a finished chunk is not read again: its rows are what it committed (the table's own count checks the rest)
    const rows = own.done ? own.written : await rowsIn(chunk)
    const state = resumeState(`${table} (chunk ${chunk.index + 1} of ${chunks.length})`, own, rows)
    if (state.restart && state.restart.targetRows > 0) {
      throw new SchemaError(`cannot resume ${table}: chunk ${chunk.index + 1} holds ${state.restart.targetRows} row(s) its checkpoint cannot place; use mode recreate to start over`, { table })
    }
    delete state.restart
    // a chunk resumes after its last committed key, or at its own start
    if (state.after === undefined && chunk.after !== undefined) state.after = [chunk.after]
    states.push({ state, checkpoint: own })
  }
  return { chunks, states }
}

/** A table split at read-order boundaries or page ranges that cannot resume by chunk: it starts over. */
export interface ChunkedRestart {
  /** Rows the target holds now, which the copy removes first. */
  restart: { targetRows: number }
  /** Why, for the report. */
  why: string
}

/**
 * Decides every chunk's resume point for a table split at read-order boundaries or by page ranges, whose
 * chunks' rows the target cannot count by range (it may order the keys otherwise, or not have them), from the
 * target table's exact row count alone. Each chunk holds between its committed rows and those plus its pending
 * batch's (a finished chunk exactly its rows, one never started none): when the count is the sum of the
 * smallest, every chunk holds its smallest, and when it is the sum of the largest, every chunk its largest —
 * the only counts that place every row. Any other count, or a chunk without a key position holding rows (a page
 * range read in no order), and the table starts over from an empty target table (`ChunkedRestart`); so does a
 * target emptied since. A count outside what the checkpoints allow throws: the target changed.
 */
export function resumeUncountedChunks(table: string, cp: Checkpoint, targetRows: number): ChunkedResume | ChunkedRestart {
  const envelope = chunkedEnvelope(cp)!
  const chunks = recordedChunks(cp)
  const own: Checkpoint[] = chunks.map((c) => ({ table, ...envelope.chunks[c.index]!.checkpoint }))
  const least = own.map((c) => c.written)
  const most = own.map((c) => (c.done ? c.written : c.written + pendingRows(c)))
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0)
  const [low, high] = [sum(least), sum(most)]
  const restart = (why: string): ChunkedRestart => ({ restart: { targetRows }, why })
  let rows: number[]
  if (targetRows === low) rows = least
  else if (targetRows === high) rows = most
  else if (targetRows === 0) return restart('the target table was emptied since the interrupted run')
  else if (targetRows > low && targetRows < high) return restart(`its ${targetRows} row(s) on the target could belong to its chunks in more than one way (each chunk's batch in flight may or may not have committed)`)
  else throw new SchemaError(`cannot resume ${table}: the target has ${targetRows} rows but its chunks' checkpoints say ${low}${high > low ? ` to ${high}` : ''}; it changed since the run (use mode recreate to start over)`, { table })
  const states: ChunkedResume['states'] = []
  for (const chunk of chunks) {
    const state = resumeState(`${table} (chunk ${chunk.index + 1} of ${chunks.length})`, own[chunk.index], rows[chunk.index]!)
    if (state.restart) {
      // a chunk read in no order holding rows: they cannot be told from the rest of the table
      if (state.restart.targetRows > 0) return restart(`chunk ${chunk.index + 1} holds ${state.restart.targetRows} row(s) and has no key to continue after`)
      delete state.restart
    }
    if (state.after === undefined && chunk.range?.after !== undefined) state.after = [...chunk.range.after]
    states.push({ state, checkpoint: own[chunk.index]! })
  }
  return { chunks, states }
}

/** Rows of the batch an intent checkpoint says is being written (see resume.ts's envelope); 0 for a confirmed one. */
function pendingRows(cp: Checkpoint): number {
  if (!cp.lastKey) return 0
  const env = JSON.parse(cp.lastKey) as { pending?: { rows?: number } }
  return env.pending?.rows ?? 0
}

/** Whether resume counts this table's chunks on the target by range (integer keys), or by the table's count. */
export function countedByRange(cp: Checkpoint): boolean {
  return recordedChunks(cp).every(countableOnTarget)
}

/** A chunk's starting point when it is copied from its beginning: after its lower bound. */
export function chunkStart(chunk: Chunk): Value[] | undefined {
  return chunkReadRange(chunk).after
}

/** Adds a chunk's counts to the table's report (the chunk's own report is not the table's). */
export function addChunkReport(table: TableReport, chunk: TableReport, maxExamples: number): void {
  table.read += chunk.read
  table.written += chunk.written
  table.rejected += chunk.rejected
  table.dropped += chunk.dropped
  table.inserted += chunk.inserted
  for (const [k, n] of Object.entries(chunk.byKind)) table.byKind[k as keyof TableReport['byKind']] = (table.byKind[k as keyof TableReport['byKind']] ?? 0) + (n ?? 0)
  for (const [c, n] of Object.entries(chunk.fixed)) table.fixed[c] = (table.fixed[c] ?? 0) + n
  for (const e of chunk.examples) if (table.examples.length < maxExamples) table.examples.push(e)
}
