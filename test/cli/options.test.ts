import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { commands } from '../../src/cli/commands/index.js'
import { COMMON_OPTIONS } from '../../src/cli/options-table.js'
import { BIN, spawnCli } from './spawn-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-options-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const source = join(dir, 'source.db')
const db = new Database(source)
db.exec(`
  create table parent (id integer primary key, name text);
  create table child (id integer primary key, parent_id integer references parent (id));
`)
db.transaction(() => {
  for (let i = 1; i <= 50; i++) db.prepare('insert into parent values (?, ?)').run(i, `p${i}`)
  for (let i = 1; i <= 200; i++) db.prepare('insert into child values (?, ?)').run(i, 1 + (i % 50))
})()
db.close()
let n = 0
const target = () => `sqlite:${join(dir, `t${++n}.db`)}`

describe('--quiet, --verbose, --log-level: results on stdout, logs on stderr', () => {
  it('by default progress lines go to stderr and the report to stdout', async () => {
    const r = await spawnCli(['copy', `sqlite:${source}`, target(), '--no-journal'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/\[dbferry\] child: .* written/)
    expect(r.stdout).not.toMatch(/\[dbferry/)
    expect(r.stdout).toMatch(/Done: every row written/)
  })

  it('-q / --quiet / --log-level error: nothing on stderr, in copy and in demo (which used to ignore --quiet)', async () => {
    for (const flag of ['-q', '--quiet', '--log-level=error']) {
      const r = await spawnCli(['copy', `sqlite:${source}`, target(), '--no-journal', flag], { cwd: dir })
      expect(r.code, flag).toBe(0)
      expect(r.stderr, flag).toBe('')
      expect(r.stdout, flag).toMatch(/Done: every row written/)
    }
    const demo = await spawnCli(['demo', '--dir', join(dir, 'demo'), '--quiet'], { cwd: dir })
    expect(demo.code).toBe(0)
    expect(demo.stderr).toBe('')
    expect(demo.stdout).toContain('or_organisation')
  })

  it('a failure is still its one line on stderr with --quiet', async () => {
    const r = await spawnCli(['copy', `sqlite:${join(dir, 'missing.db')}`, target(), '--no-journal', '-q'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^dbferry copy: .*missing\.db.*\n$/)
  })

  it('-v / --verbose / --log-level debug: every batch and phase, timestamped, on stderr; stdout stays the JSON report alone', async () => {
    for (const flag of [['-v'], ['--verbose'], ['--log-level', 'debug']]) {
      // --no-pass-through: a SQLite → SQLite table otherwise goes over in one INSERT … SELECT, without batches
      const args = ['copy', `sqlite:${source}`, target(), '--no-journal', '--json', '--batch-rows', '20', '--no-pass-through', ...flag]
      const r = await spawnCli(args, { cwd: dir })
      expect(r.code, flag.join(' ')).toBe(0)
      expect(JSON.parse(r.stdout).totals.written).toBe(250)
      expect(r.stderr).toMatch(/^\[dbferry \+\d+\.\d{3}s\] from: sqlite:.*source\.db \(command line\)$/m)
      expect(r.stderr).toMatch(/^\[dbferry \+\d+\.\d{3}s\] phase copy$/m)
      // 200 child rows in batches of 20: every batch is a line (the info level shows one every 2 s at most)
      expect(r.stderr.match(/\] child: batch: /g)?.length, flag.join(' ')).toBeGreaterThanOrEqual(10)
    }
  })

  it('--quiet with --verbose, or an unknown level, is a usage error', async () => {
    const both = await spawnCli(['copy', `sqlite:${source}`, target(), '-q', '-v'], { cwd: dir })
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/--quiet and --verbose disagree/)
    const level = await spawnCli(['plan', `sqlite:${source}`, '--log-level', 'loud'], { cwd: dir })
    expect(level.code).toBe(2)
    expect(level.stderr).toMatch(/--log-level takes error, info, debug/)
  })
})

describe('the parser (util.parseArgs, one table of options per command)', () => {
  it('short flags, --flag=value and -j: the same options as the long spelling', async () => {
    for (const args of [['-j', '2'], ['-j2'], ['--concurrency=2'], ['--mode=create', '-qj', '2']]) {
      const to = target()
      const r = await spawnCli(['copy', `sqlite:${source}`, to, '--no-journal', '--json', ...args], { cwd: dir })
      expect(r.code, args.join(' ')).toBe(0)
      expect(JSON.parse(r.stdout).totals.written).toBe(250)
    }
  })

  it('--jobs and --chunk-rows: a positive whole number; more jobs than the ends take is noted in the report, not refused', async () => {
    const r = await spawnCli(['copy', `sqlite:${source}`, target(), '--no-journal', '--json', '--jobs', '2', '--chunk-rows=100'], { cwd: dir })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(report.totals.written).toBe(250)
    expect(report.snapshot.notes).toContain('--jobs 2 ignored: the sqlite target is loaded by one connection')
    for (const bad of [['--jobs', '0'], ['--chunk-rows', '1.5']]) {
      const b = await spawnCli(['copy', `sqlite:${source}`, target(), '--no-journal', ...bad], { cwd: dir })
      expect(b.code, bad.join(' ')).toBe(2)
      expect(b.stderr).toContain(`${bad[0]} takes a positive whole number`)
    }
  })

  it('an option twice in any spelling (-j and --concurrency), a flag given a value, a value left out, an unknown short flag: exit 2 naming it', async () => {
    const cases: [string[], RegExp][] = [
      [['-j', '2', '--concurrency', '3'], /--concurrency was given more than once/],
      [['--json=yes'], /--json takes no value/],
      [['--mode'], /--mode needs a value/],
      [['--journal', '--json'], /--journal needs a value/],
      [['-x'], /unknown option -x/],
      [['--frobnicate'], /unknown option --frobnicate/],
    ]
    for (const [args, message] of cases) {
      const to = join(dir, `never-${++n}.db`)
      const r = await spawnCli(['copy', `sqlite:${source}`, `sqlite:${to}`, '--no-journal', ...args], { cwd: dir })
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(existsSync(to)).toBe(false)
    }
    // every command refuses what it does not know (demo used to ignore it)
    for (const c of ['demo', 'plan', 'rejects', 'split', 'rewrite-dump', 'compat', 'backup', 'restore', 'verify']) {
      const r = await spawnCli([c, '--frobnicate'], { cwd: dir })
      expect(r.code, c).toBe(2)
      expect(r.stdout + r.stderr, c).toMatch(/unknown option --frobnicate/)
    }
  })

  it('-V and --version print the version; -v is --verbose in a command', async () => {
    for (const flag of ['-V', '--version', '-v']) {
      const r = await spawnCli([flag])
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
    }
  })

  it('each command\'s --help lists every option of its table, short names with them', async () => {
    for (const c of commands) {
      const r = await spawnCli([c.name, '--help'])
      expect(r.code, c.name).toBe(0)
      for (const o of [...c.options, ...COMMON_OPTIONS]) {
        expect(r.stdout, `${c.name} --${o.name}`).toContain(`${o.short ? `-${o.short}, ` : ''}--${o.name}`)
      }
    }
    expect((await spawnCli(['copy', '--help'])).stdout).toMatch(/-j, --concurrency <n> +tables copied at once/)
  })
})

/** What bash completes `words` (the last is the word being typed) to, with `dbferry completion bash` loaded. */
function bashComplete(words: string[]): string[] {
  const script = [
    `source <("${process.execPath}" "${BIN}" completion bash)`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_dbferry',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n')
  const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8' })
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.split('\n').filter(Boolean)
}

describe('dbferry completion', () => {
  it('bash: commands, a command\'s options, an option\'s values, file names', () => {
    expect(bashComplete(['dbferry', 'co'])).toEqual(['copy', 'compat', 'completion'])
    expect(bashComplete(['dbferry', 'copy', '--mo'])).toEqual(['--mode'])
    expect(bashComplete(['dbferry', 'copy', '--mode', ''])).toEqual(['create', 'truncate', 'append', 'recreate'])
    expect(bashComplete(['dbferry', 'copy', '--preflight', 'w'])).toEqual(['warn'])
    expect(bashComplete(['dbferry', 'copy', '--config', 'sou'])).toEqual(['source.db'])
    expect(bashComplete(['dbferry', 'verify', '--h'])).toEqual(['--hashing', '--help'])
    expect(bashComplete(['dbferry', 'rejects', 'sou'])).toEqual(['source.db'])
    expect(bashComplete(['dbferry', 'completion', ''])).toEqual(['bash', 'zsh'])
  })

  it('zsh: one _arguments spec per option of every command, values and files where they go', async () => {
    const r = await spawnCli(['completion', 'zsh'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^#compdef dbferry\n/)
    for (const c of commands) {
      expect(r.stdout).toContain(`'${c.name}:`)
      for (const o of c.options) expect(r.stdout, `${c.name} --${o.name}`).toMatch(new RegExp(`[{'*,]--${o.name}[,}\\[]`))
    }
    expect(r.stdout).toContain("'--mode[create (default\\: fail if a table exists) | truncate | append | recreate]:<m>:(create truncate append recreate)'")
    expect(r.stdout).toContain("'(-j --concurrency)'{-j,--concurrency}'[tables copied at once where the plan allows (default 1)]:<n>: '")
    expect(r.stdout).toContain("'--config[a dbferry.config.ts/.js/.json with the same options as ferry() (and named connections);]:<file>:_files'")
    // zsh itself, where it is installed: the script parses, and loading it registers _dbferry for dbferry
    if (spawnSync('zsh', ['--version']).status === 0) {
      const load = `autoload -U compinit; compinit -u -d ${join(dir, '.zcompdump')}; source <("${process.execPath}" "${BIN}" completion zsh); print -r -- \${+functions[_dbferry]} \$_comps[dbferry]`
      const z = spawnSync('zsh', ['-f', '-c', load], { cwd: dir, encoding: 'utf8' })
      expect(z.stderr).toBe('')
      expect(z.stdout.trim()).toBe('1 _dbferry')
    }
    const bad = await spawnCli(['completion', 'fish'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/completion takes one shell: bash or zsh, not "fish"/)
  })
})
