import { mkdirSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { buildFixture } from '../../../fixtures/fixture.js'
import { sahanaFixture } from '../../../fixtures/sahana.js'
import { ferry } from '../../ferry.js'
import { parseArgs, type CliCommand } from '../command.js'
import { formatReport, reportJson } from '../print-report.js'
import { progressDisplay } from '../progress-display.js'

const HELP = `dbferry demo [--dir <folder>] [--json]

Builds the "sahana" example database (a disaster-relief app's SQLite file with the dirt real migrations
meet: junk in typed columns, duplicate emails that differ in case, multi-line text, foreign keys to rows
that do not exist) and copies it into a new SQLite file, then prints what was written, what was rejected
and why. Needs no server. Files go to ./dbferry-demo (or --dir).`

/** `dbferry demo`: the main job on the embedded default, SQLite to SQLite. */
export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'copy a bundled example database (SQLite → SQLite) and show the report',
  help: HELP,
  async run(args, io) {
    const { options } = parseArgs(args, ['json'])
    const dir = typeof options.dir === 'string' ? options.dir : join(io.cwd, 'dbferry-demo')
    mkdirSync(dir, { recursive: true })
    const from = join(dir, 'sahana.db')
    const to = join(dir, 'sahana-copy.db')
    const journal = join(dir, 'journal.sqlite')
    for (const f of [from, to, journal]) rmSync(f, { force: true })
    await buildFixture(sahanaFixture, `sqlite:${from}`)
    const json = options.json === true
    if (!json) io.stdout.write(`Built ${relative(io.cwd, from) || from} (the sahana example). Copying it to ${relative(io.cwd, to) || to} …\n\n`)
    const display = progressDisplay(io, json ? 'none' : 'lines')
    const report = await ferry({
      from: `sqlite:${from}`,
      to: `sqlite:${to}`,
      tables: { exclude: ['msg_log'] },
      journal,
      onProgress: display.onProgress,
    })
    display.stop()
    io.stdout.write((json ? reportJson(report) : formatReport(report)) + '\n')
    if (!json) {
      io.stdout.write(
        `\nThe rejected rows above are the sahana file's junk values; each is in the journal with its source row.\n` +
          `Try: sqlite3 ${relative(io.cwd, journal) || journal} "select table_name, kind, key, message from entry"\n`,
      )
    }
    // the demo succeeded when the run finished, whatever it rejected: rejecting the junk is the point
    return report.ok ? 0 : 1
  },
}
