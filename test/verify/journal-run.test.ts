import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { openJournalFile } from '../../src/store/journal-file.js'
import { readJournalExpectations } from '../../src/verify/journal-run.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-journal-run-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const table = (over: Record<string, unknown>) => ({ name: 'users', status: 'done', read: 0, written: 0, rejected: 0, dropped: 0, inserted: 0, fixed: {}, ...over })

describe('which run of a journal verify expects', () => {
  it('takes the latest finished run from a to b, with the runs it resumed, passing over a run that could not start', async () => {
    const path = join(dir, 'j.sqlite')
    const j = await openJournalFile(path)
    const ends = { source: 'sqlite:a.db', target: 'postgres://x@h/b', startedAt: '2026-01-01T00:00:00Z' }
    // an earlier copy that finished: its entries are not this copy's
    const old = j.startRun(ends)
    j.record(old, [{ table: 'users', action: 'rejected', kind: 'type_conversion', key: '{"id":9}', message: 'm', source: 'reader' }])
    j.finishRun(old, { ok: true, report: JSON.stringify({ tables: [table({ rejected: 1 })], renames: [] }) })
    // interrupted after committing a batch with one reject
    const interrupted = j.startRun(ends)
    j.record(interrupted, [{ table: 'users', action: 'rejected', kind: 'type_conversion', key: '{"id":1}', message: 'm', source: 'reader' }])
    // the resume: another reject and a fix; its report carries the interrupted run's counts
    const resumed = j.startRun(ends)
    j.record(resumed, [
      { table: 'users', action: 'rejected', kind: 'type_conversion', key: '{"id":2}', message: 'm', source: 'reader' },
      { table: 'users', action: 'fixed', kind: 'fixed', key: '{"id":3}', column: 'name', message: 'm', source: 'target' },
    ])
    const report = { tables: [table({ rejected: 2, fixed: { name: 1 }, resumed: { carried: { read: 1, written: 0, rejected: 1, dropped: 0 }, skipped: false } })], renames: [] }
    j.finishRun(resumed, { ok: true, report: JSON.stringify(report) })
    // a later attempt that could not start (its tables existed): finished, not ok, no tables
    const refused = j.startRun(ends)
    j.finishRun(refused, { ok: false, report: JSON.stringify({ tables: [], renames: [] }) })
    j.startRun({ ...ends, target: 'postgres://x@h/other' })
    j.close()

    const e = await readJournalExpectations({ path, source: ends.source, target: ends.target })
    expect(e.runId).toBe(resumed)
    expect(e.origin).toBe(`journal ${path}, run ${resumed} (resuming run ${interrupted})`)
    expect(e.copied).toEqual(new Set(['users']))
    const users = e.tables.get('users')!
    expect([...users.absent].sort()).toEqual(['{"id":1}', '{"id":2}'])
    expect(users.absentTotal).toBe(2)
    expect(users.fixed).toEqual(new Map([['{"id":3}', new Set(['name'])]]))

    // --run picks any run, the refused one included: it copied no table
    const chosen = await readJournalExpectations({ path, run: refused, source: ends.source, target: ends.target })
    expect(chosen.copied).toEqual(new Set())
    await expect(readJournalExpectations({ path, run: 99, source: ends.source, target: ends.target })).rejects.toThrow(/has no run 99; its latest runs: 5 sqlite:a\.db → postgres:\/\/x@h\/other \(not finished\)/)
  })
})
