import { basename, extname, join, resolve } from 'node:path'
import { connect } from '../../connect.js'
import { UsageError, type RowError } from '../../errors.js'
import { groupStages, orderTables } from '../../plan/order.js'
import { selectSchema, type DeclaredForeignKey } from '../../schema/select.js'
import type { DatabaseSchema, ForeignKeySchema, TableSchema } from '../../schema/types.js'
import { multicsv } from '../../formats/multicsv/index.js'
import { openMultiCsv, type MultiCsvConnection } from '../../formats/multicsv/multicsv-connection.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const SPLIT_OPTIONS: readonly CliOption[] = [
  { name: 'stages', value: '<n>', help: 'how many files (default 5; fewer if the key graph has fewer levels)' },
  { name: 'out', value: '<dir>', file: true, help: 'where the files go (default: beside <file>), named <name>.1.csv … <name>.N.csv' },
  { name: 'schema', value: '<url>', help: 'take foreign keys from a database with the same tables (e.g. sqlite:./storage.db)' },
  { name: 'fk', value: '<child.col=parent.col>', repeatable: true, help: 'a foreign key declared by hand' },
  { name: 'guess-fks', help: 'columns named <x>_id point at table <x> (or the one table named *_<x>)' },
  { name: 'null', value: '<marker>', help: 'the NULL marker (default <NULL>)' },
  { name: 'encoding', value: '<e>', help: "the file's encoding (default: detected)" },
]

const HELP = commandHelp({
  usage: 'dbferry split <file> --stages N [options]',
  description: `Splits a multi-table CSV file (web2py's export format) into N files in foreign-key order: every table's
parents are in the same or an earlier file, so loading file 1, then 2, … never meets a missing parent. Values
are copied as text, unchanged. Foreign keys come from --schema, --fk and --guess-fks.`,
  options: SPLIT_OPTIONS,
  footer: 'Exit codes: 0 done; 3 done but malformed records were left out (listed on stderr); 1 failed; 2 bad usage.',
})

/** Guesses foreign keys from web2py's naming: `sector_id` → `sector.id` or the one table ending `_sector`. */
export function guessForeignKeys(schema: DatabaseSchema): DeclaredForeignKey[] {
  const names = schema.tables.map((t) => t.name)
  const out: DeclaredForeignKey[] = []
  for (const t of schema.tables) {
    for (const c of t.columns) {
      const m = /^(.+)_id$/.exec(c.name)
      if (!m) continue
      const stem = m[1]!
      let parent = names.includes(stem) ? stem : undefined
      if (!parent) {
        const cands = names.filter((n) => n.endsWith(`_${stem}`))
        if (cands.length === 1) parent = cands[0]
      }
      if (!parent || parent === t.name) continue
      const p = schema.tables.find((x) => x.name === parent)!
      if (!p.columns.some((x) => x.name === 'id')) continue
      out.push({ from: `${t.name}.${c.name}`, to: `${parent}.id` })
    }
  }
  return out
}

function list(v: unknown): string[] {
  if (v === undefined || v === true) return []
  return (Array.isArray(v) ? v : [v]).map(String)
}

/** Copies foreign keys of same-named tables (and existing columns) from another schema. */
function keysFrom(schema: DatabaseSchema, other: DatabaseSchema): DatabaseSchema {
  const byName = new Map(other.tables.map((t) => [t.name, t]))
  return {
    ...schema,
    tables: schema.tables.map((t) => {
      const o = byName.get(t.name)
      if (!o) return t
      const cols = new Set(t.columns.map((c) => c.name))
      const fks: ForeignKeySchema[] = o.foreignKeys.filter((f) => f.columns.every((c) => cols.has(c)))
      return { ...t, foreignKeys: [...t.foreignKeys, ...fks] }
    }),
  }
}

/** Options of {@link splitMultiCsv}. */
export interface SplitOptions {
  stages: number
  /** Output folder. Default: the input's folder. */
  out?: string
  /** Foreign keys declared by hand. */
  foreignKeys?: readonly DeclaredForeignKey[]
  /** A connection URL whose same-named tables lend their foreign keys. */
  schemaFrom?: string
  /** Guess keys from `<x>_id` names. Default false. */
  guess?: boolean
  /** CSV options of the input (and outputs). */
  csv?: { null?: string; encoding?: string }
}

/** What {@link splitMultiCsv} wrote. */
export interface SplitResult {
  files: { path: string; tables: { name: string; rows: number }[] }[]
  /** Records that could not be parsed and were left out. */
  malformed: RowError[]
  /** Tables web2py exported without a header (no rows), left out. */
  empty: string[]
}

/**
 * Splits a multi-table CSV into `stages` multi-table files, parents first. Values are read and written as
 * text, so the files hold what the input held.
 */
export async function splitMultiCsv(file: string, options: SplitOptions): Promise<SplitResult> {
  const src: MultiCsvConnection = await openMultiCsv(multicsv, { path: file, csv: { ...options.csv, inferTypes: false } })
  try {
    let schema = await src.introspect()
    const empty = (await src.tableNames()).filter((n) => !schema.tables.some((t) => t.name === n))
    if (options.schemaFrom) {
      const { connection, owned } = await connect(options.schemaFrom)
      try {
        schema = keysFrom(schema, await connection.introspect())
      } finally {
        if (owned) await connection.close()
      }
    }
    const declared = [...(options.foreignKeys ?? []), ...(options.guess ? guessForeignKeys(schema) : [])]
    schema = selectSchema(schema, { foreignKeys: declared }).schema
    const groups = groupStages(orderTables(schema), options.stages)
    const outDir = resolve(options.out ?? join(file, '..'))
    const stem = basename(file, extname(file))
    const result: SplitResult = { files: [], malformed: [], empty }
    for (const [i, group] of groups.entries()) {
      const path = join(outDir, `${stem}.${i + 1}.csv`)
      const tables = group.map((n) => schema.tables.find((t) => t.name === n)!) as TableSchema[]
      const sub: DatabaseSchema = { ...schema, tables }
      const out = await openMultiCsv(multicsv, { path, csv: { ...options.csv, encoding: options.csv?.encoding ?? 'auto' } })
      try {
        await out.prepareTarget(sub, { mode: 'recreate' })
        const entry = { path, tables: [] as { name: string; rows: number }[] }
        for (const t of tables) {
          const w = await out.openWriter(t)
          let rows = 0
          for await (const b of src.read(t, { batchRows: 10_000, batchBytes: 8 << 20 })) {
            result.malformed.push(...b.rejected)
            rows += (await w.write(b.rows)).written
          }
          await w.close()
          entry.tables.push({ name: t.name, rows })
        }
        await out.finalize(sub, {})
        result.files.push(entry)
      } finally {
        await out.close()
      }
    }
    return result
  } finally {
    await src.close()
  }
}

/** `dbferry split`. */
export const splitCommand: CliCommand = {
  name: 'split',
  summary: 'split a multi-table CSV (web2py export) into N files in foreign-key order',
  help: HELP,
  options: SPLIT_OPTIONS,
  positionals: 'file',
  async run(args: string[], io: CliIo): Promise<number> {
    const { positionals, values: o } = parseCommandLine(args, SPLIT_OPTIONS)
    logLevelOf(o)
    const [file, extra] = positionals
    if (!file || extra !== undefined) throw new UsageError('split takes one <file>')
    const stages = o.stages === undefined ? 5 : Number(o.stages)
    if (!Number.isInteger(stages) || stages < 1) throw new UsageError('--stages takes a positive whole number')
    const fks = list(o.fk).map((s) => {
      const [from, to] = s.split('=')
      if (!from || !to) throw new UsageError(`--fk takes child.column=parent.column, got ${JSON.stringify(s)}`)
      return { from, to }
    })
    const csv: SplitOptions['csv'] = {}
    if (typeof o.null === 'string') csv.null = o.null
    if (typeof o.encoding === 'string') csv.encoding = o.encoding
    const res = await splitMultiCsv(resolve(io.cwd, file), {
      stages,
      out: typeof o.out === 'string' ? resolve(io.cwd, o.out) : undefined,
      foreignKeys: fks,
      schemaFrom: typeof o.schema === 'string' ? o.schema : undefined,
      guess: o['guess-fks'] === true,
      csv,
    })
    for (const [i, f] of res.files.entries()) {
      const rows = f.tables.reduce((s, t) => s + t.rows, 0)
      io.stdout.write(`${i + 1}. ${f.path}: ${f.tables.map((t) => t.name).join(', ')} (${f.tables.length} tables, ${rows} rows)\n`)
    }
    if (res.empty.length > 0) io.stdout.write(`left out (exported without rows or header): ${res.empty.join(', ')}\n`)
    for (const e of res.malformed) io.stderr.write(`malformed: ${e.message}\n`)
    return res.malformed.length > 0 ? 3 : 0
  },
}
