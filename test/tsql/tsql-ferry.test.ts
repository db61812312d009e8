import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeInsuranceScript } from '../../fixtures/tsql/encode.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import type { Report } from '../../src/report.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp } from '../support/servers.js'

/**
 * A T-SQL script with data, loaded into SQLite, PostgreSQL and MariaDB through ferry(): counts per table,
 * the one row that does not convert rejected (not lost silently), and values read back from each target.
 * SQL Server's 7th fractional digit is cut to the targets' 6 and counted as a fix.
 */
// the script as SSMS saves it (UTF-16LE with BOM, CRLF), written once for every test of this file
const scriptDir = await mkdtemp(join(tmpdir(), 'dbferry-tsql-script-'))
const SCRIPT = `tsql:${await writeInsuranceScript(scriptDir, 'utf16le-crlf')}`
afterAll(() => rm(scriptDir, { recursive: true, force: true }))
const pgUp = await serverUp('postgres')
const myUp = await serverUp('mysql')

function expectCounts(report: Report, fixed: Record<string, number>): void {
  expect(report.error).toBeUndefined()
  expect(report.ok).toBe(true)
  expect(report.tables.map((t) => [t.name, t.read, t.written, t.rejected])).toEqual([
    ['tblLocations', 4, 4, 0],
    ['tblFamilies', 3, 2, 1],
    ['tblPolicy', 3, 3, 0],
  ])
  expect(report.tables[1]!.byKind).toEqual({ type_conversion: 1 })
  // values with a 7th fractional digit, cut for targets that keep 6
  expect(report.tables[2]!.fixed).toEqual(fixed)
  expect(report.snapshot?.guarantee).toMatch(/1 statement\(s\) not understood/)
}

describe('tsql: script → SQLite', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbferry-tsql-e2e-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('loads every table with counts and values right', async () => {
    const file = join(dir, 'imis.db')
    const report = await ferry({ from: SCRIPT, to: `sqlite:${file}` })
    expectCounts(report, {})
    const db = new Database(file, { readonly: true })
    try {
      expect(db.prepare('SELECT LocationId, LocationName, ParentLocationId FROM tblLocations ORDER BY LocationId').raw().all()).toEqual([
        [1, 'changed', null],
        [2, 'العاصمة', 1],
        [3, 'Ærøskøbing -- not a comment', 1],
        [4, "O'Brien's /* not a comment */", 2],
      ])
      expect(db.prepare('SELECT FamilyID, FamilyUUID, Poverty, ValidityFrom, ValidityTo, Address FROM tblFamilies ORDER BY FamilyID').raw().all()).toEqual([
        [1, '5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c', 1, '2009-01-01 00:00:00', null, 'line one\r\nline two'],
        [2, 'a0b1c2d3-e4f5-4677-8899-aabbccddeeff', 0, '2017-03-31 23:59:59.997', '2018-12-31 10:11:12.123', null],
      ])
    } finally {
      db.close()
    }
    // decimals are read back through dbferry's SQLite reader, which turns stored values into canonical ones
    const { connection } = await connect(`sqlite:${file}`)
    try {
      const t = (await connection.introspect()).tables.find((x) => x.name === 'tblPolicy')!
      const rows: unknown[][] = []
      for await (const b of connection.read(t, { batchRows: 100, batchBytes: 1 << 20 })) rows.push(...b.rows.map((r) => r.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))))
      // SQLite keeps SQL Server's seven digits
      expect(rows).toEqual([
        [1, 1, '2020-02-29', '08:30:00.1234567', '12345678901234.56', '1234.5678', 1.5, '2020-02-29 23:59:59.9999999', '2020-02-29 23:59:59.1234567+05:30', '0a1b', 'plain', null],
        [2, 2, '1999-12-31', null, '-0.01', '-922337203685477.5808', -0.0025, '0001-01-01 00:00:00', null, '', null, null],
        [3, 1, '2024-01-15', '00:00:00', null, null, null, null, null, null, 'tab\tand "quotes"', null],
      ])
    } finally {
      await connection.close()
    }
  })
})

describe.skipIf(!pgUp)('tsql: script → PostgreSQL, then the user\'s views and functions', () => {
  it('loads with counts and values right and creates objects in dependency order', async () => {
    const db = await createPostgresDatabase('dbf_tsql')
    const client = new pg.Client({ connectionString: db.url })
    try {
      const report = await ferry({
        from: SCRIPT,
        to: db.url,
        objects: {
          // given out of order on purpose: the function reads the view
          'dbo.udfPolicyCount': `CREATE FUNCTION "udfPolicyCount"(y int) RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM "uvwPolicies" WHERE "EnrollYear" = y $$`,
          'dbo.uvwPolicies': `CREATE VIEW "uvwPolicies" AS SELECT p."PolicyID", f."FamilyUUID", extract(year FROM p."EnrollDate")::int AS "EnrollYear" FROM "tblPolicy" p JOIN "tblFamilies" f ON f."FamilyID" = p."FamilyID"`,
          'dbo.broken': 'CREATE VIEW broken AS SELECT no_such_column FROM "tblPolicy"',
        },
      })
      expectCounts(report, { StartTime: 1, Stamp: 1, StampTz: 1 })
      expect(report.objects.map((o) => [o.name, o.ok])).toEqual([
        ['dbo.uvwPolicies', true],
        ['dbo.broken', false],
        ['dbo.udfPolicyCount', true],
      ])
      expect(report.objects[1]!.error).toMatch(/no_such_column/)
      await client.connect()
      const loc = await client.query('SELECT "LocationName" AS n FROM "tblLocations" ORDER BY "LocationId"')
      expect(loc.rows.map((r) => r.n)).toEqual(['changed', 'العاصمة', 'Ærøskøbing -- not a comment', "O'Brien's /* not a comment */"])
      const pol = await client.query(
        'SELECT "PolicyID" AS id, "StartTime"::text AS t, "PolicyValue"::text AS v, "Premium"::text AS m, "Stamp"::text AS s, encode("Photo", \'hex\') AS ph FROM "tblPolicy" ORDER BY 1',
      )
      expect(pol.rows).toEqual([
        { id: 1, t: '08:30:00.123456', v: '12345678901234.56', m: '1234.5678', s: '2020-02-29 23:59:59.999999', ph: '0a1b' },
        { id: 2, t: null, v: '-0.01', m: '-922337203685477.5808', s: '0001-01-01 00:00:00', ph: '' },
        { id: 3, t: '00:00:00', v: null, m: null, s: null, ph: null },
      ])
      const fam = await client.query('SELECT "FamilyUUID"::text AS u, "ValidityFrom"::text AS f FROM "tblFamilies" ORDER BY "FamilyID"')
      expect(fam.rows).toEqual([
        { u: '5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c', f: '2009-01-01 00:00:00' },
        { u: 'a0b1c2d3-e4f5-4677-8899-aabbccddeeff', f: '2017-03-31 23:59:59.997' },
      ])
      const fn = await client.query('SELECT "udfPolicyCount"(2020) AS n')
      expect(Number(fn.rows[0].n)).toBe(1)
    } finally {
      await client.end().catch(() => {})
      await db.drop()
    }
  })
})

describe.skipIf(!myUp)('tsql: script → MariaDB', () => {
  it('loads with counts and values right', async () => {
    const db = await createMysqlDatabase('dbf_tsql')
    const mysql = await import('mysql2/promise')
    const conn = await mysql.createConnection({ uri: db.url, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true })
    try {
      const report = await ferry({ from: SCRIPT, to: db.url })
      expectCounts(report, { StartTime: 1, Stamp: 1, StampTz: 1 })
      const [loc] = await conn.query('SELECT LocationName AS n FROM tblLocations ORDER BY LocationId')
      expect((loc as { n: string }[]).map((r) => r.n)).toEqual(['changed', 'العاصمة', 'Ærøskøbing -- not a comment', "O'Brien's /* not a comment */"])
      const [pol] = await conn.query('SELECT PolicyID AS id, CAST(StartTime AS CHAR) AS t, CAST(PolicyValue AS CHAR) AS v, CAST(Premium AS CHAR) AS m, CAST(Stamp AS CHAR) AS s, HEX(Photo) AS ph FROM tblPolicy ORDER BY 1')
      expect(pol).toEqual([
        { id: 1, t: '08:30:00.123456', v: '12345678901234.56', m: '1234.5678', s: '2020-02-29 23:59:59.999999', ph: '0A1B' },
        { id: 2, t: null, v: '-0.01', m: '-922337203685477.5808', s: '0001-01-01 00:00:00.000000', ph: '' },
        { id: 3, t: '00:00:00.000000', v: null, m: null, s: null, ph: null },
      ])
    } finally {
      await conn.end()
      await db.drop()
    }
  })
})
