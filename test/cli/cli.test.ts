import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { sahanaFixture } from '../../fixtures/sahana.js'
import { typesFixture } from '../../fixtures/types.js'
import { runCli } from './run-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('dbferry CLI', () => {
  it('prints help for the program and for each command, exit 0', async () => {
    const main = await runCli(['--help'])
    expect(main.code).toBe(0)
    for (const c of ['copy', 'plan', 'demo']) expect(main.stdout).toContain(c)
    const copy = await runCli(['copy', '--help'])
    expect(copy.code).toBe(0)
    expect(copy.stdout).toContain('--mode')
    expect(copy.stdout).toContain('Exit codes')
  })

  it('exits 2 on bad usage', async () => {
    expect((await runCli([])).code).toBe(2)
    expect((await runCli(['frobnicate'])).code).toBe(2)
    const missing = await runCli(['copy', 'sqlite:./only-one.db'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('<from> and <to>')
    expect((await runCli(['copy', 'a', 'b', '--mode', 'sideways'])).code).toBe(2)
    expect((await runCli(['copy', 'nonsense-url', 'sqlite:x.db', '--no-journal'])).code).toBe(2)
  })

  it('exits 0 with a clean copy and prints the report as JSON with --json', async () => {
    const from = join(dir, 'clean.db')
    await buildFixture({ ...sahanaFixture, tables: sahanaFixture.tables.filter((t) => ['or_sector', 'gis_layer_js'].includes(t.name)) }, `sqlite:${from}`)
    const r = await runCli(['copy', `sqlite:${from}`, `sqlite:${join(dir, 'clean-copy.db')}`, '--json', '--no-journal'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report).toMatchObject({ ok: true, clean: true, totals: { read: 16, written: 16, rejected: 0, dropped: 0 } })
    expect(report.tables.map((t: { name: string }) => t.name).sort()).toEqual(['gis_layer_js', 'or_sector'])
    for (const t of report.tables) expect(Object.keys(t)).toEqual(expect.arrayContaining(['name', 'read', 'written', 'rejected', 'dropped', 'ms']))
  })

  it('exits 3 when rows are rejected, naming table, key and column, and journals them', async () => {
    const from = join(dir, 'sahana.db')
    const journal = join(dir, 'journal.sqlite')
    await buildFixture(sahanaFixture, `sqlite:${from}`)
    const r = await runCli(['copy', `sqlite:${from}`, `sqlite:${join(dir, 'sahana-copy.db')}`, '--json', '--journal', journal])
    expect(r.code).toBe(3)
    const report = JSON.parse(r.stdout)
    expect(report.ok).toBe(true)
    expect(report.clean).toBe(false)
    expect(report.journal).toBe(journal)
    const org = report.tables.find((t: { name: string }) => t.name === 'or_organisation')
    expect(org).toMatchObject({ read: 10, written: 8, rejected: 2 })
    expect(org.examples).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'type_conversion', key: '{"id":9}', column: 'timestamp' }),
        expect.objectContaining({ kind: 'type_conversion', key: '{"id":10}', column: 'budget' }),
      ]),
    )
    expect(existsSync(journal)).toBe(true)
  })

  it('exits 1 with a clear message when the source does not exist, and 1 when the target exists in create mode', async () => {
    const r = await runCli(['copy', `sqlite:${join(dir, 'nope.db')}`, `sqlite:${join(dir, 'x.db')}`, '--no-journal'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('nope.db')
    const from = join(dir, 'types.db')
    const to = join(dir, 'types-copy.db')
    await buildFixture(typesFixture, `sqlite:${from}`)
    expect((await runCli(['copy', `sqlite:${from}`, `sqlite:${to}`, '--no-journal', '--quiet'])).code).toBe(0)
    const again = await runCli(['copy', `sqlite:${from}`, `sqlite:${to}`, '--no-journal', '--json'])
    expect(again.code).toBe(1)
    expect(JSON.parse(again.stdout).error.code).toBe('target_exists')
  })

  it('never prints a password from a URL', async () => {
    const r = await runCli(['copy', 'postgres://app:hunter2secret@127.0.0.1:1/nowhere', `sqlite:${join(dir, 'p.db')}`, '--no-journal', '--json'])
    expect(r.code).not.toBe(0)
    expect(r.stdout + r.stderr).not.toContain('hunter2secret')
  })

  it('plans the load order, parents first', async () => {
    const from = join(dir, 'plan.db')
    await buildFixture(sahanaFixture, `sqlite:${from}`)
    const r = await runCli(['plan', `sqlite:${from}`, `sqlite:${join(dir, 'plan-target.db')}`, '--json', '--stages', '2'])
    expect(r.stderr).toBe('')
    // the sahana file has problems, so plan exits 3 and lists them before a row moves
    expect(r.code).toBe(3)
    const plan = JSON.parse(r.stdout)
    const order: string[] = plan.order
    expect(order.indexOf('or_sector')).toBeLessThan(order.indexOf('or_organisation'))
    expect(order.indexOf('or_organisation')).toBeLessThan(order.indexOf('or_office'))
    expect(plan.stages).toHaveLength(2)
    const kinds = plan.preflight.map((i: { kind: string; table: string }) => `${i.kind}:${i.table}`)
    expect(kinds).toEqual(expect.arrayContaining(['orphan_foreign_key:or_organisation', 'type_conversion:or_organisation']))
    const orphans = plan.preflight.find((i: { kind: string }) => i.kind === 'orphan_foreign_key')
    expect(orphans.count).toBe(3)
    const text = await runCli(['plan', `sqlite:${from}`])
    expect(text.code).toBe(3)
    expect(text.stdout).toContain('Load order')
  })

  it('runs the demo end to end without a server', async () => {
    const r = await runCli(['demo', '--dir', join(dir, 'demo')])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('or_organisation')
    expect(r.stdout).toContain('type_conversion')
  })

  it('the built bin runs (the package\'s `dbferry` command)', () => {
    const bin = join(process.cwd(), 'dist/cli/main.js')
    expect(existsSync(bin), 'dist/ is missing: `npm test` builds it first (pretest)').toBe(true)
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('dbferry')
  })
})
