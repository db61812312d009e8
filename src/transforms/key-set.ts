import { openSpillStore, type KeyValue, type SpillStore } from '../store/key-store.js'
import { FULL, KeyTable } from './key-table.js'
import type { KeySet } from './transform.js'

export type { KeyValue, SpillStore }

/**
 * Key sets and key maps with bounded memory. In memory, keys live in a {@link KeyTable} (characters packed in
 * one byte array, not one JS string each). Measured with `bench/key-store.mjs` on Node 20, 10 million
 * e-mail-like keys mapped to row numbers take about 600 MB there (63 bytes a key, 5.6 s to fill), against
 * 830 MB of heap (87 bytes a key, 1.3 GB RSS, 14 s) in a JS `Map`, which also stops at 2^24 (16.7 million)
 * entries. So past `maxInMemory` keys the store moves to a temporary SQLite file (better-sqlite3, loaded only
 * then) behind a Bloom filter of 16–64 MB: the same 10 million keys then peak at 213 MB RSS (16 s to fill).
 * Where better-sqlite3 is not installed, the keys move to `Map`s in memory instead (no limit but memory).
 */

/** Options of {@link createKeySet} and {@link createKeyMap}. */
export interface KeySetOptions {
  /**
   * Keys held in memory; the next new key moves the store to a temporary SQLite file (to `Map`s in memory where better-sqlite3 is not installed). Default 1 000 000
   * (about 60 MB of e-mail-like keys).
   */
  maxInMemory?: number
  /** Keys expected (e.g. the table's row count), so the in-memory table is sized once; only a hint. Default 0. */
  expectedKeys?: number
}

/** The default of {@link KeySetOptions.maxInMemory}. */
export const DEFAULT_MAX_IN_MEMORY = 1_000_000

/**
 * A map of key strings to values (strings by default, or numbers) with bounded memory. `set` returns a promise
 * only when it moves the map to disk; `get` and `has` are always synchronous.
 */
export interface KeyMap<V extends string | number = string> {
  /** Maps the key to the value (a key set again takes the later value). */
  set(key: string, value: V): void | Promise<void>
  /** The key's value. Undefined: not in the map. */
  get(key: string): V | undefined
  /** Whether the map holds the key. */
  has(key: string): boolean
  /** Exact in memory; after a spill, an upper bound (a key written twice may count twice). */
  readonly size: number
  /** Whether the map moved to a temporary file. */
  readonly spilled: boolean
  /** Frees its memory and deletes its temporary file. */
  close(): void
}


/** Bytes of a spilled store's Bloom filter: 10 bits a key expected, at least 16 MB and at most 64 MB. */
export function bloomBytes(expectedKeys: number): number {
  let bytes = 16 << 20
  while (bytes < 64 << 20 && bytes * 8 < 10 * expectedKeys) bytes *= 2
  return bytes
}

/**
 * A Bloom filter over the keys of a spilled store (see {@link bloomBytes}; 4 probes), so that looking up a
 * key the store does not hold — most lookups when keys are mostly distinct — costs a hash instead of an
 * SQLite query. About 1 % false positives up to its expected keys; past them it slowly loses its use (at
 * 16 MB: about 12 % at 30 million keys) but never its correctness.
 */
class BloomFilter {
  readonly #bits: Uint32Array
  readonly #mask: number
  // the last key hashed and its two hashes: `add` after a `mayHave` of the same key (a miss, then the
  // insert) hashes once
  #key: string | undefined
  #a = 0
  #b = 0

  constructor(bytes: number) {
    this.#bits = new Uint32Array(bytes / 4)
    this.#mask = bytes * 8 - 1
  }

  #hash(key: string): void {
    if (key === this.#key) return
    let h1 = 0x811c9dc5
    let h2 = 0x9747b28c
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i)
      h1 = Math.imul(h1 ^ c, 0x01000193)
      h2 = Math.imul(h2 ^ c, 0x5bd1e995)
      h2 ^= h2 >>> 15
    }
    this.#key = key
    this.#a = h1 >>> 0
    this.#b = (h2 | 1) >>> 0
  }

  add(key: string): void {
    this.#hash(key)
    for (let i = 0; i < 4; i++) {
      const bit = (this.#a + Math.imul(i, this.#b)) & this.#mask
      this.#bits[bit >>> 5]! |= 1 << (bit & 31)
    }
  }

  mayHave(key: string): boolean {
    this.#hash(key)
    for (let i = 0; i < 4; i++) {
      const bit = (this.#a + Math.imul(i, this.#b)) & this.#mask
      if ((this.#bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false
    }
    return true
  }
}

/** A key set held in memory. */
export class MemoryKeySet implements KeySet {
  readonly #keys = new Set<string>()
  add(key: string): void {
    this.#keys.add(key)
  }
  has(key: string): boolean {
    return this.#keys.has(key)
  }
  get size(): number {
    return this.#keys.size
  }
  close(): void {
    this.#keys.clear()
  }
}

/**
 * A key map that keeps entries in memory (in a {@link KeyTable}) up to `maxInMemory`, then moves them to a
 * temporary SQLite file when one more key arrives (a table of exactly `maxInMemory` keys never spills).
 * After the move, writes are buffered and flushed in one transaction per 10 000 (or before a read).
 * Numbers come back as numbers after a spill too (`-0` as `0`).
 */
export class SpillingKeyMap<V extends KeyValue = string> implements KeyMap<V> {
  #memory: KeyTable<V> | undefined
  #store: SpillStore | undefined
  #bloom: BloomFilter | undefined
  #pending = new Map<string, V>()
  #size = 0
  readonly #max: number
  readonly #expected: number

  constructor(options: KeySetOptions = {}) {
    this.#max = Math.max(1, options.maxInMemory ?? DEFAULT_MAX_IN_MEMORY)
    this.#expected = options.expectedKeys ?? 0
    this.#memory = new KeyTable<V>(this.#max, undefined, options.expectedKeys)
  }

  get spilled(): boolean {
    return this.#store !== undefined
  }

  get size(): number {
    return this.#memory ? this.#memory.size : this.#size
  }

  /** Bytes the in-memory table holds (0 once spilled; see {@link KeyTable.bytes}). */
  get bytes(): number {
    return this.#memory ? this.#memory.bytes : 0
  }

  set(key: string, value: V): void | Promise<void> {
    if (this.#memory) {
      // false: a new key past maxInMemory (or the table's byte limit)
      if (this.#memory.set(key, value)) return
      return this.#spill().then(() => this.set(key, value))
    }
    // after a spill the size counts writes of keys not pending, an upper bound (no read per write: speed)
    if (!this.#pending.has(key)) this.#size++
    this.#bloom!.add(key)
    this.#pending.set(key, value)
    if (this.#pending.size >= 10_000) this.#flush()
  }

  /**
   * The value of `key` if it is there (left unchanged); otherwise sets `key` to `value` and returns undefined.
   * Returns a promise only when it moves the map to disk.
   */
  add(key: string, value: V): V | undefined | Promise<V | undefined> {
    if (this.#memory) {
      const found = this.#memory.add(key, value)
      if (found !== FULL) return found
      return this.#spill().then(() => this.add(key, value))
    }
    const found = this.get(key)
    if (found === undefined) this.set(key, value)
    return found
  }

  /** Hints the keys about to be looked up, in order (see {@link KeyTable.prepare}); only speeds things up. */
  prepare(keys: readonly string[]): void {
    this.#memory?.prepare(keys)
  }

  get(key: string): V | undefined {
    if (this.#memory) return this.#memory.get(key)
    if (!this.#bloom!.mayHave(key)) return undefined
    const v = this.#pending.get(key)
    if (v !== undefined) return v
    return this.#store!.get(key) as V | undefined
  }

  has(key: string): boolean {
    if (this.#memory) return this.#memory.has(key)
    if (!this.#bloom!.mayHave(key)) return false
    return this.#pending.has(key) || this.#store!.has(key)
  }

  close(): void {
    this.#memory?.clear()
    this.#pending.clear()
    this.#store?.close()
    this.#bloom = undefined
  }

  async #spill(): Promise<void> {
    const memory = this.#memory!
    // better-sqlite3 is loaded only now, when a store actually spills; without it the keys stay in memory
    // (more of it) rather than failing a copy half-way through
    const { store } = await openSpillStore()
    // a store that spills holds more than maxInMemory keys: without a count expected, guess twice that
    const bloom = new BloomFilter(bloomBytes(Math.max(this.#expected, 2 * memory.size)))
    store.put((entry) => {
      for (const [k, v] of memory.entries()) {
        bloom.add(k)
        entry(k, v)
      }
    })
    this.#bloom = bloom
    this.#size = memory.size
    this.#store = store
    this.#memory = undefined
    memory.clear()
  }

  #flush(): void {
    if (this.#pending.size === 0) return
    // forEach, not entries(): no pair array per entry
    this.#store!.put((entry) => this.#pending.forEach((v, k) => entry(k, v)))
    this.#pending.clear()
  }
}

/** A key set on top of {@link SpillingKeyMap}: memory first, then a temporary SQLite file. */
export class SpillingKeySet implements KeySet {
  readonly #map: SpillingKeyMap
  constructor(options: KeySetOptions = {}) {
    this.#map = new SpillingKeyMap(options)
  }
  add(key: string): void | Promise<void> {
    return this.#map.set(key, '')
  }
  has(key: string): boolean {
    return this.#map.has(key)
  }
  get size(): number {
    return this.#map.size
  }
  /** Whether the set moved to a temporary file. */
  get spilled(): boolean {
    return this.#map.spilled
  }
  close(): void {
    this.#map.close()
  }
}

/** Creates a key set for transforms: in memory up to `maxInMemory` keys (default 1 000 000), then on disk. */
export async function createKeySet(_name: string, options: KeySetOptions = {}): Promise<SpillingKeySet> {
  return new SpillingKeySet(options)
}

/** Creates a key map: in memory up to `maxInMemory` entries (default 1 000 000), then on disk. */
export async function createKeyMap<V extends KeyValue = string>(_name: string, options: KeySetOptions = {}): Promise<SpillingKeyMap<V>> {
  return new SpillingKeyMap<V>(options)
}
