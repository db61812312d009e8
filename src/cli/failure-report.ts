import { DbferryError, UsageError, redact } from '../errors.js'
import { totalsOf, type Report } from '../report.js'
import type { CliIo } from './command.js'

/** The error as a report carries it: the failure-kind code and the message, credentials redacted. */
export function errorOf(error: unknown): { code: string; message: string } {
  return {
    code: error instanceof DbferryError ? error.code : 'error',
    message: redact(error instanceof Error ? error.message : String(error)),
  }
}

/**
 * The CLI's exit code for an error that stopped a command before it could report: 2 for bad usage and for a
 * missing driver or feature (`not_available`: the user installs a package or changes an option), else 1.
 */
export function exitCodeOfError(error: unknown): 1 | 2 {
  return error instanceof UsageError ? 2 : 1
}

/**
 * The report of a run that never started (bad options or URL, a server that cannot be reached, a missing
 * file), so that `--json` still prints a report with its `error`. `from`/`to` are shown redacted; a
 * connection given as an object, or not given, shows as `?`.
 */
export function failedReport(error: unknown, from: unknown, to: unknown, ms: number): Report {
  const name = (spec: unknown) => (typeof spec === 'string' ? redact(spec) : '?')
  return {
    ok: false,
    clean: false,
    source: name(from),
    target: name(to),
    tables: [],
    totals: totalsOf([]),
    renames: [],
    deferredForeignKeys: [],
    constraints: [],
    objects: [],
    ms,
    error: errorOf(error),
  }
}

/**
 * Writes the one line that says why command `name` stopped (a usage error also points at `--help`) on
 * stderr, and returns the exit code for it.
 */
export function printError(name: string, error: unknown, io: Pick<CliIo, 'stderr'>): 1 | 2 {
  const { code, message } = errorOf(error)
  const exit = exitCodeOfError(error)
  if (exit === 2) io.stderr.write(`dbferry ${name}: ${message}\n(see dbferry ${name} --help)\n`)
  else io.stderr.write(`dbferry ${name}: ${message}${error instanceof DbferryError ? ` [${code}]` : ''}\n`)
  return exit
}
