import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { buildDb, readAll, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

/**
 * Numbers in DATETIME, TIMESTAMP and DATE columns: Unix seconds, Unix milliseconds or Julian days, as
 * applications store them. Rejected by default, with the value shown; read as UTC under `numericTimestamps`.
 */
describe('numbers in DATETIME and DATE columns', () => {
  const file = tmp.path('numeric.db')
  buildDb(
    file,
    `
    CREATE TABLE seconds (id INTEGER PRIMARY KEY, at DATETIME, day DATE);
    INSERT INTO seconds VALUES (1, 1551694272, 1551657600), (2, 1551694272.25, 0), (3, '2019-03-04 10:11:12', '2019-03-04'), (4, -1, 1551694272), (5, 1e300, NULL);
    CREATE TABLE millis (id INTEGER PRIMARY KEY, at TIMESTAMP);
    INSERT INTO millis VALUES (1, 1551694272123), (2, 1551694272123.5), (3, 0);
    CREATE TABLE julian (id INTEGER PRIMARY KEY, at DATETIME, day DATE);
    INSERT INTO julian VALUES (1, 2458546.92444444, 2458546.5), (2, 2440587.5, 2440588);
    `,
  )

  async function read(table: string, url: string) {
    const conn = await sqlite.connect(url)
    const batches = await readAll(conn, tableOf((await conn.introspect()).tables, table))
    const snap = await conn.snapshot()
    await conn.close()
    return { rows: batches.flatMap((b) => b.rows), rejected: batches.flatMap((b) => b.rejected), notes: snap.notes ?? [] }
  }

  it('rejects their rows by default, showing the value and the option', async () => {
    const { rows, rejected } = await read('seconds', `sqlite:${file}`)
    expect(rows).toEqual([[3, '2019-03-04 10:11:12', '2019-03-04']])
    expect(rejected.map((e) => [e.key, e.column, e.value])).toEqual([
      [{ id: 1 }, 'at', 1551694272],
      [{ id: 2 }, 'at', 1551694272.25],
      [{ id: 4 }, 'at', -1],
      [{ id: 5 }, 'at', 1e300],
    ])
    expect(rejected[0]!.message).toBe(
      'seconds.at: 1551694272 (a number) is not a timestamp (YYYY-MM-DD HH:MM:SS); numbers in a DATETIME column are read with numericTimestamps=unixepoch, unixepoch-ms or julianday',
    )
  })

  it('reads Unix seconds as UTC with ?numericTimestamps=unixepoch, as SQLite itself does', async () => {
    const { rows, rejected, notes } = await read('seconds', `sqlite:${file}?numericTimestamps=unixepoch`)
    const db = new Database(file, { readonly: true })
    const own = db.prepare("SELECT datetime(1551694272, 'unixepoch'), date(1551657600, 'unixepoch'), datetime(-1, 'unixepoch')").raw(true).get()
    db.close()
    expect(own).toEqual(['2019-03-04 10:11:12', '2019-03-04', '1969-12-31 23:59:59'])
    expect(rows).toEqual([
      [1, '2019-03-04 10:11:12', '2019-03-04'],
      [2, '2019-03-04 10:11:12.25', '1970-01-01'],
      [3, '2019-03-04 10:11:12', '2019-03-04'],
    ])
    // a DATE holding a time of day and a number past year 9999 are rejected, with the value read
    expect(rejected.map((e) => [e.key, e.column, e.code, e.message])).toEqual([
      [{ id: 4 }, 'day', 'type_conversion', 'seconds.day: 1551694272 (a number, read as unixepoch) is 2019-03-04 10:11:12 UTC, not a date: it has a time of day'],
      [{ id: 5 }, 'at', 'out_of_range', 'seconds.at: 1e+300 (a number, read as unixepoch) is outside the years 0000 to 9999'],
    ])
    expect(notes).toContain('numbers in DATE, DATETIME and TIMESTAMP columns are read as Unix seconds in UTC (numericTimestamps=unixepoch)')
  })

  it('reads Unix milliseconds with the connect option sqliteNumericTimestamps', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`, { sqliteNumericTimestamps: 'unixepoch-ms' })
    const batches = await readAll(conn, tableOf((await conn.introspect()).tables, 'millis'))
    await conn.close()
    expect(batches.flatMap((b) => b.rejected)).toEqual([])
    expect(batches.flatMap((b) => b.rows)).toEqual([
      [1, '2019-03-04 10:11:12.123'],
      [2, '2019-03-04 10:11:12.1235'],
      [3, '1970-01-01 00:00:00'],
    ])
  })

  it('reads Julian day numbers to the millisecond, as SQLite does', async () => {
    const { rows, rejected } = await read('julian', `sqlite:${file}?numericTimestamps=julianday`)
    const db = new Database(file, { readonly: true })
    const own = db.prepare("SELECT strftime('%Y-%m-%d %H:%M:%f', at), date(day) FROM julian ORDER BY id").raw(true).all()
    db.close()
    expect(own).toEqual([
      ['2019-03-04 10:11:12.000', '2019-03-04'],
      ['1970-01-01 00:00:00.000', '1970-01-01'],
    ])
    expect(rows).toEqual([[1, '2019-03-04 10:11:12', '2019-03-04']])
    // 2440588 is noon of 1970-01-01: not a date
    expect(rejected.map((e) => [e.key, e.column])).toEqual([[{ id: 2 }, 'day']])
  })

  it('moves through ferry() with the URL parameter, and refuses an unknown reading', async () => {
    const out = tmp.path('numeric-copy.db')
    const report = await ferry({ from: `sqlite:${file}?numericTimestamps=unixepoch-ms`, to: `sqlite:${out}`, tables: { include: ['millis'] } })
    expect(report.tables.map((t) => [t.name, t.written, t.rejected])).toEqual([['millis', 3, 0]])
    const db = new Database(out, { readonly: true })
    expect(db.prepare('SELECT at FROM millis ORDER BY id').pluck().all()).toEqual(['2019-03-04 10:11:12.123', '2019-03-04 10:11:12.1235', '1970-01-01 00:00:00'])
    db.close()
    await expect(sqlite.connect(`sqlite:${file}?numericTimestamps=seconds`)).rejects.toThrow(UsageError)
    await expect(sqlite.connect(`sqlite:${file}?numericTimestamps=seconds`)).rejects.toThrow('numericTimestamps must be reject, unixepoch, unixepoch-ms or julianday, not "seconds"')
  })
})
