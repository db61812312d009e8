import { UsageError, redact } from '../../errors.js'
import { formatQueueStatus, queueStatus } from '../../queue/status.js'
import type { CliCommand } from '../command.js'
import { commandHelp, parseCommandLine, type CliOption } from '../options-table.js'

const STATUS_OPTIONS: readonly CliOption[] = [
  { name: 'queue', value: '<url>', help: 'the queue database (PostgreSQL URL)' },
  { name: 'run', value: '<id>', help: 'only this run. Default: the 10 newest' },
  { name: 'json', help: 'print the status as JSON' },
]

const HELP = commandHelp({
  usage: 'dbferry status --queue <url> [--run <id>] [--json]',
  description: `Shows the queue runs in a queue database — per table its chunks by state (pending, running, done, failed) and
the rows read, written, rejected and dropped so far — and the workers beating now, with the chunk each holds.`,
  options: STATUS_OPTIONS,
  footer: 'Exit codes: 0 shown, 2 usage error or a queue that cannot be opened.',
})

/** `dbferry status --queue <url>`: the progress of queue runs and their workers. */
export const statusCommand: CliCommand = {
  name: 'status',
  summary: 'show the progress of queue runs and their workers',
  help: HELP,
  options: STATUS_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    let parsed: ReturnType<typeof parseCommandLine>
    try {
      parsed = parseCommandLine(args, STATUS_OPTIONS)
      if (parsed.positionals.length > 0) throw new UsageError(`status takes no arguments, got ${parsed.positionals.join(' ')}`)
      if (typeof parsed.values.queue !== 'string') throw new UsageError('status needs --queue <url>')
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
      return 2
    }
    try {
      const status = await queueStatus(parsed.values.queue as string, typeof parsed.values.run === 'string' ? parsed.values.run : undefined)
      io.stdout.write(parsed.values.json === true ? `${JSON.stringify(status, null, 2)}\n` : `${formatQueueStatus(status)}\n`)
      return 0
    } catch (error) {
      io.stderr.write(`dbferry status: ${redact(error instanceof Error ? error.message : String(error))}\n`)
      return 2
    }
  },
}
