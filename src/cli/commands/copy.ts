import { ferry, type FerryOptions } from '../../ferry.js'
import { UsageError } from '../../errors.js'
import { exitCodeOf } from '../../report.js'
import type { CliCommand, CliIo } from '../command.js'
import { failedReport, printError } from '../failure-report.js'
import { finishedRun } from '../finished-run.js'
import { abortOnStopSignals, STOP_SIGNALS } from '../interrupt.js'
import { LocalWorkers } from '../local-workers.js'
import { runProgress } from '../log.js'
import { commandHelp, parseCommandLine } from '../options-table.js'
import { formatReport, reportJson } from '../print-report.js'
import { CONNECTIONS_HELP, COPY_OPTIONS, runRequest, type RunRequest } from '../run-options.js'
import { printPlan } from './plan.js'

const HELP = commandHelp({
  usage: 'dbferry copy <from> <to> [options]',
  description: `Copies schema and rows from one database to another: tables parents first, rows through the target's bulk
path, then indexes and foreign keys. Prints a report on stdout (progress goes to stderr); every source row is
written, rejected with a reason, or dropped by a transform that says so.

${CONNECTIONS_HELP}`,
  options: COPY_OPTIONS,
  footer: `Ctrl-C (SIGINT) or SIGTERM stops the copy after the batch being written, keeps the checkpoint in the journal
and prints the report; --resume continues from there.

Exit codes: 0 done, nothing rejected; 3 done with rejected/dropped rows, unvalidated constraints or a --verify
difference; 1 failed; 2 bad usage; 130 stopped by SIGINT; 143 stopped by SIGTERM.`,
})

/** What `copy`'s command line asks for: a {@link RunRequest} with its `to`. */
export type CopyRequest = RunRequest & { options: FerryOptions }

/**
 * Turns `copy` arguments into ferry options: a config file's options first, the environment's
 * `DBFERRY_FROM`/`DBFERRY_TO` over them, flags over both; connection names resolved (see `CONNECTIONS_HELP`).
 */
export async function copyOptions(args: string[], io: CliIo): Promise<CopyRequest> {
  const request = await runRequest(parseCommandLine(args, COPY_OPTIONS), io, 'copy')
  const to = request.options.to
  if (to === undefined) throw new UsageError('copy needs <from> and <to> (or $DBFERRY_FROM and $DBFERRY_TO, or a --config that names them)')
  return { ...request, options: { ...request.options, to } }
}

/** Whether the arguments ask for `--json`, read before they are parsed: a usage error must honour it too. */
function asksForJson(args: readonly string[]): boolean {
  const end = args.indexOf('--')
  return (end < 0 ? args : args.slice(0, end)).includes('--json')
}

/** Runs the copy and prints its report; a SIGINT or SIGTERM aborts it (see {@link abortOnStopSignals}). */
async function copy(request: CopyRequest, io: CliIo): Promise<number> {
  const { options, json, log } = request
  // --resume after a run that finished: not a failure when the target holds exactly what that run wrote
  const finished = await finishedRun(options)
  if (finished) {
    io.stdout.write((json ? JSON.stringify({ ...finished.report, nothingToResume: finished.message }, null, 2) : finished.message) + '\n')
    return 0
  }
  const display = runProgress(io, log, json)
  const controller = new AbortController()
  const signals = abortOnStopSignals(controller)
  const workers = request.workers > 0 ? new LocalWorkers(request.workers, options.queue!, io.stderr) : undefined
  let report
  try {
    report = await ferry({ ...options, onProgress: workers ? workers.onProgress(display.onProgress) : display.onProgress, signal: controller.signal })
  } finally {
    await workers?.close(controller.signal.aborted)
    display.stop()
    signals.dispose()
  }
  const signal = report.error?.code === 'aborted' ? signals.received() : undefined
  io.stdout.write((json ? reportJson(report, { signal }) : formatReport(report, { signal })) + '\n')
  log.debug(`exit: ${signal ? STOP_SIGNALS[signal] : exitCodeOf(report)} (ok ${report.ok}, clean ${report.clean}${report.error ? `, error ${report.error.code}` : ''})`)
  return signal ? STOP_SIGNALS[signal] : report.error && USAGE_CODES.has(report.error.code) ? 2 : exitCodeOf(report)
}

/** Failure kinds that are the user's to fix in the command line (a misspelt table, a missing driver): exit 2. */
const USAGE_CODES: ReadonlySet<string> = new Set(['usage', 'not_available'])

/** `dbferry copy`. */
export const copyCommand: CliCommand = {
  name: 'copy',
  summary: 'copy a database (schema and rows) into another',
  help: HELP,
  options: COPY_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    const started = Date.now()
    const json = asksForJson(args)
    let options: FerryOptions | undefined
    try {
      const request = await copyOptions(args, io)
      options = request.options
      if (request.dryRun) {
        return await printPlan({ ...request.options }, { json: request.json, scan: true }, io)
      }
      return await copy(request, io)
    } catch (error) {
      if (!json) throw error
      // --json promises a report on stdout, also for a run that could not start (bad URL, server down, no file)
      io.stdout.write(reportJson(failedReport(error, options?.from, options?.to, Date.now() - started)) + '\n')
      return printError('copy', error, io)
    }
  },
}

