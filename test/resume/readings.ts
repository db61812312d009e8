import type { Fixture } from '../../fixtures/fixture.js'

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
