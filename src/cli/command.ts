import type { CliOption } from './options-table.js'

/** What a CLI command gets: its arguments after the command name, and where to write. */
export interface CliIo {
  /** The command's result (a report, a plan, a listing): nothing else is written here. */
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  /** Logs: progress, and the line saying why a command failed (see `--log-level`). */
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
  cwd: string
}

/** One `dbferry <name>` command. `run` returns the exit code (0 ok, 1 failed, 2 usage, 3 done with problems). */
export interface CliCommand {
  name: string
  /** One line for `dbferry --help`. */
  summary: string
  /** The full `--help` text of the command (made from `options` by `commandHelp`). */
  help: string
  /** The command's options (the common ones, `--help`, `--quiet`, … are added): its parser, help and completion use them. */
  options: readonly CliOption[]
  /** What the shell completes a positional argument with: a file name, or nothing offered. Default none. */
  positionals?: 'file' | 'none'
  run(args: string[], io: CliIo): Promise<number>
}
