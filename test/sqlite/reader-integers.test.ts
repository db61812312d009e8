import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { buildDb, readAll, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

/**
 * The reader takes integers as numbers and reads a batch again with bigints when it holds a number past
 * 2^53 - 1: every integer must come out exact wherever it sits (column, rowid, batch), and nothing else move.
 */
describe('integers past 2^53 in a table read by rowid', () => {
  const edges = [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 53n) - 1n, -(2n ** 53n) + 1n]
  const FILL = 1000
  const exact = (b: bigint): number | bigint => (b >= -(2n ** 53n) + 1n && b <= 2n ** 53n - 1n ? Number(b) : b)

  it('keeps every value exact in any column and batch, reals past 2^53 included', async () => {
    const file = tmp.path('ints.db')
    buildDb(file, `CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT, r REAL, u, d decimal(20,0))`, (db) => {
      db.defaultSafeIntegers(true)
      const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)')
      for (let i = 1n; i <= BigInt(FILL); i++) ins.run(i, i * 1000n, `s${i}`, Number(i) / 4, i, i)
      // one edge value per row, far apart, so most batches hold none
      edges.forEach((e, j) => {
        const id = BigInt(FILL) + 100n + BigInt(j) * 10n
        ins.run(id, j % 2 === 0 ? e : 5n, null, null, j % 2 === 1 ? e : null, e > 0n && e < 10n ** 20n ? e : null)
      })
      // a rejected row in the same page as a value past 2^53: reported once when the page is read again
      ins.run(BigInt(FILL) + 99n, 'not a number', null, null, null, null)
      ins.run(BigInt(FILL) + 300n, 1n, null, 1e20, null, null)
      ins.run(BigInt(FILL) + 301n, 2n, null, -Infinity, null, null)
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 't')
    // small batches, and large ones read in several statements (a page past 2^53 is read again alone)
    for (const size of [7, 10_000]) {
      const batches = await readAll(conn, t, size)
      const rows = batches.flatMap((b) => b.rows)
      expect(batches.flatMap((b) => b.rejected).map((e) => [e.key, e.column])).toEqual([[{ id: FILL + 99 }, 'n']])
      expect(rows).toHaveLength(FILL + edges.length + 2)
      expect(rows[0]).toEqual([1, 1000, 's1', 0.25, Buffer.from('1'), '1'])
      expect(rows[FILL - 1]).toEqual([FILL, FILL * 1000, `s${FILL}`, FILL / 4, Buffer.from(String(FILL)), String(FILL)])
      edges.forEach((e, j) => {
        const row = rows[FILL + j]!
        expect(row[0]).toBe(FILL + 100 + j * 10)
        if (j % 2 === 0) expect(row[1]).toBe(exact(e))
        else expect(Buffer.from(row[4] as Uint8Array).toString()).toBe(e.toString())
        expect(row[5]).toBe(e > 0n && e < 10n ** 20n ? e.toString() : null)
      })
      expect(rows.at(-2)!.slice(0, 4)).toEqual([FILL + 300, 1, null, 1e20])
      expect(rows.at(-1)!.slice(0, 4)).toEqual([FILL + 301, 2, null, -Infinity])
    }
    await conn.close()
  })

  it('pages by rowids past 2^53 exactly', async () => {
    const file = tmp.path('rowids.db')
    const ids = [1n, 2n ** 53n - 2n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 2n, 2n ** 62n, 2n ** 63n - 2n, 2n ** 63n - 1n]
    buildDb(file, `CREATE TABLE nokey (v TEXT)`, (db) => {
      db.defaultSafeIntegers(true)
      const ins = db.prepare('INSERT INTO nokey (rowid, v) VALUES (?, ?)')
      for (const id of ids) ins.run(id, id.toString())
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'nokey')
    for (const size of [1, 2, 3, 100]) {
      const batches = await readAll(conn, t, size)
      expect(batches.flatMap((b) => b.rows).map((r) => r[0])).toEqual(ids.map(String))
      expect(batches.at(-1)!.lastKey).toEqual([2n ** 63n - 1n])
    }
    await conn.close()
  })
})

/** SQLite turns integer text past 2^63 - 1 into a REAL; 2^63 itself must not pass as an int64. */
describe('a REAL of exactly 2^63 in an INTEGER column', () => {
  it('is rejected as out of range, in a read and in a scan', async () => {
    const file = tmp.path('real-2-63.db')
    buildDb(file, `CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER); INSERT INTO t VALUES (1, 9223372036854775807), (2, '9223372036854775808'), (3, -9223372036854775808.0), (4, 1e17)`)
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 't')
    const batches = await readAll(conn, t)
    const scanned: unknown[][] = []
    // a scan hands the key's raw parts after the values
    const scan = await conn.scan!(t, (row) => scanned.push(row.slice(0, 2)))
    await conn.close()
    const rows = batches.flatMap((b) => b.rows)
    // -2^63 is in range, as a REAL too; 1e17 is an integer by value
    expect(rows).toEqual([
      [1, 2n ** 63n - 1n],
      [3, -(2n ** 63n)],
      [4, 10n ** 17n],
    ])
    expect(scanned).toEqual(rows)
    for (const rejected of [batches.flatMap((b) => b.rejected), scan.rejected]) {
      expect(rejected.map((e) => [e.code, e.key, e.column, e.value])).toEqual([['out_of_range', { id: 2 }, 'n', 2 ** 63]])
    }
  })
})
