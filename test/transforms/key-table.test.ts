import { describe, expect, it } from 'vitest'
import { FULL, KeyTable } from '../../src/transforms/key-table.js'

// a seeded generator, so a failure repeats
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

/** Keys of every shape the table stores differently: ASCII, Latin-1, wider BMP, astral pairs, lone surrogates. */
const SHAPES = [
  '',
  'a',
  'user1@example.org',
  'USER1@EXAMPLE.ORG',
  'é',
  'e\u0301',
  'ÿ\u0000',
  'Łukasz',
  'Nguyễn',
  '中文',
  'ＡＢＣ',
  '😀',
  '\ud83d',
  '\ude00',
  '\ud800x',
  'x\udfff',
  // the same two bytes, one wide unit or two narrow ones: must never match each other
  'ab',
  '\u6261',
  '\u0161', // Latin-1 byte 0x61 plus 0x01 as one wide unit
  'a\u0001',
  'x'.repeat(10_000),
  `${'é'.repeat(5000)}Ł`,
]

function randomKey(next: () => number): string {
  const len = Math.floor(next() * 24)
  let k = ''
  for (let i = 0; i < len; i++) {
    const r = next()
    // mostly ASCII, some Latin-1, some wider units (surrogates included)
    k += String.fromCharCode(r < 0.8 ? 0x20 + Math.floor(next() * 95) : r < 0.9 ? 0x80 + Math.floor(next() * 128) : Math.floor(next() * 0x10000))
  }
  return k
}

describe('KeyTable', () => {
  it('answers exactly as a Map does, for keys of every shape, through many doublings', () => {
    const next = random(42)
    const table = new KeyTable<string | number>()
    const map = new Map<string, string | number>()
    const keys = [...SHAPES]
    for (let i = 0; i < 20_000; i++) keys.push(randomKey(next))
    for (const k of [...keys]) keys.push(`${k}#`) // near-misses of every key
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!
      expect(table.get(k)).toBe(map.get(k))
      const v = i % 3 === 0 ? `v${i}` : i
      expect(table.set(k, v)).toBe(true)
      map.set(k, v)
      // now and then look up a key written earlier, and one never written
      const back = keys[Math.floor(next() * (i + 1))]!
      expect(table.get(back)).toBe(map.get(back))
      expect(table.has(`${back}\u0000never`)).toBe(false)
    }
    expect(table.size).toBe(map.size)
    for (const k of keys) expect(table.get(k)).toBe(map.get(k))
    // entries in insertion order, keys decoded back to the same code units
    expect([...table.entries()]).toEqual([...map.entries()])
  })

  it('keys of one byte per unit and of two never match each other', () => {
    const table = new KeyTable<number>()
    table.set('ab', 1)
    expect(table.get('\u6261')).toBeUndefined() // the bytes 0x61 0x62 read as one wide unit
    table.set('\u6261', 2)
    table.set('a\u0001', 3)
    expect(table.get('\u0161')).toBeUndefined()
    expect([table.get('ab'), table.get('\u6261'), table.get('a\u0001'), table.size]).toEqual([1, 2, 3, 3])
  })

  it('is full at maxKeys: a new key is refused and nothing changes, a known key is still updated', () => {
    const table = new KeyTable<number>(3)
    for (const [i, k] of ['a', 'b', 'c'].entries()) expect(table.set(k, i)).toBe(true)
    expect(table.set('d', 3)).toBe(false)
    expect(table.has('d')).toBe(false)
    expect(table.size).toBe(3)
    expect(table.set('b', 10)).toBe(true)
    expect(table.get('b')).toBe(10)
    // and by bytes
    const small = new KeyTable<number>(Number.MAX_SAFE_INTEGER, 10)
    expect(small.set('12345', 1)).toBe(true)
    expect(small.set('é2345', 2)).toBe(true)
    expect(small.set('x', 3)).toBe(false)
    expect(small.set('Ł', 4)).toBe(false) // two bytes
    expect(small.size).toBe(2)
  })

  it('prepare only saves work: lookups in another order, of other keys, or after a growth give the same answers', () => {
    const table = new KeyTable<number>()
    const map = new Map<string, number>()
    const next = random(7)
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 3000 }, () => (next() < 0.3 ? `dup${Math.floor(next() * 500)}` : randomKey(next)))
      table.prepare(batch)
      // in order, with strays in between (keys not in the batch), and duplicates within the batch
      for (let i = 0; i < batch.length; i++) {
        const k = batch[i]!
        if (i % 7 === 0) expect(table.get(`stray${i}`)).toBe(map.get(`stray${i}`))
        if (table.get(k) === undefined) {
          table.set(k, i)
          map.set(k, i)
        }
      }
      // out of order after the fact
      table.prepare(batch)
      for (let i = batch.length - 1; i >= 0; i -= 3) expect(table.get(batch[i]!)).toBe(map.get(batch[i]!))
    }
    expect(table.size).toBe(map.size)
  })

  it('keys copied ahead by prepare are stored exactly: with gaps, strays written in between and growth', () => {
    const table = new KeyTable<number>()
    const map = new Map<string, number>()
    const next = random(11)
    for (let round = 0; round < 40; round++) {
      // long keys now and then, so the character store grows inside prepare and inside a stray's store
      const batch = Array.from({ length: 700 }, (_, i) => (next() < 0.2 ? `dup${Math.floor(next() * 300)}` : next() < 0.02 ? 'x'.repeat(5000 + i) : randomKey(next)))
      table.prepare(batch)
      for (let i = 0; i < batch.length; i++) {
        const k = batch[i]!
        const r = next()
        if (r < 0.1) continue // never looked up: its staged characters are a gap
        if (r < 0.15) {
          // a key that was not prepared, written between prepared ones
          const stray = `stray${round}.${i}${'Ł'.repeat(i % 3)}`
          table.set(stray, -i)
          map.set(stray, -i)
        }
        if (r < 0.6) {
          const had = map.get(k)
          if (had === undefined) map.set(k, i)
          expect(table.add(k, i)).toBe(had)
        } else {
          expect(table.get(k)).toBe(map.get(k))
          if (r < 0.8) {
            table.set(k, i)
            map.set(k, i)
          }
        }
      }
    }
    expect(table.size).toBe(map.size)
    expect([...table.entries()]).toEqual([...map.entries()])
    for (const [k, v] of map) expect(table.get(k)).toBe(v)
  })

  it('a key looked up, then other keys prepared, then the key added: stored as it is', () => {
    const table = new KeyTable<number>()
    table.prepare(['first', 'second'])
    expect(table.get('first')).toBeUndefined()
    // staged over the characters 'first' was given by the prepare before
    table.prepare(['other', 'again'])
    table.set('first', 1)
    expect([...table.entries()]).toEqual([['first', 1]])
  })

  it('add returns the value already there (unchanged), undefined when it added, FULL when it could not', () => {
    const table = new KeyTable<number>(2)
    expect(table.add('a', 1)).toBeUndefined()
    expect(table.add('a', 2)).toBe(1)
    expect(table.add('b', 3)).toBeUndefined()
    expect(table.add('c', 4)).toBe(FULL)
    expect([table.get('a'), table.get('b'), table.has('c'), table.size]).toEqual([1, 3, false, 2])
  })

  it('sized ahead (expectedKeys) it answers the same, below, at and past the expected count', () => {
    for (const expected of [1000, 20_000, 100_000]) {
      const table = new KeyTable<number>(Number.MAX_SAFE_INTEGER, undefined, expected)
      const map = new Map<string, number>()
      const next = random(expected)
      for (let i = 0; i < 30_000; i++) {
        // short keys first, longer and wider ones later: the character store's first guess is too small
        const k = i < 5000 ? `k${i}` : `${randomKey(next)}${'Ł'.repeat(i % 7)}${i}`
        table.set(k, i)
        map.set(k, i)
      }
      expect(table.size).toBe(map.size)
      expect([...table.entries()]).toEqual([...map.entries()])
    }
  })

  it('clear() empties it', () => {
    const table = new KeyTable<number>()
    for (let i = 0; i < 5000; i++) table.set(`k${i}`, i)
    table.clear()
    expect(table.size).toBe(0)
    expect(table.get('k1')).toBeUndefined()
    table.set('k1', 1)
    expect([...table.entries()]).toEqual([['k1', 1]])
  })
})
