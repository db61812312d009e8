import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { parseCommandLine } from '../../src/cli/options-table.js'
import { copyOptions } from '../../src/cli/commands/copy.js'
import { UsageError } from '../../src/errors.js'
import { runCli } from './run-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-repeated-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec("create table a (id integer primary key); create table b (id integer primary key); insert into a values (1); insert into b values (1)")
db.close()
const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: dir }

describe('an option given twice', () => {
  const table = [
    { name: 'journal', value: '<file>', help: '' },
    { name: 'mode', value: '<m>', help: '' },
    { name: 'concurrency', short: 'j', value: '<n>', help: '' },
    { name: 'fk', value: '<x=y>', repeatable: true, help: '' },
    { name: 'json', help: '' },
  ]

  it('parseCommandLine refuses a repeated single-value option, naming it, in every spelling (short ones too)', () => {
    for (const args of [['--journal', 'a', '--journal', 'b'], ['--journal=a', '--journal', 'b'], ['--journal=a', '--journal=a'], ['--mode', 'create', 'x', '--mode', 'append'], ['-j', '2', '--concurrency=3'], ['-j2', '-j', '2']]) {
      const name = args.includes('-j') || args.includes('-j2') ? 'concurrency' : args[0]!.slice(2).split('=')[0]!
      expect(() => parseCommandLine(args, table), args.join(' ')).toThrow(UsageError)
      expect(() => parseCommandLine(args, table)).toThrow(new RegExp(`--${name}\\b.*more than once`))
    }
  })

  it('parseCommandLine collects the options a command declares repeatable, and a flag twice is still the flag', () => {
    expect(parseCommandLine(['--fk', 'a.x=b.id', '--fk', 'c.y=b.id'], table).values.fk).toEqual(['a.x=b.id', 'c.y=b.id'])
    expect(parseCommandLine(['--json', '--json'], table).values.json).toBe(true)
  })

  it('copy --journal a --journal b exits 2 naming --journal, and copies nothing', async () => {
    const target = join(dir, 'target.db')
    const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${target}`, '--journal', join(dir, 'a.sqlite'), '--journal', join(dir, 'b.sqlite')], dir)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--journal was given more than once/)
    for (const f of [target, join(dir, 'a.sqlite'), join(dir, 'b.sqlite'), join(dir, 'dbferry-journal.sqlite')]) expect(existsSync(f), f).toBe(false)
  })

  it('copy --batch-rows, --mode and --concurrency twice exit 2 too', async () => {
    for (const [flag, a, b] of [['--batch-rows', '10', '20'], ['--mode', 'create', 'append'], ['--concurrency', '1', '2']] as const) {
      const r = await runCli(['copy', `sqlite:${source}`, `sqlite:${join(dir, 'never.db')}`, '--no-journal', flag, a, flag, b], dir)
      expect(r.code, flag).toBe(2)
      expect(r.stderr).toContain(`${flag} was given more than once`)
    }
  })

  it('the list options stay repeatable: copy --tables / --exclude / --fk, rejects --kind, verify --tables', async () => {
    const { options } = await copyOptions(['sqlite:a.db', 'sqlite:b.db', '--tables', 'a', '--tables', 'b,c', '--exclude', 'x', '--exclude', '/y/', '--fk', 'a.x=b.id', '--fk', 'c.y=b.id'], io)
    expect(options.tables?.include).toEqual(['a', 'b', 'c'])
    expect(options.tables?.exclude).toEqual(['x', /y/])
    expect(options.foreignKeys).toEqual([{ from: 'a.x', to: 'b.id' }, { from: 'c.y', to: 'b.id' }])
    const copied = await runCli(['copy', `sqlite:${source}`, `sqlite:${join(dir, 'ab.db')}`, '--no-journal', '--json', '--tables', 'a', '--tables', 'b'], dir)
    expect(copied.code).toBe(0)
    expect(JSON.parse(copied.stdout).totals.written).toBe(2)
    // no journal there: exit 1 (cannot read), not 2 (usage)
    expect((await runCli(['rejects', join(dir, 'none.sqlite'), '--kind', 'filtered', '--kind', 'zero_date', '--table', 'a', '--table', 'b'], dir)).code).toBe(1)
    expect((await runCli(['verify', `sqlite:${source}`, `sqlite:${source}`, '--tables', 'a', '--tables', 'b'], dir)).code).toBe(0)
    expect((await runCli(['plan', `sqlite:${source}`, '--no-scan', '--tables', 'a', '--tables', 'b'], dir)).code).toBe(0)
  })
})
