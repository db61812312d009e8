import { describe, expect, it } from 'vitest'
import { SchemaError } from '../../src/errors.js'
import { confirmedCheckpoint, intentCheckpoint, resumeState } from '../../src/pipeline/resume.js'
import type { TableReport } from '../../src/report.js'

function report(read: number, written: number, rejected = 0, dropped = 0): TableReport {
  return { name: 't', status: 'skipped', read, written, rejected, dropped, inserted: 0, fixed: {}, byKind: {}, examples: [], ms: 0 }
}

describe('resumeState', () => {
  it('starts fresh with no checkpoint and an empty target, and refuses unexplained rows', () => {
    const fresh = resumeState('t', undefined, 0)
    expect(fresh.after).toBeUndefined()
    expect(fresh.done).toBe(false)
    expect(() => resumeState('t', undefined, 5)).toThrow(SchemaError)
    expect(() => resumeState('t', undefined, 5)).toThrow(/no checkpoint accounts for/)
    expect(() => resumeState('t', undefined, 5, false)).toThrow(/no interrupted run between this source and target/)
  })

  it('continues after the committed key when the pending batch did not commit', () => {
    const committed = { read: 100, written: 98, rejected: 2, dropped: 0 }
    const cp = intentCheckpoint(report(200, 98, 3), [100n], committed, [200n], 99)
    const s = resumeState('t', cp, 98)
    expect(s.after).toEqual([100n])
    expect(s.carried).toEqual(committed)
  })

  it('continues after the pending key when the pending batch committed, counting target rejects', () => {
    const committed = { read: 100, written: 98, rejected: 2, dropped: 0 }
    const cp = intentCheckpoint(report(200, 98, 3), [100n], committed, [200], 99)
    const s = resumeState('t', cp, 98 + 97)
    expect(s.after).toEqual([200])
    // 99 rows sent, 97 written: 2 refused by the target, plus the 1 the reader rejected in that batch
    expect(s.carried).toEqual({ read: 200, written: 195, rejected: 5, dropped: 0 })
    expect(s.unjournaledRejects).toBe(3)
  })

  it('skips a finished table and refuses a target that lost rows', () => {
    const cp = confirmedCheckpoint(report(10, 10), ['k'], true)
    expect(resumeState('t', cp, 10)).toMatchObject({ done: true, carried: { read: 10, written: 10 } })
    expect(() => resumeState('t', cp, 9)).toThrow(/changed|finished/)
  })

  it('refuses a target whose count fits neither state', () => {
    const cp = intentCheckpoint(report(200, 98), [1], { read: 100, written: 98, rejected: 0, dropped: 0 }, [2], 50)
    expect(() => resumeState('t', cp, 500)).toThrow(/changed since the run/)
  })
})
