import { resolve } from 'node:path'
import { catchUp, type CatchUpOptions, type CatchUpReport } from '../../catchup/catch-up.js'
import { loadConfig } from '../../config/load-config.js'
import { UsageError, redact } from '../../errors.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption, type ParsedCommandLine } from '../options-table.js'
import { failureCode, tableList } from './capture.js'

/** The options `catch-up` and `cutover` share. */
export const CATCH_UP_OPTIONS: readonly CliOption[] = [
  { name: 'tables', value: '<list>', repeatable: true, help: 'tables to catch up, as on the source (comma-separated or repeated). Default: all' },
  { name: 'exclude', value: '<list>', repeatable: true, help: 'tables to leave out (as the copy left them out)' },
  {
    name: 'config',
    value: '<file>',
    file: true,
    help: "the copy's config file: its tables, transforms, declared foreign keys, type overrides\nand identifier rules apply as they did to the copy",
  },
  { name: 'json', help: 'print the report as JSON' },
]

const HELP = commandHelp({
  usage: 'dbferry catch-up <source> <target> [--tables a,b] [--config file] [--json]',
  description: `Applies the changes recorded by dbferry capture since the copy (or the last catch-up) to the target: for each
changed row, its current state is read from the source and upserted into the target, or deleted from the
target when the source no longer has it. Then exactly the applied change entries are removed. Safe to run
again and again while the source is live. See docs/catch-up.md.`,
  options: CATCH_UP_OPTIONS,
  footer: 'Exit codes: 0 done, nothing rejected; 3 done with rejected rows (their changes stay for the next\ncatch-up); 1 failed; 2 usage.',
})

/** Parses a `catch-up`/`cutover` command line into catch-up options (a config file's first, flags over them). */
export async function catchUpRequest(parsed: ParsedCommandLine, io: CliIo, command: string): Promise<CatchUpOptions & { json: boolean }> {
  const { values, positionals } = parsed
  const config = typeof values.config === 'string' ? await loadConfig(resolve(io.cwd, values.config)) : undefined
  const from = positionals[0] ?? config?.from
  const to = positionals[1] ?? config?.to
  if (positionals.length > 2 || from === undefined || to === undefined) throw new UsageError(`${command} needs <source> and <target>`)
  const include = tableList(values.tables)
  const exclude = tableList(values.exclude) ?? []
  const tables = include || exclude.length > 0 ? { include: include ?? config?.tables?.include, exclude: [...(config?.tables?.exclude ?? []), ...exclude] } : config?.tables
  return {
    from,
    to,
    tables,
    transforms: config?.transforms,
    foreignKeys: config?.foreignKeys,
    types: config?.types,
    identifiers: config?.identifiers,
    stripNul: config?.stripNul,
    decimals: config?.decimals,
    json: values.json === true,
  }
}

/** A catch-up report as lines: per table its upserts, deletes and rejects, then the rejected rows. */
export function formatCatchUp(r: CatchUpReport): string {
  const lines = [`catch-up: ${r.entries} change(s) of ${r.keys} row(s) read; ${r.removed} applied and removed, ${r.kept} kept (${r.ms} ms)`]
  for (const t of r.tables) {
    lines.push(`  ${t.name.padEnd(30)} upserted ${t.upserted}  deleted ${t.deleted}  rejected ${t.rejected}${t.dropped > 0 ? `  dropped ${t.dropped}` : ''}`)
  }
  for (const e of r.rejects) {
    const at = [e.column !== undefined ? `column ${e.column}` : '', e.value !== undefined ? `value ${JSON.stringify(e.value)}` : ''].filter(Boolean).join(', ')
    lines.push(`  REJECTED ${e.table} ${typeof e.key === 'string' ? e.key : JSON.stringify(e.key)} (${e.kind}${at ? `; ${at}` : ''}): ${e.message}`)
  }
  for (const n of r.notes) lines.push(`  note: ${n}`)
  return lines.join('\n')
}

/** Parses the arguments; a usage error is written with the help, as `undefined`. */
export function parsedOrHelp(args: string[], table: readonly CliOption[], help: string, io: CliIo): ParsedCommandLine | undefined {
  try {
    const parsed = parseCommandLine(args, table)
    logLevelOf(parsed.values)
    return parsed
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${help}\n`)
    return undefined
  }
}

/** `dbferry catch-up <source> <target>`. */
export const catchUpCommand: CliCommand = {
  name: 'catch-up',
  summary: 'apply the changes capture recorded since the copy to the target',
  help: HELP,
  options: CATCH_UP_OPTIONS,
  positionals: 'none',
  async run(args, io) {
    const parsed = parsedOrHelp(args, CATCH_UP_OPTIONS, HELP, io)
    if (!parsed) return 2
    try {
      const { json, ...options } = await catchUpRequest(parsed, io, 'catch-up')
      const r = await catchUp(options)
      io.stdout.write(json ? `${JSON.stringify(r, null, 2)}\n` : `${formatCatchUp(r)}\n`)
      return r.clean ? 0 : 3
    } catch (error) {
      io.stderr.write(`dbferry catch-up: ${redact(error instanceof Error ? error.message : String(error))}\n`)
      return failureCode(error)
    }
  },
}
