import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { plan } from '../../src/plan/plan.js'
import { UsageError } from '../../src/errors.js'
import { closestNames } from '../../src/schema/select.js'
import { runCli } from './run-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-selection-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec(`
  create table auth_user (id integer primary key, name text);
  create table auth_group (id integer primary key);
  create table orders (id integer primary key);
  insert into auth_user values (1, 'ann');
  insert into auth_group values (1);
  insert into orders values (1);
`)
db.close()

let n = 0
/** A fresh target path per run, so no run sees another's tables. */
const target = () => join(dir, `target-${++n}.db`)

/** The tables a SQLite file holds (none when the file was never made). */
function tablesOf(file: string): string[] {
  if (!existsSync(file)) return []
  const d = new Database(file, { readonly: true })
  try {
    return (d.prepare("select name from sqlite_master where type = 'table' order by name").all() as { name: string }[]).map((r) => r.name)
  } finally {
    d.close()
  }
}

describe('a table name or pattern that matches nothing', () => {
  it('copy --tables nosuch exits 2 naming it and the closest tables, and copies nothing', async () => {
    const to = target()
    const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '--tables', 'auth_usr'], dir)
    expect(r.code).toBe(2)
    // a run that cannot start: one line on stderr, no report
    expect(r.stderr).toMatch(/tables\.include "auth_usr" matches no table of the source \(closest: auth_user, auth_group/)
    expect(tablesOf(to)).toEqual([])
  })

  it('copy --tables auth_user,nosuch exits 2 for the one that matches nothing, and copies neither', async () => {
    const to = target()
    const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '--json', '--tables', 'auth_user,nosuch'], dir)
    expect(r.code).toBe(2)
    const report = JSON.parse(r.stdout)
    expect(report.error.code).toBe('usage')
    expect(report.error.message).toContain('"nosuch"')
    expect(report.error.message).not.toContain('"auth_user"')
    expect(tablesOf(to)).toEqual([])
  })

  it('copy --exclude with a name or a /pattern/ that matches nothing exits 2 naming each', async () => {
    const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${target()}`, '--no-journal', '--json', '--exclude', 'Orders,/^zz_/'], dir)
    expect(r.code).toBe(2)
    const { message } = JSON.parse(r.stdout).error
    expect(message).toMatch(/tables\.exclude "Orders" matches no table of the source \(closest: orders,/)
    expect(message).toContain('tables.exclude /^zz_/ matches no table of the source')
  })

  it('names and patterns that match still copy what they select, a /pattern/g every table it matches', async () => {
    const to = target()
    const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', '--quiet', '--tables', '/^auth_/g,orders', '--exclude', 'orders'], dir)
    expect(r.code).toBe(0)
    expect(tablesOf(to)).toEqual(['auth_group', 'auth_user'])
  })

  it('plan --tables nosuch exits 2 naming it and the closest tables', async () => {
    const r = await runCli(['plan', `sqlite:${source}`, '--no-scan', '--tables', 'auth_user', '--tables', 'ordrs'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/tables\.include "ordrs" matches no table of the source \(closest: orders,/)
  })

  it('verify --tables nosuch exits 2 naming it and the closest tables of a', async () => {
    const r = await runCli(['verify', `sqlite:${source}`, `sqlite:${source}`, '--tables', 'auth_grup'], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--tables "auth_grup" matches no table of a \(closest: auth_group,/)
  })

  it('ferry({ tables: { include: [\'nosuch\'] } }) and plan() throw a usage error naming it', async () => {
    const to = target()
    const copying = ferry({ from: `sqlite:${source}`, to: `sqlite:${to}`, journal: false, tables: { include: ['nosuch'] } })
    await expect(copying).rejects.toThrow(UsageError)
    await expect(copying).rejects.toThrow(/tables\.include "nosuch" matches no table of the source \(closest: /)
    expect(tablesOf(to)).toEqual([])
    await expect(plan({ from: `sqlite:${source}`, tables: { exclude: ['auth_users'] }, scan: false })).rejects.toThrow(UsageError)
    await expect(plan({ from: `sqlite:${source}`, tables: { exclude: ['auth_users'] }, scan: false })).rejects.toThrow(/"auth_users".*closest: auth_user,/)
  })

  it('closestNames puts a difference of case before a difference of letters', () => {
    expect(closestNames('Users', ['user', 'users', 'groups'], 2)).toEqual(['users', 'user'])
    expect(closestNames('auth_usr', ['orders', 'auth_group', 'auth_user'])).toEqual(['auth_user', 'auth_group', 'orders'])
  })
})
