import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { spawnCli } from './spawn-cli.js'

const ROWS = 20_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-rerun-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec('create table t (id integer primary key, v text)')
const insert = db.prepare('insert into t values (?, ?)')
db.transaction(() => {
  for (let i = 1; i <= ROWS; i++) insert.run(i, `row ${i}`)
})()
db.close()

function rows(file: string): number {
  const target = new Database(file, { readonly: true })
  try {
    return target.prepare('select count(distinct id) from t').pluck().get() as number
  } finally {
    target.close()
  }
}

describe('after a copy was stopped, the same command without --resume', () => {
  it('is refused (exit 1) with the advice to add --resume, and --resume then completes the copy', { timeout: 120_000 }, async () => {
    const target = join(dir, 'target.db')
    const journal = join(dir, 'journal.sqlite')
    // stopped after its second batch, as Ctrl-C stops it
    const stop = new AbortController()
    let batches = 0
    const stopped = await ferry({
      from: `sqlite:${source}`,
      to: `sqlite:${target}`,
      journal,
      batchRows: 1_000,
      // the row path, whose batches the stop counts (SQLite → SQLite otherwise goes over in one INSERT … SELECT)
      passThrough: false,
      signal: stop.signal,
      onProgress: (e) => {
        if (e.type === 'batch' && ++batches === 2) stop.abort()
      },
    })
    expect(stopped.error?.code).toBe('aborted')
    expect(rows(target)).toBeLessThan(ROWS)

    const args = ['copy', `sqlite:${source}`, `sqlite:${target}`, '--journal', journal, '--batch-rows', '1000']
    const again = await spawnCli(args, { cwd: dir })
    expect(again.code).toBe(1)
    expect(again.stderr).toContain(`the journal ${journal} holds an interrupted run of this source and target: run the same command with --resume`)
    expect(again.stderr).toContain('[target_exists]')

    const json = await spawnCli([...args, '--json'], { cwd: dir })
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'target_exists', message: expect.stringContaining('--resume') })

    // the refused runs did not hide the interrupted one from --resume
    const resumed = await spawnCli([...args, '--resume', '--json'], { cwd: dir })
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({ ok: true, clean: true })
    expect(rows(target)).toBe(ROWS)
  })
})

describe('after a copy finished, a plain re-run that is refused', () => {
  it('does not hide the finished run: --resume still says "nothing to resume" (exit 0)', { timeout: 120_000 }, async () => {
    const target = join(dir, 'finished.db')
    const journal = join(dir, 'finished.sqlite')
    const args = ['copy', `sqlite:${source}`, `sqlite:${target}`, '--journal', journal]
    expect((await spawnCli(args, { cwd: dir })).code).toBe(0)
    const again = await spawnCli(args, { cwd: dir })
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('[target_exists]')
    expect(again.stderr).not.toContain('--resume')
    const resumed = await spawnCli([...args, '--resume'], { cwd: dir })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stdout).toMatch(/^nothing to resume: the last run from .* finished; the target holds the 20000 rows of its 1 tables/)
  })
})
