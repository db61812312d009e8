import { encodeKey } from '../journal/keys.js'
import type { Value } from '../schema/types.js'

/**
 * One chunk of a split table. Chunks of one table do not overlap and together cover every row; all chunks of a
 * table are of one kind:
 * - by integer key (`after`/`until`): the rows with `after < key <= until` (an absent bound is the table's start
 *   or end) — ranges any target orders the same way, so resume counts a chunk's rows on the target by its range;
 * - by read-order boundaries (`range`): key tuples in the source's own read order (sampled primary-key values,
 *   or SQLite rowids), `range.after < key <= range.until` — the target may order such keys otherwise (collation)
 *   or not have them (rowids), so resume never counts a range there (see `resumeUncountedChunks`);
 * - by pages (`pages`): a table without a key, the rows stored in pages `from` (inclusive) to `to` (exclusive)
 *   of the source table (PostgreSQL ctid ranges), read in no order.
 * A chunk is plain data (structured-cloneable): it crosses to worker threads and into the journal.
 */
export interface Chunk {
  /** Position in the table's chunk list, from 0. */
  index: number
  /** Integer key: exclusive lower bound; absent for the first chunk. */
  after?: Value
  /** Integer key: inclusive upper bound; absent for the last chunk. */
  until?: Value
  /** Read-order boundaries: the key tuples bounding the chunk (`after` exclusive, `until` inclusive; absent: open). */
  range?: KeyRange
  /** A table without a key: the page range holding the chunk's rows. */
  pages?: PageRange
}

/** Bounds of a chunk split at read-order boundaries: key tuples, an absent one an open end. */
export interface KeyRange {
  after?: Value[]
  until?: Value[]
}

/** Pages `from` (inclusive, absent: the first) to `to` (exclusive, absent: past the last) of a table. */
export interface PageRange {
  from?: number
  to?: number
}

/** Chunks of a table as the copy plans them: the default size, and the most one table gets. */
export const CHUNK_DEFAULTS = {
  /** Rows a chunk aims at (from the table's row estimate). Default 250 000. */
  rows: 250_000,
  /** At most this many chunks per table. Default 256. */
  most: 256,
} as const

/**
 * How many chunks a table of `estimatedRows` rows is cut into: about one per `rowsPerChunk` rows, at least
 * `atLeast` (the jobs) once the table holds two chunks' rows, so that a big table keeps every job busy; at most
 * `CHUNK_DEFAULTS.most`. 1: copied whole.
 */
export function chunkCount(estimatedRows: number, rowsPerChunk: number, atLeast = 1): number {
  const wanted = Math.max(Math.ceil(estimatedRows / Math.max(1, rowsPerChunk)), estimatedRows >= 2 * rowsPerChunk ? atLeast : 1)
  return Math.min(CHUNK_DEFAULTS.most, Math.max(1, wanted))
}

/**
 * Splits the key span `min..max` into ranges of about `rowsPerChunk` rows each, taking `estimatedRows` as spread
 * evenly over the span (a skewed key gives uneven chunks, never a wrong one). At least `atLeast` chunks when the
 * span allows, so that a table bigger than one job's share keeps every job busy. One chunk (no bounds) when the
 * table is small. The first chunk has no lower bound and the last no upper bound, so rows inserted outside the
 * span after the bounds were read are not lost.
 */
export function planChunks(min: Value, max: Value, estimatedRows: number, rowsPerChunk: number, atLeast = 1): Chunk[] {
  const lo = toBig(min)
  const hi = toBig(max)
  if (lo === undefined || hi === undefined || hi <= lo) return [{ index: 0 }]
  const span = hi - lo + 1n
  const count = BigInt(chunkCount(estimatedRows, rowsPerChunk, atLeast))
  const n = count > span ? span : count
  if (n <= 1n) return [{ index: 0 }]
  const chunks: Chunk[] = []
  const like = (v: bigint): Value => (typeof min === 'bigint' ? v : Number(v))
  let previous: bigint | undefined
  for (let i = 1n; i <= n; i++) {
    const chunk: Chunk = { index: chunks.length }
    if (previous !== undefined) chunk.after = like(previous)
    if (i < n) {
      // the last key of chunk i: the span cut into n parts, rounded down
      previous = lo - 1n + (span * i) / n
      chunk.until = like(previous)
    }
    chunks.push(chunk)
  }
  return chunks
}

/**
 * Chunks between read-order boundaries (ascending key tuples from {@link Connection.splitKeys}): the first
 * up to the first boundary, each next one after the previous boundary up to its own, the last open-ended.
 * Repeated boundaries are dropped. One chunk (no bounds) when there is no boundary.
 */
export function planKeyChunks(boundaries: readonly (readonly Value[])[]): Chunk[] {
  const cuts: Value[][] = []
  let last: string | null = null
  for (const b of boundaries) {
    const encoded = encodeKey(b)
    if (encoded !== last) cuts.push([...b])
    last = encoded
  }
  if (cuts.length === 0) return [{ index: 0 }]
  return [...cuts, undefined].map((until, i) => {
    const range: KeyRange = {}
    if (i > 0) range.after = cuts[i - 1]
    if (until) range.until = until
    return { index: i, range }
  })
}

/**
 * Chunks of a table without a key by page ranges: `pages` (the table's page count) cut into `count` equal
 * ranges, the first open at its start and the last at its end (rows stored past the counted pages are read
 * by the last). One chunk (no bounds) for fewer than two pages or one chunk.
 */
export function planPageChunks(pages: number, count: number): Chunk[] {
  const n = Math.min(Math.floor(pages), Math.floor(count))
  if (n <= 1) return [{ index: 0 }]
  const chunks: Chunk[] = []
  for (let i = 0; i < n; i++) {
    const range: PageRange = {}
    if (i > 0) range.from = Math.floor((pages * i) / n)
    if (i < n - 1) range.to = Math.floor((pages * (i + 1)) / n)
    chunks.push({ index: i, pages: range })
  }
  return chunks
}

/**
 * Whether the target can count a chunk's rows by its bounds: only integer-key ranges (every engine orders
 * integers alike). Read-order boundaries and page ranges mean nothing on the target.
 */
export function countableOnTarget(chunk: Chunk): boolean {
  return chunk.range === undefined && chunk.pages === undefined
}

/** What a chunk reads: the copy context's (and the reader's) `after`, `until` and `pages` for it. */
export interface ChunkRead {
  /** Read after this key (exclusive). Absent: from the chunk's start. */
  after?: Value[]
  /** Read no row past this key (inclusive). Absent: to the table's end. */
  until?: Value[]
  /** Only the rows stored in these pages. Absent: every page. */
  pages?: PageRange
  /** A chunk is never handed over as a whole table's text (the pass-through path): always false. */
  passThrough: false
}

/**
 * How a chunk becomes read bounds for `copyTable` (and for a worker thread that copies it): its own bounds as
 * key tuples or a page range, and `resumeAfter` — the last key a resumed chunk committed — in place of its lower
 * bound when given.
 */
export function chunkReadRange(chunk: Chunk, resumeAfter?: readonly Value[]): ChunkRead {
  const read: ChunkRead = { passThrough: false }
  const after = resumeAfter ?? chunk.range?.after ?? (chunk.after === undefined ? undefined : [chunk.after])
  const until = chunk.range?.until ?? (chunk.until === undefined ? undefined : [chunk.until])
  if (after !== undefined) read.after = [...after]
  if (until !== undefined) read.until = [...until]
  if (chunk.pages) read.pages = { ...chunk.pages }
  return read
}

function toBig(v: Value): bigint | undefined {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
  return undefined
}
