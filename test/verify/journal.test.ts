import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnCli } from '../cli/spawn-cli.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * `dbferry verify --journal`: a copy that rejected, dropped, fixed, inserted and excluded is EQUAL with its
 * expected differences, DIFFERENT without the journal, and DIFFERENT again once the target changes.
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-verify-journal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function buildSource(file: string): void {
  const db = new Database(file)
  // the orphan below is the point: better-sqlite3 checks foreign keys unless told not to
  db.pragma('foreign_keys = OFF')
  db.exec(`
    CREATE TABLE sectors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, sector_id INTEGER REFERENCES sectors (id), size INTEGER, note TEXT);
    CREATE TABLE logs (id INTEGER PRIMARY KEY, msg TEXT);
    CREATE TABLE tags (tag TEXT, n INTEGER);
    INSERT INTO sectors VALUES (1, 'health'), (2, 'water');
    INSERT INTO logs VALUES (1, 'started');
    INSERT INTO tags VALUES ('x', 1), ('y', 'nope'), ('z', 3);
  `)
  const org = db.prepare('INSERT INTO orgs VALUES (?, ?, ?, ?, ?)')
  org.run(1, 'Médecins', 1, 10, 'first')
  org.run(2, 'Water Aid', 2, 20, null)
  org.run(3, 'Orphan Org', 14, 30, 'sector 14 is missing') // stub parent: sectors 14 inserted
  org.run(4, 'Big Org', 1, 'big', 'size is no integer') // rejected by the reader: type_conversion
  org.run(5, 'drop me', 1, 50, 'filtered out') // dropped by filterRows
  org.run(6, 'Nul Org', 2, 60, 'a\u0000b') // U+0000 stripped on the way into PostgreSQL: a fix
  db.close()
}

const CONFIG = `import { defineConfig, transforms as t } from 'dbferry'
export default defineConfig({
  transforms: [
    t.filterRows({ table: 'orgs', where: (r) => r.name !== 'drop me' }),
    t.fixDanglingForeignKeys({ strategy: 'stub' }),
  ],
})
`

const up = await serverUp('postgres')

describe.skipIf(!up)('dbferry verify --journal (built binary, SQLite → PostgreSQL)', () => {
  let target: TestDatabase
  const source = `sqlite:${join(dir, 'source.db')}`
  const journal = join(dir, 'journal.sqlite')
  let copy: Awaited<ReturnType<typeof spawnCli>>

  beforeAll(async () => {
    buildSource(join(dir, 'source.db'))
    writeFileSync(join(dir, 'dbferry.config.ts'), CONFIG)
    target = await createPostgresDatabase('verifyjournal')
    copy = await spawnCli(['copy', source, target.url, '--config', join(dir, 'dbferry.config.ts'), '--journal', journal, '--exclude', 'logs', '--strip-nul', '--quiet'], { cwd: dir })
  }, 120_000)
  afterAll(async () => {
    await target?.drop()
  })

  it('copies with rejects, a drop, a fix, a stub and an excluded table', () => {
    expect(copy.stderr).toBe('')
    expect(copy.code).toBe(3)
  })

  it('is EQUAL with the journal, counting the expected differences; DIFFERENT without it', async () => {
    const withJournal = await spawnCli(['verify', source, target.url, '--journal', journal])
    expect(withJournal.stderr).toBe('')
    expect(withJournal.code).toBe(0)
    // dropped: orgs 4 (reader) and 5 (filterRows), tags ('y', 'nope'); changed: orgs 6 note; inserted: sectors 14
    expect(withJournal.stdout).toMatch(/: EQUAL with 5 expected differences\n/)
    expect(withJournal.stdout).toMatch(/expected from journal .*journal\.sqlite, run 1: 3 rejected or dropped, 1 fixed, 1 inserted, 1 table excluded/)
    expect(withJournal.stdout).toMatch(/= orgs: 6 rows equal \(2 expected dropped, 1 expected changed\)/)
    expect(withJournal.stdout).toMatch(/= sectors: 2 rows equal \(1 expected inserted\)/)
    expect(withJournal.stdout).toMatch(/= tags: 3 rows equal \(1 expected dropped\)/)
    expect(withJournal.stdout).toMatch(/- logs: excluded by the copy, not compared/)

    const json = await spawnCli(['verify', source, target.url, '--journal', journal, '--run', '1', '--json'])
    expect(json.code).toBe(0)
    const report = JSON.parse(json.stdout) as { equal: boolean; excluded: string[]; expected: { dropped: number; changed: number; inserted: number } }
    expect(report).toMatchObject({ equal: true, excluded: ['logs'], expected: { dropped: 3, changed: 1, inserted: 1 } })

    const without = await spawnCli(['verify', source, target.url])
    expect(without.code).toBe(1)
    expect(without.stdout).toContain(': DIFFERENT')
    expect(without.stdout).toMatch(/≠ logs: 1 rows on a, 0 on b\s+table is missing on b/)
    expect(without.stdout).toMatch(/~ id=6: note/)
  }, 60_000)

  it('is DIFFERENT with the journal once a row changes on the target, a fixed row included', async () => {
    const client = new pg.Client({ connectionString: target.url })
    await client.connect()
    try {
      await client.query(`UPDATE orgs SET name = 'Nul Org changed' WHERE id = 6`)
      const changed = await spawnCli(['verify', source, target.url, '--journal', journal])
      expect(changed.stderr).toBe('')
      expect(changed.code).toBe(1)
      expect(changed.stdout).toContain(': DIFFERENT')
      expect(changed.stdout).toMatch(/≠ orgs: 6 rows on a, 4 on b \(besides 2 expected dropped\)\s+changed \(1\):\s+~ id=6: name, note/)
      await client.query(`UPDATE orgs SET name = 'Nul Org' WHERE id = 6`)
      await client.query(`DELETE FROM orgs WHERE id = 2`)
      const deleted = await spawnCli(['verify', source, target.url, '--journal', journal])
      expect(deleted.code).toBe(1)
      expect(deleted.stdout).toMatch(/missing on b \(1\):\s+- id=2/)
    } finally {
      await client.end()
    }
  }, 60_000)

  it('names the runs a journal holds when none matches, and refuses --run without --journal', async () => {
    const other = await spawnCli(['verify', source, `sqlite:${join(dir, 'source.db')}`, '--journal', journal])
    expect(other.stdout).toBe('')
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/has no finished run from .* to .*; its latest runs: 1 .* → .* \(finished\); name one with --run <id>/)
    const noJournal = await spawnCli(['verify', source, target.url, '--run', '1'])
    expect(noJournal.code).toBe(2)
    expect(noJournal.stderr).toContain('--run needs --journal')
  }, 60_000)
})
