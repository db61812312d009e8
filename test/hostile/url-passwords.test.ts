import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { redact } from '../../src/errors.js'
import { spawnCli } from '../cli/spawn-cli.js'

// the password's pieces: none of them may appear anywhere, whichever way the URL breaks the password up
const PIECES = ['Kq7v', 'Zr9m', 'Wx4j']
const HOST = '127.0.0.1:9' // nothing listens on port 9: the connection is refused at once

/** URLs whose password the URL syntax does not allow unencoded, as users paste them anyway. */
const URLS = [
  { form: 'a / in the password', url: `postgres://app:Kq7v/Zr9m@${HOST}/db` },
  { form: 'spaces in the password', url: `postgres://app:Kq7v Zr9m Wx4j@${HOST}/db` },
  { form: 'an @ in the password', url: `mysql://app:Kq7v@Zr9m@${HOST}/db` },
  { form: '# and ? in the password', url: `postgres://app:Kq7v#Zr9m?Wx4j@${HOST}/db` },
  { form: '?password= with a space', url: `postgres://app@${HOST}/db?password=Kq7v Zr9m` },
  { form: '&password= among other parameters', url: `postgres://app@${HOST}/db?sslmode=disable&password=Kq7v Zr9m Wx4j&application_name=x` },
  { form: 'a password and no host (does not parse)', url: 'postgres://app:Kq7vZr9m' },
]

/** Key/value connection strings (ADO.NET, ODBC, libpq). */
const KEY_VALUES = [
  { form: ';Password= with spaces', url: `Server=${HOST};Database=db;User Id=app;Password=Kq7v Zr9m Wx4j;` },
  { form: 'PWD= last', url: `Server=${HOST};Uid=app;PWD=Kq7v Zr9m` },
  { form: 'a quoted Password with a ;', url: `Server=${HOST};Password="Kq7v;Zr9m";Database=db` },
  { form: 'an ODBC braced Pwd with a ;', url: `Driver={x};Server=${HOST};Pwd={Kq7v;Zr9m Wx4j};` },
  { form: 'libpq keywords, quoted', url: `host=127.0.0.1 port=9 password = 'Kq7v Zr9m' dbname=db` },
]

function expectNoPassword(text: string): void {
  for (const piece of PIECES) {
    const at = text.indexOf(piece)
    expect(at, `password piece ${piece} found: …${text.slice(Math.max(0, at - 80), at + 40)}…`).toBe(-1)
  }
}

describe('redact(): passwords the URL syntax does not allow unencoded', () => {
  it('the scan finds each form\'s password before redaction', () => {
    for (const { url } of [...URLS, ...KEY_VALUES]) expect(() => expectNoPassword(url)).toThrow(/password piece/)
  })

  for (const { form, url } of [...URLS, ...KEY_VALUES]) {
    it(`${form}: alone, and inside a driver's message`, () => {
      expectNoPassword(redact(url))
      expectNoPassword(redact(`could not connect to ${url}: connect ECONNREFUSED ${HOST}`))
      expectNoPassword(redact(`cannot tell which database ${JSON.stringify(url)} is`))
      expectNoPassword(redact(redact(url)))
    })
  }

  it('keeps what says where: the user and the host stay, only the password goes', () => {
    expect(redact(`postgres://app:Kq7v/Zr9m@${HOST}/db`)).toBe(`postgres://app:***@${HOST}/db`)
    expect(redact(`postgres://app:Kq7v Zr9m Wx4j@${HOST}/db`)).toBe(`postgres://app:***@${HOST}/db`)
    expect(redact(`mysql://app:Kq7v@Zr9m@${HOST}/db: connect ECONNREFUSED`)).toBe(`mysql://app:***@${HOST}/db: connect ECONNREFUSED`)
    expect(redact(`Server=${HOST};Password="Kq7v;Zr9m";Database=db`)).toBe(`Server=${HOST};Password=***;Database=db`)
    expect(redact(`Server=${HOST};Pwd={Kq7v;Zr9m Wx4j};`)).toBe(`Server=${HOST};Pwd=***;`)
    expect(redact(`postgres://app@${HOST}/db?sslmode=disable&password=Kq7v Zr9m&application_name=x`)).toBe(
      `postgres://app@${HOST}/db?sslmode=disable&password=***&application_name=x`,
    )
  })

  it('a URL that does not parse is shown as its scheme and … only', () => {
    expect(redact('postgres://app:Kq7vZr9m')).toBe('postgres://…')
    expect(redact('not a PostgreSQL URL: postgres://app:Kq7vZr9m\nnext line')).toBe('not a PostgreSQL URL: postgres://…\nnext line')
  })

  it('leaves URLs without a password alone', () => {
    for (const url of [`postgres://app@${HOST}/db`, 'postgres://[::1]:5432/db', 'sqlite:./a@b.db', 'sqlite:///tmp/x.db', `mysql://${HOST}/db?ssl=true`]) {
      expect(redact(url)).toBe(url)
    }
    expect(redact(`copying postgres://${HOST}/a into mysql://root@${HOST}/b`)).toBe(`copying postgres://${HOST}/a into mysql://root@${HOST}/b`)
  })
})

describe('dbferry copy never prints those passwords (the built bin, stdout and stderr)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-url-passwords-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const source = join(dir, 'source.db')
  const db = new Database(source)
  db.exec('create table t (id integer primary key, name text); insert into t values (1, \'a\')')
  db.close()

  let n = 0
  for (const { form, url } of [...URLS, ...KEY_VALUES]) {
    it(`${form}: as target and as source, as text and --json`, { timeout: 60_000 }, async () => {
      const journal = join(dir, `journal-${++n}.sqlite`)
      const runs = [
        ['copy', `sqlite:${source}`, url, '--journal', journal],
        ['copy', `sqlite:${source}`, url, '--journal', journal, '--json'],
        ['copy', url, `sqlite:${join(dir, `never-${n}.db`)}`, '--journal', journal],
        ['copy', url, `sqlite:${join(dir, `never-${n}.db`)}`, '--journal', journal, '--json'],
      ]
      for (const args of runs) {
        const r = await spawnCli(args, { cwd: dir })
        expect(r.code, `${args.join(' ')}\n${r.stderr}`).not.toBe(0)
        expect(r.signal).toBeNull()
        // the run says why it stopped, without the password
        expect(r.stderr.length + r.stdout.length).toBeGreaterThan(0)
        expectNoPassword(r.stdout + r.stderr)
      }
      if (existsSync(journal)) expectNoPassword(readFileSync(journal).toString('latin1'))
    })
  }
})
