import type { FixtureTable } from '../../fixtures/fixture.js'

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
