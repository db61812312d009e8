import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = process.cwd()
const run = promisify(execFile)
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }

/**
 * A stand-in project for scripts/build-if-stale.mjs: a few sources and a fake `tsup` that writes the outputs
 * and counts its runs, so the test sees when a build happens without paying for a real one.
 */
function fakeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-build-if-stale-'))
  for (const d of ['scripts', 'src/cli', 'dialects/sqlite', 'node_modules/tsup/dist']) mkdirSync(join(dir, d), { recursive: true })
  copyFileSync(join(root, 'scripts/build-if-stale.mjs'), join(dir, 'scripts/build-if-stale.mjs'))
  writeFileSync(join(dir, 'src/index.ts'), 'export const a = 1\n')
  writeFileSync(join(dir, 'src/cli/main.ts'), 'console.log(1)\n')
  writeFileSync(join(dir, 'dialects/sqlite/index.ts'), 'export {}\n')
  for (const f of ['package.json', 'tsconfig.json', 'tsup.config.ts']) writeFileSync(join(dir, f), '{}\n')
  writeFileSync(
    join(dir, 'node_modules/tsup/dist/cli-default.js'),
    `const fs = require('node:fs')
if (process.env.FAKE_TSUP_FAIL) { console.error('src/index.ts:1:1: ERROR: broken'); process.exit(1) }
fs.mkdirSync('dist/cli', { recursive: true })
for (const f of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/cli/main.js']) fs.writeFileSync(f, '')
fs.appendFileSync('builds.log', 'built\\n')
// what tsup prints without --silent: one line per output file
if (!process.argv.includes('--silent')) for (let i = 0; i < 225; i++) console.log('ESM dist/chunk-' + i + '.js 1 KB')
`,
  )
  return dir
}

describe('npm scripts', () => {
  it('every script runs files that exist', () => {
    for (const [name, script] of Object.entries(pkg.scripts)) {
      for (const m of script.matchAll(/\bnode\s+(\S+\.(?:mjs|js|cjs))/g)) {
        const file = m[1]!
        // the built CLI is made by the script's own first step
        if (file.startsWith('dist/')) continue
        expect(existsSync(join(root, file)), `npm run ${name}: ${file}`).toBe(true)
      }
    }
  })

  it('demo and bench build through build-if-stale, not a full build every time', () => {
    expect(pkg.scripts.demo).toMatch(/^node scripts\/build-if-stale\.mjs && node dist\/cli\/main\.js demo$/)
    expect(pkg.scripts.bench).toBe('node scripts/bench.mjs')
    expect(readFileSync(join(root, 'scripts/bench.mjs'), 'utf8')).toContain("'scripts/build-if-stale.mjs'")
    // the hash lives in dist/ (a build's `clean` removes it with the rest) but is not published
    expect((pkg as unknown as { files: string[] }).files).toContain('!dist/.build-hash')
  })

  it('npm run bench without a name lists the benchmarks; an unknown name is an error naming them', async () => {
    const { stdout } = await run(process.execPath, ['scripts/bench.mjs'], { cwd: root, timeout: 20_000 })
    expect(stdout).toMatch(/^ {2}csv-to-postgres {2,}CSV → PostgreSQL/m)
    expect(stdout).not.toMatch(/^ {2}lib /m)
    const failed = await run(process.execPath, ['scripts/bench.mjs', 'nosuch'], { cwd: root, timeout: 20_000 }).catch((e: { code: number; stderr: string }) => e)
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining('no benchmark "nosuch"; one of: builds, csv-to-postgres') })
  })

  describe('scripts/build-if-stale.mjs', () => {
    let dir: string
    const builds = () => (existsSync(join(dir, 'builds.log')) ? readFileSync(join(dir, 'builds.log'), 'utf8').split('\n').filter(Boolean).length : 0)
    const build = (...args: string[]) => run(process.execPath, ['scripts/build-if-stale.mjs', ...args], { cwd: dir, timeout: 20_000, env: { ...process.env, FAKE_TSUP_FAIL: '' } })

    beforeAll(() => {
      dir = fakeProject()
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('builds the first time, quietly: two lines on stderr, nothing on stdout', async () => {
      const first = await build()
      expect(builds()).toBe(1)
      expect(first.stdout).toBe('')
      expect(first.stderr.trim().split('\n')).toEqual([
        'dbferry: building dist/ (sources changed since the last build) …',
        expect.stringMatching(/^dbferry: built in \d+\.\d s$/),
      ])
    })

    it('does nothing and prints nothing while the sources are unchanged', async () => {
      const again = await build()
      expect(builds()).toBe(1)
      expect(again.stdout + again.stderr).toBe('')
      expect((await build('--check')).stdout).toBe('fresh\n')
    })

    it('builds again when a source changes, a file is added, or an output is missing', async () => {
      writeFileSync(join(dir, 'src/index.ts'), 'export const a = 2\n')
      expect((await build('--check')).stdout).toBe('stale\n')
      await build()
      expect(builds()).toBe(2)
      writeFileSync(join(dir, 'dialects/sqlite/extra.ts'), 'export {}\n')
      await build()
      expect(builds()).toBe(3)
      rmSync(join(dir, 'dist/cli/main.js'))
      await build()
      expect(builds()).toBe(4)
      await build()
      expect(builds()).toBe(4)
    })

    it('a failed build shows the compiler output, exits 1 and is retried on the next run', async () => {
      writeFileSync(join(dir, 'src/index.ts'), 'export const a = 3\n')
      const failed = await run(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: dir, timeout: 20_000, env: { ...process.env, FAKE_TSUP_FAIL: '1' } }).catch(
        (e: { code: number; stderr: string }) => e,
      )
      expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('src/index.ts:1:1: ERROR: broken') })
      await build()
      expect(builds()).toBe(5)
    })

    it('--force builds even when fresh', async () => {
      await build('--force')
      expect(builds()).toBe(6)
    })
  })
})
