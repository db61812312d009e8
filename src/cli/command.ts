/** What a CLI command gets: its arguments after the command name, and where to write. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream
  env: NodeJS.ProcessEnv
  cwd: string
}

/** One `dbferry <name>` command. `run` returns the exit code (0 ok, 1 failed, 2 usage, 3 done with problems). */
export interface CliCommand {
  name: string
  /** One line for `dbferry --help`. */
  summary: string
  /** The full `--help` text of the command. */
  help: string
  run(args: string[], io: CliIo): Promise<number>
}

/**
 * A small argument parser: `--flag`, `--key value`, `--key=value`, repeated keys collect into arrays.
 * Returns positionals and options; unknown options are left for the command to reject.
 */
export function parseArgs(args: readonly string[], booleans: readonly string[] = []): { positionals: string[]; options: Record<string, string | boolean | string[]> } {
  const positionals: string[] = []
  const options: Record<string, string | boolean | string[]> = {}
  const set = (k: string, v: string | boolean) => {
    const prev = options[k]
    if (prev === undefined || typeof v === 'boolean') options[k] = v
    else options[k] = Array.isArray(prev) ? [...prev, v as string] : [prev as string, v as string]
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--') {
      positionals.push(...args.slice(i + 1))
      break
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq > 0) set(a.slice(2, eq), a.slice(eq + 1))
      else if (booleans.includes(a.slice(2)) || i + 1 >= args.length || args[i + 1]!.startsWith('--')) set(a.slice(2), true)
      else set(a.slice(2), args[++i]!)
    } else if (a === '-h') set('help', true)
    else positionals.push(a)
  }
  return { positionals, options }
}
