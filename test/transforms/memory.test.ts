import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { transforms as t, type Transform } from '../../src/transforms/index.js'
import { tempDir } from './helpers.js'

const ROWS = 2_000_000
const DISTINCT = 1_500_000

/**
 * RSS growth allowed over the whole run. Measured here: the plain copy alone grows RSS by 45–130 MB (batches,
 * SQLite page caches, garbage not yet collected); this dedupe with its keys spilled by 150–170 MB. Holding
 * its 1.5M keys in memory (maxInMemory 10M) took 430–540 MB in a `Map`, but 160–185 MB in the key table,
 * which this limit lets through: so the test also checks that the store did move to its temporary file.
 */
const LIMIT_MB = 320

/** A transform after dedupe that notes whether dedupe's key store (shared run state) has moved to disk. */
function spillProbe(seen: { spilled: boolean }): Transform {
  return {
    name: 'spill probe',
    table: (_table, ctx) => ({
      batch(rows) {
        const run = ctx.state.get('dedupe:users') as { winners?: { spilled: boolean } } | undefined
        seen.spilled ||= run?.winners?.spilled === true
        return rows
      },
    }),
  }
}

describe('dedupe of 2M rows in bounded memory', () => {
  const tmp = tempDir()
  const source = tmp.path('big.db')
  beforeAll(() => {
    // built with SQL so the test process never holds the rows
    const db = new Database(source)
    db.exec(`
      CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, note TEXT);
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1})
      INSERT INTO users (id, email, note)
      SELECT i + 1,
             CASE WHEN i >= ${DISTINCT} THEN upper('user' || (i % ${DISTINCT}) || '@example.org') ELSE 'user' || i || '@example.org' END,
             'row ' || i
      FROM n;
    `)
    db.close()
  })
  afterAll(() => tmp.cleanup())

  it('keeps RSS growth under the limit while dropping 500 000 duplicates', async () => {
    global.gc?.()
    const seen = { spilled: false }
    const base = process.memoryUsage().rss
    let peak = base
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 25)
    let report
    try {
      report = await ferry({
        from: `sqlite:${source}`,
        to: `sqlite:${tmp.path('out.db')}`,
        journal: false,
        transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', maxInMemory: 100_000 }), spillProbe(seen)],
        onProgress: () => {
          peak = Math.max(peak, process.memoryUsage().rss)
        },
      })
    } finally {
      clearInterval(timer)
    }
    const growthMb = (peak - base) / 2 ** 20
    console.log(`2M-row dedupe: RSS ${Math.round(base / 2 ** 20)} MB before, peak ${Math.round(peak / 2 ** 20)} MB (+${growthMb.toFixed(0)} MB)`)
    expect(report.ok).toBe(true)
    const r = report.tables[0]!
    expect([r.read, r.written, r.dropped]).toEqual([ROWS, DISTINCT, ROWS - DISTINCT])
    const out = new Database(tmp.path('out.db'), { readonly: true })
    try {
      expect(out.prepare('SELECT count(*) FROM users').pluck().get()).toBe(DISTINCT)
      expect(out.prepare('SELECT max(id) FROM users').pluck().get()).toBe(DISTINCT)
    } finally {
      out.close()
    }
    expect(seen.spilled).toBe(true)
    expect(growthMb).toBeLessThan(LIMIT_MB)
  }, 300_000)
})
