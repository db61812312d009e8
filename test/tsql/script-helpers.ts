import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { tsql, type TsqlSource } from '../../src/formats/tsql/index.js'
import type { DatabaseSchema, Row, TableSchema } from '../../src/schema/types.js'
import type { RowError } from '../../src/errors.js'

const dir = await mkdtemp(join(tmpdir(), 'dbferry-tsql-constructs-'))
afterAll(() => rm(dir, { recursive: true, force: true }))
let n = 0

/** Writes a small T-SQL script (lines joined with newlines) and returns its path. */
export async function scriptFile(lines: readonly string[]): Promise<string> {
  const path = join(dir, `script-${++n}.sql`)
  await writeFile(path, lines.join('\n'))
  return path
}

/** What a table of a script reads as: its rows, rejects and the fixes counted on the way. */
export interface TableRead {
  table: TableSchema
  rows: Row[]
  rejected: RowError[]
  fixed: Record<string, number>
  fixes: { column: string; kind: string }[]
}

/** Opens a script as a source and reads its schema. */
export async function openScript(lines: readonly string[]): Promise<{ source: TsqlSource; schema: DatabaseSchema; read: (table: string) => Promise<TableRead> }> {
  const source = (await tsql.connect(`tsql:${await scriptFile(lines)}`)) as TsqlSource
  const schema = await source.introspect()
  const read = async (name: string): Promise<TableRead> => {
    const table = schema.tables.find((t) => t.name === name)
    if (!table) throw new Error(`no table ${name} in ${schema.tables.map((t) => t.name).join(', ')}`)
    const out: TableRead = { table, rows: [], rejected: [], fixed: {}, fixes: [] }
    for await (const b of source.read(table, { batchRows: 1000, batchBytes: 8 << 20 })) {
      out.rows.push(...b.rows)
      out.rejected.push(...b.rejected)
      for (const [c, k] of Object.entries(b.fixed ?? {})) out.fixed[c] = (out.fixed[c] ?? 0) + k
      for (const f of b.fixes ?? []) out.fixes.push({ column: f.column, kind: f.kind })
    }
    return out
  }
  return { source, schema, read }
}
