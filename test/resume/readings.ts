import type { Fixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'

/** One table `readings (id int64 primary key, v text)` with ids 1…rows: the resume tests' plain source. */
export function readingsFixture(rows: number): Fixture {
  return {
    name: 'readings',
    tables: [
      {
        name: 'readings',
        columns: [
          { name: 'id', type: { kind: 'int64' }, nullable: false },
          { name: 'v', type: { kind: 'text' } },
        ],
        primaryKey: ['id'],
        rows: Array.from({ length: rows }, (_, i) => [i + 1, `value ${i + 1}`]),
      },
    ],
  }
}

/** The `id`s of the first table at `url`, read back through dbferry's own reader (to count and de-duplicate). */
export async function readingIds(url: string): Promise<number[]> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const schema = await connection.introspect()
    const ids: number[] = []
    for await (const b of connection.read(schema.tables[0]!, { batchRows: 20_000, batchBytes: 1 << 26 })) for (const r of b.rows) ids.push(Number(r[0]))
    return ids
  } finally {
    await connection.close()
  }
}
