/**
 * Row hashes and order-independent segment sums. A table's rows fall into segments by the hash of their key
 * (a range of the key-hash space, so that every engine puts a row in the same segment whatever its collation
 * orders text keys by); each segment keeps a row count and the sum of its rows' 64-bit hashes, which does not
 * depend on the order rows arrive in. Segments whose sums differ are found by bisecting the segment range, and
 * only their rows are compared one by one.
 */

/**
 * A 64-bit hash of a string as two 32-bit lanes (cyrb53's mixing, widened). Not cryptographic: it detects
 * accidental differences, which is what verification needs, at a fraction of the cost of a digest per row.
 */
export function hash64(s: string, seed = 0): [number, number] {
  let h1 = 0xdeadbeef ^ seed
  let h2 = 0x41c6ce57 ^ seed
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return [h1 >>> 0, h2 >>> 0]
}

/**
 * {@link hash64} over several strings without joining them (each followed by a separator), for row hashes
 * on the hot path: no concatenated row string, no array per row.
 */
export class RowHasher {
  private h1 = 0
  private h2 = 0
  /** The finished lanes, valid after {@link finish}. */
  lo = 0
  hi = 0

  reset(): void {
    this.h1 = 0xdeadbeef
    this.h2 = 0x41c6ce57
  }

  update(s: string): void {
    let h1 = this.h1
    let h2 = this.h2
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i)
      h1 = Math.imul(h1 ^ ch, 2654435761)
      h2 = Math.imul(h2 ^ ch, 1597334677)
    }
    // the separator keeps ('ab', 'c') apart from ('a', 'bc')
    this.h1 = Math.imul(h1 ^ 0x1f, 2654435761)
    this.h2 = Math.imul(h2 ^ 0x1f, 1597334677)
  }

  finish(): void {
    let h1 = this.h1
    let h2 = this.h2
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
    this.lo = h1 >>> 0
    this.hi = h2 >>> 0
  }
}

/** A 32-bit hash of a key token, choosing its segment. Seeded apart from the row hash. */
export function keyHash(keyToken: string): number {
  return hash64(keyToken, 0x9e3779b9)[0]
}

/** Most segments a table gets: segment numbers fit 16 bits, so the first pass keeps 2 bytes per row. */
export const MAX_SEGMENTS = 1 << 16

/** Per-segment row counts and hash sums of one side of a table. */
export class SegmentSums {
  readonly count: Uint32Array
  readonly lo: Uint32Array
  readonly hi: Uint32Array
  rows = 0

  /** `segments` must be a power of two. */
  constructor(readonly segments: number) {
    this.count = new Uint32Array(segments)
    this.lo = new Uint32Array(segments)
    this.hi = new Uint32Array(segments)
  }

  /** The segment of a key hash. */
  segmentOf(key: number): number {
    return key & (this.segments - 1)
  }

  /** Adds one row by its key hash and the two lanes of its row hash; typed arrays wrap the sums modulo 2^32. */
  add(key: number, lo: number, hi: number): void {
    const s = key & (this.segments - 1)
    this.count[s]!++
    this.lo[s] = this.lo[s]! + lo
    this.hi[s] = this.hi[s]! + hi
    this.rows++
  }

  /** Whether segments `[from, to)` of both sides sum to the same counts and hashes. */
  private sameRange(other: SegmentSums, from: number, to: number): boolean {
    let c = 0
    let l = 0
    let h = 0
    for (let i = from; i < to; i++) {
      c = (c + this.count[i]! - other.count[i]!) | 0
      l = (l + this.lo[i]! - other.lo[i]!) | 0
      h = (h + this.hi[i]! - other.hi[i]!) | 0
    }
    return c === 0 && l === 0 && h === 0
  }

  /**
   * The segments whose sums differ from `other`'s (same segment count), found by bisecting the segment
   * range: a half whose sums agree is not looked into.
   */
  differingSegments(other: SegmentSums): Set<number> {
    if (other.segments !== this.segments) throw new Error('segment counts differ')
    const out = new Set<number>()
    const visit = (from: number, to: number): void => {
      if (this.sameRange(other, from, to)) return
      if (to - from === 1) {
        out.add(from)
        return
      }
      const mid = (from + to) >>> 1
      visit(from, mid)
      visit(mid, to)
    }
    visit(0, this.segments)
    return out
  }
}
