import type { Value } from '../schema/types.js'

/**
 * One chunk of a table split by its integer key: the rows with `after < key <= until` (an absent bound is the
 * table's start or end). Chunks of one table do not overlap and together cover every key.
 */
export interface Chunk {
  /** Position in the table's chunk list, from 0. */
  index: number
  /** Exclusive lower bound; absent for the first chunk. */
  after?: Value
  /** Inclusive upper bound; absent for the last chunk. */
  until?: Value
}

/** Chunks of a table as the copy plans them: the default size, and the most one table gets. */
export const CHUNK_DEFAULTS = {
  /** Rows a chunk aims at (from the table's row estimate). Default 250 000. */
  rows: 250_000,
  /** At most this many chunks per table. Default 256. */
  most: 256,
} as const

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
  const wanted = Math.max(Math.ceil(estimatedRows / Math.max(1, rowsPerChunk)), estimatedRows >= 2 * rowsPerChunk ? atLeast : 1)
  const count = BigInt(Math.min(CHUNK_DEFAULTS.most, Math.max(1, wanted)))
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

function toBig(v: Value): bigint | undefined {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
  return undefined
}
