import { existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { createKeyMap, createKeySet } from '../../src/transforms/key-set.js'
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

describe('foldings', () => {
  it('fold case, accents, width, space', () => {
    expect(foldCaseAndAccents('Médecins du Monde')).toBe('medecins du monde')
    expect(foldCaseAndAccents('Ærø Ñandú')).toBe('ærø nandu')
    expect(makeFolding(['trim', 'nfkc', 'case-insensitive'])('  ＡＢＣ ')).toBe('abc')
    expect(makeFolding('exact')('A ')).toBe('A ')
    expect(() => makeFolding('nope' as never)).toThrow(/unknown normalize option/)
  })
})
