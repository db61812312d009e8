import { connect } from '../../connect.js'
import { UsageError, isDbferryError, redact } from '../../errors.js'
import { checkSelection } from '../../schema/select.js'
import { formatVerifyReport } from '../../verify/format.js'
import { verify } from '../../verify/verify.js'
import { parseArgs, type CliCommand } from '../command.js'

const HELP = `dbferry verify <a> <b> [--tables t1,t2] [--hashing auto|engine|node] [--json] [--limit n]

Compares two databases table by table, whatever their engines: row counts, then every value normalised to
one canonical form (numbers by value, decimals by scale, timestamps in UTC at one precision, JSON by value),
hashed per row and compared per segment; differing rows are named by key: missing, extra, changed (with
the columns that differ).

  <a>, <b>        connection URLs: sqlite:./x.db, postgres://…, mysql://…, mssql://…
  --tables list   tables of <a> to compare (comma-separated or repeated). Default: all
  --hashing mode  where rows are hashed: node (in this process), or engine/auto: the servers hash and
                  sum their own rows where that is exact (two PostgreSQL or two MySQL/MariaDB databases,
                  same column types, no tolerance) and node for every other table. Default auto
  --json          print the report as JSON
  --limit n       rows listed per table and kind. Default 20 (100 in --json)

Exit codes: 0 equal, 1 different, 2 usage error (or a database that cannot be opened).`

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
  async run(args, io) {
    let parsed: ReturnType<typeof parseArgs>
    try {
      parsed = parseArgs(args, ['json', 'help'], ['tables'])
      const known = new Set(['json', 'help', 'tables', 'limit', 'hashing'])
      const unknown = Object.keys(parsed.options).filter((k) => !known.has(k))
      if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`)
    } catch (error) {
      io.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
      return 2
    }
    const { positionals, options } = parsed
    if (options.help) {
      io.stdout.write(`${HELP}\n`)
      return 0
    }
    if (positionals.length !== 2) {
      io.stderr.write(`verify needs two databases, got ${positionals.length}\n\n${HELP}\n`)
      return 2
    }
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
    try {
      const report = await verify({ a: positionals[0]!, b: positionals[1]!, tables: list(options.tables), maxDiffs: limit, hashing })
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
