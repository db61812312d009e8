import { describe, expect, it } from 'vitest'
import type { Checkpoint } from '../../src/journal/journal.js'
import { ChunkedCheckpoints, isChunked, recordedChunks, resumeChunks } from '../../src/pipeline/chunk-state.js'
import { planChunks, type Chunk } from '../../src/pipeline/chunks.js'
import { confirmedCheckpoint, intentCheckpoint } from '../../src/pipeline/resume.js'
import type { TableReport } from '../../src/report.js'

/** Which chunk a key falls in: exactly one, whatever the key. */
function owners(chunks: readonly Chunk[], key: bigint): number[] {
  return chunks.filter((c) => (c.after === undefined || key > BigInt(c.after as number | bigint)) && (c.until === undefined || key <= BigInt(c.until as number | bigint))).map((c) => c.index)
}

describe('planChunks', () => {
  it('covers every key exactly once, with open ends, in about rows-per-chunk pieces', () => {
    const chunks = planChunks(1, 1_000_000, 1_000_000, 250_000)
    expect(chunks).toHaveLength(4)
    expect(chunks[0]!.after).toBeUndefined()
    expect(chunks[3]!.until).toBeUndefined()
    expect(chunks.map((c) => c.until)).toEqual([250_000, 500_000, 750_000, undefined])
    for (const k of [-5n, 0n, 1n, 250_000n, 250_001n, 999_999n, 1_000_000n, 5_000_000n]) expect(owners(chunks, k)).toHaveLength(1)
  })

  it('keeps the key type: bigint bounds beyond 2^53 stay exact bigints', () => {
    const min = 9_007_199_254_740_993n
    const chunks = planChunks(min, min + 99n, 100, 10)
    expect(chunks).toHaveLength(10)
    expect(chunks.every((c) => c.until === undefined || typeof c.until === 'bigint')).toBe(true)
    expect(chunks[0]!.until).toBe(min + 9n)
    for (let k = min - 1n; k <= min + 100n; k++) expect(owners(chunks, k)).toHaveLength(1)
  })

  it('a small table, an empty span or one key is one chunk without bounds', () => {
    expect(planChunks(1, 1000, 1000, 250_000)).toEqual([{ index: 0 }])
    expect(planChunks(7, 7, 1, 1)).toEqual([{ index: 0 }])
    expect(planChunks(1.5, 9, 100, 1)).toEqual([{ index: 0 }])
  })

  it('gives a table of at least two chunks\' rows one chunk per job at least, never more chunks than keys', () => {
    expect(planChunks(1, 600_000, 600_000, 250_000, 4)).toHaveLength(4)
    expect(planChunks(1, 3, 600_000, 250_000, 4)).toHaveLength(3)
  })
})

describe('chunked checkpoints and their resume', () => {
  const chunks = planChunks(1, 300, 300, 100)
  const report = (read: number, written: number): TableReport => ({ name: 't', status: 'skipped', read, written, rejected: read - written, dropped: 0, inserted: 0, fixed: {}, byKind: read > written ? { type_conversion: read - written } : {}, examples: [], ms: 0 })

  it('records every chunk with its bounds and sums the committed counts', async () => {
    const written: Checkpoint[] = []
    const ledger = new ChunkedCheckpoints('t', chunks, [], async (cp) => void written.push(cp))
    await ledger.forChunk(1)(confirmedCheckpoint(report(40, 39), [140], false))
    await ledger.forChunk(0)(confirmedCheckpoint(report(100, 100), [100], true))
    const cp = written.at(-1)!
    expect(isChunked(cp)).toBe(true)
    expect(recordedChunks(cp)).toEqual(chunks)
    expect([cp.read, cp.written, cp.rejected, cp.done]).toEqual([140, 139, 1, false])
  })

  it('resumes each chunk from the rows the target holds in its range: committed, pending batch landed, or not', async () => {
    let cp: Checkpoint | undefined
    const ledger = new ChunkedCheckpoints('t', chunks, [], async (c) => void (cp = c))
    // chunk 0 done; chunk 1 committed up to 150 and then wrote a batch of 20 (to 170) that may or may not have landed;
    // chunk 2 never started
    await ledger.forChunk(0)(confirmedCheckpoint(report(100, 100), [100], true))
    await ledger.forChunk(1)(confirmedCheckpoint(report(50, 50), [150], false))
    await ledger.forChunk(1)(intentCheckpoint(report(70, 50), [150], { read: 50, written: 50, rejected: 0, dropped: 0 }, [170], 20))
    const landed = await resumeChunks('t', cp!, async (c) => (c.index === 1 ? 70 : 0))
    expect(landed.states.map((s) => s.state.after)).toEqual([undefined, [170], [200]])
    expect(landed.states[1]!.state.carried.written).toBe(70)
    expect(landed.states[0]!.state.done).toBe(true)
    const lost = await resumeChunks('t', cp!, async (c) => (c.index === 1 ? 50 : 0))
    expect(lost.states[1]!.state.after).toEqual([150])
    expect(lost.states[1]!.state.carried.written).toBe(50)
  })

  it('refuses a chunk whose range holds rows its checkpoint cannot explain', async () => {
    let cp: Checkpoint | undefined
    const ledger = new ChunkedCheckpoints('t', chunks, [], async (c) => void (cp = c))
    await ledger.forChunk(1)(confirmedCheckpoint(report(50, 50), [150], false))
    await expect(resumeChunks('t', cp!, async (c) => (c.index === 1 ? 60 : 0))).rejects.toThrow(/changed since the run/)
    await expect(resumeChunks('t', cp!, async (c) => (c.index === 2 ? 5 : c.index === 1 ? 50 : 0))).rejects.toThrow(/chunk 3|no checkpoint|cannot resume/)
  })
})
