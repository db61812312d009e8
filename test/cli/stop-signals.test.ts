import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { formatReport, reportJson } from '../../src/cli/print-report.js'
import { totalsOf, type Report } from '../../src/report.js'
import { spawnCli } from './spawn-cli.js'

const ROWS = 200_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-signals-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec('create table t (id integer primary key, name text not null, n real)')
const insert = db.prepare('insert into t values (?, ?, ?)')
db.transaction(() => {
  for (let i = 1; i <= ROWS; i++) insert.run(i, `row ${i} ${'x'.repeat(40)}`, i / 3)
})()
db.close()

/** Row count, distinct keys and key sum of the copied table. */
function copied(file: string): { rows: number; keys: number; sum: number } {
  const target = new Database(file, { readonly: true })
  try {
    return target.prepare('select count(*) as rows, count(distinct id) as keys, sum(id) as sum from t').get() as { rows: number; keys: number; sum: number }
  } finally {
    target.close()
  }
}

describe('a copy stopped by a signal reports, keeps its checkpoint, and --resume completes it', () => {
  for (const [signal, exit] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    it(`${signal}: exit ${exit}, the report printed, then --resume copies exactly the rest`, { timeout: 120_000 }, async () => {
      const target = join(dir, `${signal}.db`)
      const journal = join(dir, `${signal}.sqlite`)
      const args = ['copy', `sqlite:${source}`, `sqlite:${target}`, '--journal', journal, '--batch-rows', '1000']
      let sent = false
      // the first batch line: the table's copy is under way
      const stopped = await spawnCli(args, {
        cwd: dir,
        watch: (stderr, child) => {
          if (!sent && /\] t: \d+ read/.test(stderr)) sent = child.kill(signal)
        },
      })
      expect(sent, 'the copy ended before a batch was reported').toBe(true)
      expect(stopped.signal, `killed by ${stopped.signal}: the signal was not handled`).toBeNull()
      expect(stopped.code, stopped.stderr).toBe(exit)
      expect(stopped.stdout).toMatch(/^t\s+(\d+)\s+(\d+)\s+0\s+0\s.*failed: the run was aborted$/m)
      const written = Number(/^t\s+\d+\s+(\d+)/m.exec(stopped.stdout)![1])
      expect(written, 'stopped mid-copy').toBeLessThan(ROWS)
      expect(stopped.stdout).toContain(`Stopped by ${signal} (exit code ${exit}): run the same command with --resume`)
      expect(stopped.stdout).not.toContain('Failed (exit code 1)')
      expect(copied(target).rows).toBe(written)

      const resumed = await spawnCli([...args, '--resume', '--json'], { cwd: dir })
      expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0)
      const report = JSON.parse(resumed.stdout)
      expect(report).toMatchObject({ ok: true, clean: true })
      expect(report.signal).toBeUndefined()
      expect(copied(target)).toEqual({ rows: ROWS, keys: ROWS, sum: (ROWS * (ROWS + 1)) / 2 })
    })
  }
})

describe('the report of a run stopped by a signal', () => {
  const aborted: Report = {
    ok: false, clean: false, source: 'sqlite:a.db', target: 'sqlite:b.db', tables: [], totals: totalsOf([]), renames: [],
    deferredForeignKeys: [], constraints: [], objects: [], ms: 5, journal: 'j.sqlite', error: { code: 'aborted', message: 'the run was aborted' },
  }

  it('--json carries the signal and the exit code', () => {
    expect(JSON.parse(reportJson(aborted, { signal: 'SIGTERM' }))).toMatchObject({ ok: false, signal: 'SIGTERM', exitCode: 143, error: { code: 'aborted' } })
    expect(JSON.parse(reportJson(aborted))).not.toHaveProperty('signal')
  })

  it('the text names the signal and its exit code, not "exit code 1"', () => {
    expect(formatReport(aborted, { signal: 'SIGINT' })).toMatch(/Stopped by SIGINT \(exit code 130\): run the same command with --resume .*\.$/)
    expect(formatReport({ ...aborted, journal: undefined }, { signal: 'SIGTERM' })).toMatch(/Stopped by SIGTERM \(exit code 143\)\.$/)
  })
})
