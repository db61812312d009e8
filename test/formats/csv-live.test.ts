import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

const pgUp = await serverUp('postgres')
const myUp = await serverUp('mysql')

/** A CSV with every inferred type, NULL vs empty string, a multi-line value and one row that does not convert. */
function csvDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-csv-live-'))
  writeFileSync(
    join(dir, 'orders.csv'),
    'id,ref,total,ratio,placed,day,paid,note\n' +
      '1,007,10.50,0.5,2020-01-02 10:00:00.25,2020-01-02,true,"multi\nline ""quoted"""\n' +
      '2,A-2,3.00,1e3,2020-01-03 11:30:00,2020-01-03,false,""\n' +
      '3,,-1.25,,,,,\n' +
      '4,x,12.345,1,2020-01-04 00:00:00,2020-01-04,true,scale too big for the sample\n',
  )
  return dir
}

const EXPECTED_NOTES = ['multi\nline "quoted"', '', null]

describe('csv into live databases', () => {
  const dbs: TestDatabase[] = []
  afterAll(async () => {
    for (const d of dbs) await d.drop().catch(() => {})
  })

  it.skipIf(!pgUp)('loads into PostgreSQL with inferred types; the row that does not fit is rejected', async () => {
    const db = await createPostgresDatabase('csv_pg')
    dbs.push(db)
    const report = await ferry({ from: `csv:${csvDir()}?sampleRows=3`, to: db.url, journal: false })
    expect(report.error).toBeUndefined()
    expect(report.totals).toMatchObject({ read: 4, written: 3, rejected: 1 })
    const pg = (await import('pg')).default
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    try {
      const types = await c.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position")
      expect(types.rows.map((r) => r.data_type)).toEqual(['integer', 'text', 'numeric', 'double precision', 'timestamp without time zone', 'date', 'boolean', 'text'])
      const rows = await c.query('SELECT id, ref, total::text, ratio, placed::text, day::text, paid, note FROM orders ORDER BY id')
      expect(rows.rows).toEqual([
        { id: 1, ref: '007', total: '10.50', ratio: 0.5, placed: '2020-01-02 10:00:00.25', day: '2020-01-02', paid: true, note: EXPECTED_NOTES[0] },
        { id: 2, ref: 'A-2', total: '3.00', ratio: 1000, placed: '2020-01-03 11:30:00', day: '2020-01-03', paid: false, note: '' },
        { id: 3, ref: null, total: '-1.25', ratio: null, placed: null, day: null, paid: null, note: null },
      ])
    } finally {
      await c.end()
    }
  })

  it.skipIf(!myUp)('loads into MariaDB with the same values', async () => {
    const db = await createMysqlDatabase('csv_my')
    dbs.push(db)
    const report = await ferry({ from: `csv:${csvDir()}?sampleRows=3`, to: db.url, journal: false })
    expect(report.error).toBeUndefined()
    expect(report.totals).toMatchObject({ read: 4, written: 3, rejected: 1 })
    const mysql = await import('mysql2/promise')
    const c = await mysql.createConnection({ uri: db.url, dateStrings: true, decimalNumbers: false })
    try {
      const [rows] = await c.query('SELECT id, ref, total, note FROM orders ORDER BY id')
      expect(rows).toEqual([
        { id: 1, ref: '007', total: '10.50', note: EXPECTED_NOTES[0] },
        { id: 2, ref: 'A-2', total: '3.00', note: '' },
        { id: 3, ref: null, total: '-1.25', note: null },
      ])
    } finally {
      await c.end()
    }
  })
})
