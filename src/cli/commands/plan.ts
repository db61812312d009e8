import { groupStages } from '../../plan/order.js'
import { plan, type PlanReport } from '../../plan/plan.js'
import { UsageError } from '../../errors.js'
import { parseArgs, type CliCommand } from '../command.js'
import { COPY_REPEATABLE, copyOptions } from './copy.js'

const HELP = `dbferry plan <from> [<to>] [options]

Shows what a copy would do before a row moves: tables in load order (parents first) and numbered stages,
foreign keys that cannot be honoured by order, names the target would change, and — from a scan of the
source — every problem found in the data: values the target's collation would treat as equal (listed first),
orphan foreign keys, values the target cannot hold, values that do not convert. The target is not written to.

Options:
  --config <file>      the same config file as copy (tables, foreign keys, transforms)
  --tables / --exclude / --fk / --fallback-encoding / --lower-case   as for copy
  --mode <m>           as for copy; truncate or append read the target's tables, whose column types a CSV
                       source takes (shown under "Source")
  --stages <n>         group the load order into n ordered stages (e.g. files to load one after the other)
  --no-scan            order, stages and renames only; do not read the rows
  --json               print the plan as JSON

Exit codes: 0 no problems found; 3 problems found; 1 failed; 2 bad usage.`

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

/** `dbferry plan`. */
export const planCommand: CliCommand = {
  name: 'plan',
  summary: 'show load order, stages, renames and every problem in the data, before a row moves',
  help: HELP,
  async run(args, io) {
    const { options } = parseArgs(args, ['json', 'no-scan', 'lower-case'], COPY_REPEATABLE)
    const stagesWanted = options.stages === undefined ? undefined : Number(options.stages)
    if (stagesWanted !== undefined && !(Number.isInteger(stagesWanted) && stagesWanted > 0)) throw new UsageError('--stages takes a positive whole number')
    // the same options as copy, so a plan describes exactly the copy it precedes; <to> is optional here
    const rest = args.filter((a, i) => !['--stages', '--no-scan'].includes(a) && !(args[i - 1] === '--stages'))
    const positionals = parseArgs(rest, ['json', 'lower-case'], COPY_REPEATABLE).positionals
    const withTarget = positionals.length === 1 && typeof options.config !== 'string' ? [...rest, positionals[0]!] : rest
    const { options: ferryOptions } = await copyOptions(withTarget, io)
    const report = await plan({ ...ferryOptions, to: positionals.length === 1 && typeof options.config !== 'string' ? undefined : ferryOptions.to, scan: options['no-scan'] !== true })
    const stages = stagesWanted ? groupStages({ order: report.order, stages: report.stages, deferred: report.deferred }, stagesWanted) : report.stages
    if (options.json === true) {
      io.stdout.write(
        JSON.stringify(
          { ...report, stages, deferred: report.deferred.map((d) => ({ table: d.table, references: d.foreignKey.refTable, columns: d.foreignKey.columns, reason: d.reason })) },
          (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `\\x${Buffer.from(v).toString('hex')}` : v),
          2,
        ) + '\n',
      )
    } else io.stdout.write(text(report, stages) + '\n')
    return report.preflight.length > 0 ? 3 : 0
  },
}
