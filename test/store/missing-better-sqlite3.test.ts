import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN } from '../cli/spawn-cli.js'
import { PG_URL, createPostgresDatabase, serverUp, uniqueName, type TestDatabase } from '../support/servers.js'

// A machine with only `pg` installed: a resolve hook makes `better-sqlite3` fail to resolve exactly as a missing
// package does (ERR_MODULE_NOT_FOUND), for the real built CLI in a real process.
const HIDE = `
export async function resolve(specifier, context, next) {
  if (specifier === 'better-sqlite3' || specifier.startsWith('better-sqlite3/')) {
    const e = new Error("Cannot find package 'better-sqlite3' imported from " + context.parentURL)
    e.code = 'ERR_MODULE_NOT_FOUND'
    throw e
  }
  return next(specifier, context)
}`

function withDatabase(url: string, db: string): string {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1
  } finally {
    await c.end()
  }
}

async function dropDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  } finally {
    await c.end()
  }
}

describe.skipIf(!(await serverUp('postgres')))('PostgreSQL → PostgreSQL without better-sqlite3 installed', () => {
  let dir: string
  let source: TestDatabase
  const run = (args: string[]) => spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), BIN, ...args], { cwd: dir, encoding: 'utf8' })
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-nosqlite-'))
    writeFileSync(join(dir, 'hide.mjs'), HIDE)
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module'\nimport { pathToFileURL } from 'node:url'\nregister(pathToFileURL(${JSON.stringify(join(dir, 'hide.mjs'))}))\n`)
    source = await createPostgresDatabase('dbferry_nosqlite')
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    await c.query('CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, $$a$$), (2, $$b$$)')
    await c.end()
  })
  afterAll(async () => {
    await source?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('stops before the target database is created, naming the package and --no-journal', async () => {
    const target = uniqueName('dbferry_nosqlite_target')
    try {
      const r = run(['copy', source.url, withDatabase(PG_URL, target)])
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(/npm install better-sqlite3/)
      expect(r.stderr).toMatch(/--no-journal/)
      expect(r.stderr).not.toMatch(/Cannot find package/)
      expect(await databaseExists(target)).toBe(false)
    } finally {
      await dropDatabase(target)
    }
  })

  it('copies with --no-journal, needing only pg', async () => {
    const target = uniqueName('dbferry_nosqlite_target')
    try {
      const r = run(['copy', source.url, withDatabase(PG_URL, target), '--no-journal'])
      expect(r.stderr).not.toMatch(/better-sqlite3/)
      expect(r.status).toBe(0)
      const c = new pg.Client({ connectionString: withDatabase(PG_URL, target) })
      await c.connect()
      expect((await c.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(2)
      await c.end()
    } finally {
      await dropDatabase(target)
    }
  })

  it('a transform whose keys outgrow memory keeps going without a journal (the keys stay in memory)', async () => {
    // before: the dedupe store failed to spill half-way through the copy, with the target already written
    const target = uniqueName('dbferry_nosqlite_target')
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    await c.query("CREATE TABLE many (id int PRIMARY KEY, email text); INSERT INTO many SELECT i, 'User' || (i % 300) || '@x.org' FROM generate_series(1, 1000) i")
    await c.end()
    const script = join(dir, 'spill.mjs')
    writeFileSync(
      script,
      `import { ferry, transforms } from ${JSON.stringify(pathToFileURL(join(BIN, '..', '..', 'index.js')).href)}
const report = await ferry({ from: ${JSON.stringify(source.url)}, to: ${JSON.stringify(withDatabase(PG_URL, target))}, journal: false,
  tables: { include: ['many'] }, transforms: [transforms.dedupe({ table: 'many', key: 'email', normalize: 'case-insensitive', maxInMemory: 10 })] })
console.log(JSON.stringify({ ok: report.ok, written: report.tables[0].written, dropped: report.tables[0].dropped }))`,
    )
    try {
      const r = spawnSync(process.execPath, ['--import', join(dir, 'register.mjs'), script], { cwd: dir, encoding: 'utf8' })
      expect(r.stderr).not.toMatch(/better-sqlite3/)
      expect(r.status, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ ok: true, written: 300, dropped: 700 })
    } finally {
      await dropDatabase(target)
    }
  })
})
