import type { KeySet } from './transform.js'

/**
 * Key sets and key maps with bounded memory. Measured on Node 20 (`process.memoryUsage().heapUsed`):
 * 10 million keys in a `Set` take about 550 MB for short numeric keys (58 bytes each) and about 930 MB for
 * e-mail-like keys (97 bytes each); a `Set` or `Map` also cannot hold more than 2^24 (16.7 million) entries.
 * So past `maxInMemory` keys the store moves to a temporary SQLite file (better-sqlite3, loaded only then),
 * which holds any number of keys in a few MB of memory.
 */

/** Options of {@link createKeySet} and {@link createKeyMap}. */
export interface KeySetOptions {
  /** Keys held in memory before the store spills to a temporary SQLite file. Default 1 000 000 (about 60–100 MB). */
  maxInMemory?: number
}

/** The default of {@link KeySetOptions.maxInMemory}. */
export const DEFAULT_MAX_IN_MEMORY = 1_000_000

/** A map of key strings to value strings with bounded memory. `set` and `get` are synchronous after a spill. */
export interface KeyMap {
  set(key: string, value: string): void | Promise<void>
  get(key: string): string | undefined
  has(key: string): boolean
  /** Exact in memory; after a spill, an upper bound (a key written twice may count twice). */
  readonly size: number
  /** Whether the map moved to a temporary file. */
  readonly spilled: boolean
  close(): void
}

/** The SQLite-backed store a key set or map spills into (see dialects/sqlite/sqlite-key-store.ts). */
export interface SpillStore {
  put(entries: Iterable<[string, string]>): void
  get(key: string): string | undefined
  has(key: string): boolean
  close(): void
}

async function openSpillStore(): Promise<SpillStore> {
  // lazy: the core never loads a driver unless a store actually spills
  const { openKeyStore } = await import('../../dialects/sqlite/sqlite-key-store.js')
  return openKeyStore()
}

/**
 * A Bloom filter over the keys of a spilled store (16 MB, 4 probes), so that looking up a key the store does
 * not hold — most lookups when keys are mostly distinct — costs a hash instead of an SQLite query. About 1%
 * false positives at 10 million keys; past that it slowly loses its use but never its correctness.
 */
class BloomFilter {
  readonly #bits = new Uint32Array((16 << 20) / 4)
  readonly #mask = (16 << 20) * 8 - 1

  static #hashes(key: string): [number, number] {
    let h1 = 0x811c9dc5
    let h2 = 0x9747b28c
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i)
      h1 = Math.imul(h1 ^ c, 0x01000193)
      h2 = Math.imul(h2 ^ c, 0x5bd1e995)
      h2 ^= h2 >>> 15
    }
    return [h1 >>> 0, (h2 | 1) >>> 0]
  }

  add(key: string): void {
    const [a, b] = BloomFilter.#hashes(key)
    for (let i = 0; i < 4; i++) {
      const bit = (a + Math.imul(i, b)) & this.#mask
      this.#bits[bit >>> 5]! |= 1 << (bit & 31)
    }
  }

  mayHave(key: string): boolean {
    const [a, b] = BloomFilter.#hashes(key)
    for (let i = 0; i < 4; i++) {
      const bit = (a + Math.imul(i, b)) & this.#mask
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
 * A key map that keeps entries in memory up to `maxInMemory`, then moves them to a temporary SQLite file.
 * After the move, writes are buffered and flushed in one transaction per 10 000 (or before a read).
 */
export class SpillingKeyMap implements KeyMap {
  #memory: Map<string, string> | undefined = new Map()
  #store: SpillStore | undefined
  #bloom: BloomFilter | undefined
  #pending = new Map<string, string>()
  #size = 0
  readonly #max: number

  constructor(options: KeySetOptions = {}) {
    this.#max = Math.max(1, options.maxInMemory ?? DEFAULT_MAX_IN_MEMORY)
  }

  get spilled(): boolean {
    return this.#store !== undefined
  }

  get size(): number {
    return this.#memory ? this.#memory.size : this.#size
  }

  set(key: string, value: string): void | Promise<void> {
    if (this.#memory) {
      this.#memory.set(key, value)
      if (this.#memory.size >= this.#max) return this.#spill()
      return
    }
    // after a spill the size counts writes of keys not pending, an upper bound (no read per write: speed)
    if (!this.#pending.has(key)) this.#size++
    this.#bloom!.add(key)
    this.#pending.set(key, value)
    if (this.#pending.size >= 10_000) this.#flush()
  }

  get(key: string): string | undefined {
    if (this.#memory) return this.#memory.get(key)
    if (!this.#bloom!.mayHave(key)) return undefined
    return this.#pending.get(key) ?? this.#store!.get(key)
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
    const store = await openSpillStore()
    store.put(memory)
    const bloom = new BloomFilter()
    for (const k of memory.keys()) bloom.add(k)
    this.#bloom = bloom
    this.#size = memory.size
    this.#store = store
    this.#memory = undefined
    memory.clear()
  }

  #flush(): void {
    if (this.#pending.size === 0) return
    this.#store!.put(this.#pending)
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
export async function createKeyMap(_name: string, options: KeySetOptions = {}): Promise<SpillingKeyMap> {
  return new SpillingKeyMap(options)
}
