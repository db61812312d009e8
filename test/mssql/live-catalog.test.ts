import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MssqlConnection } from '../../dialects/mssql/mssql-connection.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { orderObjects } from '../../src/finish/objects.js'
import type { Row } from '../../src/schema/types.js'
import { MSSQL_URL, createPostgresDatabase, uniqueName } from '../support/servers.js'

/**
 * Names as the user wrote them, every column kind read (computed, rowversion, sql_variant, xml), the snapshot,
 * key order and object dependencies, on the live server (DBFERRY_MSSQL_URL). Where the stand-in differs from
 * SQL Server (sys.* names in lower case, no dependency rows, no hierarchyid/geography), a probe says which
 * behaviour is checked.
 */
type Pool = import('mssql').ConnectionPool

function urlOf(name: string): string {
  const u = new URL(MSSQL_URL!)
  u.pathname = `/${name}`
  return u.toString()
}

describe.skipIf(!MSSQL_URL)('SQL Server live: catalog names, column kinds, snapshot', () => {
  let admin: Pool
  let db: Pool
  let url: string
  /** sys.tables shows `Track` as written (SQL Server) rather than `track` (Babelfish). */
  let catalogKeepsCase: boolean
  /** hierarchyid and geography exist (SQL Server; not on the stand-in). */
  let clrTypes: boolean
  const name = uniqueName('dbferry_cat')

  beforeAll(async () => {
    const sql = (await import('mssql')).default
    admin = await new sql.ConnectionPool(MssqlConnection.parseUrl(MSSQL_URL!).config).connect()
    await admin.request().batch(`CREATE DATABASE [${name}]`)
    const s = await admin.request().input('n', name).query('SELECT snapshot_isolation_state AS s FROM sys.databases WHERE name = @n')
    if (Number(s.recordset[0]?.s) !== 1) await admin.request().batch(`ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON`)
    url = urlOf(name)
    db = await new sql.ConnectionPool(MssqlConnection.parseUrl(url).config).connect()
    await db.request().batch(`IF OBJECT_ID(N'sys.sp_babelfish_configure') IS NOT NULL EXEC sys.sp_babelfish_configure 'babelfishpg_tsql.escape_hatch_rowversion', 'ignore'`)
    const types = (await db.request().query("SELECT TYPE_ID('hierarchyid') AS h, TYPE_ID('geography') AS g")).recordset[0]
    clrTypes = types.h !== null && types.g !== null
    const clr = clrTypes ? ', Node hierarchyid NULL, Place geography NULL' : ''
    const clrValues = clrTypes ? ", hierarchyid::Parse('/1/3/'), geography::Point(47.651, -122.349, 4326)" : ''
    const clrNulls = clrTypes ? ', NULL, NULL' : ''
    await db.request().batch(`
CREATE TABLE Artist (ArtistId int CONSTRAINT PK_Artist PRIMARY KEY, Name nvarchar(50) NULL);
CREATE TABLE Track (
  TrackId int PRIMARY KEY,
  Name nvarchar(50) NULL,
  ArtistId int NULL CONSTRAINT FK_Track_Artist REFERENCES Artist (ArtistId),
  Doubled AS (TrackId * 2),
  Variant sql_variant NULL,
  Doc xml NULL,
  Ver rowversion${clr}
);
CREATE INDEX IX_Track_Name ON Track (Name);
INSERT INTO Artist VALUES (1, N'Miles');
INSERT INTO Track (TrackId, Name, ArtistId, Variant, Doc${clrTypes ? ', Node, Place' : ''}) VALUES
  (5, N'So What', 1, CAST(12.5 AS decimal(5,2)), N'<t n="5"/>'${clrValues}),
  (3, N'Blue in Green', 1, N'héllo', NULL${clrNulls}),
  (4, N'Freddie', NULL, CAST('2020-01-02' AS date), NULL${clrNulls}),
  (1, NULL, NULL, NULL, NULL${clrNulls}),
  (2, N'Flamenco', 1, 7, NULL${clrNulls});`)
    // a view that reads a function: ordered by kind alone, the view would come first
    await db.request().batch('CREATE FUNCTION dbo.BaseRate() RETURNS int AS BEGIN RETURN (SELECT COUNT(*) FROM dbo.Track) END')
    await db.request().batch('CREATE VIEW dbo.TopTracks AS SELECT TrackId, dbo.BaseRate() AS Rate FROM dbo.Track')
    await db.request().batch('CREATE PROCEDURE dbo.ListTop AS SELECT * FROM dbo.TopTracks')
    const sysName = await db.request().query("SELECT name FROM sys.tables WHERE name = 'Track'")
    catalogKeepsCase = sysName.recordset[0]?.name === 'Track'
  })
  afterAll(async () => {
    await db?.close()
    if (admin) {
      await admin.request().batch(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`).catch(() => {})
      await admin.request().batch(`DROP DATABASE [${name}]`).catch(() => {})
      await admin.close()
    }
  })

  /** Constraint and index names keep their case only where the catalog does (the stand-in stores them lower-case). */
  const written = (n: string) => (catalogKeepsCase ? n : n.toLowerCase())

  it('introspects tables, columns, keys, indexes and foreign keys with the names as written', async () => {
    const { connection } = await connect(url)
    try {
      const schema = await connection.introspect()
      expect(schema.tables.map((t) => t.name).sort()).toEqual(['Artist', 'Track'])
      const track = schema.tables.find((t) => t.name === 'Track')!
      expect(track.columns.map((c) => c.name)).toEqual(['TrackId', 'Name', 'ArtistId', 'Doubled', 'Variant', 'Doc', 'Ver', ...(clrTypes ? ['Node', 'Place'] : [])])
      expect(track.primaryKey?.columns).toEqual(['TrackId'])
      expect(track.indexes.map((i) => [i.name, i.columns])).toEqual([[written('IX_Track_Name'), ['Name']]])
      expect(track.foreignKeys.map((f) => [f.name, f.columns, f.refTable, f.refColumns])).toEqual([[written('FK_Track_Artist'), ['ArtistId'], 'Artist', ['ArtistId']]])
      const artist = schema.tables.find((t) => t.name === 'Artist')!
      expect(artist.primaryKey).toEqual({ name: written('PK_Artist'), columns: ['ArtistId'] })
      expect(schema.objects.map((o) => o.name).sort()).toEqual(['BaseRate', 'ListTop', 'TopTracks'])
    } finally {
      await connection.close()
    }
  })

  it('lists views, functions and procedures with dependencies, read from the definitions where the server records none', async () => {
    // SQL Server records these in sys.sql_expression_dependencies; the stand-in leaves it empty, and the same
    // dependencies come from the definitions
    const { connection } = await connect(url)
    try {
      const schema = await connection.introspect()
      const by = Object.fromEntries(schema.objects.map((o) => [o.name, o]))
      expect(by.TopTracks).toMatchObject({ type: 'view', dependsOn: expect.arrayContaining(['BaseRate', 'Track']) })
      expect(by.BaseRate).toMatchObject({ type: 'function', dependsOn: ['Track'] })
      expect(by.ListTop).toMatchObject({ type: 'procedure', dependsOn: ['TopTracks'] })
      expect(orderObjects(schema.objects).map((o) => o.name)).toEqual(['BaseRate', 'TopTracks', 'ListTop'])
    } finally {
      await connection.close()
    }
  })

  it('reads in key order in bounded batches: computed values as a plain column, rowversion as 8 bytes, sql_variant and xml as text', async () => {
    const { connection } = await connect(url)
    try {
      const info = await connection.snapshot()
      const schema = await connection.introspect()
      const track = schema.tables.find((t) => t.name === 'Track')!
      const doubled = track.columns.find((c) => c.name === 'Doubled')!
      expect(doubled.generated).toBeUndefined()
      expect(doubled.type).toEqual({ kind: 'int32' })
      expect(info.notes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^Track\.Doubled: computed column .*copied as a plain column/),
          expect.stringMatching(/^Track\.Variant: sql_variant copied as its text form/),
          expect.stringMatching(/^Track\.Ver: rowversion copied as binary\(8\)/),
        ]),
      )
      const rows: Row[] = []
      for await (const b of connection.read(track, { batchRows: 2, batchBytes: 1 << 20 })) {
        expect(b.rows.length).toBeLessThanOrEqual(2)
        expect(b.rejected).toEqual([])
        rows.push(...b.rows)
      }
      const at = (n: string) => track.columns.findIndex((c) => c.name === n)
      expect(rows.map((r) => r[at('TrackId')])).toEqual([1, 2, 3, 4, 5])
      expect(rows.map((r) => r[at('Doubled')])).toEqual([2, 4, 6, 8, 10])
      expect(rows.map((r) => r[at('Variant')])).toEqual([null, '7', 'héllo', '2020-01-02', '12.50'])
      expect(rows[4]![at('Doc')]).toBe('<t n="5"/>')
      for (const r of rows) expect((r[at('Ver')] as Uint8Array).length).toBe(8)
      if (clrTypes) {
        expect(rows[4]![at('Node')]).toBe('/1/3/')
        expect(rows[4]![at('Place')]).toMatch(/^POINT \(-122\.349 47\.651\)$/)
      }
    } finally {
      await connection.close()
    }
  })

  it('reads every table as of the snapshot: a row committed meanwhile is not seen', async () => {
    const { connection } = await connect(url)
    try {
      const info = await connection.snapshot()
      const state = await db.request().query('SELECT snapshot_isolation_state AS s FROM sys.databases WHERE name = DB_NAME()')
      // the test database has snapshot isolation on (SQL Server: turned on above; the stand-in: always on)
      expect(Number(state.recordset[0]?.s)).toBe(1)
      expect(info.guarantee).toMatch(/^SNAPSHOT isolation/)
      const schema = await connection.introspect()
      const artist = schema.tables.find((t) => t.name === 'Artist')!
      expect(await connection.count(artist)).toBe(1)
      await db.request().batch("INSERT INTO Artist VALUES (2, N'Bill')")
      try {
        expect(await connection.count(artist)).toBe(1)
        const rows: Row[] = []
        for await (const b of connection.read(artist, { batchRows: 10, batchBytes: 1 << 20 })) rows.push(...b.rows)
        expect(rows).toEqual([[1, 'Miles']])
      } finally {
        await db.request().batch('DELETE FROM Artist WHERE ArtistId = 2')
      }
    } finally {
      await connection.close()
    }
  })

  it('copies to PostgreSQL with the names as written and the computed values', async () => {
    const target = await createPostgresDatabase('dbferry_cat_pg')
    try {
      const report = await ferry({ from: url, to: target.url })
      expect(report.error?.message).toBeUndefined()
      expect(report.tables.map((t) => [t.name, t.written]).sort()).toEqual([
        ['Artist', 1],
        ['Track', 5],
      ])
      const pg = (await import('pg')).default
      const c = new pg.Client({ connectionString: target.url })
      await c.connect()
      try {
        const tables = await c.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
        expect(tables.rows.map((r) => r.table_name)).toEqual(['Artist', 'Track'])
        const cols = await c.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'Track' ORDER BY ordinal_position")
        expect(cols.rows.map((r) => r.column_name).slice(0, 7)).toEqual(['TrackId', 'Name', 'ArtistId', 'Doubled', 'Variant', 'Doc', 'Ver'])
        const idx = await c.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'Track' AND indexname NOT LIKE '%pkey%' AND indexname NOT ILIKE 'pk%'`)
        expect(idx.rows.map((r) => r.indexname)).toEqual([written('IX_Track_Name')])
        const fk = await c.query(`SELECT conname FROM pg_constraint WHERE contype = 'f'`)
        expect(fk.rows.map((r) => r.conname)).toEqual([written('FK_Track_Artist')])
        const data = await c.query('SELECT "TrackId", "Doubled" FROM "Track" ORDER BY 1')
        expect(data.rows.map((r) => [r.TrackId, r.Doubled])).toEqual([
          [1, 2],
          [2, 4],
          [3, 6],
          [4, 8],
          [5, 10],
        ])
      } finally {
        await c.end()
      }
    } finally {
      await target.drop()
    }
  })
})
