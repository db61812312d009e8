import { groupStages } from '../../plan/order.js'
import { plan, type PlanReport } from '../../plan/plan.js'
import { UsageError } from '../../errors.js'
import type { FerryOptions } from '../../ferry.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, parseCommandLine, type CliOption } from '../options-table.js'
import { CONNECTIONS_HELP, RUN_OPTIONS, runRequest } from '../run-options.js'

const PLAN_OPTIONS: readonly CliOption[] = [
  ...RUN_OPTIONS,
  { name: 'stages', value: '<n>', help: 'group the load order into n ordered stages (e.g. files to load one after the other)' },
  { name: 'no-scan', help: 'order, stages and renames only; do not read the rows' },
  { name: 'json', help: 'print the plan as JSON' },
]

const HELP = commandHelp({
  usage: 'dbferry plan <from> [<to>] [options]',
  description: `Shows what a copy would do before a row moves: tables in load order (parents first) and numbered stages,
foreign keys that cannot be honoured by order, names the target would change, and — from a scan of the
source — every problem found in the data: values the target's collation would treat as equal (listed first),
orphan foreign keys, values the target cannot hold, values that do not convert. The target is not written to
(\`dbferry copy … --dry-run\` prints the same for a copy's command line). --mode truncate or append read the
target's tables, whose column types a CSV source takes (shown under "Source").

${CONNECTIONS_HELP}`,
  options: PLAN_OPTIONS,
  footer: 'Exit codes: 0 no problems found; 3 problems found; 1 failed; 2 bad usage.',
})

function text(p: PlanReport, stages: string[][]): string {
  const lines: string[] = [`${p.source}${p.target ? ` → ${p.target}` : ''}`, '']
  const problems = p.preflight
  if (problems.length > 0) {
    lines.push(`Problems found (${problems.length}):`)
    for (const i of problems) {
      lines.push(`  ${i.kind} ${i.table}${i.column ? `.${i.column}` : ''}: ${i.message} (${i.count} row${i.count === 1 ? '' : 's'})`)
      for (const e of i.examples) lines.push(`      ${e.key ? `key ${e.key}: ` : ''}${JSON.stringify(e.value, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`)
    }
    lines.push('')
  } else lines.push('No problems found in the data.', '')
  lines.push('Load order (stage: tables):')
  stages.forEach((s, i) => lines.push(`  ${i + 1}: ${s.join(', ')}`))
  for (const d of p.deferred) lines.push(`Deferred foreign key: ${d.table}(${d.foreignKey.columns.join(', ')}) → ${d.foreignKey.refTable} (${d.reason})`)
  for (const r of p.renames) lines.push(`Renamed: ${r.kind} ${r.table ? `${r.table}.` : ''}${r.from} → ${r.to} (${r.reason})`)
  // how the source was read: e.g. where a CSV file's column types came from (target table, schema, sample)
  if (p.snapshot?.notes && p.snapshot.notes.length > 0) {
    lines.push('', 'Source:')
    for (const n of p.snapshot.notes) lines.push(`  ${n}`)
  }
  if (p.tables.some((t) => t.rows > 0)) {
    lines.push('', 'Rows:')
    for (const t of p.tables) lines.push(`  ${t.name}: ${t.rows}`)
  }
  return lines.join('\n')
}

/**
 * Plans the run `options` describe and prints the plan on stdout (text or JSON); returns the exit code:
 * 3 when the scan found problems, else 0. `stages` groups the load order into that many stages.
 */
export async function printPlan(
  options: Omit<FerryOptions, 'to'> & { to?: FerryOptions['to'] },
  how: { json: boolean; scan: boolean; stages?: number },
  io: CliIo,
): Promise<number> {
  const report = await plan({ ...options, scan: how.scan })
  const stages = how.stages ? groupStages({ order: report.order, stages: report.stages, deferred: report.deferred }, how.stages) : report.stages
  if (how.json) {
    io.stdout.write(
      JSON.stringify(
        { ...report, stages, deferred: report.deferred.map((d) => ({ table: d.table, references: d.foreignKey.refTable, columns: d.foreignKey.columns, reason: d.reason })) },
        (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `\\x${Buffer.from(v).toString('hex')}` : v),
        2,
      ) + '\n',
    )
  } else io.stdout.write(text(report, stages) + '\n')
  return report.preflight.length > 0 ? 3 : 0
}

/** `dbferry plan`. */
export const planCommand: CliCommand = {
  name: 'plan',
  summary: 'show load order, stages, renames and every problem in the data, before a row moves',
  help: HELP,
  options: PLAN_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    const parsed = parseCommandLine(args, PLAN_OPTIONS)
    const { values } = parsed
    const stagesWanted = values.stages === undefined ? undefined : Number(values.stages)
    if (stagesWanted !== undefined && !(Number.isInteger(stagesWanted) && stagesWanted > 0)) throw new UsageError('--stages takes a positive whole number')
    // the same options as copy, so a plan describes exactly the copy it precedes; <to> is optional here
    const { options } = await runRequest(parsed, io, 'plan')
    return printPlan(options, { json: values.json === true, scan: values['no-scan'] !== true, stages: stagesWanted }, io)
  },
}
