import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-report-notes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the text report lists what the source had that was not copied, as --json does', () => {
  it('a T-SQL script: every statement skipped, with its line and reason', { timeout: 60_000 }, async () => {
    writeFileSync(
      join(dir, 'script.sql'),
      [
        'CREATE TABLE dbo.t (id int NOT NULL PRIMARY KEY, name nvarchar(50));',
        'GO',
        "INSERT INTO dbo.t (id, name) VALUES (1, N'a'), (2, N'b');",
        'GO',
        'CREATE TRIGGER trg ON dbo.t AFTER INSERT AS BEGIN SELECT 1 END',
        'GO',
        "EXEC sp_something 'x';",
        'GO',
      ].join('\n') + '\n',
    )
    const json = await spawnCli(['copy', 'tsql:./script.sql', 'sqlite:./script-json.db', '--no-journal', '--json'], { cwd: dir })
    const notes: string[] = JSON.parse(json.stdout).snapshot.notes
    expect(notes).toEqual([expect.stringMatching(/^line 5: skipped CREATE TRIGGER/), expect.stringMatching(/^line 7: skipped EXEC sp_something/)])
    const text = await spawnCli(['copy', 'tsql:./script.sql', 'sqlite:./script-text.db', '--no-journal'], { cwd: dir })
    expect(text.code).toBe(json.code)
    expect(text.stdout).toMatch(/\nFrom the source \(notes\):\n/)
    for (const note of notes) expect(text.stdout).toContain(`\n  ${note}\n`)
  })

  it('an SQLite file: a virtual table holding rows, counted as data not applied (exit 3)', { timeout: 60_000 }, async () => {
    const db = new Database(join(dir, 'fts.db'))
    db.exec("create table a (id integer primary key); insert into a values (1); create virtual table f using fts5(body); insert into f values ('hello')")
    db.close()
    const text = await spawnCli(['copy', 'sqlite:./fts.db', 'sqlite:./fts-copy.db', '--no-journal'], { cwd: dir })
    expect(text.code).toBe(3)
    expect(text.stdout).toMatch(/\nFrom the source \(1 object\(s\) or statement\(s\) with data not applied\):\n  f: virtual table \(fts5\) holds 1 row\(s\): not copied/)
  })
})
