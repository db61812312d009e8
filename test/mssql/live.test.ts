import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { MSSQL_URL, uniqueName } from '../support/servers.js'

/**
 * The SQL Server live suite: runs only with DBFERRY_MSSQL_URL (e.g.
 * mssql://sa:Passw0rd!@127.0.0.1:1433/master?encrypt=false&trustServerCertificate=true), against a database
 * it creates and drops. The rest of SQL Server's behaviour is tested offline in this folder.
 */
if (!MSSQL_URL) console.warn('dbferry mssql live suite: SKIPPED because DBFERRY_MSSQL_URL is not set (offline SQL Server tests still run)')

describe.skipIf(!MSSQL_URL)('SQL Server live', () => {
  let admin: import('mssql').ConnectionPool
  let url: string
  const name = uniqueName('dbferry_live')

  beforeAll(async () => {
    const sql = (await import('mssql')).default
    const { parseMssqlUrl } = await import('../../dialects/mssql/mssql-dialect.js')
    admin = await new sql.ConnectionPool(parseMssqlUrl(MSSQL_URL!).config).connect()
    await admin.request().batch(`CREATE DATABASE [${name}]`)
    await admin.request().batch(`ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON`)
    const u = new URL(MSSQL_URL!)
    u.pathname = `/${name}`
    url = u.toString()
    await admin.request().batch(`USE [${name}];
CREATE TABLE dbo.seed (
  id int IDENTITY(1,1) PRIMARY KEY,
  arabic varchar(40) COLLATE Arabic_CI_AS NULL,
  danish varchar(40) COLLATE Danish_Norwegian_CI_AS NULL,
  uni nvarchar(40) NULL,
  amount money NULL,
  big decimal(38,10) NULL,
  stamp datetime2(7) NULL,
  legacy datetime NULL,
  tz datetimeoffset(7) NULL,
  at time(7) NULL,
  guid uniqueidentifier NULL,
  doc xml NULL,
  node hierarchyid NULL,
  place geography NULL,
  ver rowversion,
  total AS (amount * 2)
);
INSERT INTO dbo.seed (arabic, danish, uni, amount, big, stamp, legacy, tz, at, guid, doc, node, place) VALUES
 (N'العاصمة', N'Ærøskøbing', N'日本語 ✓', 1234.5678, 12345678901234567890.1234567890, '2020-02-29T23:59:59.9999999', '2017-03-31T23:59:59.997',
  '2020-02-29T23:59:59.1234567+05:30', '08:30:00.1234567', '5B2C3A1E-8F4D-4C2B-9A7E-1D2E3F4A5B6C', N'<a b="1"/>', hierarchyid::Parse('/1/3/'),
  geography::Point(47.65100, -122.34900, 4326)),
 (NULL, NULL, NULL, -922337203685477.5808, -0.0000000001, '0001-01-01T00:00:00', NULL, NULL, '00:00:00', NULL, NULL, NULL, NULL);
CREATE TABLE dbo.child (id int PRIMARY KEY, seed_id int NULL);
INSERT INTO dbo.child VALUES (1, 1), (2, 99);
ALTER TABLE dbo.child WITH NOCHECK ADD CONSTRAINT FK_child_seed FOREIGN KEY (seed_id) REFERENCES dbo.seed (id);
CREATE TABLE dbo.[odd]]name] ([we]]ird] nvarchar(10) NULL);
INSERT INTO dbo.[odd]]name] VALUES (N'x');
EXEC (N'CREATE VIEW dbo.v_seed AS SELECT id, amount FROM dbo.seed');
EXEC (N'CREATE FUNCTION dbo.f_total() RETURNS money AS BEGIN RETURN (SELECT SUM(amount) FROM dbo.v_seed) END');`)
  })
  afterAll(async () => {
    if (admin) {
      await admin.request().batch(`USE master; ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${name}]`).catch(() => {})
      await admin.close()
    }
  })

  async function readTable(u: string, table: string): Promise<{ t: TableSchema; rows: Row[] }> {
    const { connection } = await connect(u)
    try {
      await connection.snapshot()
      const schema = await connection.introspect()
      const t = schema.tables.find((x) => x.name === table)!
      const rows: Row[] = []
      for await (const b of connection.read(t, { batchRows: 1, batchBytes: 1 << 20 })) {
        expect(b.rejected).toEqual([])
        rows.push(...b.rows)
      }
      return { t, rows }
    } finally {
      await connection.close()
    }
  }

  it('introspects exact types, identity, computed columns and objects with dependencies', async () => {
    const { connection } = await connect(url)
    try {
      const schema = await connection.introspect()
      const seed = schema.tables.find((t) => t.name === 'seed')!
      const byName = Object.fromEntries(seed.columns.map((c) => [c.name, c]))
      expect(byName.id).toMatchObject({ autoIncrement: true, nativeType: 'int' })
      expect(byName.amount!.nativeType).toBe('money')
      expect(byName.stamp!.type).toEqual({ kind: 'timestamp', precision: 7 })
      expect(byName.tz!.type).toEqual({ kind: 'timestamptz', precision: 7 })
      expect(byName.total).toMatchObject({ generated: true })
      expect(byName.ver!.nativeType).toBe('rowversion')
      expect(schema.objects.find((o) => o.name === 'f_total')!.dependsOn).toContain('v_seed')
      expect((await connection.snapshot()).guarantee).toMatch(/^SNAPSHOT isolation/)
    } finally {
      await connection.close()
    }
  })

  it('reads legacy code pages, 7-digit times, money and decimals exactly, never through a Date', async () => {
    const { t, rows } = await readTable(url, 'seed')
    const col = (r: Row, n: string) => r[t.columns.findIndex((c) => c.name === n)]
    expect(rows).toHaveLength(2)
    const [a, b] = rows as [Row, Row]
    expect(col(a, 'arabic')).toBe('العاصمة')
    expect(col(a, 'danish')).toBe('Ærøskøbing')
    expect(col(a, 'uni')).toBe('日本語 ✓')
    expect(col(a, 'amount')).toBe('1234.5678')
    expect(col(a, 'big')).toBe('12345678901234567890.1234567890')
    expect(col(a, 'stamp')).toBe('2020-02-29 23:59:59.9999999')
    expect(col(a, 'legacy')).toBe('2017-03-31 23:59:59.997')
    expect(col(a, 'tz')).toBe('2020-02-29 23:59:59.1234567+05:30')
    expect(col(a, 'at')).toBe('08:30:00.1234567')
    expect(col(a, 'guid')).toBe('5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c')
    expect(col(a, 'doc')).toBe('<a b="1"/>')
    expect(col(a, 'node')).toBe('/1/3/')
    expect(col(a, 'place')).toMatch(/^POINT \(-122\.349 47\.651\)$/)
    expect(col(b, 'amount')).toBe('-922337203685477.5808')
    expect(col(b, 'big')).toBe('-0.0000000001')
    expect(col(b, 'stamp')).toBe('0001-01-01 00:00:00')
  })

  it('copies SQL Server → SQL Server: bulk and INSERT paths, identity kept and reseeded, orphans WITH NOCHECK', async () => {
    const u = new URL(MSSQL_URL!)
    const target = uniqueName('dbferry_live_t')
    await admin.request().batch(`CREATE DATABASE [${target}]`)
    u.pathname = `/${target}`
    try {
      const report = await ferry({ from: url, to: u.toString() })
      expect(report.error).toBeUndefined()
      expect(report.tables.map((x) => [x.name, x.read, x.written, x.rejected]).sort()).toEqual([
        ['child', 2, 2, 0],
        ['odd]name', 1, 1, 0],
        ['seed', 2, 2, 0],
      ])
      const { t, rows } = await readTable(u.toString(), 'seed')
      const col = (r: Row, n: string) => r[t.columns.findIndex((c) => c.name === n)]
      expect(rows.map((r) => col(r, 'id'))).toEqual([1, 2])
      expect(col(rows[0]!, 'stamp')).toBe('2020-02-29 23:59:59.9999999')
      expect(col(rows[0]!, 'arabic')).toBe('العاصمة')
      expect(col(rows[0]!, 'big')).toBe('12345678901234567890.1234567890')
      const pool = await connect(u.toString())
      await pool.connection.execute!('INSERT INTO dbo.seed (uni) VALUES (N\'next\')')
      const next = await readTable(u.toString(), 'seed')
      expect(next.rows.map((r) => r[0])).toEqual([1, 2, 3])
      await pool.connection.close()
      // the source's own key was untrusted (an orphan): the copy keeps it WITH NOCHECK and says so
      expect(report.constraints.filter((c) => c.kind === 'foreign_key')).toEqual([
        expect.objectContaining({ table: 'child', name: 'FK_child_seed', outcome: 'unvalidated', orphans: 1 }),
      ])
    } finally {
      await admin.request().batch(`ALTER DATABASE [${target}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${target}]`).catch(() => {})
    }
  })

  it('loads a T-SQL script into SQL Server with 7-digit precision intact', async () => {
    const u = new URL(MSSQL_URL!)
    const target = uniqueName('dbferry_live_s')
    await admin.request().batch(`CREATE DATABASE [${target}]`)
    u.pathname = `/${target}`
    try {
      const report = await ferry({ from: 'tsql:./fixtures/tsql/insurance.sql', to: u.toString() })
      expect(report.tables.map((x) => [x.name, x.read, x.written, x.rejected])).toEqual([
        ['tblLocations', 4, 4, 0],
        ['tblFamilies', 3, 2, 1],
        ['tblPolicy', 3, 3, 0],
      ])
      const { t, rows } = await readTable(u.toString(), 'tblPolicy')
      const col = (r: Row, n: string) => r[t.columns.findIndex((c) => c.name === n)]
      expect(col(rows[0]!, 'Stamp')).toBe('2020-02-29 23:59:59.9999999')
      expect(col(rows[0]!, 'StartTime')).toBe('08:30:00.1234567')
      expect(col(rows[0]!, 'PolicyValue')).toBe('12345678901234.56')
    } finally {
      await admin.request().batch(`ALTER DATABASE [${target}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${target}]`).catch(() => {})
    }
  })
})
