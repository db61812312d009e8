import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Connection, ReadBatch } from '../../src/dialect.js'
import type { TableSchema } from '../../src/schema/types.js'

/** A temporary directory removed by the returned cleanup. */
export function tempDir(): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-sqlite-'))
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Builds an SQLite file from SQL, with foreign keys off so fixtures may hold orphans. */
export function buildDb(path: string, sql: string, fill?: (db: Database.Database) => void): void {
  const db = new Database(path)
  db.pragma('foreign_keys = OFF')
  db.exec(sql)
  if (fill) db.transaction(() => fill(db))()
  db.close()
}

/** Reads every batch of a table. */
export async function readAll(conn: Connection, table: TableSchema, batchRows = 10_000): Promise<ReadBatch[]> {
  const out: ReadBatch[] = []
  for await (const b of conn.read(table, { batchRows, batchBytes: 8 << 20 })) out.push(b)
  return out
}

/** The table of that name from a schema, or a thrown error. */
export function tableOf(tables: TableSchema[], name: string): TableSchema {
  const t = tables.find((x) => x.name === name)
  if (!t) throw new Error(`no table ${name}`)
  return t
}
