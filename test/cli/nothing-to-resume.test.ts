import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-finished-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec(`
  create table parent (id integer primary key, name text);
  create table child (id integer primary key, parent_id integer references parent (id));
  insert into parent values (1, 'a'), (2, 'b');
  insert into child values (1, 1), (2, 1), (3, 2);
`)
db.close()

/** A finished SQLite → SQLite copy with a journal: its target and journal paths. */
async function finishedCopy(name: string): Promise<{ target: string; journal: string; args: string[] }> {
  const target = join(dir, `${name}.db`)
  const journal = join(dir, `${name}-journal.sqlite`)
  const args = ['copy', `sqlite:${source}`, `sqlite:${target}`, '--journal', journal, '--quiet']
  const first = await spawnCli(args, { cwd: dir })
  expect(first.code, first.stderr + first.stdout).toBe(0)
  return { target, journal, args }
}

describe('--resume after a run that finished', () => {
  it('says "nothing to resume" and exits 0 when the target holds exactly what that run wrote, every time', async () => {
    const { args } = await finishedCopy('done')
    for (const attempt of [1, 2]) {
      const again = await spawnCli([...args, '--resume'], { cwd: dir })
      expect(again.code, `attempt ${attempt}: ${again.stderr}${again.stdout}`).toBe(0)
      expect(again.stdout).toMatch(/nothing to resume: the last run from sqlite:.*source\.db to sqlite:.*done\.db finished; the target holds the 5 rows of its 2 tables/)
    }
    const json = await spawnCli([...args, '--resume', '--json'], { cwd: dir })
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout)
    expect(report).toMatchObject({ ok: true, nothingToResume: expect.stringMatching(/^nothing to resume/) })
    expect(report.tables.map((t: { name: string; written: number }) => [t.name, t.written])).toEqual([['parent', 2], ['child', 3]])
  })

  it('still stops (exit 1) when the target no longer holds what that run wrote', async () => {
    const { target, args } = await finishedCopy('changed')
    const t = new Database(target)
    t.exec('insert into child values (4, 2)')
    t.close()
    const again = await spawnCli([...args, '--resume'], { cwd: dir })
    expect(again.code).toBe(1)
    expect(again.stdout + again.stderr).not.toMatch(/nothing to resume/)
    // the resume cannot start: its error on stderr, no report
    expect(again.stderr).toMatch(/cannot resume parent: the target holds 2 row/)
  })
})
