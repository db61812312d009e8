import { installCompat } from '../../compat/install.js'
import { MSSQL_COMPAT_FUNCTIONS } from '../../compat/mssql-postgres.js'
import { UsageError } from '../../errors.js'
import { parseArgs, type CliCommand } from '../command.js'

const HELP = `dbferry compat install mssql <postgres-url> [--schema s]

Creates, in PostgreSQL, functions with SQL Server's names and behaviour so views and functions ported from
T-SQL keep working: ${MSSQL_COMPAT_FUNCTIONS.join(', ')}.
They go into their own schema (default "mssql"): call them as mssql.datediff('year', a, b).
Installing again replaces them; nothing else in the database changes.

Options:
  --schema s   the schema to create the functions in (default mssql)`

/** `dbferry compat install mssql <postgres-url>`. */
export const compatCommand: CliCommand = {
  name: 'compat',
  summary: 'install a compatibility pack (SQL Server date and string functions) into PostgreSQL',
  help: HELP,
  async run(args, io) {
    const { positionals, options } = parseArgs(args)
    const [action, pack, url] = positionals
    for (const k of Object.keys(options)) if (k !== 'schema' && k !== 'help') throw new UsageError(`compat: unknown option --${k}`)
    if (options.help) {
      io.stdout.write(HELP + '\n')
      return 0
    }
    if (action !== 'install' || !pack || !url || positionals.length > 3) throw new UsageError('usage: dbferry compat install mssql <postgres-url> [--schema s]')
    if (pack !== 'mssql') throw new UsageError(`compat: unknown pack ${JSON.stringify(pack)} (available: mssql)`)
    const schema = options.schema
    if (schema !== undefined && typeof schema !== 'string') throw new UsageError('--schema needs one name')
    const result = await installCompat(url, 'mssql', schema ? { schema } : {})
    io.stdout.write(`Installed the mssql compatibility pack in schema "${result.schema}": ${result.functions.join(', ')}\n`)
    return 0
  },
}
