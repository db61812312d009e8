import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'
import { spawnCli } from './spawn-cli.js'

/**
 * `dbferry init`: the config it writes for a source with case-different duplicate e-mails and an orphan foreign
 * key loads, and `dbferry copy --config` with it dedupes the users and inserts the missing parent.
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-init-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function buildSource(file: string): void {
  const db = new Database(file)
  db.pragma('foreign_keys = OFF')
  db.exec(`
    CREATE TABLE sectors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE auth_user (id INTEGER PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, name TEXT);
    CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT, sector_id INTEGER REFERENCES sectors (id), owner_id INTEGER REFERENCES auth_user (id));
    INSERT INTO sectors VALUES (1, 'health');
    INSERT INTO auth_user VALUES (1, 'ann@example.org', 'Ann'), (2, 'Ann@Example.org', 'Ann again'), (3, 'bob@example.org', 'Bob');
    INSERT INTO orgs VALUES (1, 'Clinic', 1, 2), (2, 'Well', 14, 3);
  `)
  db.close()
}

const up = await serverUp('mysql')

describe.skipIf(!up)('dbferry init (built binary, SQLite → MariaDB)', () => {
  let target: TestDatabase
  const source = `sqlite:${join(dir, 'source.db')}`
  const config = join(dir, 'migrate.config.ts')

  beforeAll(async () => {
    buildSource(join(dir, 'source.db'))
    target = await createMysqlDatabase('init')
  }, 60_000)
  afterAll(async () => {
    await target?.drop()
  })

  it('writes a commented config with dedupe for the collisions and stub parents for the orphans', async () => {
    const r = await spawnCli(['init', source, target.url, '--out', 'migrate.config.ts'], { cwd: dir })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/wrote .*migrate\.config\.ts: 2 problems found in the data, 2 transforms suggested\n/)
    const text = readFileSync(config, 'utf8')
    expect(text).toContain(`import { defineConfig, transforms as t } from 'dbferry'`)
    expect(text).toContain(`from: '${source}',`)
    expect(text).toContain(`to: '${target.url}',`)
    expect(text).toMatch(/\/\/ auth_user \(email\): 1 group\(s\) of values differ only in case/)
    expect(text).toContain(`t.dedupe({ table: 'auth_user', key: 'email', normalize: 'case-insensitive', keep: 'first' }),`)
    expect(text).toMatch(/\/\/ orgs \(sector_id\) points at rows of sectors that do not exist \(1 row\)/)
    expect(text).toContain(`t.fixDanglingForeignKeys({ strategy: 'stub', tables: ['orgs'] }),`)
  }, 60_000)

  it('refuses to overwrite the file without --force', async () => {
    writeFileSync(config, '// mine\n' + readFileSync(config, 'utf8'))
    const refused = await spawnCli(['init', source, target.url, '--out', 'migrate.config.ts'], { cwd: dir })
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('exists: give --force to overwrite it')
    expect(readFileSync(config, 'utf8')).toMatch(/^\/\/ mine\n/)
    const forced = await spawnCli(['init', source, target.url, '--out', 'migrate.config.ts', '--force'], { cwd: dir })
    expect(forced.code).toBe(0)
    expect(readFileSync(config, 'utf8')).not.toContain('// mine')
  }, 60_000)

  it('writes a config that dbferry copy runs: duplicates dropped, references remapped, the missing parent stubbed', async () => {
    const copy = await spawnCli(['copy', '--config', 'migrate.config.ts', '--quiet'], { cwd: dir })
    expect(copy.stderr).toBe('')
    // exit 3: a duplicate was dropped, as the config says
    expect(copy.code).toBe(3)
    expect(existsSync(join(dir, 'dbferry-journal.sqlite'))).toBe(true)
    const db = await mysql.createConnection(target.url)
    try {
      const [users] = await db.query('SELECT id, email FROM auth_user ORDER BY id')
      expect(users).toEqual([
        { id: 1, email: 'ann@example.org' },
        { id: 3, email: 'bob@example.org' },
      ])
      const [orgs] = await db.query('SELECT id, sector_id, owner_id FROM orgs ORDER BY id')
      expect(orgs).toEqual([
        { id: 1, sector_id: 1, owner_id: 1 },
        { id: 2, sector_id: 14, owner_id: 3 },
      ])
      const [sectors] = await db.query('SELECT id FROM sectors ORDER BY id')
      expect(sectors).toEqual([{ id: 1 }, { id: 14 }])
    } finally {
      await db.end()
    }
  }, 120_000)
})

describe('dbferry init without a server', () => {
  it('leaves a URL that holds a password to the environment, and suggests nothing for clean data', async () => {
    const { runCli } = await import('./run-cli.js')
    const file = join(dir, 'clean.db')
    const db = new Database(file)
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'a')")
    db.close()
    // the target is not connected to: its dialect is all a plan needs
    const r = await runCli(['init', `sqlite:${file}`, 'postgres://app:s3cret@127.0.0.1:1/app', '--out', 'clean.config.ts'], dir)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/0 problems found in the data, 0 transforms suggested/)
    const text = readFileSync(join(dir, 'clean.config.ts'), 'utf8')
    expect(text).not.toContain('s3cret')
    expect(text).toContain('// to: left to $DBFERRY_TO: the URL holds a password (postgres://app:***@127.0.0.1:1/app)')
    expect(text).toContain('  transforms: [],')
  })
})
