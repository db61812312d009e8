import type { Connection, ReadBatch } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { postgres } from '../../dialects/postgres/index.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/** Whether the PostgreSQL suites run (skipped with a notice when the server is down). */
export const pgUp = await serverUp('postgres')

/** A fresh database and a dbferry connection to it; `done()` closes and drops both. */
export async function freshPostgres(prefix = 'pgdial'): Promise<{ db: TestDatabase; conn: Connection; done(): Promise<void> }> {
  const db = await createPostgresDatabase(prefix)
  const conn = await postgres.connect(db.url, { create: true })
  return {
    db,
    conn,
    async done() {
      await conn.close().catch(() => {})
      await db.drop()
    },
  }
}

/** Reads every batch of a table. */
export async function readAll(conn: Connection, table: TableSchema, batchRows = 10_000): Promise<{ rows: Row[]; batches: ReadBatch[] }> {
  const batches: ReadBatch[] = []
  for await (const b of conn.read(table, { batchRows, batchBytes: 8 << 20 })) batches.push(b)
  return { rows: batches.flatMap((b) => b.rows), batches }
}

/** The schema of one table as introspected. */
export async function tableOf(conn: Connection, name: string): Promise<TableSchema> {
  const s = await conn.introspect({ tables: [name] })
  return s.tables[0]!
}
