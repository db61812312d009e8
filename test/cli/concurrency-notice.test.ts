import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { runCli } from './run-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-tables-at-once-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec('create table a (id integer primary key); create table b (id integer primary key); insert into a values (1); insert into b values (2)')
db.close()

const notice = /--concurrency 4 ignored: the duckdb target takes one table at a time/

describe('--concurrency an engine cannot honour', () => {
  it('is said once in the report when the target writes one table at a time (DuckDB)', async () => {
    const r = await runCli(['copy', `sqlite:${source}`, `duckdb:${join(dir, 'one.duckdb')}`, '--no-journal', '--quiet', '--concurrency', '4'], dir)
    expect(r.code).toBe(0)
    expect(r.stdout.match(new RegExp(notice.source, 'g'))).toHaveLength(1)
    const report = await ferry({ from: `sqlite:${source}`, to: `duckdb:${join(dir, 'two.duckdb')}`, journal: false, concurrency: 4 })
    expect(report.snapshot?.notes?.filter((n) => notice.test(n))).toHaveLength(1)
  })

  it('is not mentioned where it is honoured (SQLite to SQLite) or not asked for', async () => {
    const honoured = await runCli(['copy', `sqlite:${source}`, `sqlite:${join(dir, 'three.db')}`, '--no-journal', '--quiet', '--concurrency', '4'], dir)
    expect(honoured.code).toBe(0)
    expect(honoured.stdout).not.toMatch(/concurrency/)
    const one = await ferry({ from: `sqlite:${source}`, to: `duckdb:${join(dir, 'four.duckdb')}`, journal: false })
    expect(one.ok).toBe(true)
    expect(one.snapshot?.notes ?? []).not.toContainEqual(expect.stringMatching(/concurrency/))
  })
})
