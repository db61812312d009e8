import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase, type TestDatabase } from '../support/servers.js'
import { spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-copy-flags-'))
const source = join(dir, 'source.db')
const s = new Database(source)
s.exec(`
  create table parent (id integer primary key, name text not null);
  create table child (id integer primary key, parent_id integer not null references parent (id), note text);
  create index child_note on child (note);
`)
s.transaction(() => {
  for (let i = 1; i <= 20; i++) s.prepare('insert into parent values (?, ?)').run(i, `p${i}`)
  for (let i = 1; i <= 60; i++) s.prepare('insert into child values (?, ?, ?)').run(i, 1 + (i % 20), `n${i % 7}`)
})()
s.close()

let target: TestDatabase
let empty: TestDatabase
beforeAll(async () => {
  target = await createPostgresDatabase('cli_flags')
  empty = await createPostgresDatabase('cli_flags_empty')
})
afterAll(async () => {
  await target?.drop()
  await empty?.drop()
  rmSync(dir, { recursive: true, force: true })
})

async function query<T>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(sql)).rows as T[]
  } finally {
    await c.end()
  }
}

/** The target's shape: tables with their row counts, foreign keys and the index on child.note. */
async function shape(url: string): Promise<{ tables: Record<string, number>; fks: number; noteIndexes: number }> {
  const names = (await query<{ table_name: string }>(url, "select table_name from information_schema.tables where table_schema = 'public' order by 1")).map((r) => r.table_name)
  const tables: Record<string, number> = {}
  for (const n of names) tables[n] = Number((await query<{ n: string }>(url, `select count(*) as n from "${n}"`))[0]!.n)
  const fks = Number((await query<{ n: string }>(url, "select count(*) as n from information_schema.table_constraints where constraint_type = 'FOREIGN KEY' and table_schema = 'public'"))[0]!.n)
  const noteIndexes = Number((await query<{ n: string }>(url, "select count(*) as n from pg_indexes where schemaname = 'public' and tablename = 'child' and indexdef like '%(note)%'"))[0]!.n)
  return { tables, fks, noteIndexes }
}

describe('copy --schema-only, then --data-only, into PostgreSQL', () => {
  it('--schema-only creates the tables, the index and the foreign key, and no row; every table is reported skipped', async () => {
    const r = await spawnCli(['copy', `sqlite:${source}`, target.url, '--no-journal', '--schema-only', '--json'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.tables.map((t: { name: string; status: string; written: number }) => [t.name, t.status, t.written])).toEqual([
      ['parent', 'skipped', 0],
      ['child', 'skipped', 0],
    ])
    expect(await shape(target.url)).toEqual({ tables: { child: 0, parent: 0 }, fks: 1, noteIndexes: 1 })
  })

  it('--data-only fills those tables, creates nothing twice, and sets the sequences past the copied keys', async () => {
    const r = await spawnCli(['copy', `sqlite:${source}`, target.url, '--no-journal', '--data-only', '--json'], { cwd: dir })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(JSON.parse(r.stdout).totals.written).toBe(80)
    expect(await shape(target.url)).toEqual({ tables: { child: 60, parent: 20 }, fks: 1, noteIndexes: 1 })
    // --data-only again with --mode truncate: the same rows, still nothing created
    const again = await spawnCli(['copy', `sqlite:${source}`, target.url, '--no-journal', '--data-only', '--mode', 'truncate', '-q'], { cwd: dir })
    expect(again.code, again.stderr + again.stdout).toBe(0)
    expect(await shape(target.url)).toEqual({ tables: { child: 60, parent: 20 }, fks: 1, noteIndexes: 1 })
    const id = await query<{ id: number }>(target.url, "insert into parent (name) values ('new') returning id")
    expect(Number(id[0]!.id)).toBe(21)
  })

  it('--data-only into a target without the tables stops before anything is written, naming them', async () => {
    const r = await spawnCli(['copy', `sqlite:${source}`, empty.url, '--no-journal', '--data-only'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stdout + r.stderr).toMatch(/dataOnly: the target .* has no tables parent, child \(create them first/)
    expect((await shape(empty.url)).tables).toEqual({})
  })

  it('--schema-only with --data-only or --verify, and --data-only with a mode that creates, are usage errors', async () => {
    for (const [args, message] of [
      [['--schema-only', '--data-only'], /--schema-only and --data-only exclude each other/],
      [['--schema-only', '--verify'], /--verify compares rows, and --schema-only copies none/],
      [['--data-only', '--mode', 'recreate'], /--data-only writes into tables the target has: --mode append \(its default\) or truncate, not recreate/],
    ] as const) {
      const r = await spawnCli(['copy', `sqlite:${source}`, empty.url, '--no-journal', ...args], { cwd: dir })
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(message)
    }
    expect((await shape(empty.url)).tables).toEqual({})
  })
})

describe('copy --dry-run, --verify, --preflight, --backup', () => {
  it('--dry-run prints the plan of this copy (as plan would) and writes nothing', async () => {
    const to = join(dir, 'dry.db')
    const r = await spawnCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--dry-run', '--tables', 'parent'], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/Load order \(stage: tables\):\n {2}1: parent\n/)
    expect(r.stdout).toMatch(/Rows:\n {2}parent: 20\n/)
    expect(existsSync(to)).toBe(false)
    const json = await spawnCli(['copy', `sqlite:${source}`, empty.url, '--dry-run', '--json'], { cwd: dir })
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).order).toEqual(['parent', 'child'])
    expect((await shape(empty.url)).tables).toEqual({})
  })

  it('--verify compares after the copy: a target row the source lacks makes it exit 3, where the copy alone exits 0', async () => {
    const base = ['copy', `sqlite:${source}`, '--no-journal', '--mode', 'append', '--tables', 'parent', '-q']
    const setUp = (name: string) => {
      const file = join(dir, name)
      const t = new Database(file)
      t.exec("create table parent (id integer primary key, name text not null); insert into parent values (1000, 'only on the target')")
      t.close()
      return `sqlite:${file}`
    }
    const plain = await spawnCli([...base.slice(0, 2), setUp('plain.db'), ...base.slice(2)], { cwd: dir })
    expect(plain.code, plain.stdout).toBe(0)
    const verified = await spawnCli([...base.slice(0, 2), setUp('verified.db'), ...base.slice(2), '--verify'], { cwd: dir })
    expect(verified.code, verified.stdout).toBe(3)
    expect(verified.stdout).toMatch(/\nVerify: DIFFERENT\n {2}parent: 0 missing, 1 extra, 0 changed\n/)
    const json = await spawnCli([...base.slice(0, 2), setUp('verified-json.db'), ...base.slice(2), '--verify', '--json'], { cwd: dir })
    expect(JSON.parse(json.stdout).verify).toMatchObject({ equal: false, tables: [{ name: 'parent', extra: 1 }] })
  })

  it('--preflight stop refuses a source the target cannot hold before anything is written; warn scans and copies', async () => {
    const dirty = join(dir, 'dirty.db')
    const d = new Database(dirty)
    d.exec("create table t (id integer primary key, n integer); insert into t values (1, 1), (2, 'not a number')")
    d.close()
    const stop = await spawnCli(['copy', `sqlite:${dirty}`, empty.url, '--no-journal', '--preflight', 'stop'], { cwd: dir })
    expect(stop.code).toBe(1)
    expect(stop.stdout + stop.stderr).toMatch(/preflight/i)
    expect((await shape(empty.url)).tables).toEqual({})
    const warn = await spawnCli(['copy', `sqlite:${dirty}`, `sqlite:${join(dir, 'warned.db')}`, '--no-journal', '--preflight=warn', '-v'], { cwd: dir })
    expect(warn.code).toBe(3)
    expect(warn.stderr).toMatch(/\] phase preflight$/m)
    expect(warn.stdout).toMatch(/\nPreflight found \(1\):\n {2}\w+ t\.n: /)
    const none = await spawnCli(['copy', `sqlite:${dirty}`, `sqlite:${join(dir, 'unscanned.db')}`, '--no-journal', '-v'], { cwd: dir })
    expect(none.stderr).not.toMatch(/phase preflight/)
    expect((await spawnCli(['copy', `sqlite:${dirty}`, `sqlite:${join(dir, 'x.db')}`, '--preflight', 'maybe'], { cwd: dir })).code).toBe(2)
  })

  it('--backup <file> puts the backup of a changed SQLite target there; --no-backup makes none', async () => {
    const to = join(dir, 'kept.db')
    expect((await spawnCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '-q'], { cwd: dir })).code).toBe(0)
    const backups = () => readdirSync(dir).filter((f) => f.startsWith('kept.db.') && f.endsWith('.backup'))
    const named = join(dir, 'before-truncate.sqlite')
    const r = await spawnCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '-q', '--mode', 'truncate', '--backup', named], { cwd: dir })
    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(named)).toBe(true)
    expect(backups()).toEqual([])
    const none = await spawnCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '-q', '--mode', 'truncate', '--no-backup'], { cwd: dir })
    expect(none.code).toBe(0)
    expect(backups()).toEqual([])
    const byDefault = await spawnCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '-q', '--mode', 'truncate'], { cwd: dir })
    expect(byDefault.code).toBe(0)
    expect(backups()).toHaveLength(1)
  })
})
