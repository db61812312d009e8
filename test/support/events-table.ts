import type { FixtureTable } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'

/**
 * The `events` table the chunked-copy tests split: an identity key (INTEGER PRIMARY KEY, the rowid, on SQLite,
 * which is what splits there), ids 1..`rows`; the ids in `junk` hold text in the integer column `n` instead
 * (loose rows: only SQLite stores them), so that each must be rejected exactly once.
 */
export function eventsTable(rows: number, junk: ReadonlySet<number> = new Set()): FixtureTable {
  return {
    name: 'events',
    columns: [
      { name: 'id', type: { kind: 'int64' }, nullable: false, autoIncrement: true },
      { name: 'n', type: { kind: 'int32' } },
      { name: 'label', type: { kind: 'text' } },
    ],
    primaryKey: ['id'],
    rows: Array.from({ length: rows }, (_, i) => i + 1)
      .filter((id) => !junk.has(id))
      .map((id) => [id, id % 1000, `row ${id}`]),
    looseRows: [...junk].map((id) => [id, 'not-a-number', `junk ${id}`]),
  }
}

/** The ids a database's `events` table holds, in key order (read in a snapshot, as the copy's reader reads). */
export async function eventIds(url: string): Promise<number[]> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const table = (await connection.introspect()).tables.find((t) => t.name === 'events')!
    const ids: number[] = []
    for await (const b of connection.read(table, { batchRows: 20_000, batchBytes: 1 << 26 })) for (const r of b.rows) ids.push(Number(r[0]))
    return ids
  } finally {
    await connection.close()
  }
}
