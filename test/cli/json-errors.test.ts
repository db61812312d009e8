import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './run-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-json-errors-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec('create table t (id integer primary key); insert into t values (1)')
db.close()

/** stdout must be one JSON report, nothing else, saying the run failed and why. */
function failure(stdout: string): { ok: boolean; clean: boolean; source: string; target: string; tables: unknown[]; error: { code: string; message: string } } {
  expect(stdout.trim(), 'copy --json printed no report').not.toBe('')
  const report = JSON.parse(stdout)
  expect(report).toMatchObject({ ok: false, clean: false, tables: [], error: { code: expect.any(String), message: expect.any(String) } })
  return report
}

describe('copy --json prints a report with its error when the run cannot start', () => {
  it('a URL no engine takes: exit 2, error usage', async () => {
    const r = await runCli(['copy', 'nonsense-url', `sqlite:${join(dir, 'x.db')}`, '--no-journal', '--json'], dir)
    expect(r.code).toBe(2)
    const report = failure(r.stdout)
    expect(report.error.code).toBe('usage')
    expect(report.error.message).toMatch(/cannot tell which database "nonsense-url"/)
  })

  it('a server that cannot be reached: exit 1, error connection, the password redacted everywhere', async () => {
    const r = await runCli(['copy', `sqlite:${source}`, 'postgres://app:Sec7-ret@127.0.0.1:9/db', '--no-journal', '--json'], dir)
    expect(r.code).toBe(1)
    const report = failure(r.stdout)
    expect(report.error.code).toBe('connection')
    expect(report.error.message).toContain('127.0.0.1')
    expect(report.target).toBe('postgres://app:***@127.0.0.1:9/db')
    expect(report.source).toBe(`sqlite:${source}`)
    expect(r.stdout + r.stderr).not.toContain('Sec7-ret')
  })

  it('a source file that does not exist: exit 1, error connection naming the file', async () => {
    const r = await runCli(['copy', `sqlite:${join(dir, 'missing.db')}`, `sqlite:${join(dir, 'y.db')}`, '--no-journal', '--json'], dir)
    expect(r.code).toBe(1)
    const report = failure(r.stdout)
    expect(report.error.code).toBe('connection')
    expect(report.error.message).toContain('missing.db')
  })

  it('bad options: exit 2, error usage naming the option', async () => {
    const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${join(dir, 'z.db')}`, '--json', '--frobnicate', '1'], dir)
    expect(r.code).toBe(2)
    expect(failure(r.stdout).error).toEqual({ code: 'usage', message: 'unknown option --frobnicate' })
  })

  it('without --json the failure stays one line on stderr and stdout stays empty', async () => {
    const r = await runCli(['copy', `sqlite:${join(dir, 'missing.db')}`, `sqlite:${join(dir, 'y.db')}`, '--no-journal', '--quiet'], dir)
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^dbferry copy: .*missing\.db.* \[connection\]\n$/)
  })
})
