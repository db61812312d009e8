import { parseArgs as nodeParseArgs } from 'node:util'
import { UsageError } from '../errors.js'

/**
 * One command-line option. A command's options are one table of these: the parser, the `--help` text and the
 * shell completion are all made from it, so they cannot disagree.
 */
export interface CliOption {
  /** The long name, without `--` (`concurrency`; `no-journal` for a negation). */
  name: string
  /** A one-letter alias (`j` for `-j`). Default: none. */
  short?: string
  /** What the value is called in the help (`<n>`); absent: a flag that takes no value. */
  value?: string
  /** May be given more than once; the values collect in order (lists such as `--tables`). Default false. */
  repeatable?: boolean
  /** The values the option takes, offered by the shell completion. Default: any. */
  choices?: readonly string[]
  /** The shell completes the value with a file name. Default false. */
  file?: boolean
  /** The help text; a line break starts a line aligned under the first. */
  help: string
}

/** What {@link parseCommandLine} found: the arguments that are not options, and each option's value. */
export interface ParsedCommandLine {
  positionals: string[]
  /** By long name: `true` for a flag, the value for an option, every value (in order) for a repeatable one. */
  values: Record<string, string | true | string[]>
}

/**
 * The options every command takes: help, and how much goes to stderr (see {@link logLevelOf}).
 * stdout only ever carries a command's result.
 */
export const COMMON_OPTIONS: readonly CliOption[] = [
  { name: 'quiet', short: 'q', help: 'no progress on stderr, only the line saying why a command failed (= --log-level error)' },
  { name: 'verbose', short: 'v', help: 'also every progress event, timestamped, and how options and URLs were resolved\n(= --log-level debug)' },
  { name: 'log-level', value: '<level>', choices: ['error', 'info', 'debug'], help: 'what goes to stderr: error, info (default: progress too) or debug' },
  { name: 'help', short: 'h', help: 'show this help' },
]

/**
 * Parses `args` with Node's `util.parseArgs` against one command's `table` (plus {@link COMMON_OPTIONS}):
 * `--flag`, `--key value`, `--key=value`, `-k value`, `-kvalue`, grouped short flags (`-qv`), `--` before
 * arguments that start with a dash. An unknown option, a flag given a value, an option without its value,
 * and an option that is not repeatable given twice (in any spelling) are usage errors naming the option; a
 * flag given twice is the same flag.
 */
export function parseCommandLine(args: readonly string[], table: readonly CliOption[]): ParsedCommandLine {
  const all = withCommon(table)
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const o of all) config[o.name] = { type: o.value ? 'string' : 'boolean', ...(o.short ? { short: o.short } : {}), ...(o.repeatable ? { multiple: true } : {}) }
  let parsed: ReturnType<typeof nodeParseArgs>
  try {
    parsed = nodeParseArgs({ args: [...args], options: config, strict: true, allowPositionals: true, tokens: true })
  } catch (error) {
    throw usageErrorOf(error, all)
  }
  const seen = new Map<string, number>()
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue
    const option = all.find((o) => o.name === token.name)!
    const times = (seen.get(token.name) ?? 0) + 1
    seen.set(token.name, times)
    if (times > 1 && option.value && !option.repeatable) throw new UsageError(`--${token.name} was given more than once: give it once`)
  }
  return { positionals: parsed.positionals, values: parsed.values as ParsedCommandLine['values'] }
}

/** `table` with the common options it does not define itself. */
export function withCommon(table: readonly CliOption[]): CliOption[] {
  return [...table, ...COMMON_OPTIONS.filter((c) => !table.some((o) => o.name === c.name))]
}

/** util.parseArgs's errors as usage errors in dbferry's words, naming the option by its long name. */
function usageErrorOf(error: unknown, table: readonly CliOption[]): unknown {
  const code = (error as { code?: string }).code
  const message = error instanceof Error ? error.message : String(error)
  const raw = /'(-{1,2}[^' ,=]+)/.exec(message)?.[1]
  if (!code?.startsWith('ERR_PARSE_ARGS') || raw === undefined) return error
  const option = raw.startsWith('--') ? table.find((o) => o.name === raw.slice(2)) : table.find((o) => o.short === raw.slice(1))
  const name = option ? `--${option.name}` : raw
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError(`unknown option ${raw}`)
  if (option && !option.value) return new UsageError(`${name} takes no value`)
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return new UsageError(`${name} needs a value${/ambiguous/.test(message) ? ` (one that starts with a dash goes as ${name}=-…)` : ''}`)
  }
  return new UsageError(message)
}

/** The options part of a command's `--help`, one aligned line per option (with `COMMON_OPTIONS`). */
export function optionsHelp(table: readonly CliOption[]): string {
  const all = withCommon(table)
  const heads = all.map((o) => `${o.short ? `-${o.short}, ` : '    '}--${o.name}${o.value ? ` ${o.value}` : ''}${o.repeatable ? ' …' : ''}`)
  const width = Math.min(34, Math.max(...heads.map((h) => h.length)))
  const lines: string[] = []
  all.forEach((o, i) => {
    const [first, ...rest] = o.help.split('\n')
    const head = heads[i]!
    if (head.length > width) lines.push(`  ${head}`, `  ${' '.repeat(width)}  ${first}`)
    else lines.push(`  ${head.padEnd(width)}  ${first}`)
    for (const r of rest) lines.push(`  ${' '.repeat(width)}  ${r}`)
  })
  return lines.join('\n')
}

/**
 * A command's full `--help`: its usage and description, the options table, then `footer` (exit codes).
 */
export function commandHelp(parts: { usage: string; description: string; options: readonly CliOption[]; footer?: string }): string {
  return [parts.usage, '', parts.description, '', 'Options:', optionsHelp(parts.options), ...(parts.footer ? ['', parts.footer] : [])].join('\n')
}

/**
 * How much a command writes to stderr: `error` only the line saying why it failed; `info` (default) progress
 * too; `debug` every progress event, timestamped, and how its options were resolved. From `--quiet` (error),
 * `--verbose` (debug) or `--log-level`; two of them that disagree are a usage error.
 */
export type LogLevel = 'error' | 'info' | 'debug'

const LEVELS: readonly LogLevel[] = ['error', 'info', 'debug']

/** The log level the parsed options ask for (see {@link LogLevel}). Default `info`. */
export function logLevelOf(values: ParsedCommandLine['values']): LogLevel {
  const asked: [string, LogLevel][] = []
  if (values.quiet === true) asked.push(['--quiet', 'error'])
  if (values.verbose === true) asked.push(['--verbose', 'debug'])
  const given = values['log-level']
  if (typeof given === 'string') {
    if (!LEVELS.includes(given as LogLevel)) throw new UsageError(`--log-level takes ${LEVELS.join(', ')}, not ${JSON.stringify(given)}`)
    asked.push([`--log-level ${given}`, given as LogLevel])
  }
  const levels = new Set(asked.map(([, l]) => l))
  if (levels.size > 1) throw new UsageError(`${asked.map(([o]) => o).join(' and ')} disagree: give one`)
  return asked[0]?.[1] ?? 'info'
}
