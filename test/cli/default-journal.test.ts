import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-default-journal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const db = new Database(join(dir, 'source.db'))
db.exec('create table t (id integer primary key, v text); insert into t values (1, \'a\'), (2, \'b\')')
db.close()
mkdirSync(join(dir, 'out'))

describe('copy without --journal: one journal per target, named after it', () => {
  it('two targets, two journals in the working directory, each named in the report, none shared', { timeout: 60_000 }, async () => {
    const first = await spawnCli(['copy', 'sqlite:./source.db', 'sqlite:./out/app.db', '--json'], { cwd: dir })
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout).journal).toBe('dbferry-journal-app.sqlite')
    const second = await spawnCli(['copy', 'sqlite:./source.db', 'sqlite:./other.db', '--json'], { cwd: dir })
    expect(second.code, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout).journal).toBe('dbferry-journal-other.sqlite')
    expect(existsSync(join(dir, 'dbferry-journal.sqlite'))).toBe(false)
    expect(readdirSync(dir).filter((f) => f.endsWith('.sqlite')).sort()).toEqual(['dbferry-journal-app.sqlite', 'dbferry-journal-other.sqlite'])
    for (const [file, target] of [['dbferry-journal-app.sqlite', 'sqlite:./out/app.db'], ['dbferry-journal-other.sqlite', 'sqlite:./other.db']]) {
      const journal = new Database(join(dir, file!), { readonly: true })
      try {
        expect(journal.prepare('SELECT target FROM run').pluck().all()).toEqual([target])
      } finally {
        journal.close()
      }
    }
  })
})
