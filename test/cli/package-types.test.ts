import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The published package as a user gets it: `npm pack`, then the tarball checked by publint and
 * arethetypeswrong, and its types compiled by a small consumer project under TypeScript 5 (`tsc`) and 7
 * (`tsgo`, `@typescript/native-preview`) with `strict`, `skipLibCheck: false` and each of the module
 * resolutions `node16`, `nodenext` and `bundler`. Two consumers: one imports only the core (`dbferry`,
 * `dbferry/testing`) with no `@types/*` installed at all, the other every driver subpath with the driver type
 * packages beside it. Nothing is fetched: the tarball is unpacked into the consumer's node_modules and the
 * type packages are linked from this project's. `DBFERRY_TARBALL` checks another tarball instead (e.g. one
 * packed at an older commit, to see a test fail there).
 */

const root = process.cwd()
const run = promisify(execFile)
const bin = (name: string) => join(root, 'node_modules/.bin', name)

const RESOLUTIONS = [
  { name: 'node16', module: 'node16', cjs: true },
  { name: 'nodenext', module: 'nodenext', cjs: true },
  { name: 'bundler', module: 'esnext', cjs: false },
] as const
const COMPILERS = [
  { name: 'tsc', major: 5, version: () => ts.version },
  { name: 'tsgo', major: 7, version: async () => (await run(bin('tsgo'), ['-v'], { timeout: 25_000 })).stdout },
] as const

/** What a driver subpath's types need installed (its driver's own types, or `@types/…`). */
const DRIVER_TYPES = ['@types/node', '@types/pg', '@types/better-sqlite3', '@types/mssql', 'mysql2', '@duckdb/node-api']

let work: string
let tarball: string

/** A file of the unpacked tarball. */
const packed = (file: string) => join(work, 'core/node_modules/dbferry', file)

function consumer(name: string, files: Record<string, string>, links: readonly string[]): string {
  const dir = join(work, name)
  const pkgDir = join(dir, 'node_modules/dbferry')
  mkdirSync(pkgDir, { recursive: true })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true, type: 'module' }))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  for (const link of links) {
    const at = join(dir, 'node_modules', link)
    mkdirSync(dirname(at), { recursive: true })
    symlinkSync(join(root, 'node_modules', link), at, 'dir')
  }
  return dir
}

function tsconfig(dir: string, resolution: (typeof RESOLUTIONS)[number], core: boolean): string {
  const file = `tsconfig.${resolution.name}.json`
  const files = ['index.ts', ...(resolution.cjs ? ['require.cts'] : [])]
  writeFileSync(
    join(dir, file),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2022',
        // TypeScript's default library for the target (ES2022 and the DOM, which is where \`AbortSignal\` lives
        // without @types/node), named so that no other @types package creeps in
        lib: ['es2022', 'dom'],
        module: resolution.module,
        moduleResolution: resolution.name,
        ...(core ? { types: [] } : {}),
      },
      files,
    }),
  )
  return file
}

/** Parsed declaration files shared by every TypeScript 5 program of the run: each is parsed once. */
const parsed = new Map<string, ts.SourceFile | undefined>()

/**
 * Type-checks a consumer project with TypeScript 5 in this process. Reported: every option, global and syntax
 * error, and the semantic errors of the consumer's files and of dbferry's declarations, which is what
 * `skipLibCheck: false` adds for them; the bodies of `@types/node` and the driver packages are not
 * re-checked (their errors are not dbferry's, and checking them is most of tsc's time).
 */
function compileWithTypeScript5(dir: string, project: string): string {
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, project), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (!config) return `cannot read ${project}`
  const host = ts.createCompilerHost(config.options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (file, language, ...rest) => {
    const key = `${file}\0${JSON.stringify(language)}`
    if (!parsed.has(key)) parsed.set(key, getSourceFile(file, language, ...rest))
    return parsed.get(key)
  }
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host })
  const ours = program.getSourceFiles().filter((f) => !f.fileName.includes('/node_modules/') || f.fileName.includes('/node_modules/dbferry/'))
  const diagnostics = [
    ...config.errors,
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...program.getSyntacticDiagnostics(),
    ...ours.flatMap((f) => program.getSemanticDiagnostics(f)),
  ]
  return ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => dir, getNewLine: () => '\n' })
}

/** Type-checks a consumer project with `tsgo` (TypeScript 7), every file, as a user's build would. */
async function compileWithTypeScript7(dir: string, project: string): Promise<string> {
  try {
    await run(bin('tsgo'), ['-p', project, '--pretty', 'false'], { cwd: dir, timeout: 120_000 })
    return ''
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string }
    return `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message
  }
}

async function compile(major: 5 | 7, dir: string, project: string): Promise<string> {
  return major === 5 ? compileWithTypeScript5(dir, project) : compileWithTypeScript7(dir, project)
}

const CORE_INDEX = `import { ferry, plan, verify, transforms as t, defineConfig, DbferryError, type Report, type FerryOptions } from 'dbferry'
import * as testing from 'dbferry/testing'

const options: FerryOptions = { from: 'sqlite:./a.db', to: 'postgres://localhost/b', transforms: [t.dedupe({ table: 'users', key: ['email'] })] }
export async function main(): Promise<number> {
  try {
    const report: Report = await ferry(options)
    return report.ok ? 0 : 1
  } catch (error) {
    if (error instanceof DbferryError) return 2
    throw error
  }
}
export const api = { plan, verify, defineConfig, testing }
`
const DRIVERS_INDEX = `import * as dbferry from 'dbferry'
import * as sqlite from 'dbferry/sqlite'
import * as postgres from 'dbferry/postgres'
import * as mysql from 'dbferry/mysql'
import * as mssql from 'dbferry/mssql'
import * as duckdb from 'dbferry/duckdb'
export const api = { dbferry, sqlite, postgres, mysql, mssql, duckdb }
`
const REQUIRE_CTS = (specs: string[]) =>
  `${specs.map((s, i) => `import * as m${i} from '${s}'`).join('\n')}\nexport const api = [${specs.map((_, i) => `m${i}`).join(', ')}]\n`

describe('the packed package', () => {
  beforeAll(async () => {
    expect(existsSync(join(root, 'dist/index.d.ts')), 'dist/index.d.ts is missing: run `npm run build` first').toBe(true)
    work = mkdtempSync(join(tmpdir(), 'dbferry-package-types-'))
    if (process.env.DBFERRY_TARBALL) tarball = process.env.DBFERRY_TARBALL
    else {
      const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: root, timeout: 60_000, maxBuffer: 64 << 20 })
      tarball = join(work, (JSON.parse(stdout) as { filename: string }[])[0]!.filename)
    }
    const core = consumer('core', { 'index.ts': CORE_INDEX, 'require.cts': REQUIRE_CTS(['dbferry', 'dbferry/testing']) }, [])
    const drivers = consumer(
      'drivers',
      { 'index.ts': DRIVERS_INDEX, 'require.cts': REQUIRE_CTS(['dbferry', 'dbferry/sqlite', 'dbferry/postgres', 'dbferry/mysql', 'dbferry/mssql', 'dbferry/duckdb']) },
      DRIVER_TYPES,
    )
    for (const dir of [core, drivers]) await run('tar', ['-xzf', tarball, '-C', join(dir, 'node_modules/dbferry'), '--strip-components=1'], { timeout: 30_000 })
  }, 120_000)

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('publint finds nothing to fix in the tarball (--strict: warnings count)', { timeout: 60_000 }, async () => {
    const { stdout } = await run(bin('publint'), ['--strict', tarball], { cwd: work, timeout: 50_000 })
    expect(stdout).toContain('All good!')
  })

  it('arethetypeswrong finds no problem for any entry point under any resolution', { timeout: 60_000 }, async () => {
    // attw exits 1 when it finds a problem: the problems are read from its report either way
    const stdout = await run(bin('attw'), [tarball, '--format', 'json'], { cwd: work, timeout: 50_000, maxBuffer: 64 << 20 }).then(
      (r) => r.stdout,
      (error: { stdout?: string }) => error.stdout ?? '',
    )
    const result = JSON.parse(stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> } }
    expect(result.analysis.problems).toEqual([])
    expect(Object.keys(result.analysis.entrypoints).sort()).toEqual(
      ['.', './duckdb', './mssql', './mysql', './package.json', './postgres', './sqlite', './testing'],
    )
  })

  it('every subpath of the exports map has types for TypeScript without exports support (typesVersions)', () => {
    const pkg = JSON.parse(readFileSync(packed('package.json'), 'utf8')) as {
      exports: Record<string, string | { import: { types: string } }>
      typesVersions: Record<string, Record<string, string[]>>
    }
    const subpaths = Object.entries(pkg.exports).filter(([k]) => k !== '.' && k !== './package.json')
    expect(pkg.typesVersions['*']).toEqual(Object.fromEntries(subpaths.map(([k, v]) => [k.slice(2), [(v as { import: { types: string } }).import.types]])))
  })

  it('the driver type packages are optional peer dependencies', () => {
    const pkg = JSON.parse(readFileSync(packed('package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>
      peerDependenciesMeta: Record<string, { optional?: boolean }>
    }
    for (const types of ['@types/pg', '@types/better-sqlite3', '@types/mssql']) {
      expect(pkg.peerDependencies[types], types).toBeDefined()
      expect(pkg.peerDependenciesMeta[types]?.optional, types).toBe(true)
    }
  })

  for (const compiler of COMPILERS) {
    it(`${compiler.name} is TypeScript ${compiler.major}`, { timeout: 30_000 }, async () => {
      expect(await compiler.version()).toMatch(new RegExp(`^(Version )?${compiler.major}\\.`))
    })
    for (const resolution of RESOLUTIONS) {
      it(`a consumer compiles under ${compiler.name} (TypeScript ${compiler.major}), strict, moduleResolution ${resolution.name}`, { timeout: 180_000 }, async () => {
        const coreDir = join(work, 'core')
        const driversDir = join(work, 'drivers')
        const [core, drivers] = await Promise.all([
          compile(compiler.major, coreDir, tsconfig(coreDir, resolution, true)),
          compile(compiler.major, driversDir, tsconfig(driversDir, resolution, false)),
        ])
        expect(core, 'the core entry points, with no @types/node installed').toBe('')
        expect(drivers, 'every driver subpath, with the driver type packages installed').toBe('')
      })
    }
  }
})
