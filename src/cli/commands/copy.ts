import { resolve } from 'node:path'
import { ferry, type FerryOptions } from '../../ferry.js'
import { UsageError } from '../../errors.js'
import { exitCodeOf } from '../../report.js'
import type { TargetMode } from '../../dialect.js'
import { parseArgs, type CliCommand, type CliIo } from '../command.js'
import { failedReport, printError } from '../failure-report.js'
import { finishedRun } from '../finished-run.js'
import { abortOnStopSignals, STOP_SIGNALS } from '../interrupt.js'
import { formatReport, reportJson } from '../print-report.js'
import { progressDisplay } from '../progress-display.js'

const MODES: readonly TargetMode[] = ['create', 'truncate', 'append', 'recreate']

/** The options of copy (and plan) that may be repeated: lists. Every other option is given at most once. */
export const COPY_REPEATABLE = ['tables', 'exclude', 'fk'] as const

const HELP = `dbferry copy <from> <to> [options]

Copies schema and rows from one database to another: tables parents first, rows through the target's bulk
path, then indexes and foreign keys. Prints a report; every source row is written, rejected with a reason, or
dropped by a transform that says so.

Options:
  --config <file>          a dbferry.config.ts/.js/.json with the same options as ferry(); <from>/<to> optional then
  --mode <m>               create (default: fail if a table exists) | truncate | append | recreate
  --tables <a,b>           copy only these tables (repeatable)
  --exclude <a,b>          skip these tables (a /regex/ is allowed; repeatable)
  --fk <child.col=parent.col>   declare a foreign key the source lacks (repeatable)
  --journal <file>         where rejected rows and checkpoints go (default ./dbferry-journal.sqlite)
  --no-journal             keep no journal file
  --resume                 continue the interrupted run recorded in the journal (no row lost or written twice);
                           "nothing to resume" (exit 0) when the last run finished and the target holds its rows
  --batch-rows <n>         rows per batch (default 10000)
  --concurrency <n>        tables copied at once where the plan allows (default 1)
  --fallback-encoding <e>  decode source text that is not UTF-8 with this encoding (e.g. cp1252)
  --strip-nul              remove U+0000 from text for targets that cannot store it (default: reject the row)
  --decimals reject|round  a decimal with more places than the target's scale: reject the row (default) or round it
  --no-pass-through        load CSV tables row by row even where the target could parse the file itself
  --lower-case             fold identifiers to lower case on the target (default: preserve)
  --json                   print only the report, as JSON, on stdout (also when the run cannot start: its
                           "error" says why)
  --quiet                  no progress output

Ctrl-C (SIGINT) or SIGTERM stops the copy after the batch being written, keeps the checkpoint in the journal
and prints the report; --resume continues from there.

Exit codes: 0 done, nothing rejected; 3 done with rejected/dropped rows or unvalidated constraints;
1 failed; 2 bad usage; 130 stopped by SIGINT; 143 stopped by SIGTERM.`

function list(v: unknown): string[] {
  if (v === undefined || v === true) return []
  return (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)
}

function matcher(s: string): string | RegExp {
  const m = /^\/(.*)\/([a-z]*)$/.exec(s)
  return m ? new RegExp(m[1]!, m[2]) : s
}

function int(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} takes a positive whole number`)
  return n
}

/** Turns `copy` arguments into ferry options (a config file's options first, flags over them). */
export async function copyOptions(args: string[], io: CliIo): Promise<{ options: FerryOptions; json: boolean; quiet: boolean }> {
  const { positionals, options: o } = parseArgs(args, ['json', 'no-journal', 'strip-nul', 'lower-case', 'quiet', 'resume', 'no-pass-through'], COPY_REPEATABLE)
  const known = new Set(['config', 'mode', 'tables', 'exclude', 'fk', 'journal', 'no-journal', 'batch-rows', 'concurrency', 'fallback-encoding', 'strip-nul', 'decimals', 'lower-case', 'json', 'quiet', 'help', 'resume', 'no-pass-through'])
  for (const k of Object.keys(o)) if (!known.has(k)) throw new UsageError(`unknown option --${k}`)
  let base: Partial<FerryOptions> = {}
  if (typeof o.config === 'string') {
    const { loadConfig } = await import('../../config/load-config.js')
    base = (await loadConfig(resolve(io.cwd, o.config))) as Partial<FerryOptions>
  }
  const [from = base.from, to = base.to, extra] = positionals
  if (extra !== undefined) throw new UsageError(`too many arguments: ${extra}`)
  if (from === undefined || to === undefined) throw new UsageError('copy needs <from> and <to> (or a --config that names them)')
  const mode = (o.mode ?? base.mode ?? 'create') as TargetMode
  if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`)
  const include = list(o.tables).map(matcher)
  const exclude = list(o.exclude).map(matcher)
  const fks = list(o.fk).map((s) => {
    const [from, to] = s.split('=')
    if (!from || !to) throw new UsageError(`--fk takes child.column=parent.column, got ${JSON.stringify(s)}`)
    return { from, to }
  })
  const journal = o['no-journal'] ? false : typeof o.journal === 'string' ? o.journal : base.journal ?? 'dbferry-journal.sqlite'
  const options: FerryOptions = {
    ...base,
    from,
    to,
    mode,
    tables: include.length || exclude.length ? { include: include.length ? include : base.tables?.include, exclude: [...(base.tables?.exclude ?? []), ...exclude] } : base.tables,
    foreignKeys: [...(base.foreignKeys ?? []), ...fks],
    journal,
    batchRows: int(o['batch-rows'], 'batch-rows') ?? base.batchRows,
    concurrency: int(o.concurrency, 'concurrency') ?? base.concurrency,
    fallbackEncoding: typeof o['fallback-encoding'] === 'string' ? o['fallback-encoding'] : base.fallbackEncoding,
    stripNul: o['strip-nul'] === true || base.stripNul,
    decimals: decimalsPolicy(o.decimals) ?? base.decimals,
    resume: o.resume === true || base.resume,
    passThrough: o['no-pass-through'] === true ? false : base.passThrough,
    identifiers: o['lower-case'] ? { ...base.identifiers, case: 'lower' } : base.identifiers,
  }
  return { options, json: o.json === true, quiet: o.quiet === true }
}

/** Whether the arguments ask for `--json`, read before they are parsed: a usage error must honour it too. */
function asksForJson(args: readonly string[]): boolean {
  const end = args.indexOf('--')
  return (end < 0 ? args : args.slice(0, end)).includes('--json')
}

/** Runs the copy and prints its report; a SIGINT or SIGTERM aborts it (see {@link abortOnStopSignals}). */
async function copy(options: FerryOptions, json: boolean, quiet: boolean, io: CliIo): Promise<number> {
  // --resume after a run that finished: not a failure when the target holds exactly what that run wrote
  const finished = await finishedRun(options)
  if (finished) {
    io.stdout.write((json ? JSON.stringify({ ...finished.report, nothingToResume: finished.message }, null, 2) : finished.message) + '\n')
    return 0
  }
  const display = progressDisplay(io, json || quiet ? 'none' : io.stdout.isTTY ? 'tty' : 'lines')
  const controller = new AbortController()
  const signals = abortOnStopSignals(controller)
  let report
  try {
    report = await ferry({ ...options, onProgress: display.onProgress, signal: controller.signal })
  } finally {
    display.stop()
    signals.dispose()
  }
  const signal = report.error?.code === 'aborted' ? signals.received() : undefined
  io.stdout.write((json ? reportJson(report, { signal }) : formatReport(report, { signal })) + '\n')
  return signal ? STOP_SIGNALS[signal] : report.error && USAGE_CODES.has(report.error.code) ? 2 : exitCodeOf(report)
}

/** Failure kinds that are the user's to fix in the command line (a misspelt table, a missing driver): exit 2. */
const USAGE_CODES: ReadonlySet<string> = new Set(['usage', 'not_available'])

/** `dbferry copy`. */
export const copyCommand: CliCommand = {
  name: 'copy',
  summary: 'copy a database (schema and rows) into another',
  help: HELP,
  async run(args, io) {
    const started = Date.now()
    const json = asksForJson(args)
    let options: FerryOptions | undefined
    try {
      const parsed = await copyOptions(args, io)
      options = parsed.options
      return await copy(parsed.options, parsed.json, parsed.quiet, io)
    } catch (error) {
      if (!json) throw error
      // --json promises a report on stdout, also for a run that could not start (bad URL, server down, no file)
      io.stdout.write(reportJson(failedReport(error, options?.from, options?.to, Date.now() - started)) + '\n')
      return printError('copy', error, io)
    }
  },
}

/** `--decimals`: `reject` or `round`; anything else is a usage error. */
function decimalsPolicy(value: unknown): 'reject' | 'round' | undefined {
  if (value === undefined) return undefined
  if (value === 'reject' || value === 'round') return value
  throw new UsageError(`--decimals takes reject or round, not ${JSON.stringify(value)}`)
}
