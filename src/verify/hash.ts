/**
 * Row hashes and order-independent segment sums. A table's rows fall into segments by the hash of their key
 * (a range of the key-hash space, so that every engine puts a row in the same segment whatever its collation
 * orders text keys by); each segment keeps a row count and the sum of its rows' 64-bit hashes, which does not
 * depend on the order rows arrive in. Segments whose sums differ are found by bisecting the segment range, and
 * only their rows are compared one by one.
 */

import type { Value } from '../schema/types.js'

// type tags of RowHasher.value, outside the range of a UTF-16 code unit so no character mixes the same word
const TAG_NULL = 0x10001
const TAG_NAN = 0x10002
const TAG_NUMBER = 0x10003
const TAG_STRING = 0x10004
const TAG_TRUE = 0x10005
const TAG_FALSE = 0x10006
const TAG_BIGINT = 0x10007
const TAG_BYTES = 0x10008
const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)

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

  /** Starts a new hash; a seed keeps hashes of different purposes apart. Default 0. */
  reset(seed = 0): void {
    this.h1 = 0xdeadbeef ^ seed
    this.h2 = 0x41c6ce57 ^ seed
  }

  /** Mixes one 32-bit word. */
  private word(x: number): void {
    this.h1 = Math.imul(this.h1 ^ x, 2654435761)
    this.h2 = Math.imul(this.h2 ^ x, 1597334677)
  }

  /**
   * Mixes one canonical value as it is, without a token string: a tag for its JS type (so `1`, `'1'` and
   * `true` differ), then numbers by their 64-bit pattern (`-0` as `0`, every NaN as one), strings and bytes
   * by length and content, bigints by their digits.
   */
  value(v: Value): void {
    if (v === null) return this.word(TAG_NULL)
    switch (typeof v) {
      case 'number': {
        if (v !== v) return this.word(TAG_NAN)
        this.word(TAG_NUMBER)
        F64[0] = v === 0 ? 0 : v
        this.word(U32[0]!)
        return this.word(U32[1]!)
      }
      case 'string': {
        this.word(TAG_STRING)
        this.word(v.length)
        // two code units per word: the length before them makes the pairing unambiguous
        let h1 = this.h1
        let h2 = this.h2
        const even = v.length & ~1
        for (let i = 0; i < even; i += 2) {
          const w = v.charCodeAt(i) | (v.charCodeAt(i + 1) << 16)
          h1 = Math.imul(h1 ^ w, 2654435761)
          h2 = Math.imul(h2 ^ w, 1597334677)
        }
        if (even < v.length) {
          const w = v.charCodeAt(even)
          h1 = Math.imul(h1 ^ w, 2654435761)
          h2 = Math.imul(h2 ^ w, 1597334677)
        }
        this.h1 = h1
        this.h2 = h2
        return
      }
      case 'boolean':
        return this.word(v ? TAG_TRUE : TAG_FALSE)
      case 'bigint': {
        const t = v.toString()
        this.word(TAG_BIGINT)
        this.word(t.length)
        return this.chars(t)
      }
      default: {
        this.word(TAG_BYTES)
        this.word(v.byteLength)
        let h1 = this.h1
        let h2 = this.h2
        for (let i = 0; i < v.length; i++) {
          const b = v[i]!
          h1 = Math.imul(h1 ^ b, 2654435761)
          h2 = Math.imul(h2 ^ b, 1597334677)
        }
        this.h1 = h1
        this.h2 = h2
      }
    }
  }

  /** Mixes the UTF-16 code units of a string, one word each (the lanes kept in locals: the hot loop). */
  private chars(s: string): void {
    let h1 = this.h1
    let h2 = this.h2
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i)
      h1 = Math.imul(h1 ^ ch, 2654435761)
      h2 = Math.imul(h2 ^ ch, 1597334677)
    }
    this.h1 = h1
    this.h2 = h2
  }

  /** Mixes a token string and a separator, which keeps ('ab', 'c') apart from ('a', 'bc'). */
  update(s: string): void {
    this.chars(s)
    this.word(0x1f)
  }

  /** Ends the row: sets `lo` and `hi` to its 64-bit hash. */
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

/** Most segments a table gets: segment numbers fit 16 bits, so the first pass keeps 2 bytes per row. */
export const MAX_SEGMENTS = 1 << 16

/** Per-segment row counts and hash sums of one side of a table. */
export class SegmentSums {
  /** Rows per segment. */
  readonly count: Uint32Array
  /** Per segment, the sum (mod 2^32) of its rows' hashes' low 32 bits. */
  readonly lo: Uint32Array
  /** Per segment, the sum (mod 2^32) of its rows' hashes' high 32 bits. */
  readonly hi: Uint32Array
  /** Rows added, over every segment. */
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
