import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { openKeyStore } from '../../src/store/index.js'
import { bloomBytes, createKeyMap, createKeySet, DEFAULT_MAX_IN_MEMORY, SpillingKeyMap } from '../../src/transforms/key-set.js'
import { foldCaseAndAccents, makeFolding } from '../../src/transforms/normalize.js'

const spillDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('dbferry-keys-'))

describe('key sets and maps', () => {
  it('hold keys in memory, then spill to a temporary SQLite file that close() removes', async () => {
    const before = new Set(spillDirs())
    const set = await createKeySet('t', { maxInMemory: 1000 })
    for (let i = 0; i < 5000; i++) {
      const p = set.add(`k${i}`)
      if (p) await p
    }
    expect(set.spilled).toBe(true)
    const mine = spillDirs().filter((d) => !before.has(d))
    expect(mine.length).toBe(1)
    expect(set.has('k0')).toBe(true)
    expect(set.has('k4999')).toBe(true)
    expect(set.has('k5000')).toBe(false)
    expect(set.size).toBe(5000)
    set.close()
    expect(existsSync(`${tmpdir()}/${mine[0]}`)).toBe(false)
  })

  it('a spilled map reads back what was written before and after the spill, pending or flushed', async () => {
    const map = await createKeyMap('m', { maxInMemory: 10 })
    for (let i = 0; i < 25_000; i++) {
      const p = map.set(`key ${i}`, `value ${i}`)
      if (p) await p
    }
    expect(map.spilled).toBe(true)
    for (const i of [0, 9, 10, 11, 19_999, 20_001, 24_999]) expect(map.get(`key ${i}`)).toBe(`value ${i}`)
    expect(map.get('key 25000')).toBeUndefined()
    await map.set('key 0', 'changed')
    expect(map.get('key 0')).toBe('changed')
    // no false negatives, whatever the Bloom filter says
    let misses = 0
    for (let i = 0; i < 25_000; i++) if (!map.has(`key ${i}`)) misses++
    expect(misses).toBe(0)
    map.close()
  })
})

describe('the spill file and its filter', () => {
  it('stores every entry of a put, in statements of many rows and one by one, the last value of a key winning', async () => {
    const store = await openKeyStore()
    try {
      // 1000 entries: whole statements and a remainder; `dup` once in the first statement, once in the remainder
      const entries: [string, string][] = Array.from({ length: 1000 }, (_, i) => [`k${i}`, `v${i}`])
      entries[5] = ['dup', 'first']
      entries[990] = ['dup', 'last']
      store.put((entry) => entries.forEach(([k, v]) => entry(k, v)))
      for (const i of [0, 4, 6, 127, 128, 255, 256, 895, 896, 989, 991, 999]) expect(store.get(`k${i}`)).toBe(`v${i}`)
      expect([store.get('k5'), store.get('k990'), store.get('dup'), store.has('k1000')]).toEqual([undefined, undefined, 'last', false])
      store.put((entry) => entry('k0', 'again'))
      expect(store.get('k0')).toBe('again')
    } finally {
      store.close()
    }
  })

  it('add answers as get-then-set does, before and after the spill, with keys seen and new', async () => {
    const map = new SpillingKeyMap<number>({ maxInMemory: 100 })
    const model = new Map<string, number>()
    for (let i = 0; i < 30_000; i++) {
      // a third of the keys seen before
      const k = i % 3 === 0 && i > 0 ? `key ${Math.floor(i / 7)}` : `key ${i}`
      const had = model.get(k)
      if (had === undefined) model.set(k, i)
      const found = map.add(k, i)
      expect(typeof found === 'object' ? await found : found).toBe(had)
    }
    expect(map.spilled).toBe(true)
    for (const [k, v] of model) expect(map.get(k)).toBe(v)
    map.close()
  })

  it('the Bloom filter takes 10 bits a key expected, between 16 and 64 MB', () => {
    expect([bloomBytes(0), bloomBytes(2_000_000), bloomBytes(13_421_772), bloomBytes(13_421_773), bloomBytes(100_000_000)].map((b) => b / 2 ** 20)).toEqual([16, 16, 16, 32, 64])
  })
})

describe('the spill threshold (maxInMemory)', () => {
  it('a map of exactly maxInMemory keys stays in memory; the next new key moves it to disk', async () => {
    const map = await createKeyMap('m', { maxInMemory: 100 })
    for (let i = 0; i < 100; i++) expect(map.set(`k${i}`, `v${i}`)).toBeUndefined() // no promise: no spill
    map.set('k5', 'again') // a known key never spills
    expect([map.spilled, map.size]).toEqual([false, 100])
    await map.set('k100', 'v100')
    expect([map.spilled, map.size]).toEqual([true, 101])
    expect([map.get('k0'), map.get('k5'), map.get('k99'), map.get('k100'), map.get('k101')]).toEqual(['v0', 'again', 'v99', 'v100', undefined])
    map.close()
  })

  it('the default is 1 000 000 keys', async () => {
    expect(DEFAULT_MAX_IN_MEMORY).toBe(1_000_000)
    const set = await createKeySet('t')
    for (let i = 0; i < 1000; i++) set.add(`k${i}`)
    expect(set.spilled).toBe(false)
    set.close()
  })

  it('numbers and strings keep their type through a spill (numeric-looking strings stay strings)', async () => {
    const values: (string | number)[] = [0, 1, -1, 1.5, 2 ** 53 + 2, 1e21, -1e-7, Number.NaN, Infinity, -Infinity, '', '1', 'n1', 's', '{"id":1}', 'é😀']
    const map = await createKeyMap<string | number>('m', { maxInMemory: 4 })
    for (const [i, v] of values.entries()) {
      const p = map.set(`key ${i}`, v)
      if (p) await p
    }
    expect(map.spilled).toBe(true)
    // after the spill: some values flushed to the file, some pending
    for (let i = 0; i < 10_000; i++) map.set(`filler ${i}`, i)
    for (const [i, v] of values.entries()) expect(map.get(`key ${i}`)).toBe(v)
    expect(map.get('filler 9999')).toBe(9999)
    map.close()
  })
})

describe('foldings', () => {
  it('fold case, accents, width, space', () => {
    expect(foldCaseAndAccents('Médecins du Monde')).toBe('medecins du monde')
    expect(foldCaseAndAccents('Ærø Ñandú')).toBe('ærø nandu')
    expect(makeFolding(['trim', 'nfkc', 'case-insensitive'])('  ＡＢＣ ')).toBe('abc')
    expect(makeFolding('exact')('A ')).toBe('A ')
    expect(() => makeFolding('nope' as never)).toThrow(/unknown normalize option/)
  })
})
