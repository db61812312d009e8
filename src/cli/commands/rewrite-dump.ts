import { resolve } from 'node:path'
import { UsageError } from '../../errors.js'
import { rewriteDump } from '../../formats/mysqldump/rewrite-dump.js'
import { rewriteCharset, rewriteEngine } from '../../transforms/rewrite-engine.js'
import type { Transform } from '../../transforms/transform.js'
import type { CliCommand, CliIo } from '../command.js'
import { commandHelp, logLevelOf, parseCommandLine, type CliOption } from '../options-table.js'

const REWRITE_OPTIONS: readonly CliOption[] = [
  { name: 'engine', value: '<from:to>', help: 'storage engine, e.g. MyISAM:InnoDB (MyISAM-only options such as ROW_FORMAT=FIXED\nare dropped with it)' },
  {
    name: 'charset',
    value: '<from:to>',
    help: 'character set of tables and columns, e.g. latin1:utf8mb4 (collations follow:\nlatin1_bin → utf8mb4_bin, latin1_general_ci → utf8mb4_general_ci, others → the\nnew charset\'s default)',
  },
  { name: 'collation', value: '<name>', help: 'the collation to use with --charset instead' },
]

const HELP = commandHelp({
  usage: 'dbferry rewrite-dump <in.sql> <out.sql> [options]',
  description: `Streams a mysqldump file to a new file, rewriting CREATE TABLE statements through schema transforms — no
server needed. Data, comments and everything else are copied byte for byte.`,
  options: REWRITE_OPTIONS,
  footer: `The data bytes are not re-encoded: the dump's SET NAMES tells the server how to read them, and the server
converts them into the new charset on load.`,
})

function pair(v: unknown, name: string): [string, string] | undefined {
  if (v === undefined) return undefined
  const m = typeof v === 'string' ? /^([^:]+):([^:]+)$/.exec(v) : null
  if (!m) throw new UsageError(`--${name} takes from:to, e.g. --${name} ${name === 'engine' ? 'MyISAM:InnoDB' : 'latin1:utf8mb4'}`)
  return [m[1]!, m[2]!]
}

/** `dbferry rewrite-dump`. */
export const rewriteDumpCommand: CliCommand = {
  name: 'rewrite-dump',
  summary: 'rewrite engines and charsets in a mysqldump file, streamed, without a server',
  help: HELP,
  options: REWRITE_OPTIONS,
  positionals: 'file',
  async run(args: string[], io: CliIo): Promise<number> {
    const { positionals, values: o } = parseCommandLine(args, REWRITE_OPTIONS)
    logLevelOf(o)
    const [input, output, extra] = positionals
    if (!input || !output || extra !== undefined) throw new UsageError('rewrite-dump takes <in.sql> <out.sql>')
    const engine = pair(o.engine, 'engine')
    const charset = pair(o.charset, 'charset')
    if (!engine && !charset) throw new UsageError('say what to rewrite: --engine from:to and/or --charset from:to')
    const transforms: Transform[] = []
    if (engine) transforms.push(rewriteEngine({ from: engine[0], to: engine[1] }))
    if (charset) {
      transforms.push(rewriteCharset({ from: charset[0], to: charset[1], ...(typeof o.collation === 'string' ? { collation: o.collation } : {}) }))
    }
    const inPath = resolve(io.cwd, input)
    const outPath = resolve(io.cwd, output)
    if (inPath === outPath) throw new UsageError('<out.sql> must differ from <in.sql>')
    const res = await rewriteDump(inPath, outPath, { transforms })
    for (const t of res.tables) io.stdout.write(`${t.table}: ${t.changes.join('; ')}\n`)
    io.stdout.write(`${res.statements} statements, ${res.tables.length} tables rewritten → ${output}\n`)
    return 0
  },
}
