import { UsageError } from '../errors.js'

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
 * A small argument parser: `--flag`, `--key value`, `--key=value`. Only the options named in `repeatable`
 * may be given more than once (their values collect into an array); any other option given twice is a
 * usage error naming it, rather than one of the values silently winning or neither being used. A flag
 * (`booleans`) given twice is the same flag. Returns positionals and options; unknown options are left for
 * the command to reject.
 *
 * @param booleans options that never take a value. Default: none.
 * @param repeatable options that may be repeated (lists such as `--tables`). Default: none.
 */
export function parseArgs(
  args: readonly string[],
  booleans: readonly string[] = [],
  repeatable: readonly string[] = [],
): { positionals: string[]; options: Record<string, string | boolean | string[]> } {
  const positionals: string[] = []
  const options: Record<string, string | boolean | string[]> = {}
  const set = (k: string, v: string | boolean) => {
    const prev = options[k]
    if (prev === undefined || (prev === true && v === true)) options[k] = v
    else if (!repeatable.includes(k)) throw new UsageError(`--${k} was given more than once: give it once`)
    else if (typeof v === 'boolean' || typeof prev === 'boolean') throw new UsageError(`--${k} needs a value each time`)
    else options[k] = Array.isArray(prev) ? [...prev, v] : [prev, v]
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
