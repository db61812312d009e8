import { resolve } from 'node:path'
import type { FerryOptions } from '../ferry.js'
import { UsageError } from '../errors.js'
import { defaultJournalPath } from '../journal/default-path.js'
import type { TargetMode } from '../dialect.js'
import type { CliIo } from './command.js'
import { cliLog, type CliLog } from './log.js'
import { logLevelOf, type CliOption, type ParsedCommandLine } from './options-table.js'

const MODES: readonly TargetMode[] = ['create', 'truncate', 'append', 'recreate']

/** `--preflight` on the command line → ferry's `preflight`: `warn` lists the problems in the report, `stop` refuses to start. */
const PREFLIGHT = { off: 'off', warn: 'report', stop: 'stop' } as const

/**
 * The options that say what a run copies and how: copy's, and plan's (a plan describes exactly the copy it
 * precedes), in one table for both parsers, both helps and the shell completion.
 */
export const RUN_OPTIONS: readonly CliOption[] = [
  { name: 'config', value: '<file>', file: true, help: 'a dbferry.config.ts/.js/.json with the same options as ferry() (and named connections);\n<from>/<to> optional then' },
  { name: 'mode', value: '<m>', choices: MODES, help: 'create (default: fail if a table exists) | truncate | append | recreate' },
  { name: 'tables', value: '<a,b>', repeatable: true, help: 'copy only these tables (a /regex/ is allowed)' },
  { name: 'exclude', value: '<a,b>', repeatable: true, help: 'skip these tables (a /regex/ is allowed)' },
  { name: 'fk', value: '<child.col=parent.col>', repeatable: true, help: 'declare a foreign key the source lacks' },
  { name: 'fallback-encoding', value: '<e>', help: 'decode source text that is not UTF-8 with this encoding (e.g. cp1252)' },
  { name: 'lower-case', help: 'fold identifiers to lower case on the target (default: preserve)' },
]

/** copy's options: {@link RUN_OPTIONS} and those of the run itself. */
export const COPY_OPTIONS: readonly CliOption[] = [
  ...RUN_OPTIONS,
  { name: 'schema-only', help: 'create the tables, indexes and foreign keys; copy no rows' },
  { name: 'data-only', help: 'copy rows only, into tables the target has (mode append, or truncate); create none' },
  { name: 'dry-run', help: 'copy nothing: print the plan of this copy (as dbferry plan with the same options)' },
  { name: 'preflight', value: '<p>', choices: Object.keys(PREFLIGHT), help: 'scan the source first for what the target would refuse: warn (list it in the report)\nor stop (exit 1 before anything is written). Default off' },
  { name: 'verify', help: 'compare source and target after the copy, expecting the rejected and dropped rows to\nbe missing; a difference makes the exit code 3' },
  { name: 'journal', value: '<file>', file: true, help: 'where rejected rows and checkpoints go (default ./dbferry-journal-<target>.sqlite, named after the target)' },
  { name: 'no-journal', help: 'keep no journal file' },
  { name: 'resume', help: 'continue the interrupted run recorded in the journal (no row lost or written twice);\n"nothing to resume" (exit 0) when the last run finished and the target holds its rows' },
  { name: 'backup', value: '<file>', file: true, help: 'where to back up an SQLite target before changing it (default: <file>.<time>.backup)' },
  { name: 'no-backup', help: 'do not back up an SQLite target the run changes (modes truncate, append, recreate)' },
  { name: 'batch-rows', value: '<n>', help: 'rows per batch (default 5000)' },
  { name: 'concurrency', short: 'j', value: '<n>', help: 'tables copied at once where the plan allows (default 1)' },
  { name: 'jobs', value: '<n>', help: 'copy with n source and target connections at once: tables split into chunks by their\nkey (or rowid, or PostgreSQL page ranges), several chunks and tables at a time (default 1,\nwith --threads one per two cores; needs URLs, no transforms)' },
  { name: 'threads', help: 'with --jobs: copy the chunks of split tables in worker threads, each with its own\nconnections, so that reading and encoding use several cores (default: all jobs in one thread)' },
  { name: 'chunk-rows', value: '<n>', help: 'with --jobs: rows per chunk of a split table (default 250000)' },
  { name: 'queue', value: '<url>', help: 'copy through a queue (a PostgreSQL database for pg-boss): plan and enqueue the chunks,\nthen wait while `dbferry worker --queue <url>` processes, here or on other machines, copy\nthem (needs URLs, no transforms; see docs/scale-out.md)' },
  { name: 'workers', value: '<n>', help: 'with --queue: also start n worker processes on this machine, which stop when the run ends\n(default 0: workers are started separately)' },
  { name: 'queue-stale', value: '<s>', help: 'with --queue: seconds without a worker\'s heartbeat before its chunk goes to another\n(default 30)' },
  { name: 'snapshot-lock', help: 'with --jobs from MySQL/MariaDB: start every job\'s snapshot under one brief FLUSH TABLES\nWITH READ LOCK, so all read the same moment (needs RELOAD; default: a snapshot each)' },
  { name: 'strip-nul', help: 'remove U+0000 from text for targets that cannot store it (default: reject the row)' },
  { name: 'decimals', value: '<d>', choices: ['reject', 'round'], help: 'a decimal with more places than the target\'s scale: reject the row (default) or round it' },
  { name: 'no-pass-through', help: 'load CSV tables row by row even where the target could parse the file itself' },
  { name: 'json', help: 'print only the report, as JSON, on stdout (also when the run cannot start: its "error"\nsays why)' },
]

/** Where the ends of a run may come from, for every command that takes `<from>`/`<to>` (copy, plan). */
export const CONNECTIONS_HELP = `<from> and <to> are URLs (sqlite:./file.db, postgres://user@host/db, …) or names of connections in the config
file (connections: { legacy: 'postgres://…' }; the --config file, else ./dbferry.config.* in this folder). Left
out, they come from $DBFERRY_FROM and $DBFERRY_TO, then from the config's from/to: a password then never
appears on a command line.`

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

/** What a `copy` or `plan` command line asks for: the run's options (`to` possibly undefined) and the rest. */
export interface RunRequest {
  options: Omit<FerryOptions, 'to'> & { to: FerryOptions['to'] | undefined }
  json: boolean
  /** `--quiet`: the log level is `error`. */
  quiet: boolean
  /** `--dry-run`: plan this copy instead of running it. */
  dryRun: boolean
  /** `--workers`: worker processes to start on this machine for a `--queue` run. Default 0. */
  workers: number
  log: CliLog
}

/**
 * Turns a parsed `copy` or `plan` (`command`) command line into ferry options: a config file's options first,
 * the environment's `DBFERRY_FROM`/`DBFERRY_TO` over them, flags over both; connection names resolved (see
 * {@link CONNECTIONS_HELP}). `to` is undefined when none of them gives one (plan does without).
 */
export async function runRequest({ positionals, values: o }: ParsedCommandLine, io: CliIo, command: string): Promise<RunRequest> {
  const log = cliLog(io, logLevelOf(o))
  const { loadConfig } = await import('../config/load-config.js')
  const { connectionsConfig, describeConnection, resolveConnection } = await import('../config/connections.js')
  let config: { path: string; options: Awaited<ReturnType<typeof loadConfig>> } | undefined
  if (typeof o.config === 'string') config = { path: o.config, options: await loadConfig(resolve(io.cwd, o.config)) }
  const { connections: _connections, ...base } = config?.options ?? {}
  const [fromArg, toArg, extra] = positionals
  if (extra !== undefined) throw new UsageError(`too many arguments: ${extra}`)
  let named: Promise<Awaited<ReturnType<typeof connectionsConfig>>> | undefined
  const connections = () => (named ??= connectionsConfig(io.cwd, config))
  const from = await resolveConnection('from', { argument: fromArg, env: io.env, config: base.from }, connections)
  const to = await resolveConnection('to', { argument: toArg, env: io.env, config: base.to }, connections)
  if (from === undefined) throw new UsageError(`${command} needs <from>${command === 'copy' ? ' and <to>' : ''} (or $DBFERRY_FROM${command === 'copy' ? ' and $DBFERRY_TO' : ''}, or a --config that names them)`)
  log.debug(describeConnection('from', from))
  if (to) log.debug(describeConnection('to', to))
  if (config) log.debug(`config: ${config.path}`)
  const mode = (o.mode ?? base.mode) as TargetMode | undefined
  if (mode !== undefined && !MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`)
  const include = list(o.tables).map(matcher)
  const exclude = list(o.exclude).map(matcher)
  const fks = list(o.fk).map((s) => {
    const [from, to] = s.split('=')
    if (!from || !to) throw new UsageError(`--fk takes child.column=parent.column, got ${JSON.stringify(s)}`)
    return { from, to }
  })
  if (o['no-journal'] && typeof o.journal === 'string') throw new UsageError('--journal and --no-journal exclude each other')
  if (o['no-backup'] && typeof o.backup === 'string') throw new UsageError('--backup and --no-backup exclude each other')
  const journal = o['no-journal'] ? false : typeof o.journal === 'string' ? o.journal : base.journal ?? defaultJournalPath(to?.spec)
  const options: Omit<FerryOptions, 'to'> & { to: FerryOptions['to'] | undefined } = {
    ...base,
    from: from.spec as FerryOptions['from'],
    to: to?.spec as FerryOptions['to'] | undefined,
    mode: mode ?? (o['data-only'] === true || base.dataOnly ? undefined : 'create'),
    tables: include.length || exclude.length ? { include: include.length ? include : base.tables?.include, exclude: [...(base.tables?.exclude ?? []), ...exclude] } : base.tables,
    foreignKeys: [...(base.foreignKeys ?? []), ...fks],
    journal,
    batchRows: int(o['batch-rows'], 'batch-rows') ?? base.batchRows,
    concurrency: int(o.concurrency, 'concurrency') ?? base.concurrency,
    jobs: int(o.jobs, 'jobs') ?? base.jobs,
    chunkRows: int(o['chunk-rows'], 'chunk-rows') ?? base.chunkRows,
    snapshotLock: o['snapshot-lock'] === true || base.snapshotLock,
    threads: o.threads === true || base.threads,
    queue: typeof o.queue === 'string' ? o.queue : base.queue,
    queueStaleSeconds: int(o['queue-stale'], 'queue-stale') ?? base.queueStaleSeconds,
    fallbackEncoding: typeof o['fallback-encoding'] === 'string' ? o['fallback-encoding'] : base.fallbackEncoding,
    stripNul: o['strip-nul'] === true || base.stripNul,
    decimals: decimalsPolicy(o.decimals) ?? base.decimals,
    resume: o.resume === true || base.resume,
    passThrough: o['no-pass-through'] === true ? false : base.passThrough,
    identifiers: o['lower-case'] ? { ...base.identifiers, case: 'lower' } : base.identifiers,
    schemaOnly: o['schema-only'] === true || base.schemaOnly,
    dataOnly: o['data-only'] === true || base.dataOnly,
    verify: o.verify === true || base.verify,
    preflight: preflightPolicy(o.preflight) ?? base.preflight,
    backup: o['no-backup'] === true ? false : typeof o.backup === 'string' ? o.backup : base.backup,
  }
  // the ferry options the file left out stay out (undefined is not "false" for every option)
  for (const k of Object.keys(options) as (keyof typeof options)[]) if (options[k] === undefined && k !== 'to') delete options[k]
  if (options.schemaOnly && options.dataOnly) throw new UsageError('--schema-only and --data-only exclude each other: a copy without either copies both')
  if (options.schemaOnly && options.verify) throw new UsageError('--verify compares rows, and --schema-only copies none')
  if (options.dataOnly && (options.mode === 'create' || options.mode === 'recreate')) throw new UsageError(`--data-only writes into tables the target has: --mode append (its default) or truncate, not ${options.mode}`)
  const workers = int(o.workers, 'workers') ?? 0
  if (workers > 0 && !options.queue) throw new UsageError('--workers needs --queue (workers copy the chunks of a queue run)')
  return { options, json: o.json === true, quiet: log.level === 'error', dryRun: o['dry-run'] === true, workers, log }
}

/** `--decimals`: `reject` or `round`; anything else is a usage error. */
function decimalsPolicy(value: unknown): 'reject' | 'round' | undefined {
  if (value === undefined) return undefined
  if (value === 'reject' || value === 'round') return value
  throw new UsageError(`--decimals takes reject or round, not ${JSON.stringify(value)}`)
}

/** `--preflight`: off, warn or stop; anything else is a usage error. */
function preflightPolicy(value: unknown): FerryOptions['preflight'] {
  if (value === undefined) return undefined
  if (typeof value === 'string' && value in PREFLIGHT) return PREFLIGHT[value as keyof typeof PREFLIGHT]
  throw new UsageError(`--preflight takes off, warn or stop, not ${JSON.stringify(value)}`)
}
