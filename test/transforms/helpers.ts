import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildFixture, defineFixture, type FixtureTable } from '../../fixtures/fixture.js'
import { ferry, type FerryOptions } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import type { Report } from '../../src/report.js'

/** A temporary directory removed by `cleanup()`. */
export function tempDir(): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-tx-'))
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Builds an SQLite source file from fixture tables. */
export async function sqliteSource(path: string, tables: FixtureTable[]): Promise<string> {
  await buildFixture(defineFixture({ name: 'test', tables }), `sqlite:${path}`)
  return `sqlite:${path}`
}

/** Every row of a table of an SQLite file, as objects, ordered by the first column. */
export function rowsOf(path: string, table: string, orderBy = 'rowid'): Record<string, unknown>[] {
  const db = new Database(path, { readonly: true })
  try {
    return db.prepare(`SELECT * FROM "${table}" ORDER BY ${orderBy}`).all() as Record<string, unknown>[]
  } finally {
    db.close()
  }
}

/** Runs ferry from an SQLite source into a fresh SQLite file with a memory journal. */
export async function copy(
  from: string,
  to: string,
  options: Omit<FerryOptions, 'from' | 'to'>,
): Promise<{ report: Report; journal: MemoryJournal }> {
  const journal = new MemoryJournal()
  const report = await ferry({ from, to: `sqlite:${to}`, journal, ...options })
  return { report, journal }
}

/** A table report by name. */
export function tableReport(report: Report, name: string) {
  const r = report.tables.find((t) => t.name === name)
  if (!r) throw new Error(`no table ${name} in the report`)
  return r
}

/** Every row of a table of any database, read back through dbferry's own reader, ordered by `id`. */
export async function readTable(url: string, table: string): Promise<Record<string, unknown>[]> {
  const { connect } = await import('../../src/connect.js')
  const { connection } = await connect(url)
  try {
    const schema = await connection.introspect({ tables: [table] })
    const t = schema.tables.find((x) => x.name === table)
    if (!t) throw new Error(`no table ${table} in ${url}`)
    const out: Record<string, unknown>[] = []
    for await (const b of connection.read(t, { batchRows: 10_000, batchBytes: 8 << 20 })) {
      for (const r of b.rows) out.push(Object.fromEntries(t.columns.map((c, i) => [c.name, typeof r[i] === 'bigint' ? Number(r[i]) : r[i]])))
    }
    return out.sort((a, b) => Number(a.id) - Number(b.id))
  } finally {
    await connection.close()
  }
}
