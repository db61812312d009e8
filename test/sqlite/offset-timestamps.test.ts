import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase } from '../support/servers.js'
import { buildDb, readAll, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

/**
 * A DATETIME column whose text carries a UTC offset (`+00:00`, `Z`, a `T` separator, `+0530`), as many
 * applications write them: the column is read as timestamptz, so every row keeps its instant and none is
 * rejected.
 */
const OFFSET_SQL = `
  CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT, timestamp TIMESTAMP, pubdate TIMESTAMP, last_modified TIMESTAMP);
  INSERT INTO books VALUES (1, 'one', '2019-03-04 10:11:12.123456+00:00', '0101-01-01 00:00:00+00:00', '2019-03-04 10:11:12.123456+00:00');
  INSERT INTO books VALUES (2, 'two', '2019-03-04T10:11:12Z', '2001-05-06 00:00:00+00:00', '2019-03-04T10:11:12.5+05:30');
  INSERT INTO books VALUES (3, 'three', '2019-03-04 10:11:12+0530', NULL, '2019-03-04 10:11:12');
  CREATE TABLE plain (id INTEGER PRIMARY KEY, at DATETIME);
  INSERT INTO plain VALUES (1, '2019-03-04 10:11:12'), (2, '2019-03-04');
`

describe('a DATETIME column holding times with offsets', () => {
  const file = tmp.path('offsets.db')
  buildDb(file, OFFSET_SQL)

  it('is read as timestamptz, every row kept with its offset, and the snapshot notes say so', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const snap = await conn.snapshot()
    const schema = await conn.introspect()
    const books = tableOf(schema.tables, 'books')
    expect(books.columns.map((c) => c.type.kind)).toEqual(['int64', 'text', 'timestamptz', 'timestamptz', 'timestamptz'])
    // a column without any offset stays a timestamp
    expect(tableOf(schema.tables, 'plain').columns[1]!.type).toEqual({ kind: 'timestamp' })
    expect(snap.notes).toContain('books.timestamp: TIMESTAMP holds times with a UTC offset, read as timestamptz (values without an offset are read as UTC)')
    expect(snap.notApplied ?? 0).toBe(0)
    const batches = await readAll(conn, books)
    await conn.close()
    expect(batches.flatMap((b) => b.rejected)).toEqual([])
    expect(batches.flatMap((b) => b.rows)).toEqual([
      [1, 'one', '2019-03-04 10:11:12.123456+00:00', '0101-01-01 00:00:00+00:00', '2019-03-04 10:11:12.123456+00:00'],
      [2, 'two', '2019-03-04 10:11:12+00:00', '2001-05-06 00:00:00+00:00', '2019-03-04 10:11:12.5+05:30'],
      [3, 'three', '2019-03-04 10:11:12+05:30', null, '2019-03-04 10:11:12+00:00'],
    ])
  })

  it('moves every row to PostgreSQL as the same instants, in timestamptz columns', async () => {
    const db = await createPostgresDatabase('offsets')
    try {
      const report = await ferry({ from: `sqlite:${file}`, to: db.url })
      expect(report.tables.map((t) => [t.name, t.written, t.rejected])).toEqual([
        ['books', 3, 0],
        ['plain', 2, 0],
      ])
      expect(report.clean).toBe(true)
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      try {
        await c.query("SET TimeZone = 'UTC'")
        const types = await c.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'books' AND column_name IN ('timestamp', 'last_modified') ORDER BY column_name")
        expect(types.rows).toEqual([
          { column_name: 'last_modified', data_type: 'timestamp with time zone' },
          { column_name: 'timestamp', data_type: 'timestamp with time zone' },
        ])
        const rows = await c.query('SELECT id, "timestamp"::text AS ts, last_modified::text AS lm FROM books ORDER BY id')
        expect(rows.rows).toEqual([
          { id: '1', ts: '2019-03-04 10:11:12.123456+00', lm: '2019-03-04 10:11:12.123456+00' },
          { id: '2', ts: '2019-03-04 10:11:12+00', lm: '2019-03-04 04:41:12.5+00' },
          { id: '3', ts: '2019-03-04 04:41:12+00', lm: '2019-03-04 10:11:12+00' },
        ])
      } finally {
        await c.end()
      }
    } finally {
      await db.drop()
    }
  })

  it('moves every row to MySQL/MariaDB in UTC', async () => {
    const db = await createMysqlDatabase('offsets')
    try {
      const report = await ferry({ from: `sqlite:${file}`, to: db.url, tables: { include: ['books'] } })
      expect(report.tables.map((t) => [t.name, t.written, t.rejected])).toEqual([['books', 3, 0]])
      const mysql = await import('mysql2/promise')
      const c = await mysql.createConnection({ uri: db.url, dateStrings: true })
      try {
        const [rows] = await c.query('SELECT id, `timestamp` AS ts, last_modified AS lm FROM books ORDER BY id')
        expect(rows).toEqual([
          { id: 1, ts: '2019-03-04 10:11:12.123456', lm: '2019-03-04 10:11:12.123456' },
          { id: 2, ts: '2019-03-04 10:11:12.000000', lm: '2019-03-04 04:41:12.500000' },
          { id: 3, ts: '2019-03-04 04:41:12.000000', lm: '2019-03-04 10:11:12.000000' },
        ])
      } finally {
        await c.end()
      }
    } finally {
      await db.drop()
    }
  })

  it('copies SQLite to SQLite with the declared type and the offsets as they were', async () => {
    const out = tmp.path('offsets-copy.db')
    const report = await ferry({ from: `sqlite:${file}`, to: `sqlite:${out}` })
    expect(report.clean).toBe(true)
    const b = new Database(out, { readonly: true })
    const declared = b.prepare("SELECT type FROM pragma_table_xinfo('books') WHERE name = 'timestamp'").pluck().get()
    const first = b.prepare('SELECT "timestamp" FROM books WHERE id = 1').pluck().get()
    b.close()
    expect(declared).toBe('TIMESTAMP')
    expect(first).toBe('2019-03-04 10:11:12.123456+00:00')
  })
})

describe('a DATE-only value in a DATETIME column', () => {
  it('is a valid timestamp at midnight', async () => {
    const file = tmp.path('date-only.db')
    buildDb(file, `CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME); INSERT INTO events VALUES (1, '2019-03-04'), (2, '2019-03-04 10:11:12')`)
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'events')
    const batches = await readAll(conn, t)
    await conn.close()
    expect(t.columns[1]!.type).toEqual({ kind: 'timestamp' })
    expect(batches.flatMap((b) => b.rejected)).toEqual([])
    expect(batches.flatMap((b) => b.rows)).toEqual([
      [1, '2019-03-04 00:00:00'],
      [2, '2019-03-04 10:11:12'],
    ])
  })
})
