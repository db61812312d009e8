import { resolve } from 'node:path'
import { connect } from '../../connect.js'
import { UsageError, isDbferryError, redact } from '../../errors.js'
import { checkSelection } from '../../schema/select.js'
import { formatVerifyReport } from '../../verify/format.js'
import { verify } from '../../verify/verify.js'
import { connectionsConfig, resolveConnection } from '../../config/connections.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const VERIFY_OPTIONS: readonly CliOption[] = [
  { name: 'tables', value: '<list>', repeatable: true, help: 'tables of <a> to compare (comma-separated or repeated). Default: all' },
  {
    name: 'hashing',
    value: '<mode>',
    choices: ['auto', 'engine', 'node'],
    help: 'where rows are hashed: node (in this process), or engine/auto: the servers hash and\nsum their own rows where that is exact (two PostgreSQL or two MySQL/MariaDB databases,\nsame column types, no tolerance) and node for every other table. Default auto',
  },
  { name: 'json', help: 'print the report as JSON' },
  { name: 'limit', value: '<n>', help: 'rows listed per table and kind. Default 20 (100 in --json)' },
  {
    name: 'journal',
    value: '<file>',
    file: true,
    help: "a copy's journal: expect the rows it rejected or dropped, the values it fixed, the rows\nit inserted, and skip the tables it excluded (its latest finished run from <a> to <b>)",
  },
  { name: 'run', value: '<id>', help: 'with --journal: the run to expect instead (ids as `dbferry rejects` lists them)' },
]

const HELP = commandHelp({
  usage: 'dbferry verify <a> <b> [options]',
  description: `Compares two databases table by table, whatever their engines: row counts, then every value normalised to
one canonical form (numbers by value, decimals by scale, timestamps in UTC at one precision, JSON by value),
hashed per row and compared per segment; differing rows are named by key: missing, extra, changed (with
the columns that differ).

<a>, <b> are connection URLs (sqlite:./x.db, postgres://…, mysql://…, mssql://…) or names of connections in
./dbferry.config.*; left out, they are $DBFERRY_FROM and $DBFERRY_TO (the copy's source and target).`,
  options: VERIFY_OPTIONS,
  footer: 'Exit codes: 0 equal (with --journal: also equal but for the expected differences), 1 different,\n2 usage error (or a database or journal that cannot be opened).',
})

/**
 * The two databases: the arguments, else `$DBFERRY_FROM` and `$DBFERRY_TO`; a name without a URL scheme is a
 * connection of ./dbferry.config.* (see `resolveConnection`).
 */
async function databases(positionals: string[], io: CliIo): Promise<[string, string]> {
  if (positionals.length > 2) throw new UsageError(`verify needs two databases, got ${positionals.length}`)
  const named = () => connectionsConfig(io.cwd, undefined)
  const a = await resolveConnection('from', { argument: positionals[0], env: positionals.length === 0 ? io.env : {} }, named)
  const b = await resolveConnection('to', { argument: positionals[1], env: positionals.length === 0 ? io.env : {} }, named)
  if (typeof a?.spec !== 'string' || typeof b?.spec !== 'string') throw new UsageError(`verify needs two databases, got ${positionals.length}`)
  return [a.spec, b.spec]
}

function list(v: string | boolean | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'boolean') throw new UsageError('--tables needs a list of table names')
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
}

/** `dbferry verify <a> <b>`: exit 0 equal, 1 different, 2 usage. */
export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'compare two databases row by row, across engines',
  help: HELP,
  options: VERIFY_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    let parsed: ReturnType<typeof parseCommandLine>
    let ends: [string, string]
    try {
      parsed = parseCommandLine(args, VERIFY_OPTIONS)
      logLevelOf(parsed.values)
      ends = await databases(parsed.positionals, io)
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
      return 2
    }
    const { values: options } = parsed
    const positionals = ends
    const json = options.json === true
    const limitText = options.limit
    const limit = typeof limitText === 'string' ? Number(limitText) : json ? 100 : 20
    if (!Number.isInteger(limit) || limit < 0) {
      io.stderr.write(`--limit must be a whole number\n`)
      return 2
    }
    const hashing = options.hashing ?? 'auto'
    if (hashing !== 'auto' && hashing !== 'engine' && hashing !== 'node') {
      io.stderr.write(`--hashing must be auto, engine or node\n`)
      return 2
    }
    const journal = typeof options.journal === 'string' ? options.journal : undefined
    const run = typeof options.run === 'string' ? Number(options.run) : undefined
    if (run !== undefined && (!Number.isInteger(run) || run <= 0 || journal === undefined)) {
      io.stderr.write(journal === undefined ? `--run needs --journal\n` : `--run takes a run id (a positive whole number)\n`)
      return 2
    }
    try {
      const expected = journal === undefined ? {} : { journal: { path: resolve(io.cwd, journal), ...(run === undefined ? {} : { run }) } }
      const report = await verify({ a: positionals[0]!, b: positionals[1]!, tables: list(options.tables), maxDiffs: limit, hashing, ...expected })
      io.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatVerifyReport(report, { limit })}\n`)
      return report.equal ? 0 : 1
    } catch (thrown) {
      const error = await withClosestTables(thrown, positionals[0]!, list(options.tables))
      const message = redact(error instanceof Error ? error.message : String(error))
      if (json) io.stdout.write(`${JSON.stringify({ equal: false, error: { code: isDbferryError(error) ? error.code : 'error', message } }, null, 2)}\n`)
      io.stderr.write(`dbferry verify: ${message}\n`)
      return 2
    }
  },
}

/**
 * A `--tables` name that `a` lacks stops verify with a usage error; this one also names the closest tables of
 * `a` (edit distance), read again only on this error path. Any other error is returned as it is.
 */
async function withClosestTables(error: unknown, a: string, tables: string[] | undefined): Promise<unknown> {
  if (!(error instanceof UsageError) || error.code !== 'usage' || !tables) return error
  try {
    const opened = await connect(a)
    try {
      checkSelection((await opened.connection.introspect()).tables.map((t) => t.name), { include: tables }, { option: () => '--tables', where: 'a' })
    } finally {
      if (opened.owned) await opened.connection.close()
    }
  } catch (better) {
    if (better instanceof UsageError) return better
  }
  return error
}
