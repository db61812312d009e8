import { installCompat } from '../../compat/install.js'
import { MSSQL_COMPAT_FUNCTIONS } from '../../compat/mssql-postgres.js'
import { UsageError } from '../../errors.js'
import type { CliCommand } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const COMPAT_OPTIONS: readonly CliOption[] = [{ name: 'schema', value: '<s>', help: 'the schema to create the functions in (default mssql)' }]

const HELP = commandHelp({
  usage: 'dbferry compat install mssql <postgres-url> [--schema s]',
  description: `Creates, in PostgreSQL, functions with SQL Server's names and behaviour so views and functions ported from
T-SQL keep working: ${MSSQL_COMPAT_FUNCTIONS.join(', ')}.
They go into their own schema (default "mssql"): call them as mssql.datediff('year', a, b).
Installing again replaces them; nothing else in the database changes.`,
  options: COMPAT_OPTIONS,
})

/** `dbferry compat install mssql <postgres-url>`. */
export const compatCommand: CliCommand = {
  name: 'compat',
  summary: 'install a compatibility pack (SQL Server date and string functions) into PostgreSQL',
  help: HELP,
  options: COMPAT_OPTIONS,
  async run(args, io) {
    const { positionals, values: options } = parseCommandLine(args, COMPAT_OPTIONS)
    logLevelOf(options)
    const [action, pack, url] = positionals
    if (action !== 'install' || !pack || !url || positionals.length > 3) throw new UsageError('usage: dbferry compat install mssql <postgres-url> [--schema s]')
    if (pack !== 'mssql') throw new UsageError(`compat: unknown pack ${JSON.stringify(pack)} (available: mssql)`)
    const schema = options.schema
    if (schema !== undefined && typeof schema !== 'string') throw new UsageError('--schema needs one name')
    const result = await installCompat(url, 'mssql', schema ? { schema } : {})
    io.stdout.write(`Installed the mssql compatibility pack in schema "${result.schema}": ${result.functions.join(', ')}\n`)
    return 0
  },
}
