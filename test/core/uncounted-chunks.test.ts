import { describe, expect, it } from 'vitest'
import type { Checkpoint } from '../../src/journal/journal.js'
import { ChunkedCheckpoints, countedByRange, isChunked, recordedChunks, resumeUncountedChunks } from '../../src/pipeline/chunk-state.js'
import { chunkReadRange, countableOnTarget, planChunks, planKeyChunks, planPageChunks, type Chunk } from '../../src/pipeline/chunks.js'
import { confirmedCheckpoint, intentCheckpoint } from '../../src/pipeline/resume.js'
import type { TableReport } from '../../src/report.js'

// chunks at read-order boundaries (sampled keys, SQLite rowids) and page ranges: planning, their record in the
// journal, and resume from the target table's count alone

describe('planKeyChunks', () => {
  it('cuts at each boundary, open at both ends, bounds as tuples', () => {
    const chunks = planKeyChunks([['b', 1], ['m', 2], ['x', 0]])
    expect(chunks).toEqual([
      { index: 0, range: { until: ['b', 1] } },
      { index: 1, range: { after: ['b', 1], until: ['m', 2] } },
      { index: 2, range: { after: ['m', 2], until: ['x', 0] } },
      { index: 3, range: { after: ['x', 0] } },
    ])
    expect(chunks.every((c) => !countableOnTarget(c))).toBe(true)
  })

  it('drops repeated boundaries; none is one chunk without bounds', () => {
    expect(planKeyChunks([['a'], ['a'], [Buffer.from('ff', 'hex')], [Buffer.from('ff', 'hex')]])).toHaveLength(3)
    expect(planKeyChunks([])).toEqual([{ index: 0 }])
  })
})

describe('planPageChunks', () => {
  it('cuts the pages into equal ranges that cover every page once, open at both ends', () => {
    const chunks = planPageChunks(100, 4)
    expect(chunks.map((c) => c.pages)).toEqual([{ to: 25 }, { from: 25, to: 50 }, { from: 50, to: 75 }, { from: 75 }])
    for (let page = 0; page < 200; page++) {
      const owners = chunks.filter((c) => (c.pages!.from === undefined || page >= c.pages!.from) && (c.pages!.to === undefined || page < c.pages!.to))
      expect(owners).toHaveLength(1)
    }
  })

  it('never more chunks than pages; one page is one chunk', () => {
    expect(planPageChunks(3, 8)).toHaveLength(3)
    expect(planPageChunks(1, 8)).toEqual([{ index: 0 }])
  })
})

describe('chunkReadRange', () => {
  it('gives integer, tuple and page chunks as read bounds, never as a pass-through table', () => {
    expect(chunkReadRange(planChunks(1, 100, 100, 10)[1]!)).toEqual({ after: [10], until: [20], passThrough: false })
    expect(chunkReadRange({ index: 1, range: { after: ['b', 1], until: ['m', 2] } })).toEqual({ after: ['b', 1], until: ['m', 2], passThrough: false })
    expect(chunkReadRange({ index: 2, pages: { from: 50, to: 75 } })).toEqual({ pages: { from: 50, to: 75 }, passThrough: false })
    // a resumed chunk goes on after its last committed key
    expect(chunkReadRange({ index: 1, range: { after: ['b', 1], until: ['m', 2] } }, ['c', 7]).after).toEqual(['c', 7])
  })

  it('is plain data that survives structured cloning', () => {
    const chunk: Chunk = { index: 1, range: { after: [1n, Buffer.from('00ff', 'hex')], until: [2n, 'z'] } }
    const cloned = structuredClone(chunkReadRange(chunk))
    expect(cloned.after![0]).toBe(1n)
    expect(Buffer.from(cloned.after![1] as Uint8Array).toString('hex')).toBe('00ff')
  })
})

describe('chunks the target cannot count by range: their checkpoint and resume', () => {
  const report = (read: number, written: number): TableReport => ({ name: 't', status: 'skipped', read, written, rejected: read - written, dropped: 0, inserted: 0, fixed: {}, byKind: read > written ? { type_conversion: read - written } : {}, examples: [], ms: 0 })
  const keyChunks = planKeyChunks([['f'], ['p']])
  const pageChunks = planPageChunks(90, 3)

  /** The table's checkpoint after `steps` (each writes one chunk's checkpoint). */
  async function ledger(chunks: Chunk[], steps: [number, Checkpoint][]): Promise<Checkpoint> {
    let cp: Checkpoint | undefined
    const l = new ChunkedCheckpoints('t', chunks, [], async (c) => void (cp = c))
    await l.forChunk(0)(confirmedCheckpoint(report(0, 0), undefined, false))
    for (const [i, c] of steps) await l.forChunk(i)(c)
    return cp!
  }

  it('records tuple and page bounds, and reads them back (and integer ones as before)', async () => {
    for (const chunks of [keyChunks, pageChunks, planChunks(1, 300, 300, 100)]) {
      const cp = await ledger(chunks, [])
      expect(isChunked(cp)).toBe(true)
      expect(recordedChunks(cp)).toEqual(chunks)
      expect(countedByRange(cp)).toBe(chunks === keyChunks || chunks === pageChunks ? false : true)
    }
  })

  it('reads a journal written before tuple and page chunks: integer bounds without a kind', () => {
    const old = { chunks: [{ after: null, until: '[100]', checkpoint: { lastKey: null, read: 0, written: 0, rejected: 0, dropped: 0, done: false } }, { after: '[100]', until: null, checkpoint: { lastKey: null, read: 0, written: 0, rejected: 0, dropped: 0, done: false } }] }
    const cp: Checkpoint = { table: 't', lastKey: JSON.stringify(old), read: 0, written: 0, rejected: 0, dropped: 0, done: false }
    expect(recordedChunks(cp)).toEqual([{ index: 0, until: 100 }, { index: 1, after: 100 }])
    expect(countedByRange(cp)).toBe(true)
  })

  // chunk 0 done (100 rows); chunk 1 committed 50 rows up to 'k', then a batch of 20 up to 'm' in flight; chunk 2 never started
  const steps = (): [number, Checkpoint][] => [
    [0, confirmedCheckpoint(report(100, 100), ['e'], true)],
    [1, confirmedCheckpoint(report(50, 50), ['k'], false)],
    [1, intentCheckpoint(report(70, 50), ['k'], { read: 50, written: 50, rejected: 0, dropped: 0 }, ['m'], 20)],
  ]

  it('places every chunk when the count is the sum of the least or of the most each can hold', async () => {
    const cp = await ledger(keyChunks, steps())
    const lost = resumeUncountedChunks('t', cp, 150)
    expect('restart' in lost).toBe(false)
    if ('restart' in lost) return
    expect(lost.states.map((s) => s.state.after)).toEqual([undefined, ['k'], ['p']])
    expect(lost.states.map((s) => s.state.carried.written)).toEqual([100, 50, 0])
    expect(lost.states[0]!.state.done).toBe(true)
    const landed = resumeUncountedChunks('t', cp, 170)
    if ('restart' in landed) throw new Error('placed')
    expect(landed.states.map((s) => s.state.after)).toEqual([undefined, ['m'], ['p']])
    expect(landed.states[1]!.state.carried.written).toBe(70)
  })

  it('starts the table over when the count could be split among chunks in more than one way', async () => {
    // two chunks each with a batch in flight: 10 more rows than committed could be either's
    const cp = await ledger(keyChunks, [
      [1, intentCheckpoint(report(10, 0), undefined, { read: 0, written: 0, rejected: 0, dropped: 0 }, ['g'], 10)],
      [2, intentCheckpoint(report(10, 0), undefined, { read: 0, written: 0, rejected: 0, dropped: 0 }, ['q'], 10)],
    ])
    const r = resumeUncountedChunks('t', cp, 10)
    expect(r).toMatchObject({ restart: { targetRows: 10 } })
    expect((r as { why: string }).why).toMatch(/more than one way/)
    // neither landed, or both: placed
    expect('restart' in resumeUncountedChunks('t', cp, 0)).toBe(false)
    expect('restart' in resumeUncountedChunks('t', cp, 20)).toBe(false)
  })

  it('starts over when a page chunk holds rows (no key to continue after), and not when it holds none', async () => {
    const cp = await ledger(pageChunks, [
      [0, confirmedCheckpoint(report(30, 30), undefined, true)],
      [1, intentCheckpoint(report(10, 0), undefined, { read: 0, written: 0, rejected: 0, dropped: 0 }, undefined, 10)],
    ])
    const none = resumeUncountedChunks('t', cp, 30)
    if ('restart' in none) throw new Error('placed')
    expect(none.states.map((s) => [s.state.done, s.state.carried.written, s.state.after])).toEqual([[true, 30, undefined], [false, 0, undefined], [false, 0, undefined]])
    expect(resumeUncountedChunks('t', cp, 40)).toMatchObject({ restart: { targetRows: 40 }, why: expect.stringMatching(/chunk 2 holds 10 row\(s\) and has no key/) })
  })

  it('starts over from a target emptied since, and refuses rows its checkpoints cannot explain', async () => {
    const cp = await ledger(keyChunks, steps())
    expect(resumeUncountedChunks('t', cp, 0)).toMatchObject({ restart: { targetRows: 0 } })
    expect(() => resumeUncountedChunks('t', cp, 171)).toThrow(/changed since the run/)
    expect(() => resumeUncountedChunks('t', cp, 99)).toThrow(/changed since the run/)
  })
})
