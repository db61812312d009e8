import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { createMssqlDatabase, createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

// a MariaDB tinyint(1) is read as a boolean, but holds 2 and -1 too: a target whose boolean holds only true and
// false must refuse them, naming the value, never store a silent true or false
describe.skipIf(!(await serverUp('mysql')))('a tinyint(1) holding 2 and -1, from MariaDB', () => {
  let source: TestDatabase
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-bool-'))
    source = await createMysqlDatabase('dbferry_bool')
    const c = await mysql2.createConnection(source.url)
    await c.query('CREATE TABLE flags (id int PRIMARY KEY, f tinyint(1))')
    await c.query('INSERT INTO flags VALUES (1, 0), (2, 1), (3, 2), (4, -1), (5, NULL)')
    await c.end()
  })
  afterAll(async () => {
    await source?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function values(url: string): Promise<unknown[]> {
    const { connection } = await connect(url)
    try {
      const t = (await connection.introspect()).tables.find((x) => x.name.toLowerCase() === 'flags')!
      const out: unknown[] = []
      for await (const b of connection.read(t, { batchRows: 100, batchBytes: 1 << 20 })) for (const r of b.rows) out.push(r[1])
      return out
    } finally {
      await connection.close()
    }
  }

  async function refused(url: string): Promise<void> {
    const journal = new MemoryJournal()
    const report = await ferry({ from: source.url, to: url, journal })
    const t = report.tables.find((x) => x.name === 'flags')!
    expect(t).toMatchObject({ read: 5, written: 3, rejected: 2, byKind: { out_of_range: 2 } })
    const rejects = journal.entries.filter((e) => e.action === 'rejected')
    expect(rejects.map((e) => [e.key, e.column])).toEqual([
      ['{"id":3}', 'f'],
      ['{"id":4}', 'f'],
    ])
    expect(rejects[0]!.message).toContain('not 2')
    expect(rejects[1]!.message).toContain('not -1')
    expect(await values(url)).toEqual([false, true, null])
  }

  it('into DuckDB: 0 and 1 as false and true, 2 and -1 rejected with their value', async () => {
    await refused(`duckdb:${join(dir, 'flags.duckdb')}`)
  })

  it.skipIf(!process.env.DBFERRY_MSSQL_URL)('into SQL Server (bit): the same', async () => {
    const db = await createMssqlDatabase('dbferry_bool')
    try {
      await refused(db.url)
    } finally {
      await db.drop()
    }
  })

  it('into SQLite, whose boolean holds any integer: kept as they are', async () => {
    const url = `sqlite:${join(dir, 'flags.db')}`
    const report = await ferry({ from: source.url, to: url })
    expect(report.totals).toMatchObject({ read: 5, written: 5, rejected: 0 })
    const { connection } = await connect(url)
    const db = (connection as unknown as { db: { prepare(s: string): { all(): { f: unknown }[] } } }).db
    expect(db.prepare('SELECT f FROM flags ORDER BY id').all().map((r) => r.f)).toEqual([0, 1, 2, -1, null])
    await connection.close()
  })
})
