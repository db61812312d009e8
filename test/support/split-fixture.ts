import { connect } from '../../src/connect.js'
import type { Harness } from '../cross/harness.js'
import type { TestDatabase } from './servers.js'

// the tables of the split-chunk tests (test/core/split-chunks.test.ts, test/resume/kill-split.test.ts), in each
// engine's DDL: `words` (a text key), `pairs` (a composite key, text first), `loose` (no key)

export const ROWS = 3_000
const PREFIXES = ['a', 'B', 'é', 'Z', '_', 'b', 'A', 'ü']

/** A text key that sorts differently under a binary and a case- or accent-insensitive collation. */
export const wordKey = (i: number) => `${PREFIXES[i % PREFIXES.length]}${String((i * 7919) % 100_003).padStart(6, '0')}`

/** The fixture's DDL and rows: `words` (text key), `pairs` (text, integer), `loose` (no key). */
export function splitFixture(engine: string, rows = ROWS): string[] {
  const text = engine === 'mysql' ? 'varchar(40) COLLATE utf8mb4_bin' : 'varchar(40)'
  const statements = [
    `CREATE TABLE words (k ${text} NOT NULL PRIMARY KEY, n integer NOT NULL, v varchar(40))`,
    `CREATE TABLE pairs (a ${text} NOT NULL, b integer NOT NULL, v varchar(40), PRIMARY KEY (a, b))`,
    'CREATE TABLE loose (n integer, v varchar(40))',
  ]
  for (let from = 0; from < rows; from += 500) {
    const ids = Array.from({ length: Math.min(500, rows - from) }, (_, j) => from + j)
    statements.push(`INSERT INTO words (k, n, v) VALUES ${ids.map((i) => `('${wordKey(i)}', ${i}, 'w${i}')`).join(', ')}`)
    statements.push(`INSERT INTO pairs (a, b, v) VALUES ${ids.map((i) => `('${PREFIXES[i % 5]}${i % 37}', ${i}, 'p${i}')`).join(', ')}`)
    statements.push(`INSERT INTO loose (n, v) VALUES ${ids.map((i) => `(${i % 17 === 0 ? 'NULL' : i}, 'l${i}')`).join(', ')}`)
  }
  return statements
}

/** Builds the fixture in a fresh database of `harness`. */
export async function splitSource(harness: Harness, rows = ROWS): Promise<TestDatabase> {
  const db = await harness.create()
  const setup = (await connect(db.url, { create: true })).connection
  try {
    for (const s of splitFixture(harness.name, rows)) await setup.execute!(s)
  } finally {
    await setup.close()
  }
  return db
}
