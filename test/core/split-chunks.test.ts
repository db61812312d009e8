import { afterAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Connection } from '../../src/dialect.js'
import { ferry } from '../../src/ferry.js'
import type { TableSchema, Value } from '../../src/schema/types.js'
import { harnesses } from '../cross/harness.js'
import type { TestDatabase } from '../support/servers.js'
import { ROWS, splitSource } from '../support/split-fixture.js'

// tables split with --jobs whose key is not one integer column: a text key, a composite key (text first) and a
// table without a key, copied with three jobs from each source engine and compared with verify

const all = await harnesses()
const by = (name: string) => all.find((h) => h.name === name)
const PAIRS = [
  // PostgreSQL: sampled keys and ctid ranges; SQLite: rowid ranges for all three; MariaDB: sampled keys
  { from: 'postgres', to: 'mysql', split: ['words', 'pairs', 'loose'] },
  { from: 'sqlite', to: 'postgres', split: ['words', 'pairs', 'loose'] },
  { from: 'mysql', to: 'postgres', split: ['words', 'pairs'] },
].filter((p) => by(p.from) && by(p.to))

const made: TestDatabase[] = []
afterAll(async () => {
  for (const db of made) await db.drop()
})

describe.skipIf(PAIRS.length === 0)('--jobs 3 splits tables whose key is not one integer column', () => {
  for (const pair of PAIRS) {
    it(`${pair.from} → ${pair.to}: ${pair.split.join(', ')} in several chunks, equal to the source`, async () => {
      const src = await splitSource(by(pair.from)!)
      made.push(src)
      const dst = await by(pair.to)!.create()
      made.push(dst)
      const report = await ferry({ from: src.url, to: dst.url, jobs: 3, chunkRows: 400, batchRows: 150, verify: true })
      expect(report.ok).toBe(true)
      expect(report.verify?.equal).toBe(true)
      for (const t of report.tables) {
        expect(t.read).toBe(ROWS)
        expect(t.written).toBe(ROWS)
        if (pair.split.includes(t.name)) expect(t.chunks, t.name).toBeGreaterThan(1)
        else expect(t.chunks, t.name).toBeUndefined()
      }
    }, 120_000)
  }
})

/** The table `name` of a connection's schema. */
async function tableOf(connection: Connection, name: string): Promise<TableSchema> {
  return (await connection.introspect()).tables.find((t) => t.name === name)!
}

const SAMPLERS = ['postgres', 'mysql', 'sqlite'].filter((n) => by(n))

describe.skipIf(SAMPLERS.length === 0)('splitKeys', () => {
  for (const name of SAMPLERS) {
    it(`${name}: ascending keys of the read order that cut the table into about equal ranges`, async () => {
      const src = await splitSource(by(name)!, 12_000)
      made.push(src)
      const { connection } = await connect(src.url)
      try {
        // PostgreSQL's estimate after ANALYZE makes its sample a TABLESAMPLE of part of the table
        if (name === 'postgres') await connection.execute!('ANALYZE words')
        await connection.snapshot()
        const words = await tableOf(connection, 'words')
        const keys = (await connection.splitKeys!(words, 5))!
        expect(keys.length).toBeGreaterThanOrEqual(3)
        expect(keys.length).toBeLessThanOrEqual(5)
        // the rows in each range, read with the bounds as after/until, in the reader's own order
        const sizes: number[] = []
        const seen = new Set<Value>()
        for (let i = 0; i <= keys.length; i++) {
          let n = 0
          for await (const b of connection.read(words, { batchRows: 5_000, batchBytes: 1 << 24, after: keys[i - 1], until: keys[i] })) {
            n += b.rows.length
            for (const r of b.rows) seen.add(r[1]!)
          }
          sizes.push(n)
        }
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(12_000)
        expect(seen.size).toBe(12_000)
        // no range empty, none more than three times its fair share (a sample, not an exact cut)
        for (const s of sizes) {
          expect(s).toBeGreaterThan(0)
          expect(s).toBeLessThan((3 * 12_000) / sizes.length)
        }
        // a table without a key has no read order to cut, except SQLite's rowid
        const loose = await tableOf(connection, 'loose')
        if (name === 'sqlite') expect((await connection.splitKeys!(loose, 3))?.length).toBe(3)
        else expect(await connection.splitKeys!(loose, 3)).toBeUndefined()
      } finally {
        await connection.close()
      }
    }, 120_000)
  }

  it.skipIf(!by('postgres'))('postgres: pageCount of a table without a key, and page ranges that read each row once', async () => {
    const src = await splitSource(by('postgres')!, 12_000)
    made.push(src)
    const { connection } = await connect(src.url)
    try {
      await connection.snapshot()
      const loose = await tableOf(connection, 'loose')
      const pages = (await connection.pageCount!(loose))!
      expect(pages).toBeGreaterThan(10)
      expect(await connection.pageCount!(await tableOf(connection, 'words'))).toBeUndefined()
      const cuts = [undefined, 3, Math.floor(pages / 2), pages - 1, undefined]
      const seen: string[] = []
      for (let i = 0; i < cuts.length - 1; i++) {
        const range = { ...(cuts[i] !== undefined && { from: cuts[i] }), ...(cuts[i + 1] !== undefined && { to: cuts[i + 1] }) }
        for await (const b of connection.read(loose, { batchRows: 5_000, batchBytes: 1 << 24, pages: range })) for (const r of b.rows) seen.push(String(r[1]))
      }
      expect(seen).toHaveLength(12_000)
      expect(new Set(seen).size).toBe(12_000)
    } finally {
      await connection.close()
    }
  }, 120_000)
})
