import { captureChanges, removeCapture } from '../../catchup/capture.js'
import { UsageError, redact } from '../../errors.js'
import type { CliCommand } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const CAPTURE_OPTIONS: readonly CliOption[] = [
  { name: 'tables', value: '<list>', repeatable: true, help: 'tables to capture (comma-separated or repeated). Default: every table with a primary key' },
  { name: 'remove', help: 'remove the capture triggers and the change table instead (without a cutover)' },
  { name: 'json', help: 'print the report as JSON' },
]

const HELP = commandHelp({
  usage: 'dbferry capture <source> [--tables a,b] [--remove] [--json]',
  description: `Starts recording changes on a live source before a copy, for a short cut-over: creates the change table
dbferry_changes in the source and, on every table with a primary key, triggers that add the key of each
inserted, updated or deleted row to it. Tables without a primary key are listed as not captured.

Then: dbferry copy <source> <target> (which leaves the change table out), dbferry catch-up <source> <target> (as
often as you like), and once writes have stopped, dbferry cutover <source> <target>. See docs/catch-up.md.`,
  options: CAPTURE_OPTIONS,
  footer: 'Exit codes: 0 done, 1 failed, 2 usage (or an engine that cannot capture).',
})

/** A `--tables` value as a list of names. */
export function tableList(v: string | boolean | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'boolean') throw new UsageError('--tables needs a list of table names')
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
}

/** The exit code of a failure: 2 for what the user fixes on the command line, 1 otherwise. */
export function failureCode(error: unknown): number {
  return error instanceof UsageError ? 2 : 1
}

/** `dbferry capture <source>` and `dbferry capture --remove <source>`. */
export const captureCommand: CliCommand = {
  name: 'capture',
  summary: 'record changes on a live source (triggers) before a copy, for catch-up and cutover',
  help: HELP,
  options: CAPTURE_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    let parsed: ReturnType<typeof parseCommandLine>
    try {
      parsed = parseCommandLine(args, CAPTURE_OPTIONS)
      logLevelOf(parsed.values)
      if (parsed.positionals.length !== 1) throw new UsageError(`capture needs one <source>, got ${parsed.positionals.length}`)
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
      return 2
    }
    const { values, positionals } = parsed
    const json = values.json === true
    const source = positionals[0]!
    try {
      if (values.remove === true) {
        const r = await removeCapture(source)
        io.stdout.write(
          json
            ? `${JSON.stringify(r, null, 2)}\n`
            : `removed ${r.triggers.length} capture trigger(s)${r.changeTableDropped ? ' and the change table' : ''} from ${r.source}` +
                `${r.pendingChanges > 0 ? ` (it still held ${r.pendingChanges} change(s) no catch-up applied)` : ''}\n`,
        )
        return 0
      }
      const r = await captureChanges(source, { tables: tableList(values.tables) })
      if (json) io.stdout.write(`${JSON.stringify(r, null, 2)}\n`)
      else {
        const lines = [`capturing changes of ${r.captured.length} table(s) on ${r.source} into ${r.changeTable} (${r.mechanism})`]
        for (const t of r.captured) lines.push(`  captured      ${t}`)
        for (const n of r.notCaptured) lines.push(`  NOT captured  ${n.table}: ${n.reason}`)
        lines.push(`next: dbferry copy <source> <target> (it leaves ${r.changeTable} out), then dbferry catch-up <source> <target>`)
        io.stdout.write(`${lines.join('\n')}\n`)
      }
      return 0
    } catch (error) {
      io.stderr.write(`dbferry capture: ${redact(error instanceof Error ? error.message : String(error))}\n`)
      return failureCode(error)
    }
  },
}
