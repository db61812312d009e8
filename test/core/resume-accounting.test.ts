import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import type { Report, TableReport } from '../../src/report.js'
import type { Transform } from '../../src/transforms/transform.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-resume-kinds-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ROWS = 1_000
const BATCH = 100

// every 50th row holds text in an integer column: the reader rejects it (type_conversion)
function readingsFile(): string {
  const file = join(dir, 'src.db')
  const db = new Database(file)
  db.exec('CREATE TABLE readings (id INTEGER PRIMARY KEY, n INTEGER, label TEXT)')
  const insert = db.prepare('INSERT INTO readings VALUES (?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) insert.run(i, i % 50 === 0 ? 'junk' : i, `row ${i}`)
  })()
  db.close()
  return `sqlite:${file}`
}

/** A transform that fails on its `at`-th batch of readings, after the reader's rejects of that batch are counted. */
function failingAt(at: number): Transform {
  let n = 0
  return {
    name: 'fails-mid-table',
    table: (t) =>
      t.name !== 'readings'
        ? undefined
        : {
            batch(rows) {
              if (++n === at) throw new Error('stopped on purpose')
              return rows
            },
          },
  }
}

function byKindSum(t: TableReport): number {
  return Object.values(t.byKind).reduce((a, b) => a + (b ?? 0), 0)
}

function expectBalanced(report: Report): void {
  for (const t of report.tables) {
    expect(byKindSum(t), `${t.name}: byKind ${JSON.stringify(t.byKind)} against rejected ${t.rejected} + dropped ${t.dropped}`).toBe(t.rejected + t.dropped)
    expect(t.read + t.inserted).toBe(t.written + t.rejected + t.dropped)
  }
}

describe('accounting across an interruption and a resume', () => {
  it('a failed table says how many rows were in flight; after resume byKind adds up to rejected + dropped', async () => {
    const src = readingsFile()
    const dst = `sqlite:${join(dir, 'dst.db')}`
    const journal = join(dir, 'journal.sqlite')

    const first = await ferry({ from: src, to: dst, journal, batchRows: BATCH, transforms: [failingAt(4)] })
    expect(first.ok).toBe(false)
    const failed = first.tables.find((t) => t.name === 'readings')!
    expect(failed.status).toBe('failed')
    // the batch the transform failed on was read (its junk rows rejected by the reader) and never written
    const inFlight = failed.read - failed.written - failed.rejected - failed.dropped
    expect(inFlight).toBeGreaterThan(0)
    expect(failed.rejected).toBeGreaterThan(0)
    expect(failed.error).toContain(`stopped on purpose`)
    expect(failed.error).toContain(`(${inFlight} row(s) in flight`)

    const second = await ferry({ from: src, to: dst, journal, batchRows: BATCH, resume: true })
    expect(second.error).toBeUndefined()
    const t = second.tables.find((x) => x.name === 'readings')!
    expect(t).toMatchObject({ status: 'done', read: ROWS, written: ROWS - ROWS / 50, rejected: ROWS / 50, byKind: { type_conversion: ROWS / 50 } })
    expectBalanced(second)
  })
})

describe('resumeState carries the kinds', () => {
  it('of the committed rows, and of the batch committed at the crash with the rows the target refused as target_rejected', async () => {
    const { confirmedCheckpoint, intentCheckpoint, resumeState } = await import('../../src/pipeline/resume.js')
    const report = { name: 't', read: 100, written: 95, rejected: 4, dropped: 1, byKind: { type_conversion: 4, filtered: 1 } } as unknown as TableReport
    const committed = resumeState('t', confirmedCheckpoint(report, [100], false), 95)
    expect(committed.byKind).toEqual({ type_conversion: 4, filtered: 1 })
    // the next batch: 100 rows read, 2 rejected by the reader, 98 handed to the target, which took 96 before the crash
    const pending = { ...report, read: 200, rejected: 6, byKind: { type_conversion: 6, filtered: 1 } } as unknown as TableReport
    const cp = intentCheckpoint(pending, [100], { read: 100, written: 95, rejected: 4, dropped: 1, byKind: report.byKind }, [200], 98)
    const s = resumeState('t', cp, 95 + 96)
    expect(s.carried).toEqual({ read: 200, written: 191, rejected: 8, dropped: 1 })
    expect(s.byKind).toEqual({ type_conversion: 6, filtered: 1, target_rejected: 2 })
    expect(resumeState('t', cp, 95).byKind).toEqual({ type_conversion: 4, filtered: 1 })
  })
})
