import { existsSync } from 'node:fs'
import { UsageError } from '../../errors.js'
import { csvDocument } from '../../formats/csv/csv-format.js'
import { queryJournal } from '../../store/journal-query.js'
import type { CliCommand } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const REJECTS_OPTIONS: readonly CliOption[] = [
  { name: 'kind', value: '<K>', repeatable: true, help: 'only this failure kind (repeat or comma-separate), e.g. duplicate_dropped,type_conversion' },
  { name: 'table', value: '<T>', repeatable: true, help: 'only this target table (repeat or comma-separate)' },
  { name: 'action', value: '<A>', repeatable: true, choices: ['rejected', 'dropped', 'fixed', 'inserted', 'remapped'], help: 'only rejected, dropped, fixed, inserted or remapped (repeat or comma-separate)' },
  { name: 'run', value: '<N>', help: 'only run N; "last" for the latest run. Default: every run' },
  { name: 'since', value: '<DATE>', help: 'only entries recorded at or after DATE (ISO, e.g. 2026-01-01)' },
  { name: 'format', value: '<F>', choices: ['table', 'csv', 'json'], help: 'table (default), csv (with the row as JSON) or json' },
  { name: 'limit', value: '<n>', help: 'at most n entries. Default: all' },
  { name: 'summary', help: 'counts per run, table, action and kind instead of the entries' },
]

const HELP = commandHelp({
  usage: 'dbferry rejects <journal> [options]',
  description: `Lists what a run's journal recorded: rejected and dropped rows with their failure kind and the source row,
and the changes transforms made (fixed values, inserted stub rows, remapped keys). <journal> is the journal
file (default of dbferry copy: ./dbferry-journal.sqlite).`,
  options: REJECTS_OPTIONS,
  footer: 'Exit codes: 0 listed (even when nothing matched), 1 the journal cannot be read, 2 usage error.',
})

const ACTIONS = new Set(['rejected', 'dropped', 'fixed', 'inserted', 'remapped'])

function list(v: string | boolean | string[] | undefined, flag: string): string[] | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'boolean') throw new UsageError(`--${flag} needs a value`)
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)
}

function one(v: string | boolean | string[] | undefined, flag: string): string | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new UsageError(`--${flag} takes one value`)
  return v
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ')
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat
}

/** Text table with a header and aligned columns; the last column is not padded. */
function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

/** `dbferry rejects <journal>`: list and export the journal's entries. */
export const rejectsCommand: CliCommand = {
  name: 'rejects',
  summary: 'list or export rejected/dropped rows and transform changes from a journal',
  help: HELP,
  options: REJECTS_OPTIONS,
  positionals: 'file',
  async run(args, io) {
    const { positionals, values: options } = parseCommandLine(args, REJECTS_OPTIONS)
    logLevelOf(options)
    if (positionals.length !== 1) throw new UsageError(`rejects needs one journal file, got ${positionals.length}`)
    const path = positionals[0]!
    if (!existsSync(path)) {
      io.stderr.write(`dbferry rejects: no journal at ${path}\n`)
      return 1
    }
    const format = one(options.format, 'format') ?? 'table'
    if (!['table', 'csv', 'json'].includes(format)) throw new UsageError(`--format must be table, csv or json, not ${format}`)
    const actions = list(options.action, 'action')
    for (const a of actions ?? []) if (!ACTIONS.has(a)) throw new UsageError(`--action must be one of ${[...ACTIONS].join(', ')}, not ${a}`)
    const runText = one(options.run, 'run')
    let run: number | 'last' | undefined
    if (runText !== undefined) {
      if (runText === 'last') run = 'last'
      else if (/^\d+$/.test(runText)) run = Number(runText)
      else throw new UsageError(`--run must be a run number or "last", not ${runText}`)
    }
    const limitText = one(options.limit, 'limit')
    const limit = limitText === undefined ? undefined : Number(limitText)
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new UsageError('--limit must be a whole number')
    const since = one(options.since, 'since')
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw new UsageError(`--since must be an ISO date, not ${since}`)

    // the journal is an SQLite file: the store loads the driver only now
    let result: Awaited<ReturnType<typeof queryJournal>>
    try {
      result = await queryJournal(path, {
        kinds: list(options.kind, 'kind'),
        tables: list(options.table, 'table'),
        actions,
        run,
        since: since === undefined ? undefined : new Date(since).toISOString(),
        limit,
      })
    } catch (error) {
      // better-sqlite3 missing: a usage error naming the package, not an unreadable journal
      if (error instanceof UsageError) throw error
      io.stderr.write(`dbferry rejects: cannot read the journal ${path}: ${error instanceof Error ? error.message : String(error)}\n`)
      return 1
    }

    if (options.summary) {
      const counts = result.counts
      if (format === 'json') io.stdout.write(`${JSON.stringify(counts, null, 2)}\n`)
      else if (format === 'csv') io.stdout.write(csvDocument(['run', 'table', 'action', 'kind', 'count'], counts.map((c) => [c.run_id, c.table_name, c.action, c.kind, c.n])))
      else io.stdout.write(`${textTable(['run', 'table', 'action', 'kind', 'count'], counts.map((c) => [String(c.run_id), c.table_name, c.action, c.kind, String(c.n)]))}\n`)
      return 0
    }

    const entries = result.entries
    if (format === 'json') {
      const out = entries.map((e) => ({
        run: e.run_id,
        table: e.table_name,
        action: e.action,
        kind: e.kind,
        key: e.key === null ? null : safeJson(e.key),
        column: e.column_name,
        message: e.message,
        row: e.row_json === null ? null : safeJson(e.row_json),
        by: e.source,
        at: e.created_at,
      }))
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    } else if (format === 'csv') {
      io.stdout.write(
        csvDocument(
          ['run', 'table', 'action', 'kind', 'key', 'column', 'message', 'row', 'by', 'at'],
          entries.map((e) => [e.run_id, e.table_name, e.action, e.kind, e.key, e.column_name, e.message, e.row_json, e.source, e.created_at]),
        ),
      )
    } else {
      if (entries.length === 0) io.stdout.write('no entries match\n')
      else {
        io.stdout.write(
          `${textTable(
            ['run', 'table', 'action', 'kind', 'key', 'column', 'message'],
            entries.map((e) => [String(e.run_id), e.table_name, e.action, e.kind, clip(e.key ?? '', 30), e.column_name ?? '', clip(e.message, 100)]),
          )}\n`,
        )
        const total = result.counts.reduce((n, c) => n + c.n, 0)
        io.stdout.write(`${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${total > entries.length ? ` of ${total}` : ''}\n`)
      }
    }
    return 0
  },
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
