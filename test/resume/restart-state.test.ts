import { describe, expect, it } from 'vitest'
import { SchemaError } from '../../src/errors.js'
import { confirmedCheckpoint, intentCheckpoint, resumeState } from '../../src/pipeline/resume.js'
import type { TableReport } from '../../src/report.js'

function report(read: number, written: number, rejected = 0, dropped = 0): TableReport {
  return { name: 't', status: 'skipped', read, written, rejected, dropped, inserted: 0, fixed: {}, byKind: {}, examples: [], ms: 0 }
}

// checkpoints of a table read in no resumable order carry no key: such a table starts over, never appends
describe('resumeState of a table without a key to continue after', () => {
  it('starts over from zero when committed rows have no key, removing the target rows', () => {
    const cp = confirmedCheckpoint(report(4000, 4000), undefined, false)
    const s = resumeState('t', cp, 4000)
    expect(s.after).toBeUndefined()
    expect(s.carried).toEqual({ read: 0, written: 0, rejected: 0, dropped: 0 })
    expect(s.restart).toEqual({ targetRows: 4000 })
  })

  it('starts over whether the pending keyless batch committed or not', () => {
    const cp = intentCheckpoint(report(6000, 4000), undefined, { read: 4000, written: 4000, rejected: 0, dropped: 0 }, undefined, 2000)
    expect(resumeState('t', cp, 4000).restart).toEqual({ targetRows: 4000 })
    expect(resumeState('t', cp, 6000).restart).toEqual({ targetRows: 6000 })
    expect(resumeState('t', cp, 6000).carried.written).toBe(0)
  })

  it('starts over from an empty target (a crash after the rows were removed, before the first new checkpoint)', () => {
    const cp = confirmedCheckpoint(report(4000, 4000), undefined, false)
    expect(resumeState('t', cp, 0)).toMatchObject({ restart: { targetRows: 0 }, carried: { written: 0 } })
  })

  it('refuses a target holding rows no checkpoint explains', () => {
    const cp = confirmedCheckpoint(report(4000, 4000), undefined, false)
    expect(() => resumeState('t', cp, 9000)).toThrow(SchemaError)
  })

  it('a keyed table still continues after its key', () => {
    const cp = confirmedCheckpoint(report(4000, 4000), [4000], false)
    expect(resumeState('t', cp, 4000)).toMatchObject({ after: [4000], carried: { written: 4000 } })
    expect(resumeState('t', cp, 4000).restart).toBeUndefined()
  })
})
