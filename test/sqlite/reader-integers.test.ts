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
  const exact = (b: bigint): number | bigint => (b >= -(2n ** 53n) + 1n && b <= 2n ** 53n - 1n ? Number(b) : b)

  it('keeps every value exact in any column and batch, reals past 2^53 included', async () => {
    const file = tmp.path('ints.db')
    buildDb(file, `CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT, r REAL, u, d decimal(20,0))`, (db) => {
      db.defaultSafeIntegers(true)
      const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)')
      for (let i = 1n; i <= 40n; i++) ins.run(i, i * 1000n, `s${i}`, Number(i) / 4, i, i)
      // one edge value per row, far apart, so most batches hold none
      edges.forEach((e, j) => {
        const id = 100n + BigInt(j) * 10n
        ins.run(id, j % 2 === 0 ? e : 5n, null, null, j % 2 === 1 ? e : null, e > 0n && e < 10n ** 20n ? e : null)
      })
      ins.run(300n, 1n, null, 1e20, null, null)
      ins.run(301n, 2n, null, -Infinity, null, null)
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 't')
    const rows = (await readAll(conn, t, 7)).flatMap((b) => b.rows)
    await conn.close()
    expect(rows).toHaveLength(40 + edges.length + 2)
    expect(rows[0]).toEqual([1, 1000, 's1', 0.25, Buffer.from('1'), '1'])
    expect(rows[39]).toEqual([40, 40000, 's40', 10, Buffer.from('40'), '40'])
    edges.forEach((e, j) => {
      const row = rows[40 + j]!
      expect(row[0]).toBe(100 + j * 10)
      if (j % 2 === 0) expect(row[1]).toBe(exact(e))
      else expect(Buffer.from(row[4] as Uint8Array).toString()).toBe(e.toString())
      expect(row[5]).toBe(e > 0n && e < 10n ** 20n ? e.toString() : null)
    })
    expect(rows.at(-2)!.slice(0, 4)).toEqual([300, 1, null, 1e20])
    expect(rows.at(-1)!.slice(0, 4)).toEqual([301, 2, null, -Infinity])
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
