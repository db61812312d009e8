import { connect } from '../../connect.js'
import { prepareRun } from '../../ferry.js'
import { UsageError } from '../../errors.js'
import { parseArgs, type CliCommand } from '../command.js'

const HELP = `dbferry plan <from> <to> [--json] [--stages N]

Shows what a copy would do before a row moves: the tables in load order (parents first), numbered stages,
foreign keys that cannot be honoured by order (self-references, cycles), and names the target would change.`

/** `dbferry plan`. */
export const planCommand: CliCommand = {
  name: 'plan',
  summary: 'show the load order, stages and renames a copy would use',
  help: HELP,
  async run(args, io) {
    const { positionals, options } = parseArgs(args, ['json'])
    const [from, to] = positionals
    if (!from || !to) throw new UsageError('plan needs <from> and <to>')
    const src = await connect(from)
    try {
      const target = await connect(to, { create: false }).catch(() => undefined)
      const dialect = target?.connection.dialect ?? (await (await import('../../connect.js')).dialectFor(to))
      await target?.connection.close()
      const introspected = await src.connection.introspect()
      const plan = prepareRun(introspected, { dialect }, {})
      const out = {
        order: plan.order.order,
        stages: plan.order.stages,
        deferred: plan.order.deferred.map((d) => ({ table: d.table, references: d.foreignKey.refTable, reason: d.reason })),
        renames: plan.renames,
      }
      if (options.json) io.stdout.write(JSON.stringify(out, null, 2) + '\n')
      else {
        io.stdout.write('Load order (stage: tables):\n')
        out.stages.forEach((s, i) => io.stdout.write(`  ${i + 1}: ${s.join(', ')}\n`))
        for (const d of out.deferred) io.stdout.write(`Deferred: ${d.table} → ${d.references} (${d.reason})\n`)
        for (const r of out.renames) io.stdout.write(`Rename: ${r.kind} ${r.from} → ${r.to} (${r.reason})\n`)
      }
      return 0
    } finally {
      await src.connection.close()
    }
  },
}
