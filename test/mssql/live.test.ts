import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { MssqlConnection } from '../../dialects/mssql/mssql-connection.js'
import { mssqlDialect } from '../../dialects/mssql/mssql-dialect.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { MSSQL_URL, retryCatalogRace, uniqueName } from '../support/servers.js'

/**
 * The SQL Server live suite: runs only with DBFERRY_MSSQL_URL (e.g.
 * mssql://sa:Passw0rd!@127.0.0.1:1433/master?encrypt=false&trustServerCertificate=true), against databases
 * it creates and drops. It passes on real SQL Server and on the Babelfish stand-in
 * (/work/shared/mssql-standin): where they differ, a probe of the server decides which behaviour is checked
 * (fractional digits kept, hierarchyid/geography present, `]]` in bracketed names, catalog name case).
 */
if (!MSSQL_URL) console.warn('dbferry mssql live suite: SKIPPED because DBFERRY_MSSQL_URL is not set (offline SQL Server tests still run)')

type Pool = import('mssql').ConnectionPool

/** What this server can do, where SQL Server and the stand-in differ. */
interface Probes {
  /** datetime2(7)/time(7)/datetimeoffset(7) keep the 7th digit (SQL Server); Babelfish keeps 6, rounded. */
  sevenDigits: boolean
  /** hierarchyid and geography exist (SQL Server; Babelfish has neither). */
  clrTypes: boolean
  /** `[a]]b]` is a bracketed name (SQL Server; a syntax error on Babelfish). */
  doubledBracket: boolean
  /** A collation with code page 1252 for the Danish column: Danish_Norwegian_CI_AS where it exists. */
  danishCollation: string
  /** sys.sql_expression_dependencies is filled (SQL Server; empty on Babelfish). */
  dependencies: boolean
  /** ALTER TABLE … WITH NOCHECK ADD CONSTRAINT works (SQL Server; refused by Babelfish). */
  untrustedKeys: boolean
}

async function probe(pool: Pool): Promise<Probes> {
  const one = async (text: string) => (await pool.request().query(text)).recordset[0] as Record<string, unknown>
  const digits = await one("SELECT CONVERT(varchar(27), CAST('2020-01-01T00:00:00.1234567' AS datetime2(7)), 121) AS v")
  const types = await one("SELECT TYPE_ID('hierarchyid') AS h, TYPE_ID('geography') AS g, COLLATIONPROPERTY('Danish_Norwegian_CI_AS', 'CodePage') AS d")
  const bracket = await pool
    .request()
    .query('SELECT 1 AS [a]]b]')
    .then(() => true)
    .catch(() => false)
  return {
    sevenDigits: digits.v === '2020-01-01 00:00:00.1234567',
    clrTypes: types.h !== null && types.g !== null,
    doubledBracket: bracket,
    danishCollation: types.d === null ? 'Latin1_General_CI_AS' : 'Danish_Norwegian_CI_AS',
    // both set once the seed's objects exist
    dependencies: false,
    untrustedKeys: false,
  }
}

/** The URL of database `name` on the live server. */
function urlOf(name: string): string {
  const u = new URL(MSSQL_URL!)
  u.pathname = `/${name}`
  return u.toString()
}

async function createDatabase(admin: Pool, name: string): Promise<string> {
  // tests run side by side here, and the stand-in can refuse two CREATE DATABASE at once
  await retryCatalogRace(() => admin.request().batch(`CREATE DATABASE [${name}]`))
  const s = await admin.request().input('n', name).query('SELECT snapshot_isolation_state AS s FROM sys.databases WHERE name = @n')
  // SQL Server needs snapshot isolation turned on; Babelfish has it on and refuses ALTER DATABASE
  if (Number(s.recordset[0]?.s) !== 1) await admin.request().batch(`ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON`)
  return urlOf(name)
}

async function dropDatabase(admin: Pool, name: string): Promise<void> {
  // SQL Server: end other sessions first. Babelfish refuses ALTER DATABASE, so it goes in a batch of its own.
  await admin.request().batch(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`).catch(() => {})
  await admin.request().batch(`DROP DATABASE [${name}]`).catch(() => {})
}

/** A column's value by name; catalogs may spell names in lower case (Babelfish), so case is ignored. */
function colOf(t: TableSchema): (r: Row, n: string) => unknown {
  return (r, n) => r[t.columns.findIndex((c) => c.name.toLowerCase() === n.toLowerCase())]
}

/** 7 fractional digits where the server keeps them, else the 6 it rounds to. */
function fraction(p: Probes, seven: string, six: string): string {
  return p.sevenDigits ? seven : six
}

describe.skipIf(!MSSQL_URL)('SQL Server live', () => {
  let admin: Pool
  let url: string
  let probes: Probes
  const name = uniqueName('dbferry_live')

  beforeAll(async () => {
    const sql = (await import('mssql')).default
    admin = await new sql.ConnectionPool(MssqlConnection.parseUrl(MSSQL_URL!).config).connect()
    probes = await probe(admin)
    url = await createDatabase(admin, name)
    // rowversion needs an escape hatch on Babelfish, set in an earlier batch; SQL Server has no such procedure
    await admin.request().batch(`USE [${name}]; IF OBJECT_ID(N'sys.sp_babelfish_configure') IS NOT NULL EXEC sys.sp_babelfish_configure 'babelfishpg_tsql.escape_hatch_rowversion', 'ignore'`)
    const clr = probes.clrTypes ? ',\n  node hierarchyid NULL,\n  place geography NULL' : ''
    const clrCols = probes.clrTypes ? ', node, place' : ''
    const clrValues = probes.clrTypes ? ", hierarchyid::Parse('/1/3/'), geography::Point(47.65100, -122.34900, 4326)" : ''
    const clrNulls = probes.clrTypes ? ', NULL, NULL' : ''
    await admin.request().batch(`USE [${name}];
CREATE TABLE dbo.seed (
  id int IDENTITY(1,1) PRIMARY KEY,
  arabic varchar(40) COLLATE Arabic_CI_AS NULL,
  danish varchar(40) COLLATE ${probes.danishCollation} NULL,
  uni nvarchar(40) NULL,
  amount money NULL,
  big decimal(38,10) NULL,
  stamp datetime2(7) NULL,
  legacy datetime NULL,
  tz datetimeoffset(7) NULL,
  at time(7) NULL,
  guid uniqueidentifier NULL,
  doc xml NULL${clr},
  ver rowversion,
  total AS (amount * 2)
);
INSERT INTO dbo.seed (arabic, danish, uni, amount, big, stamp, legacy, tz, at, guid, doc${clrCols}) VALUES
 (N'العاصمة', N'Ærøskøbing', N'日本語 ✓', 1234.5678, 12345678901234567890.1234567890, '2020-02-28T23:59:59.1234567', '2017-03-31T23:59:59.997',
  '2020-02-29T23:59:59.1234567+05:30', '08:30:00.1234567', '5B2C3A1E-8F4D-4C2B-9A7E-1D2E3F4A5B6C', N'<a b="1"/>'${clrValues}),
 (NULL, NULL, NULL, -214748.3648, -0.0000000001, '0001-01-01T00:00:00', NULL, NULL, '00:00:00', NULL, NULL${clrNulls});
CREATE TABLE dbo.child (id int PRIMARY KEY, seed_id int NULL);
INSERT INTO dbo.child VALUES (1, 1), (2, 99);
${probes.doubledBracket ? "CREATE TABLE dbo.[odd]]name] ([we]]ird] nvarchar(10) NULL);\nINSERT INTO dbo.[odd]]name] VALUES (N'x');" : ''}
EXEC (N'CREATE VIEW dbo.v_seed AS SELECT id, amount FROM dbo.seed');
EXEC (N'CREATE FUNCTION dbo.f_total() RETURNS money AS BEGIN RETURN (SELECT SUM(amount) FROM dbo.v_seed) END');`)
    // an orphan under an untrusted key: SQL Server takes WITH NOCHECK; Babelfish refuses it (its escape hatch
    // would only drop the NOCHECK and validate), so there the source has no such key
    probes.untrustedKeys = await admin
      .request()
      .batch(`USE [${name}]; ALTER TABLE dbo.child WITH NOCHECK ADD CONSTRAINT FK_child_seed FOREIGN KEY (seed_id) REFERENCES dbo.seed (id)`)
      .then(() => true)
      .catch(() => false)
    const deps = await admin.request().batch(`USE [${name}]; SELECT COUNT(*) AS n FROM sys.sql_expression_dependencies`)
    probes.dependencies = Number(deps.recordset[0]?.n) > 0
    await admin.request().batch('USE master')
  })
  afterAll(async () => {
    if (admin) {
      await dropDatabase(admin, name)
      await admin.close()
    }
  })

  async function readTable(u: string, table: string): Promise<{ t: TableSchema; rows: Row[] }> {
    const { connection } = await connect(u)
    try {
      await connection.snapshot()
      const schema = await connection.introspect()
      const t = schema.tables.find((x) => x.name.toLowerCase() === table.toLowerCase())!
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

  /** Side by side, the copies share the server and the cores: one that takes 15 s alone can take a minute. */
  const SIDE_BY_SIDE_TIMEOUT = 180_000
  // the tests up to the first spy run side by side: they only read the seed database or copy into a database
  // of their own, and each spends seconds waiting on the server's catalog. The ones that spy on the driver's
  // Request (bulk, query, emit) stay sequential, so no other test's calls land in their counts.
  it.concurrent('introspects exact types, identity, computed columns and objects with dependencies', async ({ expect }) => {
    const { connection } = await connect(url)
    try {
      const schema = await connection.introspect()
      const seed = schema.tables.find((t) => t.name === 'seed')!
      const byName = Object.fromEntries(seed.columns.map((c) => [c.name, c]))
      expect(byName.id).toMatchObject({ autoIncrement: true, nativeType: 'int' })
      expect(byName.amount!.nativeType).toBe('money')
      // Babelfish's catalog shows datetime2(7) as scale 6, the digits it keeps
      const digits = probes.sevenDigits ? 7 : 6
      expect(byName.stamp!.type).toEqual({ kind: 'timestamp', precision: digits })
      expect(byName.tz!.type).toEqual({ kind: 'timestamptz', precision: digits })
      // a computed column is read as a plain column of its type, its values copied
      expect(byName.total!.generated).toBeUndefined()
      expect(byName.total!.nativeType).toBe('money')
      expect(byName.ver!.nativeType).toBe('rowversion')
      const fTotal = schema.objects.find((o) => o.name === 'f_total')!
      // SQL Server records that f_total reads v_seed; Babelfish's dependency view is empty, and the definition says so
      expect(fTotal.dependsOn).toEqual(['v_seed'])
      expect((await connection.snapshot()).guarantee).toMatch(/^SNAPSHOT isolation/)
    } finally {
      await connection.close()
    }
  }, SIDE_BY_SIDE_TIMEOUT)

  it.concurrent('reads legacy code pages, 7-digit times, money and decimals exactly, never through a Date', async ({ expect }) => {
    const { t, rows } = await readTable(url, 'seed')
    const col = colOf(t)
    expect(rows).toHaveLength(2)
    const [a, b] = rows as [Row, Row]
    expect(col(a, 'arabic')).toBe('العاصمة')
    expect(col(a, 'danish')).toBe('Ærøskøbing')
    expect(col(a, 'uni')).toBe('日本語 ✓')
    expect(col(a, 'amount')).toBe('1234.5678')
    expect(col(a, 'big')).toBe('12345678901234567890.1234567890')
    expect(col(a, 'stamp')).toBe(fraction(probes, '2020-02-28 23:59:59.1234567', '2020-02-28 23:59:59.123457'))
    expect(col(a, 'legacy')).toBe('2017-03-31 23:59:59.997')
    expect(col(a, 'tz')).toBe(fraction(probes, '2020-02-29 23:59:59.1234567+05:30', '2020-02-29 23:59:59.123457+05:30'))
    expect(col(a, 'at')).toBe(fraction(probes, '08:30:00.1234567', '08:30:00.123457'))
    expect(col(a, 'guid')).toBe('5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c')
    expect(col(a, 'doc')).toBe('<a b="1"/>')
    if (probes.clrTypes) {
      expect(col(a, 'node')).toBe('/1/3/')
      expect(col(a, 'place')).toMatch(/^POINT \(-122\.349 47\.651\)$/)
    } else {
      expect(t.columns.map((c) => c.name)).not.toContain('node')
    }
    expect(col(b, 'amount')).toBe('-214748.3648')
    expect(col(b, 'big')).toBe('-0.0000000001')
    expect(col(b, 'stamp')).toBe('0001-01-01 00:00:00')
  }, SIDE_BY_SIDE_TIMEOUT)

  it.concurrent('copies SQL Server → SQL Server: bulk and INSERT paths, identity kept and reseeded, orphans WITH NOCHECK', async ({ expect }) => {
    const target = uniqueName('dbferry_live_t')
    const to = await createDatabase(admin, target)
    try {
      const report = await ferry({ from: url, to })
      expect(report.error?.message).toBeUndefined()
      expect(report.tables.map((x) => [x.name, x.read, x.written, x.rejected]).sort()).toEqual([
        ['child', 2, 2, 0],
        ...(probes.doubledBracket ? [['odd]name', 1, 1, 0]] : []),
        ['seed', 2, 2, 0],
      ])
      const { t, rows } = await readTable(to, 'seed')
      const col = colOf(t)
      expect(rows.map((r) => col(r, 'id'))).toEqual([1, 2])
      expect(col(rows[0]!, 'stamp')).toBe(fraction(probes, '2020-02-28 23:59:59.1234567', '2020-02-28 23:59:59.123457'))
      expect(col(rows[0]!, 'arabic')).toBe('العاصمة')
      expect(col(rows[0]!, 'big')).toBe('12345678901234567890.1234567890')
      const pool = await connect(to)
      await pool.connection.execute!("INSERT INTO dbo.seed (uni) VALUES (N'next')")
      await pool.connection.close()
      const next = await readTable(to, 'seed')
      expect(next.rows.map((r) => r[0])).toEqual([1, 2, 3])
      const fks = report.constraints.filter((c) => c.kind === 'foreign_key')
      if (probes.untrustedKeys) {
        // the source's own key was untrusted (an orphan): the copy keeps it WITH NOCHECK and says so
        expect(fks).toEqual([expect.objectContaining({ table: 'child', outcome: 'unvalidated', orphans: 1 })])
        expect(fks[0]!.name.toLowerCase()).toBe('fk_child_seed')
      } else {
        // no untrusted key could be made on the source: nothing to report
        expect(fks).toEqual([])
      }
    } finally {
      await dropDatabase(admin, target)
    }
  }, SIDE_BY_SIDE_TIMEOUT)

  it.concurrent('loads a T-SQL script into SQL Server with every fractional digit the server keeps', async ({ expect }) => {
    const target = uniqueName('dbferry_live_s')
    const to = await createDatabase(admin, target)
    try {
      const report = await ferry({ from: 'tsql:./fixtures/tsql/insurance.sql', to })
      expect(report.error?.message).toBeUndefined()
      expect(report.tables.map((x) => [x.name, x.read, x.written, x.rejected])).toEqual([
        ['tblLocations', 4, 4, 0],
        ['tblFamilies', 3, 2, 1],
        ['tblPolicy', 3, 3, 0],
      ])
      const { t, rows } = await readTable(to, 'tblPolicy')
      const col = colOf(t)
      // 23:59:59.9999999 rounds to the next day where only 6 digits are kept
      expect(col(rows[0]!, 'Stamp')).toBe(fraction(probes, '2020-02-29 23:59:59.9999999', '2020-03-01 00:00:00'))
      expect(col(rows[0]!, 'StartTime')).toBe(fraction(probes, '08:30:00.1234567', '08:30:00.123457'))
      expect(col(rows[0]!, 'PolicyValue')).toBe('12345678901234.56')
    } finally {
      await dropDatabase(admin, target)
    }
  }, SIDE_BY_SIDE_TIMEOUT)

  it.concurrent('copies SQLite → SQL Server: identity, decimal(38,10), datetime2(3), nvarchar(max), varbinary, uniqueidentifier, bit, and reseeds the identity', async ({ expect }) => {
    const Database = (await import('better-sqlite3')).default
    const dir = mkdtempSync(join(tmpdir(), 'dbferry-mssql-'))
    const file = join(dir, 'src.db')
    const db = new Database(file)
    db.exec(`CREATE TABLE item (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  price DECIMAL TEXT(38,10) NOT NULL,
  seen DATETIME(3),
  note TEXT,
  blob BLOB,
  ref UUID,
  flag BOOLEAN
);`)
    const insert = db.prepare('INSERT INTO item (id, price, seen, note, blob, ref, flag) VALUES (?, ?, ?, ?, ?, ?, ?)')
    const long = 'ü'.repeat(5000)
    insert.run(7, '12345678901234567890.1234567890', '2024-02-29 13:45:01.123', long, Buffer.from([0, 1, 2, 255]), '5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c', 1)
    insert.run(42, '-0.0000000001', null, null, null, null, 0)
    db.close()
    const target = uniqueName('dbferry_live_q')
    const to = await createDatabase(admin, target)
    try {
      const report = await ferry({ from: `sqlite:${file}`, to })
      expect(report.error).toBeUndefined()
      expect(report.tables.map((x) => [x.name, x.read, x.written, x.rejected])).toEqual([['item', 2, 2, 0]])
      const { t, rows } = await readTable(to, 'item')
      const byName = Object.fromEntries(t.columns.map((c) => [c.name.toLowerCase(), c]))
      expect(byName.id).toMatchObject({ autoIncrement: true })
      expect(byName.price!.nativeType).toBe('decimal(38,10)')
      expect(byName.seen!.nativeType).toBe('datetime2(3)')
      expect(byName.note!.nativeType).toBe('nvarchar(max)')
      expect(byName.blob!.nativeType).toBe('varbinary(max)')
      expect(byName.ref!.nativeType).toBe('uniqueidentifier')
      expect(byName.flag!.nativeType).toBe('bit')
      const col = colOf(t)
      expect(rows.map((r) => [col(r, 'id'), col(r, 'price'), col(r, 'seen'), col(r, 'note'), col(r, 'ref'), col(r, 'flag')])).toEqual([
        [7, '12345678901234567890.1234567890', '2024-02-29 13:45:01.123', long, '5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c', true],
        [42, '-0.0000000001', null, null, null, false],
      ])
      expect(Buffer.from(col(rows[0]!, 'blob') as Uint8Array)).toEqual(Buffer.from([0, 1, 2, 255]))
      // the identity continues after the loaded keys
      const { connection } = await connect(to)
      await connection.execute!('INSERT INTO dbo.item (price, flag) VALUES (1.5, 1)')
      await connection.close()
      const next = await readTable(to, 'item')
      expect(next.rows.map((r) => colOf(next.t)(r, 'id'))).toEqual([7, 42, 43])
    } finally {
      await dropDatabase(admin, target)
      rmSync(dir, { recursive: true, force: true })
    }
  }, SIDE_BY_SIDE_TIMEOUT)

  it('bulk-loads an IDENTITY table through a stage: keys kept exactly (gaps, past 2^53), refused rows rejected alone, the identity continuing after the largest', async () => {
    // the writer probes whether the server keeps bulk identity values (the stand-in) or renumbers them (SQL Server,
    // then the stage, which has no IDENTITY): the keys must come out exact either way
    const sql = (await import('mssql')).default
    const target = uniqueName('dbferry_live_i')
    const to = await createDatabase(admin, target)
    const bulk = vi.spyOn(sql.Request.prototype, 'bulk')
    const query = vi.spyOn(sql.Request.prototype, 'query')
    const ticket: TableSchema = {
      name: 'ticket',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nativeType: '', nullable: false, autoIncrement: true },
        { name: 'label', type: { kind: 'text', length: 10 }, nativeType: '', nullable: false },
        { name: 'seen', type: { kind: 'timestamp', precision: 3 }, nativeType: '', nullable: true },
      ],
      primaryKey: { columns: ['id'] },
      uniques: [],
      indexes: [],
      foreignKeys: [],
    }
    try {
      const { connection } = await connect(to)
      try {
        await connection.prepareTarget!({ dialect: 'sqlite', tables: [ticket], objects: [] }, { mode: 'create' })
        const writer = await connection.openWriter!(ticket)
        const big = 9007199254740993n
        bulk.mockClear()
        query.mockClear()
        const clean = await writer.write([
          [1, 'one', '2024-02-29 13:45:01.123'],
          [5, 'five', null],
          [1000, 'thousand', null],
          [big, 'big', null],
        ])
        expect(clean).toMatchObject({ written: 4, rejected: [] })
        // one bulk load into the stage, and no row INSERT (the fallback) at all
        expect(bulk.mock.calls.map((c) => (c[0] as { path: string }).path)).toEqual(['[#dbferry_stage]'])
        expect(query.mock.calls.filter((c) => String(c[0]).includes('INSERT INTO'))).toEqual([])
        const refused = await writer.write([
          [5, 'again', null],
          [6, null, null],
          [7, 'seven', null],
        ])
        // the batch is refused as a whole, then isolated: only the two bad rows are rejected, each with its reason
        expect(refused.written).toBe(1)
        expect(refused.rejected.map((e) => [e.code, e.key])).toEqual([
          ['duplicate_key', { id: 5 }],
          ['not_null', { id: 6 }],
        ])
        await writer.close()
        expect(await connection.finalize!({ dialect: 'sqlite', tables: [ticket], objects: [] }, {})).toEqual([])
        await connection.execute!("INSERT INTO dbo.ticket (label) VALUES (N'next')")
      } finally {
        await connection.close()
      }
      const { t, rows } = await readTable(to, 'ticket')
      const col = colOf(t)
      expect(rows.map((r) => [col(r, 'id'), col(r, 'label'), col(r, 'seen')])).toEqual([
        [1, 'one', '2024-02-29 13:45:01.123'],
        [5, 'five', null],
        [7, 'seven', null],
        [1000, 'thousand', null],
        [9007199254740993n, 'big', null],
        [9007199254740994n, 'next', null],
      ])
    } finally {
      bulk.mockRestore()
      query.mockRestore()
      await dropDatabase(admin, target)
    }
  })

  it('reads ahead one batch, bounded by rows and by bytes (512 KiB at most per batch)', async () => {
    const sql = (await import('mssql')).default
    const dbName = uniqueName('dbferry_live_r')
    const from = await createDatabase(admin, dbName)
    const body = 'x'.repeat(5_000) // 5 008 bytes per value as valueSize counts it (100 rows fit in 512 KiB)
    const pool = await new sql.ConnectionPool(MssqlConnection.parseUrl(from).config).connect()
    try {
      await pool.request().batch('CREATE TABLE dbo.wide (id int NOT NULL PRIMARY KEY, body nvarchar(max) NOT NULL)')
      const load = new sql.Table('dbo.wide')
      load.create = false
      load.columns.add('id', sql.Int, { nullable: false })
      load.columns.add('body', sql.NVarChar(sql.MAX), { nullable: false })
      for (let i = 1; i <= 1000; i++) load.rows.add(i, body)
      await pool.request().bulk(load)
    } finally {
      await pool.close()
    }
    const emit = vi.spyOn(sql.Request.prototype, 'emit')
    const { connection } = await connect(from)
    try {
      const t = (await connection.introspect()).tables.find((x) => x.name.toLowerCase() === 'wide')!
      emit.mockClear()
      const rowsEmitted = () => emit.mock.calls.filter((c) => c[0] === 'row').length
      const reading = connection.read(t, { batchRows: 100, batchBytes: 64 << 20 })[Symbol.asyncIterator]()
      expect((await reading.next()).value?.rows).toHaveLength(100)
      await new Promise((r) => setTimeout(r, 500))
      // the batch handed over and one more, then the request waits (a queue of two batches would hold 300)
      expect(rowsEmitted()).toBeGreaterThanOrEqual(200)
      expect(rowsEmitted()).toBeLessThanOrEqual(210)
      await reading.return?.(undefined)
      // a batch stops at 512 KiB of values even when the run allows far more rows and bytes
      const sizes: number[] = []
      const ids: unknown[] = []
      for await (const b of connection.read(t, { batchRows: 10_000, batchBytes: 64 << 20 })) {
        sizes.push(b.rows.length)
        ids.push(...b.rows.map((r) => r[0]))
        expect(b.lastKey).toEqual([b.rows[b.rows.length - 1]![0]])
      }
      expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      expect(Math.max(...sizes)).toBe(Math.ceil((1 << 19) / 5_008))
    } finally {
      emit.mockRestore()
      await connection.close()
      await dropDatabase(admin, dbName)
    }
  })

  it('takes an mssql ConnectionPool the caller holds, and leaves it open after ferry()', async () => {
    const sql = (await import('mssql')).default
    const pool = await new sql.ConnectionPool(MssqlConnection.parseUrl(url).config).connect()
    try {
      expect(mssqlDialect.accepts(pool)).toBe(true)
      const dir = mkdtempSync(join(tmpdir(), 'dbferry-mssql-'))
      try {
        const report = await ferry({ from: pool, to: `sqlite:${join(dir, 'out.db')}`, tables: { include: ['child'] } })
        expect(report.tables.map((x) => [x.name, x.written])).toEqual([['child', 2]])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
      // the caller's pool is still open and usable
      expect(pool.connected).toBe(true)
      const r = await pool.request().query('SELECT COUNT(*) AS n FROM dbo.child')
      expect(r.recordset[0].n).toBe(2)
    } finally {
      await pool.close()
    }
  })
})
