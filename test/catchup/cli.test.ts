import { describe, expect, it } from 'vitest'
import { ferry } from '../../src/index.js'
import { runCli } from '../cli/run-cli.js'
import { buildFixture, ENGINES, mutate, open, rowsOf } from './engines.js'

/** The runbook through the `dbferry` command, SQLite to SQLite (no server needed). */
describe('dbferry capture, catch-up, cutover', () => {
  it('runs the cut-over runbook and exits 0 once the target equals the source', async () => {
    const engine = ENGINES.sqlite
    const src = await engine.create()
    const dst = await engine.create()
    const source = await open(engine, src)
    try {
      await buildFixture(engine, source)
      const captured = await runCli(['capture', src.url])
      expect(captured.stderr).toBe('')
      expect(captured.code).toBe(0)
      expect(captured.stdout).toMatch(/NOT captured {2}nokey: it has no primary key/)
      const copied = await ferry({ from: src.url, to: dst.url, journal: false })
      expect(copied.ok).toBe(true)
      await mutate(engine, source)

      const caught = await runCli(['catch-up', src.url, dst.url, '--json'])
      expect(caught.stdout).not.toMatch(/REJECTED|"kind"/)
      expect(caught.code).toBe(0)
      const report = JSON.parse(caught.stdout) as { removed: number; tables: { name: string; upserted: number; deleted: number }[] }
      expect(report.removed).toBeGreaterThan(0)
      expect(report.tables.map((t) => t.name)).toEqual(['parent', 'tag', 'child'].filter((n) => report.tables.some((t) => t.name === n)))

      const target = await open(engine, dst)
      try {
        expect(await rowsOf(target, 'child', ['id', 'parent_id', 'note', 'amount', 'at'])).toEqual(await rowsOf(source, 'child', ['id', 'parent_id', 'note', 'amount', 'at']))
      } finally {
        await target.close()
      }
      const done = await runCli(['cutover', src.url, dst.url])
      expect(done.stderr).toBe('')
      expect(done.stdout).toMatch(/cutover done/)
      expect(done.code).toBe(0)
      expect(await source.query!(engine.triggers)).toEqual([])
      // nothing left to remove
      const removed = await runCli(['capture', '--remove', src.url])
      expect(removed.code).toBe(0)
      expect(removed.stdout).toMatch(/removed 0 capture trigger\(s\)/)
    } finally {
      await source.close()
      await src.drop()
      await dst.drop()
    }
  })

  it('exits 2 for a source engine that cannot capture, and for missing arguments', async () => {
    expect((await runCli(['capture', 'duckdb::memory:'])).code).toBe(2)
    expect((await runCli(['catch-up', 'sqlite:./nowhere.db'])).code).toBe(2)
  })
})
