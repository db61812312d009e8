import { UsageError, redact } from '../../errors.js'
import { runWorker, type WorkerEvent } from '../../queue/worker.js'
import type { CliCommand } from '../command.js'
import { commandHelp, parseCommandLine, type CliOption } from '../options-table.js'

const WORKER_OPTIONS: readonly CliOption[] = [
  { name: 'queue', value: '<url>', help: 'the queue database (PostgreSQL URL) the coordinator was given with `copy --queue`' },
  { name: 'run', value: '<id>', help: 'serve only this run, and stop once it has ended. Default: every run, until stopped' },
]

const HELP = commandHelp({
  usage: 'dbferry worker --queue <url> [--run <id>]',
  description: `Copies chunks of queue runs: takes one chunk job at a time from the queue database and copies it from the
run's source to its target (their URLs are in the run's plan), beating a heartbeat into the queue database.
Start as many as you like, on as many machines as reach the source, the target and the queue. A worker
that stops (Ctrl-C, SIGTERM, a crash) leaves its chunk to another, which goes on from what the target holds.`,
  options: WORKER_OPTIONS,
  footer: 'Exit codes: 0 stopped (with --run: the run ended), 2 usage error or a queue that cannot be opened.',
})

/** `dbferry worker --queue <url>`: copies queue runs' chunks until stopped (or, with `--run`, that run's end). */
export const workerCommand: CliCommand = {
  name: 'worker',
  summary: 'copy the chunks of queue runs (see copy --queue)',
  help: HELP,
  options: WORKER_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    let queue: string
    let run: string | undefined
    try {
      const parsed = parseCommandLine(args, WORKER_OPTIONS)
      if (parsed.positionals.length > 0) throw new UsageError(`worker takes no arguments, got ${parsed.positionals.join(' ')}`)
      if (typeof parsed.values.queue !== 'string') throw new UsageError('worker needs --queue <url>')
      queue = parsed.values.queue
      run = typeof parsed.values.run === 'string' ? parsed.values.run : undefined
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
      return 2
    }
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      const summary = await runWorker({ queue, run, signal: stop.signal, onEvent: (e) => e.type !== 'chunk-batch' && io.stderr.write(`${eventLine(e)}\n`) })
      io.stderr.write(`worker ${summary.id}: ${summary.chunks} chunk(s), ${summary.rows} row(s) read, ${summary.failed} failed attempt(s)\n`)
      return 0
    } catch (error) {
      io.stderr.write(`dbferry worker: ${redact(error instanceof Error ? error.message : String(error))}\n`)
      return 2
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}

/** A worker's step as a log line (batches are not logged: a chunk's start and end say enough). */
function eventLine(e: WorkerEvent): string {
  const chunk = `run ${e.run}: ${e.table} chunk ${e.index + 1}`
  switch (e.type) {
    case 'chunk-start':
      return `${chunk}: start`
    case 'chunk-done':
      return `${chunk}: done, ${e.read} row(s) read in ${e.ms} ms`
    case 'chunk-skipped':
      return `${chunk}: skipped (${e.message})`
    case 'chunk-failed':
      return `${chunk}: failed: ${redact(e.message ?? '')}`
    default:
      return `${chunk}: ${e.type}`
  }
}
