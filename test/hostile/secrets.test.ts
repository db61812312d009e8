import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { runCli } from '../cli/run-cli.js'
import { targetKinds } from './targets.js'

const PASSWORD = 'Pw-q8Z3x-NotForLogs'
const dir = mkdtempSync(join(tmpdir(), 'dbferry-secrets-'))
const sourceFile = join(dir, 'source.db')
await buildFixture(typesFixture, `sqlite:${sourceFile}`)
const source = `sqlite:${sourceFile}`
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Puts user and password into a server URL. */
function withPassword(url: string, user: string): string {
  const u = new URL(url)
  u.username = user
  u.password = PASSWORD
  return u.toString()
}

/** Everything a failing run left behind, as text: the error with its causes, reports, and every file it wrote. */
function written(things: unknown[], files: string[]): string {
  const parts = things.map((t) => (typeof t === 'string' ? t : inspect(t, { depth: 12, showHidden: true }) + JSON.stringify(t ?? null)))
  for (const f of files) {
    for (const g of [f, `${f}-wal`, `${f}-journal`]) if (existsSync(g)) parts.push(readFileSync(g).toString('latin1'))
  }
  return parts.join('\n')
}

function expectNoPassword(text: string): void {
  for (const form of [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString('hex')]) {
    const at = text.indexOf(form)
    expect(at, `password found: …${text.slice(Math.max(0, at - 80), at + 40)}…`).toBe(-1)
  }
}

const kinds = (await targetKinds()).filter((k) => k.name !== 'sqlite')

describe('no password in anything a failing run writes', () => {
  it('the scan itself finds a password where there is one', () => {
    expect(() => expectNoPassword(withPassword('postgres://h/x', 'u'))).toThrow(/password found/)
    expect(() => expectNoPassword(Buffer.from(PASSWORD).toString('latin1'))).toThrow(/password found/)
  })

  for (const kind of kinds) {
    describe.skipIf(!kind.available)(kind.name, () => {
      it('API: a run refused by the target (table exists, or password rejected)', { timeout: 120_000 }, async () => {
        const db = await kind.create()
        try {
          // first run creates the tables; the second, with a password, fails on them (or on the login)
          const first = await ferry({ from: source, to: db.url })
          expect(first.ok).toBe(true)
          const journal = join(dir, `${kind.name}-api.sqlite`)
          let thrown: unknown
          let report: unknown
          try {
            report = await ferry({ from: source, to: withPassword(db.url, kind.name === 'postgres' ? 'postgres' : 'root'), journal })
          } catch (error) {
            thrown = error
          }
          expect(thrown !== undefined || (report as { ok: boolean }).ok === false, 'the run must fail').toBe(true)
          // a run that reached the target recorded itself (and its report) in the journal file
          if (report !== undefined) expect(readFileSync(journal).toString('latin1')).toContain('"ok":false')
          expectNoPassword(written([thrown, report], [journal]))
        } finally {
          await db.drop()
        }
      })

      it('API and CLI: a server that cannot be reached', { timeout: 120_000 }, async () => {
        const url = withPassword(kind.name === 'postgres' ? 'postgres://127.0.0.1:9/nowhere' : 'mysql://127.0.0.1:9/nowhere', 'alice')
        let thrown: unknown
        let report: unknown
        const journal = join(dir, `${kind.name}-refused.sqlite`)
        try {
          report = await ferry({ from: source, to: url, journal })
        } catch (error) {
          thrown = error
        }
        expect(thrown ?? (report as { ok: boolean }).ok === false).toBeTruthy()
        const asSource = await ferry({ from: url, to: `sqlite:${join(dir, 'never.db')}` }).catch((e: unknown) => e)
        const cliJournal = join(dir, `${kind.name}-cli.sqlite`)
        const cli = await runCli(['copy', source, url, '--journal', cliJournal, '--json', '--quiet'])
        expect(cli.code).not.toBe(0)
        const cliVerify = await runCli(['verify', source, url, '--json'])
        expect(cliVerify.code).toBe(2)
        const config = join(dir, `${kind.name}.config.json`)
        writeFileSync(config, JSON.stringify({ from: source, to: url }))
        const cliConfig = await runCli(['copy', '--config', config, '--journal', cliJournal, '--quiet'])
        expect(cliConfig.code).not.toBe(0)
        const files = readdirSync(dir).filter((f) => f.endsWith('.sqlite')).map((f) => join(dir, f))
        expectNoPassword(
          written([thrown, report, asSource, cli.stdout, cli.stderr, cliVerify.stdout, cliVerify.stderr, cliConfig.stdout, cliConfig.stderr], files),
        )
        // and the error still says what failed
        expect(cli.stderr + cli.stdout).toMatch(/127\.0\.0\.1|connect|refused/i)
      })
    })
  }
})
