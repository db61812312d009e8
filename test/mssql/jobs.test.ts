import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { createMssqlDatabase, createPostgresDatabase, MSSQL_URL, serverUp, type TestDatabase } from '../support/servers.js'

// `--jobs` with SQL Server on either side: its reader's key ranges and key bounds, several of its connections
// reading one table's chunks, several loading them (the other pairs run in the cross suite)
const ROWS = 600
const fixture: Fixture = {
  name: 'jobs',
  tables: [
    {
      name: 'events',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false },
        { name: 'label', type: { kind: 'text' } },
        { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 } },
      ],
      primaryKey: ['id'],
      rows: Array.from({ length: ROWS }, (_, i) => [i * 3 - 100, `row ${i} é`, `${i}.25`]),
    },
  ],
}
const expectedIds = fixture.tables[0]!.rows.map((r) => Number(r[0]))

const dbs: TestDatabase[] = []
afterAll(async () => {
  for (const db of dbs) await db.drop().catch(() => {})
})

async function ids(url: string): Promise<number[]> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const t = (await connection.introspect()).tables.find((x) => x.name === 'events')!
    const out: number[] = []
    for await (const b of connection.read(t, { batchRows: 1000, batchBytes: 1 << 24 })) for (const r of b.rows) out.push(Number(r[0]))
    return out
  } finally {
    await connection.close()
  }
}

describe.runIf(MSSQL_URL !== undefined && (await serverUp('postgres')))('--jobs with SQL Server', () => {
  it('SQL Server → PostgreSQL and back with 3 jobs: split into chunks, every row once', async () => {
    const mssql = await createMssqlDatabase()
    dbs.push(mssql)
    const pgTarget = await createPostgresDatabase()
    dbs.push(pgTarget)
    await buildFixture(fixture, mssql.url)
    const there = await ferry({ from: mssql.url, to: pgTarget.url, jobs: 3, chunkRows: 100, journal: new MemoryJournal() })
    expect(there.error).toBeUndefined()
    expect(there.tables[0]).toMatchObject({ read: ROWS, written: ROWS, rejected: 0 })
    expect(there.tables[0]!.chunks).toBeGreaterThan(1)
    expect(await ids(pgTarget.url)).toEqual(expectedIds)

    const back = await createMssqlDatabase()
    dbs.push(back)
    const returned = await ferry({ from: pgTarget.url, to: back.url, jobs: 3, chunkRows: 100, journal: new MemoryJournal() })
    expect(returned.error).toBeUndefined()
    expect(returned.tables[0]!.chunks).toBeGreaterThan(1)
    expect(returned.snapshot?.notes?.some((n) => n.startsWith('--jobs 3: 3 source connections read one snapshot (REPEATABLE READ READ ONLY, in the shared snapshot'))).toBe(true)
    expect(await ids(back.url)).toEqual(expectedIds)
  }, 180_000)
})
