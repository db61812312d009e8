import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { DbferryError, SchemaError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import type { Transform } from '../../src/transforms/transform.js'
import { readingsFixture } from '../resume/readings.js'

const ROWS = 5_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-contract-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const from = `sqlite:${join(dir, 'source.db')}`
await buildFixture(readingsFixture(ROWS), from)

/** The error a promise rejects with; fails the test when it resolves (a report instead of a throw). */
async function thrown(run: Promise<unknown>): Promise<DbferryError> {
  const error = await run.then(
    (report) => expect.fail(`resolved with a report: ${JSON.stringify(report).slice(0, 300)}`),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(DbferryError)
  return error as DbferryError
}

function ids(file: string): number[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT id FROM readings ORDER BY id').pluck().all() as number[]
  } finally {
    db.close()
  }
}

describe('ferry(): a run that cannot start throws a typed error; a run that started returns its report', () => {
  it('existing target tables in create mode: a SchemaError target_exists naming them, thrown, and the journal records the attempt', async () => {
    const to = `sqlite:${join(dir, 'twice.db')}`
    const journal = new MemoryJournal()
    expect((await ferry({ from, to, journal })).clean).toBe(true)
    const error = await thrown(ferry({ from, to, journal }))
    expect(error).toBeInstanceOf(SchemaError)
    expect(error).toMatchObject({ code: 'target_exists', message: expect.stringContaining('readings') })
    // the refused attempt is in the journal, finished and not ok, with the error in its report
    expect(journal.runs).toHaveLength(2)
    expect(journal.runs[1]!.finished?.ok).toBe(false)
    expect(JSON.parse(journal.runs[1]!.finished!.report).error).toMatchObject({ code: 'target_exists' })
  })

  it('a source and target that are one database: a usage error, thrown', async () => {
    expect(await thrown(ferry({ from, to: from }))).toMatchObject({ code: 'usage' })
  })

  it('a run stopped after it started returns its report with the error (a transform that throws)', async () => {
    const boom: Transform = {
      name: 'boom',
      table: () => ({
        batch() {
          throw new Error('kaput')
        },
      }),
    }
    const report = await ferry({ from, to: `sqlite:${join(dir, 'boom.db')}`, transforms: [boom] })
    expect(report).toMatchObject({ ok: false, clean: false, error: { code: 'transform', message: expect.stringContaining('kaput') } })
    expect(report.tables[0]).toMatchObject({ name: 'readings', status: 'failed' })
  })

  it('an abort reports, whatever the step it stopped raised: error aborted, the step\'s message kept', async () => {
    const stop = new AbortController()
    const cancelled: Transform = {
      name: 'cancelled',
      table: () => ({
        batch() {
          // what a cancelled query or a closed stream looks like to the run: some other error, after the abort
          stop.abort()
          throw new Error('stream closed')
        },
      }),
    }
    const report = await ferry({ from, to: `sqlite:${join(dir, 'aborted.db')}`, transforms: [cancelled], signal: stop.signal })
    expect(report.ok).toBe(false)
    expect(report.error).toMatchObject({ code: 'aborted', message: expect.stringContaining('stream closed') })
    // aborted before the copy began: still a report, not a throw
    const early = await ferry({ from, to: `sqlite:${join(dir, 'aborted-early.db')}`, signal: AbortSignal.abort() })
    expect(early).toMatchObject({ ok: false, error: { code: 'aborted' } })
  })

  it('a re-run without resume after an interruption: the error says to resume, and the interrupted run stays resumable', async () => {
    const toFile = join(dir, 'interrupted.db')
    const to = `sqlite:${toFile}`
    const journal = join(dir, 'interrupted.sqlite')
    const stop = new AbortController()
    let batches = 0
    const first = await ferry({
      from,
      to,
      journal,
      batchRows: 500,
      // batch by batch: a table handed over whole (the pass-through) has no second batch to stop after
      passThrough: false,
      signal: stop.signal,
      onProgress: (e) => {
        if (e.type === 'batch' && ++batches === 2) stop.abort()
      },
    })
    expect(first.error?.code).toBe('aborted')
    const written = ids(toFile).length
    expect(written).toBeGreaterThan(0)
    expect(written).toBeLessThan(ROWS)

    // the same command again, without resume: refused, and told how to continue
    const again = await thrown(ferry({ from, to, journal, batchRows: 500 }))
    expect(again).toMatchObject({ code: 'target_exists' })
    expect(again.message).toContain(`the journal ${journal} holds an interrupted run of this source and target`)
    expect(again.message).toContain('--resume')
    // the refused run is the journal's latest between this source and target, yet resume still finds the interrupted one
    const resumed = await ferry({ from, to, journal, batchRows: 500, resume: true })
    expect(resumed.error).toBeUndefined()
    expect(resumed).toMatchObject({ ok: true, clean: true })
    expect(resumed.tables[0]!.resumed?.after).toBeDefined()
    expect(ids(toFile)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1))

    // once finished there is nothing to resume: a plain re-run is refused without the advice
    const done = await thrown(ferry({ from, to, journal }))
    expect(done.code).toBe('target_exists')
    expect(done.message).not.toContain('--resume')
  })
})
