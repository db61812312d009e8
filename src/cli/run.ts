import type { CliIo } from './command.js'
import { commands } from './commands/index.js'
import { printError } from './failure-report.js'

const VERSION = '0.1.0'

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length))
  return [
    'dbferry — move whole databases (schema and rows) among SQLite, PostgreSQL, MySQL/MariaDB and SQL Server',
    '',
    'Usage: dbferry <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'URLs: sqlite:./file.db  postgres://user@host/db  mysql://user@host/db  mssql://user:pass@host/db',
    '',
    'Exit codes: 0 done, nothing rejected; 3 done, but rows were rejected or dropped or a constraint could',
    'not be created or validated; 1 failed; 2 bad usage; 130 stopped by Ctrl-C (SIGINT), 143 by SIGTERM',
    '(continue with --resume).',
    '',
    'Every command takes -q/--quiet (only errors on stderr), -v/--verbose (every progress event, timestamped)',
    'and --log-level error|info|debug; its result goes to stdout, logs to stderr. -V, --version: the version.',
    '',
    'Run `dbferry <command> --help` for a command\'s options; `dbferry completion bash|zsh` for shell completion.',
  ].join('\n')
}

/** Runs the CLI with `args` (without `node` and the script); returns the exit code. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(mainHelp() + '\n')
    return name === undefined ? 2 : 0
  }
  // -V and --version; -v alone too (there is no command to be verbose about)
  if (name === '--version' || name === '-V' || (name === '-v' && rest.length === 0)) {
    io.stdout.write(`${VERSION}\n`)
    return 0
  }
  const command = commands.find((c) => c.name === name)
  if (!command) {
    io.stderr.write(`dbferry: unknown command ${JSON.stringify(name)}\n\n${mainHelp()}\n`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help.trimEnd() + '\n')
    return 0
  }
  try {
    return await command.run(rest, io)
  } catch (error) {
    return printError(name, error, io)
  }
}
