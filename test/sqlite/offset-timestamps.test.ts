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

/**
 * Whether a column holds offsets is decided from a sample (its first and last rows in key order), so a
 * long table is not read to its end at every introspection. Offsets beyond the sample are still kept as
 * instants: each is read as the same instant in UTC, counted as a fix.
 */
describe('offsets decided from a sample of the rows', () => {
  const ROWS = 3000
  /** `YYYY-MM-DD HH:MM:SS` for row `i`, one minute apart from 2020-01-01 (in UTC). */
  const plainAt = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString().slice(0, 19).replace('T', ' ')
  // rows 1400..1599, every tenth: far from both ends; +05:30, -08:00 and Z in turn
  const offsets = new Map<number, { text: string; utc: string }>()
  for (let i = 1400; i < 1600; i += 10) {
    const local = new Date(Date.UTC(2020, 0, 1) + i * 60_000)
    const [suffix, minutes] = [['+05:30', 330], ['-08:00', -480], ['Z', 0]][(i / 10) % 3] as [string, number]
    const text = `${new Date(local.getTime() + minutes * 60_000).toISOString().slice(0, 19).replace('T', ' ')}${suffix}`
    offsets.set(i, { text, utc: plainAt(i) })
  }
  const file = tmp.path('sampled.db')
  buildDb(file, 'CREATE TABLE events (id INTEGER PRIMARY KEY, at DATETIME); CREATE TABLE stamped (id INTEGER PRIMARY KEY, at DATETIME); CREATE TABLE tail (id INTEGER PRIMARY KEY, at DATETIME);', (db) => {
    const events = db.prepare('INSERT INTO events VALUES (?, ?)')
    const stamped = db.prepare('INSERT INTO stamped VALUES (?, ?)')
    const tail = db.prepare('INSERT INTO tail VALUES (?, ?)')
    for (let i = 0; i < ROWS; i++) {
      events.run(i, offsets.get(i)?.text ?? plainAt(i))
      // every value with an offset (as calibre writes them)
      stamped.run(i, `${plainAt(i)}+00:00`)
      // an offset only in the very last row
      tail.run(i, i === ROWS - 1 ? `${plainAt(i)}+01:00` : plainAt(i))
    }
  })

  it('reads a column whose offsets lie beyond the sample as timestamp, each offset value as its UTC instant, counted as a fix', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const events = tableOf((await conn.introspect()).tables, 'events')
    expect(events.columns[1]!.type).toEqual({ kind: 'timestamp' })
    const batches = await readAll(conn, events, 500)
    await conn.close()
    expect(batches.flatMap((b) => b.rejected)).toEqual([])
    const rows = batches.flatMap((b) => b.rows)
    expect(rows.length).toBe(ROWS)
    // every row, the offset ones included, holds its instant in UTC
    expect(rows).toEqual(Array.from({ length: ROWS }, (_, i) => [i, plainAt(i)]))
    const fixed = batches.reduce((n, b) => n + (b.fixed?.at ?? 0), 0)
    expect(fixed).toBe(offsets.size)
    const fixes = batches.flatMap((b) => b.fixes ?? [])
    expect(fixes.length).toBe(offsets.size)
    expect(fixes.map((f) => [f.column, f.kind, f.row[0]])).toEqual([...offsets.keys()].map((i) => ['at', 'offset_to_utc', i]))
    const first = offsets.get(1400)!
    expect(fixes[0]!.message).toBe(`${JSON.stringify(first.text)} has a UTC offset in a timestamp column: read as ${first.utc} (UTC)`)
  })

  it('reads a column whose every value has an offset, or whose last row has one, as timestamptz', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const tables = (await conn.introspect()).tables
    const stamped = tableOf(tables, 'stamped')
    expect(stamped.columns[1]!.type).toEqual({ kind: 'timestamptz' })
    expect(tableOf(tables, 'tail').columns[1]!.type).toEqual({ kind: 'timestamptz' })
    const batches = await readAll(conn, stamped)
    await conn.close()
    expect(batches.flatMap((b) => b.rows)).toEqual(Array.from({ length: ROWS }, (_, i) => [i, `${plainAt(i)}+00:00`]))
    expect(batches.some((b) => b.fixed !== undefined)).toBe(false)
  })

  it('copies such a column with every row, reports the fixes, and verifies equal', async () => {
    const out = tmp.path('sampled-copy.db')
    const report = await ferry({ from: `sqlite:${file}`, to: `sqlite:${out}`, tables: { include: ['events'] }, verify: true })
    expect(report.tables.map((t) => [t.name, t.written, t.rejected, t.fixed])).toEqual([['events', ROWS, 0, { at: offsets.size }]])
    expect(report.verify?.equal).toBe(true)
    const b = new Database(out, { readonly: true })
    const at1400 = b.prepare('SELECT at FROM events WHERE id = 1400').pluck().get()
    b.close()
    expect(at1400).toBe(offsets.get(1400)!.utc)
  })
})

describe('an offset beyond the sample of a WITHOUT ROWID table', () => {
  it('is read in UTC across a day and a leap day with its fraction, and an instant before the year 0000 is rejected, not dropped', async () => {
    const file = tmp.path('sampled-pk.db')
    buildDb(file, 'CREATE TABLE log (k TEXT PRIMARY KEY, at TIMESTAMP) WITHOUT ROWID', (db) => {
      const ins = db.prepare('INSERT INTO log VALUES (?, ?)')
      for (let i = 0; i < 1000; i++) ins.run(`k${String(i).padStart(4, '0')}`, '2024-01-01 00:00:00')
      db.prepare("UPDATE log SET at = '2024-02-29T23:59:59.123456-00:30' WHERE k = 'k0500'").run()
      db.prepare("UPDATE log SET at = '0000-01-01 00:10:00+01:00' WHERE k = 'k0501'").run()
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const log = tableOf((await conn.introspect()).tables, 'log')
    expect(log.columns[1]!.type).toEqual({ kind: 'timestamp' })
    const batches = await readAll(conn, log)
    await conn.close()
    const rows = batches.flatMap((b) => b.rows)
    expect(rows.length).toBe(999)
    expect(rows.find((r) => r[0] === 'k0500')).toEqual(['k0500', '2024-03-01 00:29:59.123456'])
    expect(batches.flatMap((b) => b.rejected).map((e) => [e.key, e.value])).toEqual([[{ k: 'k0501' }, '0000-01-01 00:10:00+01:00']])
    expect(batches.flatMap((b) => b.fixes ?? []).map((f) => [f.kind, f.row[0]])).toEqual([['offset_to_utc', 'k0500']])
  })
})
