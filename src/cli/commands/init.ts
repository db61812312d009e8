import { existsSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { connectionsConfig, isConnectionName, resolveConnection } from '../../config/connections.js'
import { UsageError, redact } from '../../errors.js'
import { plan, type PlanReport } from '../../plan/plan.js'
import type { PreflightIssue } from '../../plan/preflight.js'
import { foldCase, foldCaseAndAccents } from '../../transforms/normalize.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const INIT_OPTIONS: readonly CliOption[] = [
  { name: 'out', value: '<file>', file: true, help: 'where to write the config. Default dbferry.config.ts' },
  { name: 'force', help: 'overwrite the file if it exists (default: refuse)' },
]

const HELP = commandHelp({
  usage: 'dbferry init <from> <to> [options]',
  description: `Plans a copy from <from> to <to> (the same scan as \`dbferry plan\`) and writes a commented config file for
it: the source and target, and the transforms the scan suggests — dedupe where values collide under the
target's collation (or repeat under a unique key), stub parents where foreign keys point at missing rows —
with what was found above each. Then: \`dbferry copy --config dbferry.config.ts\`.

<from>, <to> are connection URLs or names of connections in ./dbferry.config.*; left out, $DBFERRY_FROM and
$DBFERRY_TO. A URL that holds a password is not written to the file: the file leaves that end to the
environment variable.`,
  options: INIT_OPTIONS,
  footer: 'Exit codes: 0 written; 1 failed; 2 bad usage (or the file exists without --force).',
})

/** One end of the run as the config file will name it. */
interface End {
  /** The TypeScript for the `from`/`to` line, or undefined to leave it to the environment variable. */
  literal?: string
  /** What the comment above it says. */
  comment: string
}

/** How the config names one end: a name or a URL as given, or (holding a password, or from the environment) nothing. */
function endOf(end: 'from' | 'to', given: string | undefined, resolved: unknown): End {
  const variable = end === 'from' ? 'DBFERRY_FROM' : 'DBFERRY_TO'
  if (given !== undefined && isConnectionName(given)) return { literal: lit(given), comment: `the connection named ${given} in the config that defines it` }
  if (given === undefined) return { comment: `left to $${variable}, where it came from` }
  if (typeof resolved === 'string' && redact(resolved) !== resolved) return { comment: `left to $${variable}: the URL holds a password (${redact(resolved)})` }
  return { literal: lit(given), comment: end === 'from' ? 'the source' : 'the target' }
}

/** The dedupe folding that makes the examples of a collision group equal: case alone, or case and accents. */
function foldingFor(issue: PreflightIssue): string {
  const values = issue.examples.map((e) => (Array.isArray(e.value) ? e.value.join('\u0000') : String(e.value)))
  const distinct = (f: (s: string) => string) => new Set(values.map(f)).size
  const trimmed = (s: string) => s.replace(/\s+$/, '')
  const trim = distinct((s) => foldCaseAndAccents(trimmed(s))) < distinct(foldCaseAndAccents)
  const fold = distinct(foldCase) === distinct(foldCaseAndAccents) ? 'case-insensitive' : 'case-and-accent-insensitive'
  return trim ? `['trim', '${fold}']` : `'${fold}'`
}

/** A string as a single-quoted TypeScript literal. */
function lit(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`
}

function rows(n: number): string {
  return `${n} row${n === 1 ? '' : 's'}`
}

/** The transforms the preflight suggests, as lines of TypeScript with a comment above each. */
function suggestedTransforms(report: PlanReport): string[] {
  const lines: string[] = []
  // one dedupe per table and key: a collation collision and exact repeats of the same key are one dedupe
  const keys = new Map<string, PreflightIssue[]>()
  for (const i of report.preflight) {
    if ((i.kind !== 'collation_collision' && i.kind !== 'duplicate_key') || !i.column) continue
    const id = `${i.table}\u0000${i.column}`
    keys.set(id, [...(keys.get(id) ?? []), i])
  }
  for (const issues of keys.values()) {
    const { table, column } = issues[0]!
    const columns = column!.split(', ')
    const collision = issues.find((i) => i.kind === 'collation_collision')
    for (const i of issues) lines.push(`    // ${i.table} (${i.column}): ${i.message}`)
    lines.push(`    // keeps the first row of each group and points foreign keys at it; the others are journaled as dropped`)
    const key = columns.length === 1 ? lit(columns[0]!) : `[${columns.map(lit).join(', ')}]`
    const normalize = collision ? `, normalize: ${foldingFor(collision)}` : ''
    lines.push(`    t.dedupe({ table: ${lit(table)}, key: ${key}${normalize}, keep: 'first' }),`)
  }
  const orphans = report.preflight.filter((i) => i.kind === 'orphan_foreign_key')
  if (orphans.length > 0) {
    for (const i of orphans) lines.push(`    // ${i.message} (${rows(i.count)})`)
    lines.push(
      `    // inserts a placeholder parent row for each missing key, so the children load as they are; per key,`,
      `    // foreignKeys: { 'table.column': 'null' | 'drop' | 'fail' } does otherwise`,
      `    t.fixDanglingForeignKeys({ strategy: 'stub', tables: [${[...new Set(orphans.map((i) => lit(i.table)))].join(', ')}] }),`,
    )
  }
  return lines
}

/** Options the other problems found call for, commented out: the user decides. */
function otherProblems(report: PlanReport): string[] {
  const lines: string[] = []
  const handled = new Set(['collation_collision', 'duplicate_key', 'orphan_foreign_key'])
  const others = report.preflight.filter((i) => !handled.has(i.kind))
  if (others.length === 0) return lines
  lines.push('', '  // the scan also found (`dbferry plan --config <this file>` lists them with examples):')
  for (const i of others) lines.push(`  //   ${i.kind} ${i.table}${i.column ? `.${i.column}` : ''}: ${i.message} (${rows(i.count)})`)
  if (others.some((i) => i.kind === 'nul_in_text')) lines.push(`  // stripNul: true,          // remove U+0000 from text instead of rejecting the row`)
  if (others.some((i) => i.kind === 'truncation')) lines.push(`  // decimals: 'round',       // round decimals past the target's scale instead of rejecting the row`)
  return lines
}

/** The config file's text. */
export function configText(report: PlanReport, from: End, to: End, written: Date): string {
  const transforms = suggestedTransforms(report)
  const rowsTotal = report.tables.reduce((n, t) => n + t.rows, 0)
  const line = (key: string, end: End) => (end.literal === undefined ? [`  // ${key}: ${end.comment}`] : [`  // ${end.comment}`, `  ${key}: ${end.literal},`])
  return [
    `// dbferry.config.ts — written by \`dbferry init\` on ${written.toISOString().slice(0, 10)} from a scan of the source:`,
    `//   ${report.source} → ${report.target ?? report.source}: ${report.tables.length} table${report.tables.length === 1 ? '' : 's'}, ${rows(rowsTotal)}, ${report.preflight.length} problem${report.preflight.length === 1 ? '' : 's'} found`,
    `// Check it:  npx dbferry plan --config <this file>`,
    `// Copy:      npx dbferry copy --config <this file>`,
    `import { defineConfig, transforms as t } from 'dbferry'`,
    '',
    'export default defineConfig({',
    ...line('from', from),
    ...line('to', to),
    '',
    `  // tables: { exclude: ['table', /^prefix_/] },   // tables to leave out`,
    `  // foreignKeys: [{ from: 'child.column', to: 'parent.column' }],   // keys the source does not declare`,
    ...(transforms.length > 0
      ? ['', '  // what the scan found, and what the copy does about it', '  transforms: [', ...transforms, '  ],']
      : ['', '  // the scan found no duplicate keys and no orphan foreign keys: no transform is needed', '  transforms: [],']),
    ...otherProblems(report),
    '',
    `  // rejected and dropped rows, fixes and checkpoints (then: dbferry rejects, dbferry verify --journal)`,
    `  journal: './dbferry-journal.sqlite',`,
    `  // verify: true,   // compare source and target after the copy`,
    '})',
    '',
  ].join('\n')
}

/** `dbferry init <from> <to>`: writes a config file for the copy, with the transforms the preflight suggests. */
export const initCommand: CliCommand = {
  name: 'init',
  summary: 'write a commented dbferry.config.ts for a copy, with the transforms its data needs',
  help: HELP,
  options: INIT_OPTIONS,
  positionals: 'none',
  async run(args, io: CliIo) {
    const { positionals, values } = parseCommandLine(args, INIT_OPTIONS)
    logLevelOf(values)
    if (positionals.length > 2) throw new UsageError(`init takes <from> and <to>, got ${positionals.length} arguments`)
    const out = resolve(io.cwd, typeof values.out === 'string' ? values.out : 'dbferry.config.ts')
    if (existsSync(out) && values.force !== true) throw new UsageError(`${out} exists: give --force to overwrite it`)
    const named = () => connectionsConfig(io.cwd, undefined)
    const env = positionals.length === 0 ? io.env : {}
    const from = await resolveConnection('from', { argument: positionals[0], env }, named)
    const to = await resolveConnection('to', { argument: positionals[1], env }, named)
    if (typeof from?.spec !== 'string' || typeof to?.spec !== 'string') throw new UsageError('init needs <from> and <to> (or $DBFERRY_FROM and $DBFERRY_TO)')
    const report = await plan({ from: from.spec, to: to.spec, scan: true })
    writeFileSync(out, configText(report, endOf('from', positionals[0], from.spec), endOf('to', positionals[1], to.spec), new Date()))
    const found = report.preflight.length
    const suggested = suggestedTransforms(report).filter((l) => l.trimStart().startsWith('t.')).length
    io.stdout.write(`wrote ${out}: ${found} problem${found === 1 ? '' : 's'} found in the data, ${suggested} transform${suggested === 1 ? '' : 's'} suggested\n`)
    return 0
  },
}
