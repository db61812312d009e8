import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase, type TestDatabase } from '../support/servers.js'
import { spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-connections-'))
const source = join(dir, 'source.db')
const s = new Database(source)
s.exec("create table t (id integer primary key, name text); insert into t values (1, 'a'), (2, 'b'), (3, 'c')")
s.close()
const PASSWORD = 'Pa55-in-config'
/** The environment without any DBFERRY_FROM/DBFERRY_TO the caller's shell may have. */
const { DBFERRY_FROM: _f, DBFERRY_TO: _t, ...clean } = process.env

let app: TestDatabase
/** app's URL with a password in it (the server trusts the user, so any password connects). */
let appUrl: string
beforeAll(async () => {
  app = await createPostgresDatabase('cli_named')
  const u = new URL(app.url)
  u.password = PASSWORD
  appUrl = u.toString()
})
afterAll(async () => {
  await app?.drop()
  rmSync(dir, { recursive: true, force: true })
})

async function rows(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return Number((await c.query('select count(*) as n from t')).rows[0].n)
  } finally {
    await c.end()
  }
}

describe('connections from the environment and from the config file: no URL on the command line', () => {
  it('DBFERRY_FROM and DBFERRY_TO stand for <from> and <to> (copy, plan, verify)', async () => {
    const to = join(dir, 'from-env.db')
    const env = { ...clean, DBFERRY_FROM: `sqlite:${source}`, DBFERRY_TO: `sqlite:${to}` }
    const r = await spawnCli(['copy', '--no-journal', '--json'], { cwd: dir, env })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).totals.written).toBe(3)
    expect(existsSync(to)).toBe(true)
    expect((await spawnCli(['verify'], { cwd: dir, env })).code).toBe(0)
    expect((await spawnCli(['plan', '--no-scan'], { cwd: dir, env })).stdout).toContain('1: t')
    // the command line wins over the environment
    const other = join(dir, 'from-argument.db')
    expect((await spawnCli(['copy', `sqlite:${source}`, `sqlite:${other}`, '--no-journal', '-q'], { cwd: dir, env })).code).toBe(0)
    expect(existsSync(other)).toBe(true)
    // and without either, the usage error says where else they may come from
    const none = await spawnCli(['copy', '--no-journal'], { cwd: dir, env: clean })
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/copy needs <from> and <to> \(or \$DBFERRY_FROM and \$DBFERRY_TO/)
  })

  it('named connections in ./dbferry.config.json: `dbferry copy legacy app`, no password in the arguments or the output', async () => {
    const work = join(dir, 'named')
    mkdirSync(work)
    writeFileSync(join(work, 'dbferry.config.json'), JSON.stringify({ connections: { legacy: `sqlite:${source}`, app: appUrl } }))
    const args = ['copy', 'legacy', 'app', '--no-journal', '-v']
    expect(args.join(' ')).not.toContain(PASSWORD)
    const r = await spawnCli(args, { cwd: work, env: clean })
    expect(r.code, r.stderr).toBe(0)
    expect(await rows(app.url)).toBe(3)
    expect(r.stdout + r.stderr).not.toContain(PASSWORD)
    expect(r.stderr).toMatch(/\] to: postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\/cli_named\w+ \(connection "app" in .*dbferry\.config\.json \(command line\)\)$/m)
    // a name in DBFERRY_TO is looked up the same way; verify takes names too
    const again = await spawnCli(['copy', 'legacy', '--no-journal', '-q', '--mode', 'truncate'], { cwd: work, env: { ...clean, DBFERRY_TO: 'app' } })
    expect(again.code, again.stderr).toBe(0)
    expect(await rows(app.url)).toBe(3)
    expect((await spawnCli(['verify', 'legacy', 'app'], { cwd: work, env: clean })).code).toBe(0)
    // a name the config does not define: a usage error listing the ones it does
    const typo = await spawnCli(['copy', 'legacy', 'ap', '--no-journal'], { cwd: work, env: clean })
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/no connection named "ap" in .*dbferry\.config\.json \(it names legacy, app\)/)
  })

  it('a --config file names its connections, and its from/to may be names', async () => {
    const config = join(dir, 'migration.config.json')
    const target = join(dir, 'named-target.db')
    writeFileSync(config, JSON.stringify({ connections: { old: `sqlite:${source}`, new: `sqlite:${target}` }, from: 'old', to: 'new', journal: false }))
    const r = await spawnCli(['copy', '--config', config, '--json'], { cwd: dir, env: clean })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).target).toBe(`sqlite:${target}`)
  })
})
