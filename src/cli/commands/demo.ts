import { mkdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { buildFixture } from '../../testing/fixture.js'
import { sahanaFixture } from '../demo-data.js'
import { ferry } from '../../ferry.js'
import { transforms as t } from '../../transforms/index.js'
import type { CliCommand } from '../command.js'
import { cliLog, runProgress } from '../log.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'
import { formatReport, reportJson } from '../print-report.js'
import { progressDisplay } from '../progress-display.js'

const DEMO_OPTIONS: readonly CliOption[] = [
  { name: 'dir', value: '<folder>', file: true, help: 'where the files go (default ./dbferry-demo)' },
  { name: 'json', help: 'print both reports as JSON' },
]

const HELP = commandHelp({
  usage: 'dbferry demo [--dir <folder>] [--json]',
  description: `Builds the "sahana" example database (a disaster-relief app's SQLite file with the dirt real migrations
meet: junk in typed columns, duplicate emails that differ in case, multi-line text, foreign keys to rows
that do not exist) and copies it into a new SQLite file, then prints what was written, what was rejected
and why. Needs no server. Files go to ./dbferry-demo (or --dir).`,
  options: DEMO_OPTIONS,
})

/** `dbferry demo`: the main job on the embedded default, SQLite to SQLite. */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'copy a bundled example database (SQLite → SQLite) and show the report',
  help: HELP,
  options: DEMO_OPTIONS,
  async run(args, io) {
    const { values: options } = parseCommandLine(args, DEMO_OPTIONS)
    const log = cliLog(io, logLevelOf(options))
    const dir = typeof options.dir === 'string' ? options.dir : join(io.cwd, 'dbferry-demo')
    mkdirSync(dir, { recursive: true })
    const from = join(dir, 'sahana.db')
    const to = join(dir, 'sahana-copy.db')
    const journal = join(dir, 'journal.sqlite')
    for (const f of [from, to, journal, `${journal}-wal`, `${journal}-shm`]) rmSync(f, { force: true })
    await buildFixture(sahanaFixture, `sqlite:${from}`)
    const json = options.json === true
    if (!json) io.stdout.write(`Built ${relative(io.cwd, from) || from} (the sahana example). Copying it to ${relative(io.cwd, to) || to} …\n\n`)
    // lines, not bars, on a terminal too: the demo's report follows on stdout
    const display = log.level === 'info' && !json ? progressDisplay(io, 'lines') : runProgress(io, log, json)
    const report = await ferry({
      from: `sqlite:${from}`,
      to: `sqlite:${to}`,
      tables: { exclude: ['msg_log'] },
      journal,
      onProgress: display.onProgress,
    })
    display.stop()
    // the same copy with the seed's manual clean-up steps as transforms
    const clean = join(dir, 'sahana-clean.db')
    rmSync(clean, { force: true })
    const cleaned = await ferry({
      from: `sqlite:${from}`,
      to: `sqlite:${clean}`,
      tables: { exclude: ['msg_log'] },
      journal,
      transforms: [
        t.dedupe({ table: 'auth_user', key: 'email', normalize: 'case-insensitive', keep: 'first' }),
        t.dedupe({ table: 'or_organisation', key: 'name', normalize: 'case-and-accent-insensitive', keep: 'first' }),
        t.collapseMultiline({ tables: ['or_organisation', 'gis_layer_js'], replacement: ' ' }),
        t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({ name: `Unknown sector ${String(id)}` }) }),
      ],
    })
    if (json) {
      io.stdout.write(`{"asIs":${reportJson(report)},"cleaned":${reportJson(cleaned)}}\n`)
    } else {
      io.stdout.write('1. As it is:\n\n' + formatReport(report) + '\n')
      io.stdout.write(
        `\n2. With the migration's clean-up steps as transforms (dedupe users by email ignoring case, merge\n` +
          `   "Médecins"/"Medecins", collapse multi-line text, stub the missing sectors 14–16), into ${relative(io.cwd, clean) || clean}:\n\n` +
          formatReport(cleaned) +
          '\n',
      )
      io.stdout.write(
        `\nEvery rejected, dropped, changed, stubbed and remapped row is in the journal: the source row, or the changed value as it was.\n` +
          `Try: npx dbferry rejects ${relative(io.cwd, journal) || journal}\n`,
      )
    }
    // the demo succeeded when the run finished, whatever it rejected: rejecting the junk is the point
    return report.ok && cleaned.ok ? 0 : 1
  },
}
