import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { ferry } from '../../src/ferry.js'
import { runWorker } from '../../src/queue/worker.js'
import { createPostgresDatabase, serverUp } from '../support/servers.js'
import { runCli } from './run-cli.js'
import { spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-queue-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const pgUp = await serverUp('postgres')

describe('dbferry worker and status', () => {
  it('worker and status need --queue; copy --queue refuses a target loaded by one connection before it starts', async () => {
    for (const command of ['worker', 'status']) {
      const r = await runCli([command])
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(`${command} needs --queue <url>`)
    }
    const src = join(dir, 'a.sqlite')
    await buildFixture({ name: 'q', tables: [{ name: 't', columns: [{ name: 'id', type: { kind: 'int32' }, nullable: false }], primaryKey: ['id'], rows: [[1]] }] }, `sqlite:${src}`)
    const r = await runCli(['copy', `sqlite:${src}`, `sqlite:${join(dir, 'b.sqlite')}`, '--no-journal', '--queue', 'postgres://nobody@127.0.0.1:1/none'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--queue: the sqlite target is loaded by one connection')
  })

  it.skipIf(!pgUp)('status shows a run a worker in this process copied: its tables, chunks and rows', async () => {
    const src = join(dir, 's.sqlite')
    const rows = Array.from({ length: 3_000 }, (_, i) => [i + 1, `v${i}`])
    await buildFixture({ name: 'q', tables: [{ name: 'items', columns: [{ name: 'id', type: { kind: 'int64' }, nullable: false }, { name: 'v', type: { kind: 'text' } }], primaryKey: ['id'], rows }] }, `sqlite:${src}`)
    const dst = await createPostgresDatabase()
    try {
      let worker: Promise<unknown> | undefined
      const report = await ferry({
        from: `sqlite:${src}`,
        to: dst.url,
        queue: dst.url,
        chunkRows: 1_000,
        batchRows: 500,
        onProgress: (e) => {
          if (e.type === 'queue') worker = runWorker({ queue: dst.url, run: e.run, pollSeconds: 0.2 })
        },
      })
      await worker
      expect(report.ok).toBe(true)
      expect(report.tables[0]).toMatchObject({ name: 'items', read: 3_000, written: 3_000, chunks: 3 })
      const r = await runCli(['status', '--queue', dst.url])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/run [0-9a-f]{16} \(copied, /)
      expect(r.stdout).toContain('items: 3 chunk(s): 3 done; 3000 read, 3000 written, 0 rejected, 0 dropped')
      const json = JSON.parse((await runCli(['status', '--queue', dst.url, '--json'])).stdout) as { runs: { tables: { table: string; states: Record<string, number> }[] }[] }
      expect(json.runs[0]!.tables[0]).toMatchObject({ table: 'items', states: { done: 3 } })
    } finally {
      await dst.drop()
    }
  }, 60_000)

  it.skipIf(!pgUp)('copy --queue --workers 2: two worker processes of the CLI copy the chunks and stop when the run ends', async () => {
    const src = join(dir, 'w.sqlite')
    const rows = Array.from({ length: 4_000 }, (_, i) => [i + 1, `v${i}`])
    await buildFixture({ name: 'q', tables: [{ name: 'items', columns: [{ name: 'id', type: { kind: 'int64' }, nullable: false }, { name: 'v', type: { kind: 'text' } }], primaryKey: ['id'], rows }] }, `sqlite:${src}`)
    const dst = await createPostgresDatabase()
    try {
      const r = await spawnCli(['copy', `sqlite:${src}`, dst.url, '--no-journal', '--json', '--queue', dst.url, '--workers', '2', '--chunk-rows', '500', '--batch-rows', '250'], { cwd: dir })
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(r.stdout) as { ok: boolean; tables: { name: string; read: number; written: number; chunks: number }[] }
      expect(report.tables[0]).toMatchObject({ name: 'items', read: 4_000, written: 4_000, chunks: 8 })
      // both workers logged, and each said how many chunks it copied when it stopped
      const summaries = [...r.stderr.matchAll(/^worker (\d): worker \S+: (\d+) chunk\(s\)/gm)].map((m) => [m[1], Number(m[2])] as const)
      expect(summaries.map((s) => s[0]).sort()).toEqual(['1', '2'])
      expect(summaries.reduce((n, s) => n + s[1], 0)).toBe(8)
      expect(await runCli(['copy', `sqlite:${src}`, dst.url, '--workers', '2'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--workers needs --queue') })
    } finally {
      await dst.drop()
    }
  }, 60_000)
})
