import mysql2 from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, MemoryJournal } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

// Values MariaDB holds that lie outside the plain canonical forms: a tinyint(1) holding 2 or -1, TIME as an
// interval (-838:59:59 to 838:59:59), the year-zero date 0000-01-01, and zero dates. Into MariaDB each is kept
// (zero dates: NULL, each journaled as a fix naming the value); into PostgreSQL, which cannot hold them, each
// row is a journaled reject naming table, key, column and value.

async function sql(url: string, statements: string[]): Promise<void> {
  const c = await mysql2.createConnection(url)
  try {
    await c.query("SET SESSION sql_mode = ''") // old applications' mode: zero dates allowed
    for (const s of statements) await c.query(s)
  } finally {
    await c.end()
  }
}

async function select(url: string, query: string): Promise<Record<string, unknown>[]> {
  const c = await mysql2.createConnection({ uri: url, dateStrings: true })
  try {
    return (await c.query(query))[0] as Record<string, unknown>[]
  } finally {
    await c.end()
  }
}

const mysqlUp = await serverUp('mysql')
const pgUp = await serverUp('postgres')

describe.skipIf(!mysqlUp)('MariaDB values past the plain canonical forms', () => {
  let src: TestDatabase
  beforeAll(async () => {
    src = await createMysqlDatabase('dbferry_edge_src')
    await sql(src.url, [
      'CREATE TABLE flags (id int PRIMARY KEY, f tinyint(1))',
      'INSERT INTO flags VALUES (1, 0), (2, 1), (3, 2), (4, -1)',
      'CREATE TABLE spans (id int PRIMARY KEY, t time, t3 time(3))',
      "INSERT INTO spans VALUES (1, '12:00:00', '00:00:00.500'), (2, '838:59:59', '100:00:00.250'), (3, '-838:59:59', '-00:00:01.125'), (4, '24:00:00', NULL)",
      'CREATE TABLE days (id int PRIMARY KEY, d date, dt datetime)',
      "INSERT INTO days VALUES (1, '0000-01-01', '0000-01-01 10:00:00'), (2, '2020-05-17', '2020-05-17 10:00:00')",
      'CREATE TABLE zeros (id int PRIMARY KEY, d date)',
      "INSERT INTO zeros VALUES (1, '0000-00-00'), (2, '2021-02-03')",
    ])
  })
  afterAll(async () => src?.drop())

  describe('MariaDB → MariaDB', () => {
    let dst: TestDatabase
    const journal = new MemoryJournal()
    let report: Awaited<ReturnType<typeof ferry>>
    beforeAll(async () => {
      dst = await createMysqlDatabase('dbferry_edge_dst')
      report = await ferry({ from: src.url, to: dst.url, journal })
    })
    afterAll(async () => dst?.drop())

    it('keeps tinyint(1) 2 and -1', async () => {
      expect(report.tables.find((t) => t.name === 'flags')).toMatchObject({ read: 4, written: 4, rejected: 0 })
      expect((await select(dst.url, 'SELECT id, f FROM flags ORDER BY id')).map((r) => r.f)).toEqual([0, 1, 2, -1])
    })

    it('keeps TIME past 24 hours and negative, with its fraction', async () => {
      expect(report.tables.find((t) => t.name === 'spans')).toMatchObject({ read: 4, written: 4, rejected: 0 })
      expect(await select(dst.url, 'SELECT id, t, t3 FROM spans ORDER BY id')).toEqual([
        { id: 1, t: '12:00:00', t3: '00:00:00.500' },
        { id: 2, t: '838:59:59', t3: '100:00:00.250' },
        { id: 3, t: '-838:59:59', t3: '-00:00:01.125' },
        { id: 4, t: '24:00:00', t3: null },
      ])
    })

    it('keeps the year-zero date 0000-01-01 (a real date, not a zero date)', async () => {
      expect(report.tables.find((t) => t.name === 'days')).toMatchObject({ read: 2, written: 2, rejected: 0, fixed: {} })
      expect(await select(dst.url, 'SELECT id, d, dt FROM days ORDER BY id')).toEqual([
        { id: 1, d: '0000-01-01', dt: '0000-01-01 10:00:00' },
        { id: 2, d: '2020-05-17', dt: '2020-05-17 10:00:00' },
      ])
    })

    it('writes a zero date as NULL and journals each one as a fix naming the value', async () => {
      expect(report.tables.find((t) => t.name === 'zeros')).toMatchObject({ written: 2, fixed: { d: 1 } })
      expect((await select(dst.url, 'SELECT id, d FROM zeros ORDER BY id')).map((r) => r.d)).toEqual([null, '2021-02-03'])
      const fixes = journal.entries.filter((e) => e.table === 'zeros' && e.action === 'fixed')
      expect(fixes.map((e) => [e.key, e.column, e.message])).toEqual([['{"id":1}', 'd', 'zero_date: zero date "0000-00-00" read as NULL']])
    })
  })

  describe.skipIf(!pgUp)('MariaDB → PostgreSQL: each value PostgreSQL cannot hold is a journaled reject', () => {
    let dst: TestDatabase
    const journal = new MemoryJournal()
    let report: Awaited<ReturnType<typeof ferry>>
    beforeAll(async () => {
      dst = await createPostgresDatabase('dbferry_edge_dst')
      report = await ferry({ from: src.url, to: dst.url, journal })
    })
    afterAll(async () => dst?.drop())

    const rejects = (table: string) =>
      journal.entries.filter((e) => e.table === table && e.action === 'rejected').map((e) => ({ key: e.key, column: e.column, message: e.message }))

    it('tinyint(1) 2 and -1 into boolean', async () => {
      expect(report.tables.find((t) => t.name === 'flags')).toMatchObject({ read: 4, written: 2, rejected: 2 })
      const r = rejects('flags')
      expect(r.map((x) => x.key)).toEqual(['{"id":3}', '{"id":4}'])
      expect(r[0]!.message).toContain('not 2')
      expect(r[1]!.message).toContain('not -1')
    })

    it('TIME past a day or negative into time', async () => {
      expect(report.tables.find((t) => t.name === 'spans')).toMatchObject({ read: 4, written: 2, rejected: 2 })
      const r = rejects('spans')
      expect(r.map((x) => x.key)).toEqual(['{"id":2}', '{"id":3}'])
      expect(r[0]!.message).toContain('838:59:59')
      expect(r[1]!.message).toContain('-838:59:59')
    })

    it('the year-zero date', async () => {
      expect(report.tables.find((t) => t.name === 'days')).toMatchObject({ read: 2, written: 1, rejected: 1 })
      const r = rejects('days')
      expect(r.map((x) => x.key)).toEqual(['{"id":1}'])
      expect(r[0]!.message).toContain('0000-01-01')
    })

    it('a zero date is a journaled fix (NULL) here too', async () => {
      const c = new pg.Client({ connectionString: dst.url })
      await c.connect()
      try {
        expect((await c.query('SELECT id, d::text FROM zeros ORDER BY id')).rows).toEqual([
          { id: 1, d: null },
          { id: 2, d: '2021-02-03' },
        ])
      } finally {
        await c.end()
      }
      expect(journal.entries.filter((e) => e.table === 'zeros' && e.action === 'fixed').map((e) => e.message)).toEqual(['zero_date: zero date "0000-00-00" read as NULL'])
    })
  })
})
