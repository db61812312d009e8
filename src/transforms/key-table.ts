/**
 * An in-memory hash table from key strings to values, built for millions of keys. A `Map<string, …>` keeps
 * every key as its own JS string (16–24 bytes of header and padding each), which the garbage collector
 * then has to copy out of the young generation and trace on every full collection; here the keys' characters
 * sit back to back in one byte array and the table itself is a typed array of (hash, entry) pairs probed
 * linearly, so a key costs its characters plus about 25–40 bytes and the collector sees a handful of objects
 * (measured with `bench/key-store.mjs`).
 *
 * Keys are compared by their UTF-16 code units, exactly as `Map` compares strings: a key whose units all fit
 * in a byte is stored one byte per unit, any other two bytes per unit (the entry remembers which).
 */

/** Characters the table holds at most before it reports itself full (1 GiB: byte offsets stay 32-bit). */
export const MAX_TABLE_BYTES = 2 ** 30

const EMPTY = 0
/** Bit of an entry's end offset that marks a key stored two bytes per code unit. */
const WIDE = 0x80000000 | 0
const OFFSET = 0x7fffffff

/** Set by {@link hashOf}: the key's length in code units, negative when one of them does not fit a byte. */
let hashedUnits = 0

/** 32-bit FNV-1a over the code units, then a murmur3 finaliser; never 0 (0 marks an empty slot). */
function hashOf(key: string): number {
  let hash = 0x811c9dc5 | 0
  let all = 0
  for (let j = 0; j < key.length; j++) {
    const c = key.charCodeAt(j)
    all |= c
    hash = Math.imul(hash ^ c, 0x01000193)
  }
  hashedUnits = all > 0xff ? -key.length : key.length
  return finish(hash)
}

/** The murmur3 finaliser of {@link hashOf}; never 0. */
function finish(hash: number): number {
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash | 1
}

/** What {@link KeyTable.add} returns when the key is new and the table is full. */
export const FULL: unique symbol = Symbol('full')

const NO_KEYS: readonly string[] = []

/** The table; `V` is what a key maps to (strings and numbers; small integers cost no allocation). */
export class KeyTable<V> {
  /** Pairs (hash, entry index); a hash of 0 is an empty slot. At most three quarters full. */
  #slots = new Int32Array(2 * 1024)
  #mask = 1023
  /** Entry e's characters end at byte `#ends[e] & OFFSET` (and start where e - 1's end); `WIDE` if two bytes per unit. */
  #ends = new Int32Array(768)
  #chars = new Uint8Array(1 << 16)
  #bytes = 0
  /** Values by entry; sized ahead when a count of keys is expected (no copies as it grows), so `#count` says how many are set. */
  #values: V[] = []
  #count = 0
  readonly #maxKeys: number
  readonly #maxBytes: number
  readonly #expected: number
  // the last key probed and where: `get` then `set` of the same key (the usual "seen? else add") probes once
  #lastKey: string | undefined
  #lastHash = 0
  #lastUnits = 0
  #lastAt = 0
  // keys given to `prepare`, their hashes and units, and the next one expected
  #preKeys: readonly string[] = []
  #preHash = new Int32Array(0)
  #preUnits = new Int32Array(0)
  /** Where `prepare` copied each one-byte key's characters (past `#bytes`), or -1. */
  #preAt = new Int32Array(0)
  #preNext = 0
  /** The staged characters of the key `#find` last took from the prepared ones, or -1. */
  #lastStaged = -1
  /** What `prepare` read, kept so the compiler cannot drop the reads. */
  #touched = 0

  /**
   * @param maxKeys entries held at most: adding one more makes `set` return false. Default unlimited.
   * @param maxBytes key bytes held at most (default {@link MAX_TABLE_BYTES}).
   * @param expectedKeys entries expected (capped at `maxKeys`), to size the table once instead of doubling
   *   it on the way; only a hint. Default 0.
   */
  constructor(maxKeys = Number.MAX_SAFE_INTEGER, maxBytes = MAX_TABLE_BYTES, expectedKeys = 0) {
    this.#maxKeys = maxKeys
    this.#maxBytes = Math.min(maxBytes, MAX_TABLE_BYTES)
    const expected = Math.min(expectedKeys, maxKeys, 2 ** 28)
    this.#expected = expected
    if (expected > 768) {
      let slots = 1024
      while (3 * slots < 4 * (expected + 1)) slots *= 2
      this.#slots = new Int32Array(2 * slots)
      this.#mask = slots - 1
      this.#ends = new Int32Array(expected + 1)
      this.#values = new Array(expected + 1)
    }
  }

  /** Entries held. */
  get size(): number {
    return this.#count
  }

  /** Bytes allocated for the slots, the entries and the keys' characters, and 8 per value (a string value's own bytes aside). */
  get bytes(): number {
    return this.#slots.byteLength + this.#ends.byteLength + this.#chars.byteLength + 8 * this.#values.length
  }

  /**
   * Hashes some keys before their `get`/`set` calls and reads their slots in one tight loop, so those memory
   * reads overlap instead of each waiting for the last (a table of millions of keys is far larger than the
   * CPU caches). Lookups of those keys, in that order, then skip hashing and find their slots cached — if
   * they come soon: a few hundred keys at a time (dedupe prepares 512). The same loop copies each one-byte
   * key's characters to the free space after the stored ones, in order, so that adding keys that are all new
   * (the usual case) moves no character again. Only saves time; answers never change.
   */
  prepare(keys: readonly string[]): void {
    if (this.#preHash.length < keys.length) {
      this.#preHash = new Int32Array(keys.length)
      this.#preUnits = new Int32Array(keys.length)
      this.#preAt = new Int32Array(keys.length)
    }
    // a key looked up before keeps no staged characters: they are about to be written over
    this.#lastKey = undefined
    this.#lastStaged = -1
    let total = 0
    for (let k = 0; k < keys.length; k++) total += keys[k]!.length
    const staging = this.#reserve(total)
    const chars = this.#chars
    let at = this.#bytes
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!
      let hash: number
      if (staging) {
        // hashOf, copying each unit as it goes (a unit past a byte is cut, and then the key is not staged)
        hash = 0x811c9dc5 | 0
        let all = 0
        for (let j = 0; j < key.length; j++) {
          const c = key.charCodeAt(j)
          all |= c
          chars[at + j] = c
          hash = Math.imul(hash ^ c, 0x01000193)
        }
        hash = finish(hash)
        hashedUnits = all > 0xff ? -key.length : key.length
        this.#preAt[k] = all > 0xff ? -1 : at
        if (all <= 0xff) at += key.length
      } else {
        hash = hashOf(key)
        this.#preAt[k] = -1
      }
      this.#preHash[k] = hash
      this.#preUnits[k] = hashedUnits
    }
    const slots = this.#slots
    const mask = this.#mask
    let touched = 0
    for (let k = 0; k < keys.length; k++) touched |= slots[2 * ((this.#preHash[k]! >>> 1) & mask)]!
    this.#touched = touched
    this.#preKeys = keys
    this.#preNext = 0
  }

  /** Entry index of `key` (>= 0), or -(free slot) - 1. */
  #find(key: string): number {
    if (key === this.#lastKey) return this.#lastAt
    let hash: number
    let units: number
    const k = this.#preNext
    if (k < this.#preKeys.length && this.#preKeys[k] === key) {
      hash = this.#preHash[k]!
      units = this.#preUnits[k]!
      this.#lastStaged = this.#preAt[k]!
      this.#preNext = k + 1
    } else {
      hash = hashOf(key)
      units = hashedUnits
      this.#lastStaged = -1
    }
    const slots = this.#slots
    const mask = this.#mask
    let i = (hash >>> 1) & mask
    let at: number
    for (;;) {
      const h = slots[2 * i]!
      if (h === EMPTY) {
        at = -i - 1
        break
      }
      if (h === hash) {
        const e = slots[2 * i + 1]!
        if (this.#same(e, key, units)) {
          at = e
          break
        }
      }
      i = (i + 1) & mask
    }
    this.#lastKey = key
    this.#lastHash = hash
    this.#lastUnits = units
    this.#lastAt = at
    return at
  }

  /** Whether entry e holds `key` (`units`: its length, negative when two bytes each). */
  #same(e: number, key: string, units: number): boolean {
    const end = this.#ends[e]!
    const chars = this.#chars
    let o = e === 0 ? 0 : this.#ends[e - 1]! & OFFSET
    const bytes = (end & OFFSET) - o
    if (units >= 0) {
      if (end < 0 || bytes !== units) return false
      for (let j = 0; j < units; j++) if (chars[o + j] !== key.charCodeAt(j)) return false
      return true
    }
    if (end >= 0 || bytes !== -2 * units) return false
    for (let j = 0; j < -units; j++, o += 2) if ((chars[o]! | (chars[o + 1]! << 8)) !== key.charCodeAt(j)) return false
    return true
  }

  get(key: string): V | undefined {
    const e = this.#find(key)
    return e >= 0 ? this.#values[e] : undefined
  }

  has(key: string): boolean {
    return this.#find(key) >= 0
  }

  /** Sets `key` to `value`; returns false, changing nothing, when `key` is new and the table is full. */
  set(key: string, value: V): boolean {
    const at = this.#find(key)
    if (at >= 0) {
      this.#values[at] = value
      return true
    }
    return this.#insert(key, value, at)
  }

  /**
   * The value of `key` if it is there (left unchanged); otherwise adds `key` with `value` and returns
   * undefined, or {@link FULL} (changing nothing) when the table is full. "Seen? else add" in one probe.
   */
  add(key: string, value: V): V | undefined | typeof FULL {
    const at = this.#find(key)
    if (at >= 0) return this.#values[at]
    return this.#insert(key, value, at) ? undefined : FULL
  }

  /** Adds a key `#find` just missed (`at`: minus its free slot, minus one). */
  #insert(key: string, value: V, at: number): boolean {
    const units = this.#lastUnits
    const need = units >= 0 ? units : -2 * units
    const e = this.#count
    if (e >= this.#maxKeys || this.#bytes + need > this.#maxBytes) return false
    this.#store(e, key, units, need)
    if (e < this.#values.length) this.#values[e] = value
    else this.#values.push(value)
    this.#count = e + 1
    const slot = -at - 1
    this.#slots[2 * slot] = this.#lastHash
    this.#slots[2 * slot + 1] = e
    this.#lastAt = e
    if (4 * (e + 1) > 3 * (this.#mask + 1)) this.#grow()
    return true
  }

  /**
   * Makes room for `more` bytes after the stored ones; false (nothing changed) past {@link MAX_TABLE_BYTES}.
   * Growing copies only the stored characters, not what `prepare` staged: `prepare` grows before it stages,
   * and a store that grows has already dropped the staged keys.
   */
  #reserve(more: number): boolean {
    if (this.#bytes + more <= this.#chars.length) return true
    if (this.#bytes + more > MAX_TABLE_BYTES) return false
    // half again, not double: a smaller last step, for a store sized to hold millions of keys; with a
    // count of keys expected, straight to the size the keys so far predict (one copy instead of a dozen)
    const e = this.#count
    const predicted = e > 0 && this.#expected > e ? Math.ceil((1.1 * this.#bytes * this.#expected) / e) : 0
    const size = Math.min(Math.max(Math.floor(1.5 * this.#chars.length), this.#bytes + more, predicted), MAX_TABLE_BYTES)
    const chars = new Uint8Array(size)
    chars.set(this.#chars.subarray(0, this.#bytes))
    this.#chars = chars
    return true
  }

  #store(e: number, key: string, units: number, need: number): void {
    if (e === this.#ends.length) {
      const ends = new Int32Array(Math.floor(1.5 * e))
      ends.set(this.#ends)
      this.#ends = ends
    }
    const o = this.#bytes
    const staged = this.#lastStaged
    this.#lastStaged = -1
    if (staged >= 0) {
      // staged by prepare at or after `o` (every store since then was of an earlier prepared key, in order)
      if (staged !== o) this.#chars.copyWithin(o, staged, staged + need)
    } else {
      // written over whatever prepare staged from here on: its later keys must not use it
      this.#preKeys = NO_KEYS
      this.#reserve(need)
      const chars = this.#chars
      if (units >= 0) {
        for (let j = 0; j < units; j++) chars[o + j] = key.charCodeAt(j)
      } else {
        for (let j = 0, b = o; j < -units; j++, b += 2) {
          const c = key.charCodeAt(j)
          chars[b] = c & 0xff
          chars[b + 1] = c >>> 8
        }
      }
    }
    this.#bytes += need
    this.#ends[e] = units >= 0 ? this.#bytes : this.#bytes | WIDE
  }

  /** Doubles the slots and re-places every entry by its stored hash (the keys are not read again). */
  #grow(): void {
    const old = this.#slots
    const size = old.length // twice the slot count
    const slots = new Int32Array(2 * size)
    const mask = size - 1
    for (let i = 0; i < old.length; i += 2) {
      const h = old[i]!
      if (h === EMPTY) continue
      let j = (h >>> 1) & mask
      while (slots[2 * j] !== EMPTY) j = (j + 1) & mask
      slots[2 * j] = h
      slots[2 * j + 1] = old[i + 1]!
    }
    this.#slots = slots
    this.#mask = mask
    this.#lastKey = undefined
  }

  /** The entries in insertion order, keys decoded back to strings. */
  *entries(): IterableIterator<[string, V]> {
    const buf = Buffer.from(this.#chars.buffer, this.#chars.byteOffset, this.#chars.byteLength)
    let start = 0
    for (let e = 0; e < this.#count; e++) {
      const end = this.#ends[e]!
      const stop = end & OFFSET
      yield [buf.toString(end < 0 ? 'utf16le' : 'latin1', start, stop), this.#values[e]!]
      start = stop
    }
  }

  /** Drops every entry and the memory behind them. */
  clear(): void {
    this.#slots = new Int32Array(2 * 1024)
    this.#mask = 1023
    this.#ends = new Int32Array(768)
    this.#chars = new Uint8Array(1 << 16)
    this.#bytes = 0
    this.#values = []
    this.#count = 0
    this.#lastKey = undefined
    this.#preKeys = NO_KEYS
    this.#lastStaged = -1
  }
}
