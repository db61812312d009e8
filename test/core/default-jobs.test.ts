import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { ferry } from '../../src/ferry.js'
import { defaultJobs, MOST_DEFAULT_JOBS } from '../../src/pipeline/jobs.js'
import { createPostgresDatabase, serverUp } from '../support/servers.js'

// the machine this runs on has few cores: the run's default is asked of a machine with 8
const cores = vi.hoisted(() => ({ n: 8 }))
vi.mock('node:os', async (original) => ({ ...(await original<typeof import('node:os')>()), availableParallelism: () => cores.n }))

const fixture: Fixture = {
  name: 'default_jobs',
  tables: [
    {
      name: 'items',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false },
        { name: 'label', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      rows: Array.from({ length: 2_000 }, (_, i) => [i + 1, `item ${i + 1}`]),
    },
  ],
}

const dir = mkdtempSync(join(tmpdir(), 'dbferry-default-jobs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const pgUp = await serverUp('postgres')

describe('the default number of jobs', () => {
  it('is one in one thread, and one per two cores in worker threads, at most 8', () => {
    expect(defaultJobs(false, 64)).toBe(1)
    expect(defaultJobs(true, 1)).toBe(1)
    expect(defaultJobs(true, 2)).toBe(1)
    expect(defaultJobs(true, 4)).toBe(2)
    expect(defaultJobs(true, 7)).toBe(3)
    expect(defaultJobs(true, 64)).toBe(MOST_DEFAULT_JOBS)
  })

  it.runIf(pgUp)('with threads and no jobs, copies in chunks on one job per two cores', async () => {
    const src = `sqlite:${join(dir, 'threads.db')}`
    await buildFixture(fixture, src)
    const dst = await createPostgresDatabase()
    try {
      const report = await ferry({ from: src, to: dst.url, threads: true, chunkRows: 200, journal: false })
      expect(report.ok).toBe(true)
      expect(report.tables[0]!.written).toBe(2_000)
      expect(report.tables[0]!.chunks).toBeGreaterThan(1)
      expect(report.snapshot?.notes?.some((n) => n.startsWith('--jobs 4:'))).toBe(true)
    } finally {
      await dst.drop()
    }
  })

  it('says nothing of a default the run cannot use (a SQLite target takes one connection)', async () => {
    const src = `sqlite:${join(dir, 'one-src.db')}`
    await buildFixture(fixture, src)
    const report = await ferry({ from: src, to: `sqlite:${join(dir, 'one-dst.db')}`, threads: true, journal: false })
    expect(report.ok).toBe(true)
    expect(report.tables[0]!.written).toBe(2_000)
    expect(report.tables[0]!.chunks).toBeUndefined()
    expect((report.snapshot?.notes ?? []).filter((n) => n.startsWith('--jobs'))).toEqual([])
  })
})
