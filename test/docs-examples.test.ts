import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sahanaFixture } from '../src/cli/demo-data.js'
import { buildFixture } from '../src/testing/fixture.js'
import { createMysqlDatabase, createPostgresDatabase, type TestDatabase } from './support/servers.js'

/**
 * The examples of README.md and docs/*.md that are marked to run, run as written. A fenced ```sh or ```ts
 * block runs when the line before its fence is a marker:
 *
 *   <!-- run [file=<name>] [exit=<code>] [postgres=<db>,…] [mysql=<db>,…] -->
 *
 * The blocks of one document run in order in one fresh folder, which holds the demo database as `app.db`,
 * `storage.db` and `databases/storage.db`, the example configs as in the repository (`docs/examples/`), and
 * `dbferry` installed (the built package, as `npx dbferry` and `import … from 'dbferry'`) with the drivers
 * `pg`, `mysql2`, `better-sqlite3`, `@duckdb/node-api` and `kysely` beside it. A `sh` block runs
 * under `bash -e`; a `ts` block runs as a module (through jiti); `file=` writes the block to that file instead
 * (a config file the document's commands use: all are written before the first block runs, so a command may
 * use a config shown below it). `exit=` is the exit code expected (default 0); in a `sh` block with
 * `exit=` every command runs, as a reader typing them would, and each one that fails must exit with that code
 * (a `plan`, `copy` or `verify` that reports something, then the next command). `postgres=app` gives the
 * document a fresh PostgreSQL database for every `postgres://postgres@127.0.0.1[:5432]/app` it names
 * (`mysql=` likewise for `mysql://root@127.0.0.1[:3306]/<db>`), so runs never share one; without that server
 * the document's examples are skipped, as the other suites are.
 */

const root = process.cwd()
const MARKER = /^<!-- run((?:\s+[a-z]+=\S+)*)\s*-->$/
const BIN = join(root, 'dist/cli/main.js')
const DRIVERS = ['pg', 'mysql2', 'better-sqlite3', '@duckdb/node-api', 'kysely']

interface Example {
  line: number
  lang: 'sh' | 'ts'
  code: string
  file?: string
  exit: number
  postgres: string[]
  mysql: string[]
}

/** The runnable examples of one Markdown text, in order. */
function runnableExamples(markdown: string): Example[] {
  const lines = markdown.split('\n')
  const out: Example[] = []
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!.trim())
    if (!m) continue
    const fence = /^```(sh|ts)\s*$/.exec(lines[i + 1] ?? '')
    if (!fence) throw new Error(`line ${i + 1}: a run marker must sit right above a \`\`\`sh or \`\`\`ts fence`)
    const end = lines.indexOf('```', i + 2)
    if (end < 0) throw new Error(`line ${i + 2}: the fence never closes`)
    const attrs = Object.fromEntries([...m[1]!.matchAll(/([a-z]+)=(\S+)/g)].map((a) => [a[1]!, a[2]!]))
    for (const k of Object.keys(attrs)) if (!['file', 'exit', 'postgres', 'mysql'].includes(k)) throw new Error(`line ${i + 1}: unknown run attribute ${k}`)
    out.push({
      line: i + 2,
      lang: fence[1] as 'sh' | 'ts',
      code: lines.slice(i + 2, end).join('\n') + '\n',
      file: attrs.file,
      exit: attrs.exit === undefined ? 0 : Number(attrs.exit),
      postgres: attrs.postgres?.split(',') ?? [],
      mysql: attrs.mysql?.split(',') ?? [],
    })
    i = end
  }
  return out
}

const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  .map((doc) => ({ doc, examples: runnableExamples(readFileSync(join(root, doc), 'utf8')) }))
  .filter((d) => d.examples.length > 0)

function runProcess(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: 150_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, output: `${stdout}${stderr}` })
    })
  })
}

/** A folder the way a user has it after `npm install dbferry` beside their own database. */
async function userFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-docs-'))
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true })
  symlinkSync(root, join(dir, 'node_modules/dbferry'), 'dir')
  symlinkSync(BIN, join(dir, 'node_modules/.bin/dbferry'))
  // `npx dbferry …` runs the installed bin, as npx does, without npm's second of start-up per command
  const npx = `#!/bin/sh\nif [ "$1" = dbferry ]; then shift; exec "${join(dir, 'node_modules/.bin/dbferry')}" "$@"; fi\nPATH='${process.env.PATH}' exec npx "$@"\n`
  writeFileSync(join(dir, 'node_modules/.bin/npx'), npx, { mode: 0o755 })
  // the drivers a user installs beside it to pass their own connections (docs/connections.md)
  mkdirSync(join(dir, 'node_modules/@duckdb'))
  for (const driver of DRIVERS) symlinkSync(join(root, 'node_modules', driver), join(dir, 'node_modules', driver), 'dir')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-examples', private: true, type: 'module' }))
  await buildFixture(sahanaFixture, `sqlite:${join(dir, 'app.db')}`)
  await buildFixture(sahanaFixture, `sqlite:${join(dir, 'storage.db')}`)
  mkdirSync(join(dir, 'databases'))
  await buildFixture(sahanaFixture, `sqlite:${join(dir, 'databases/storage.db')}`)
  // the example config files, at the paths the docs give them in a clone of the repository
  cpSync(join(root, 'docs/examples'), join(dir, 'docs/examples'), { recursive: true })
  return dir
}

describe.concurrent('runnable examples in the documentation', () => {
  it('the runnable examples are found (README and the coming-from pages among them)', () => {
    const docs = documents.map((d) => d.doc)
    expect(docs).toEqual(expect.arrayContaining(['README.md', 'docs/coming-from-pgloader.md', 'docs/coming-from-sling.md']))
  })

  it('the README quick start stays as it is', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(
      '```sh\nnpm ci && npm run demo    # builds an example SQLite database with real-world dirt, copies it, prints the report\n' +
        'npm test                  # the test suite (SQLite always; PostgreSQL and MariaDB on 127.0.0.1 when they answer)\n```',
    )
  })

  it('README links work on the npm page too: every one is an absolute URL', () => {
    const links = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
    expect(links.length).toBeGreaterThan(0)
    expect(links.filter((l) => !/^https:\/\//.test(l))).toEqual([])
  })

  it('a marker must sit on a fence and name only what the runner knows', () => {
    expect(() => runnableExamples('<!-- run -->\ntext\n')).toThrow(/right above/)
    expect(() => runnableExamples('<!-- run timeout=3 -->\n```sh\nls\n```\n')).toThrow(/unknown run attribute timeout/)
    expect(runnableExamples('<!-- run exit=3 postgres=a,b -->\n```sh\nls\n```\n```sh\nnot marked\n```\n')).toEqual([
      { line: 2, lang: 'sh', code: 'ls\n', file: undefined, exit: 3, postgres: ['a', 'b'], mysql: [] },
    ])
  })

  for (const { doc, examples } of documents) {
    const needsPostgres = examples.some((e) => e.postgres.length > 0)
    const needsMysql = examples.some((e) => e.mysql.length > 0)
    const missing = (needsPostgres && process.env.DBFERRY_HAS_POSTGRES === '') || (needsMysql && process.env.DBFERRY_HAS_MYSQL === '')

    // documents run side by side, each in its own folder and databases; the blocks of one run in order
    const suite = missing ? describe.skip : describe.sequential
    suite(doc, () => {
      let dir: string
      const databases: TestDatabase[] = []
      const urls = new Map<string, string>()

      beforeAll(async () => {
        expect(existsSync(BIN), 'dist/cli/main.js is missing: run `npm run build` first').toBe(true)
        dir = await userFolder()
        for (const name of new Set(examples.flatMap((e) => e.postgres))) {
          const db = await createPostgresDatabase('docs')
          databases.push(db)
          urls.set(`postgres://postgres@127.0.0.1/${name}`, db.url)
          urls.set(`postgres://postgres@127.0.0.1:5432/${name}`, db.url)
        }
        for (const name of new Set(examples.flatMap((e) => e.mysql))) {
          const db = await createMysqlDatabase('docs')
          databases.push(db)
          urls.set(`mysql://root@127.0.0.1/${name}`, db.url)
          urls.set(`mysql://root@127.0.0.1:3306/${name}`, db.url)
        }
        for (const example of examples) if (example.file) writeFileSync(join(dir, example.file), withFreshDatabases(example.code))
      }, 120_000)

      /** The document's database names, each a fresh database of this run (longest name first: `app2` before `app`). */
      function withFreshDatabases(text: string): string {
        for (const [url, fresh] of [...urls].sort((a, b) => b[0].length - a[0].length)) text = text.replace(new RegExp(`${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'g'), fresh)
        return text
      }

      afterAll(async () => {
        for (const db of databases) await db.drop()
        if (dir) rmSync(dir, { recursive: true, force: true })
      })

      for (const example of examples) {
        const title = `line ${example.line}: ${example.file ? `writes ${example.file}` : `${example.lang} exits ${example.exit}`}`
        it(title, { timeout: 160_000 }, async () => {
          const code = withFreshDatabases(example.code)
          if (example.file) {
            expect(readFileSync(join(dir, example.file), 'utf8')).toBe(code)
            return
          }
          const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(dir, 'node_modules/.bin')}:${process.env.PATH}`, FORCE_COLOR: '0' }
          delete env.DBFERRY_FROM
          delete env.DBFERRY_TO
          let result
          if (example.lang === 'sh' && example.exit !== 0) {
            // not -e: the commands after one that exits `exit` run too; every failing command is recorded
            const exits = join(dir, `.exits-${example.line}`)
            result = await runProcess('bash', ['-o', 'pipefail', '-c', `trap 'echo $? >> "${exits}"' ERR\n${code}`], dir, env)
            const codes = existsSync(exits) ? readFileSync(exits, 'utf8').trim().split('\n').map(Number) : []
            expect(codes.length, `no command of the example failed; its output:\n${result.output}`).toBeGreaterThan(0)
            expect(codes, `exit codes of the failing commands; the output:\n${result.output}`).toEqual(codes.map(() => example.exit))
            return
          }
          if (example.lang === 'sh') result = await runProcess('bash', ['-e', '-o', 'pipefail', '-c', code], dir, env)
          else {
            const file = join(dir, `example-${example.line}.ts`)
            writeFileSync(file, code)
            result = await runProcess(process.execPath, [join(root, 'node_modules/jiti/lib/jiti-cli.mjs'), file], dir, env)
          }
          expect(result.code, `exit code of the example; its output:\n${result.output}`).toBe(example.exit)
        })
      }
    })
  }
})
