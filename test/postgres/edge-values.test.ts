import mysql2 from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, MemoryJournal } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

// Values PostgreSQL holds that lie outside the plain canonical forms: infinity and -infinity dates and
// timestamps, BC dates, years past 9999, numeric NaN and ±Infinity. Into PostgreSQL each is kept exactly; into
// MariaDB, which cannot hold them, each row is a journaled reject naming table, key, column and value.

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return (await c.query(text)).rows
  } finally {
    await c.end()
  }
}

const pgUp = await serverUp('postgres')
const mysqlUp = await serverUp('mysql')

const DATES = ["'infinity'", "'-infinity'", "'0044-03-15 BC'", "'12000-01-01'", "'2020-05-17'"]
const STAMPS = ["'infinity'", "'-infinity'", "'0044-03-15 12:30:00.25 BC'", "'12000-01-01 10:00:00.5'", "'2020-05-17 10:00:00'"]

describe.skipIf(!pgUp)('PostgreSQL values past the plain canonical forms', () => {
  let src: TestDatabase
  beforeAll(async () => {
    src = await createPostgresDatabase('dbferry_edge_src')
    const c = new pg.Client({ connectionString: src.url })
    await c.connect()
    try {
      await c.query('CREATE TABLE days (id int PRIMARY KEY, d date, ts timestamp(3), tz timestamptz)')
      for (const [i, d] of DATES.entries()) await c.query(`INSERT INTO days VALUES (${i + 1}, ${d}, ${STAMPS[i]}, ${STAMPS[i]})`)
      await c.query('CREATE TABLE amounts (id int PRIMARY KEY, n numeric, p numeric(10,2))')
      await c.query("INSERT INTO amounts VALUES (1, 'NaN', 'NaN'), (2, 'Infinity', 1.5), (3, '-Infinity', 2), (4, 1.25, 3)")
    } finally {
      await c.end()
    }
  })
  afterAll(async () => src?.drop())

  describe('PostgreSQL → PostgreSQL', () => {
    let dst: TestDatabase
    let report: Awaited<ReturnType<typeof ferry>>
    beforeAll(async () => {
      dst = await createPostgresDatabase('dbferry_edge_dst')
      report = await ferry({ from: src.url, to: dst.url, journal: new MemoryJournal() })
    })
    afterAll(async () => dst?.drop())

    it('keeps infinity, -infinity, BC and years past 9999 in date, timestamp and timestamptz', async () => {
      expect(report.tables.find((t) => t.name === 'days')).toMatchObject({ read: 5, written: 5, rejected: 0 })
      const text = 'SELECT id, d::text, ts::text, tz::text FROM days ORDER BY id'
      expect(await query(dst.url, text)).toEqual(await query(src.url, text))
      expect((await query(dst.url, text)).map((r) => r.d)).toEqual(['infinity', '-infinity', '0044-03-15 BC', '12000-01-01', '2020-05-17'])
    })

    it('keeps numeric NaN, Infinity and -Infinity', async () => {
      expect(report.tables.find((t) => t.name === 'amounts')).toMatchObject({ read: 4, written: 4, rejected: 0 })
      expect(await query(dst.url, 'SELECT id, n::text, p::text FROM amounts ORDER BY id')).toEqual([
        { id: 1, n: 'NaN', p: 'NaN' },
        { id: 2, n: 'Infinity', p: '1.50' },
        { id: 3, n: '-Infinity', p: '2.00' },
        { id: 4, n: '1.25', p: '3.00' },
      ])
    })
  })

  describe.skipIf(!mysqlUp)('PostgreSQL → MariaDB: each value MariaDB cannot hold is a journaled reject', () => {
    let dst: TestDatabase
    const journal = new MemoryJournal()
    let report: Awaited<ReturnType<typeof ferry>>
    beforeAll(async () => {
      dst = await createMysqlDatabase('dbferry_edge_dst')
      report = await ferry({ from: src.url, to: dst.url, journal })
    })
    afterAll(async () => dst?.drop())

    const rejects = (table: string) => journal.entries.filter((e) => e.table === table && e.action === 'rejected')

    it('infinity, BC and years past 9999', async () => {
      expect(report.tables.find((t) => t.name === 'days')).toMatchObject({ read: 5, written: 1, rejected: 4 })
      const r = rejects('days')
      expect(r.map((e) => e.key)).toEqual(['{"id":1}', '{"id":2}', '{"id":3}', '{"id":4}'])
      for (const [i, e] of r.entries()) {
        expect(e.column).toBe('d')
        expect(e.message).toContain(DATES[i]!.slice(1, -1))
      }
      const c = await mysql2.createConnection({ uri: dst.url, dateStrings: true })
      try {
        expect((await c.query('SELECT id, d FROM days'))[0]).toEqual([{ id: 5, d: '2020-05-17' }])
      } finally {
        await c.end()
      }
    })

    it('numeric NaN and ±Infinity', async () => {
      expect(report.tables.find((t) => t.name === 'amounts')).toMatchObject({ read: 4, written: 1, rejected: 3 })
      const r = rejects('amounts')
      expect(r.map((e) => [e.key, e.column])).toEqual([
        ['{"id":1}', 'n'],
        ['{"id":2}', 'n'],
        ['{"id":3}', 'n'],
      ])
      expect(r.map((e) => e.message).join('\n')).toMatch(/NaN[\s\S]*Infinity[\s\S]*-Infinity/)
    })
  })
})
