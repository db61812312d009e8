import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import sql from 'mssql'
import { MssqlConnection } from '../../dialects/mssql/mssql-connection.js'
import { mssqlDialect } from '../../dialects/mssql/mssql-dialect.js'
import { mssqlSql } from '../../dialects/mssql/mssql-sql.js'
import { mssqlTypes } from '../../dialects/mssql/mssql-types.js'
import type { LogicalType, TableSchema, Value } from '../../src/schema/types.js'

// the helpers these tests exercise, reached through the canonical objects
const quoteId = mssqlSql.quoteIdentifier
const qualified = mssqlSql.qualified
const bulkValue = mssqlSql.bulkValue
const insertParameter = mssqlSql.insertParameter
const rowsPerInsert = mssqlSql.script.rowsPerInsert
const usesBulk = mssqlSql.usesBulk
const maxKeySql = mssqlSql.maxKey
const foreignKeySql = mssqlSql.foreignKey
const defaultOf = mssqlSql.columnDefault
const decodeCodePage = mssqlTypes.decodeCodePage
const parseMssqlUrl = MssqlConnection.parseUrl
const mssqlCollationFolder = (c: string | undefined) => mssqlDialect.collationFolder!(c)!
const mssqlLiteral = (v: Value, type: LogicalType) => mssqlSql.literal(v, { name: 'c', type, nativeType: '', nullable: true })
const createTableSql = (table: TableSchema) => mssqlSql.createTable(table)
const createIndexSql = mssqlSql.createIndex
const identityInsertSql = (table: TableSchema, on: boolean) => mssqlSql.script.aroundInserts!(table)[on ? 0 : 1][0]
const reseedSql = (table: TableSchema) => mssqlSql.resetIdentity(table)[0]
const selectSql = (table: TableSchema, plan: { selects: string[] }, schema: string, after: string[] | undefined) => mssqlSql.selectTable(table, plan.selects, schema, after)

const require = createRequire(import.meta.url)
// tedious's own encoders: the bytes it would put on the wire for a bulk-load value
type Encoder = { generateParameterData(p: { value: unknown; scale?: number }, o: { useUTC: boolean }): Iterable<Buffer> }
const DateTime2 = require('tedious/lib/data-types/datetime2.js') as Encoder
const Time = require('tedious/lib/data-types/time.js') as Encoder
const DateTimeOffset = require('tedious/lib/data-types/datetimeoffset.js') as Encoder
const DateType = require('tedious/lib/data-types/date.js') as Encoder

function wire(enc: Encoder, value: unknown, scale?: number): Buffer {
  return Buffer.concat([...enc.generateParameterData({ value, ...(scale !== undefined ? { scale } : {}) }, { useUTC: true })])
}

function daysToDate(days: number): string {
  // days since 0001-01-01 in the proleptic Gregorian calendar
  const d = new Date(0)
  d.setUTCFullYear(1, 0, 1)
  d.setUTCHours(0, 0, 0, 0)
  d.setUTCDate(d.getUTCDate() + days)
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`
}

function ticksToTime(ticks: bigint, scale: number): string {
  const unit = 10n ** BigInt(scale)
  const secs = ticks / unit
  const frac = ticks % unit
  const h = secs / 3600n
  const m = (secs % 3600n) / 60n
  const s = secs % 60n
  const f = scale > 0 ? `.${frac.toString().padStart(scale, '0')}` : ''
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${f}`
}

/** Decodes a datetime2(7) value from the wire: 5-byte time in 100 ns ticks, 3-byte day number. */
function decodeDateTime2(buf: Buffer, scale: number): string {
  const timeLen = scale <= 2 ? 3 : scale <= 4 ? 4 : 5
  const ticks = BigInt(buf.readUIntLE(0, timeLen))
  return `${daysToDate(buf.readUIntLE(timeLen, 3))} ${ticksToTime(ticks, scale)}`
}

const t = (name: string, columns: { name: string; type: LogicalType; autoIncrement?: boolean; generated?: boolean; nullable?: boolean }[], extra: Partial<TableSchema> = {}): TableSchema => ({
  name,
  columns: columns.map((c) => ({ nativeType: '', nullable: true, ...c })),
  uniques: [],
  indexes: [],
  foreignKeys: [],
  ...extra,
})

describe('bracket quoting', () => {
  it('doubles ] and leaves everything else', () => {
    expect(quoteId('plain')).toBe('[plain]')
    expect(quoteId('a]b')).toBe('[a]]b]')
    expect(quoteId(']]')).toBe('[]]]]]')
    expect(quoteId('with space.and[dot')).toBe('[with space.and[dot]')
    expect(qualified({ name: 'x' })).toBe('[dbo].[x]')
    expect(qualified({ name: 'x', schema: 'imis]' })).toBe('[imis]]].[x]')
  })
})

describe('bulk-load value encoding, checked on the bytes tedious sends', () => {
  it('keeps all seven fractional digits of datetime2(7)', () => {
    for (const v of ['2020-02-29 23:59:59.9999999', '2009-01-01 00:00:00.0000001', '0001-01-01 00:00:00', '9999-12-31 23:59:59.1234567', '0099-06-15 12:00:00.5']) {
      const encoded = bulkValue(v, { kind: 'timestamp', precision: 7 })
      expect(encoded).toBeInstanceOf(Date)
      const expected = v.includes('.') ? v.padEnd(27, '0') : `${v}.0000000`
      expect(decodeDateTime2(wire(DateTime2, encoded, 7), 7)).toBe(expected)
    }
  })

  it('shows the pitfall it avoids: the same value sent with scale 0 loses its fraction', () => {
    const encoded = bulkValue('2020-02-29 10:00:00.4', { kind: 'timestamp', precision: 7 })
    expect(decodeDateTime2(wire(DateTime2, encoded, 0), 0)).toBe('2020-02-29 10:00:00')
  })

  it('encodes time(7) and date exactly', () => {
    const time = bulkValue('08:30:00.1234567', { kind: 'time', precision: 7 })
    expect(ticksToTime(BigInt(wire(Time, time, 7).readUIntLE(0, 5)), 7)).toBe('08:30:00.1234567')
    const date = bulkValue('2020-02-29', { kind: 'date' })
    expect(daysToDate(wire(DateType, date).readUIntLE(0, 3))).toBe('2020-02-29')
  })

  it('encodes datetimeoffset as the right UTC instant', () => {
    const v = bulkValue('2020-02-29 23:59:59.1234567+05:30', { kind: 'timestamptz', precision: 7 }) as Date
    const buf = wire(DateTimeOffset, v, 7)
    // SQL Server stores datetimeoffset as UTC time + offset
    expect(`${daysToDate(buf.readUIntLE(5, 3))} ${ticksToTime(BigInt(buf.readUIntLE(0, 5)), 7)}`).toBe('2020-02-29 18:29:59.1234567')
    const neg = bulkValue('2000-01-01 00:00:00-08:00', { kind: 'timestamptz', precision: 7 }) as Date
    expect(neg.toISOString()).toBe('2000-01-01T08:00:00.000Z')
  })

  it('leaves other values in the forms tedious takes', () => {
    expect(bulkValue(9007199254740993n, { kind: 'int64' })).toBe('9007199254740993')
    expect(bulkValue(true, { kind: 'boolean' })).toBe(true)
    expect(bulkValue('12.50', { kind: 'decimal', precision: 10, scale: 2 })).toBe(12.5)
    expect(bulkValue(new Uint8Array([10, 27]), { kind: 'bytes' })).toEqual(Buffer.from([10, 27]))
    expect(bulkValue(null, { kind: 'timestamp' })).toBeNull()
    expect(() => bulkValue('01/14/10 1', { kind: 'timestamp' })).toThrow(/canonical/)
  })

  it('declares each bulk column with its type and scale, and the driver Table says so', () => {
    const table = t('policy', [
      { name: 'stamp', type: { kind: 'timestamp', precision: 7 } },
      { name: 'at', type: { kind: 'time', precision: 3 } },
      { name: 'tz', type: { kind: 'timestamptz', precision: 7 } },
      { name: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 } },
      { name: 'odd]name', type: { kind: 'text', length: 20 } },
      { name: 'total', type: { kind: 'text' }, generated: true },
    ])
    const cols = mssqlSql.bulkColumns(table)
    expect(cols.map((c) => [c.name, c.index, c.type])).toEqual([
      ['stamp', 0, { name: 'DateTime2', scale: 7 }],
      ['at', 1, { name: 'Time', scale: 3 }],
      ['tz', 2, { name: 'DateTimeOffset', scale: 7 }],
      ['amount', 3, { name: 'Decimal', precision: 10, scale: 2 }],
      ['odd]]name', 4, { name: 'NVarChar', length: 20 }],
    ])
    // the same declarations as the driver's Table would send them
    const bulk = new sql.Table('[dbo].[policy]')
    for (const c of cols) {
      const make = (sql as unknown as Record<string, (...a: unknown[]) => sql.ISqlType>)[c.type.name]!
      bulk.columns.add(c.name, c.type.length !== undefined ? make(c.type.length) : c.type.precision !== undefined ? make(c.type.precision, c.type.scale) : c.type.scale !== undefined ? make(c.type.scale) : make(), { nullable: true })
    }
    expect((bulk as unknown as { declare(): string }).declare()).toContain('[stamp] datetime2 (7)')
  })

  it('chooses bulk load only where it is exact', () => {
    expect(usesBulk(t('a', [{ name: 'x', type: { kind: 'timestamp', precision: 7 } }]))).toBe(true)
    // an IDENTITY table bulk-loads through the stage, unless a column is one the bulk path cannot carry exactly
    expect(usesBulk(t('a', [{ name: 'id', type: { kind: 'int32' }, autoIncrement: true }]))).toBe(true)
    expect(usesBulk(t('a', [{ name: 'id', type: { kind: 'decimal', precision: 38, scale: 0 }, autoIncrement: true }]))).toBe(false)
    expect(usesBulk(t('a', [{ name: 'x', type: { kind: 'decimal', precision: 38, scale: 10 } }]))).toBe(false)
    expect(usesBulk(t('a]b', [{ name: 'x', type: { kind: 'int32' } }]))).toBe(false)
  })

  it('stages an IDENTITY table: a temp table without IDENTITY typed as the bulk load declares, then INSERT … SELECT under IDENTITY_INSERT', () => {
    const table = t('Ticket', [
      { name: 'Id', type: { kind: 'int64' }, autoIncrement: true, nullable: false },
      { name: 'Seen', type: { kind: 'timestamp', precision: 3 } },
      { name: 'Label', type: { kind: 'text', length: 10 } },
      { name: 'Price', type: { kind: 'decimal', precision: 10, scale: 2 } },
      { name: 'Total', type: { kind: 'text' }, generated: true },
    ])
    const stage = mssqlSql.staging(table, 'sales')
    expect(stage.name).toBe('#dbferry_stage')
    expect(stage.create).toBe(
      "IF OBJECT_ID(N'tempdb..#dbferry_stage') IS NOT NULL DROP TABLE #dbferry_stage;\n" +
        'CREATE TABLE #dbferry_stage ([c0] bigint NULL, [c1] datetime2(3) NULL, [c2] nvarchar(10) NULL, [c3] decimal(10,2) NULL)',
    )
    expect(stage.columns.map((c) => [c.name, c.index, c.type])).toEqual([
      ['c0', 0, { name: 'BigInt' }],
      ['c1', 1, { name: 'DateTime2', scale: 3 }],
      ['c2', 2, { name: 'NVarChar', length: 10 }],
      ['c3', 3, { name: 'Decimal', precision: 10, scale: 2 }],
    ])
    expect(stage.insert).toBe(
      'SET IDENTITY_INSERT [sales].[Ticket] ON;\n' +
        'BEGIN TRY\n' +
        '  INSERT INTO [sales].[Ticket] ([Id], [Seen], [Label], [Price]) SELECT [c0], [c1], [c2], [c3] FROM #dbferry_stage;\n' +
        'END TRY\n' +
        'BEGIN CATCH\n' +
        '  SET IDENTITY_INSERT [sales].[Ticket] OFF;\n' +
        '  THROW;\n' +
        'END CATCH\n' +
        'SET IDENTITY_INSERT [sales].[Ticket] OFF;\n' +
        'DROP TABLE #dbferry_stage',
    )
  })
})

describe('INSERT encoding', () => {
  it('sends exact types as text converted by the server with a fixed style', () => {
    expect(insertParameter('12345678901234567890.1234567890', { kind: 'decimal', precision: 38, scale: 10 })).toEqual({
      type: { name: 'NVarChar', length: 100 },
      value: '12345678901234567890.1234567890',
      sql: 'CAST(@p AS decimal(38,10))',
    })
    expect(insertParameter('2020-02-29 23:59:59.9999999', { kind: 'timestamp', precision: 7 })).toMatchObject({ value: '2020-02-29T23:59:59.9999999', sql: 'CONVERT(datetime2(7), @p, 126)' })
    expect(insertParameter('2020-02-29 23:59:59.1+05:30', { kind: 'timestamptz', precision: 7 })).toMatchObject({ value: '2020-02-29T23:59:59.1+05:30', sql: 'CONVERT(datetimeoffset(7), @p, 127)' })
    expect(insertParameter('2020-02-29', { kind: 'date' })).toMatchObject({ value: '2020-02-29', sql: 'CONVERT(date, @p, 23)' })
    expect(insertParameter('23:59:59.1234567', { kind: 'time', precision: 7 })).toMatchObject({ sql: 'CAST(@p AS time(7))' })
    expect(insertParameter(18446744073709551615n, { kind: 'int64', unsigned: true })).toMatchObject({ value: '18446744073709551615', sql: 'CAST(@p AS decimal(20,0))' })
    expect(insertParameter(null, { kind: 'decimal', precision: 5, scale: 2 })).toMatchObject({ value: null })
    expect(insertParameter('héllo', { kind: 'text' })).toEqual({ type: { name: 'NVarChar', length: 'max' }, value: 'héllo', sql: '@p' })
  })

  it('builds a parameterised multi-row INSERT with IDENTITY_INSERT around it, never splicing values', () => {
    const table = t('tblFamilies', [
      { name: 'FamilyID', type: { kind: 'int32' }, autoIncrement: true },
      { name: 'Name', type: { kind: 'text', length: 50 } },
      { name: 'Total', type: { kind: 'text' }, generated: true },
    ])
    const statement = mssqlSql.insertStatement(table, [[1, "O'Brien", null], [2, 'x]; DROP TABLE y --', null]], 'dbo')
    expect(statement.sql).toBe(
      'SET IDENTITY_INSERT [dbo].[tblFamilies] ON;\n' +
        'INSERT INTO [dbo].[tblFamilies] ([FamilyID], [Name]) VALUES (@p0, @p1), (@p2, @p3);\n' +
        'SET IDENTITY_INSERT [dbo].[tblFamilies] OFF;',
    )
    const params = Object.fromEntries(statement.params.map((p) => [p.name, p]))
    expect(params.p1!.value).toBe("O'Brien")
    expect(params.p3!.value).toBe('x]; DROP TABLE y --')
    expect(params.p0).toEqual({ name: 'p0', type: { name: 'Int' }, value: 1 })
  })

  it('stays under SQL Server\'s 2 100 parameters and 1 000 rows per statement', () => {
    expect(rowsPerInsert(1)).toBe(1000)
    expect(rowsPerInsert(10)).toBe(200)
    expect(rowsPerInsert(3000)).toBe(1)
  })
})

describe('literals for DDL defaults', () => {
  it.each<[Value, LogicalType, string]>([
    [null, { kind: 'text' }, 'NULL'],
    ["it's", { kind: 'text' }, "N'it''s'"],
    ['العاصمة', { kind: 'text' }, "N'العاصمة'"],
    [true, { kind: 'boolean' }, '1'],
    ['12.50', { kind: 'decimal', precision: 10, scale: 2 }, '12.50'],
    [42, { kind: 'int32' }, '42'],
    [new Uint8Array([10, 27]), { kind: 'bytes' }, '0x0A1B'],
    ['2020-02-29', { kind: 'date' }, "CONVERT(date, N'2020-02-29', 23)"],
    ['2020-02-29 23:59:59.1234567', { kind: 'timestamp', precision: 7 }, "CONVERT(datetime2(7), N'2020-02-29T23:59:59.1234567', 126)"],
    ['2020-02-29 23:59:59+05:30', { kind: 'timestamptz', precision: 0 }, "CONVERT(datetimeoffset(0), N'2020-02-29T23:59:59+05:30', 127)"],
    ['5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c', { kind: 'uuid' }, "CONVERT(uniqueidentifier, N'5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c')"],
  ])('%o as %o → %s', (v, type, lit) => {
    expect(mssqlLiteral(v, type)).toBe(lit)
  })

  it('refuses what SQL Server cannot hold or what is not a number', () => {
    expect(() => mssqlLiteral(NaN, { kind: 'float64' })).toThrow()
    expect(() => mssqlLiteral('1; DROP TABLE x', { kind: 'int32' })).toThrow()
  })
})

describe('generated DDL', () => {
  const policy = t(
    'tblPolicy',
    [
      { name: 'PolicyID', type: { kind: 'int32' }, autoIncrement: true, nullable: false },
      { name: 'Name', type: { kind: 'text', length: 50 } },
      { name: 'Stamp', type: { kind: 'timestamp', precision: 7 } },
      { name: 'Total', type: { kind: 'text' }, generated: true },
    ],
    { primaryKey: { name: 'PK_tblPolicy', columns: ['PolicyID'] }, uniques: [{ columns: ['Name'] }] },
  )

  it('creates tables with identity, nvarchar, datetime2(7), primary and unique keys', () => {
    policy.columns[1]!.default = { kind: 'value', value: 'none' }
    policy.columns[2]!.default = { kind: 'now' }
    expect(createTableSql(policy)).toBe(
      'CREATE TABLE [dbo].[tblPolicy] (\n' +
        '  [PolicyID] int IDENTITY(1,1) NOT NULL,\n' +
        "  [Name] nvarchar(50) NULL DEFAULT N'none',\n" +
        '  [Stamp] datetime2(7) NULL DEFAULT SYSDATETIME(),\n' +
        '  [Total] nvarchar(max) NULL,\n' +
        '  CONSTRAINT [PK_tblPolicy] PRIMARY KEY ([PolicyID]),\n' +
        '  CONSTRAINT [UQ_tblPolicy_Name] UNIQUE ([Name])\n' +
        ')',
    )
    expect(createTableSql({ ...policy, schema: 'imis' })).toContain('CREATE TABLE [imis].[tblPolicy]')
    expect(mssqlSql.createTable(policy, { schema: 'legacy' })).toContain('CREATE TABLE [legacy].[tblPolicy]')
    expect(mssqlSql.dropTable(policy)).toBe("IF OBJECT_ID(N'[dbo].[tblPolicy]', N'U') IS NOT NULL DROP TABLE [dbo].[tblPolicy]")
  })

  it('creates foreign keys checked, or WITH NOCHECK for orphans, and indexes', () => {
    const fk = { name: 'FK_p_f', columns: ['FamilyID'], refTable: 'tblFamilies', refColumns: ['FamilyID'], onDelete: 'SET NULL', onUpdate: 'bogus', origin: 'source' as const }
    expect(foreignKeySql(policy, fk, { check: true })).toBe(
      'ALTER TABLE [dbo].[tblPolicy] WITH CHECK ADD CONSTRAINT [FK_p_f] FOREIGN KEY ([FamilyID]) REFERENCES [dbo].[tblFamilies] ([FamilyID]) ON DELETE SET NULL',
    )
    expect(foreignKeySql(policy, fk, { check: false })).toContain('WITH NOCHECK ADD CONSTRAINT')
    expect(createIndexSql(policy, { name: 'IX_a', columns: ['Stamp', 'Name'], unique: false })).toBe('CREATE INDEX [IX_a] ON [dbo].[tblPolicy] ([Stamp], [Name])')
    expect(createIndexSql(policy, { name: 'IX_e', columns: [], unique: false, expression: 'lower(x)', dialect: 'postgres' })).toBeUndefined()
    expect(identityInsertSql(policy, true)).toBe('SET IDENTITY_INSERT [dbo].[tblPolicy] ON')
    expect(reseedSql({ ...policy, name: "o'k" })).toBe("DBCC CHECKIDENT (N'[dbo].[o''k]', RESEED) WITH NO_INFOMSGS")
    // the live writer spells an ASCII name as a plain literal (Babelfish misreads N'…' in DBCC), others stay N'…'
    expect(mssqlSql.reseed(policy, 'dbo', { plainAscii: true })).toBe("DBCC CHECKIDENT ('[dbo].[tblPolicy]', RESEED) WITH NO_INFOMSGS")
    expect(mssqlSql.reseed({ ...policy, name: 'Polizzä' }, 'dbo', { plainAscii: true })).toBe("DBCC CHECKIDENT (N'[dbo].[Polizzä]', RESEED) WITH NO_INFOMSGS")
    expect(mssqlSql.resetIdentity({ ...policy, columns: policy.columns.map((c) => ({ ...c, autoIncrement: false })) })).toEqual([])
  })

  it("reads the largest primary key for resume's source check, and nothing for a table without one", () => {
    const table = { ...policy, primaryKey: { name: 'PK', columns: ['FamilyID', 'Stamp]'] } }
    expect(maxKeySql(table)).toBe('SELECT TOP (1) [FamilyID] AS [k0], [Stamp]]] AS [k1] FROM [dbo].[tblPolicy] ORDER BY [FamilyID] DESC, [Stamp]]] DESC')
    expect(maxKeySql({ ...policy, primaryKey: undefined })).toBeUndefined()
  })
})

describe('reading', () => {
  it('selects converted expressions in key order, with a resume condition on a composite key', () => {
    const table = t('x', [
      { name: 'a', type: { kind: 'int32' } },
      { name: 'b', type: { kind: 'text' } },
      { name: 'ts', type: { kind: 'timestamp', precision: 7 } },
    ], { primaryKey: { columns: ['a', 'b'] } })
    const plan = { selects: ['{col}', '{col}', 'CONVERT(varchar(27), {col}, 121)'], codePages: [undefined, undefined, undefined] }
    expect(selectSql(table, plan, 'dbo', undefined)).toBe('SELECT [a] AS [c0], [b] AS [c1], CONVERT(varchar(27), [ts], 121) AS [c2] FROM [dbo].[x] ORDER BY [a], [b]')
    expect(selectSql(table, plan, 'dbo', ['@a0', '@a1'])).toBe(
      'SELECT [a] AS [c0], [b] AS [c1], CONVERT(varchar(27), [ts], 121) AS [c2] FROM [dbo].[x] WHERE (([a] > @a0) OR ([a] = @a0 AND [b] > @a1)) ORDER BY [a], [b]',
    )
  })

  it('decodes legacy code pages: Arabic (1256) and Danish (1252)', () => {
    expect(decodeCodePage(Buffer.from([0xc7, 0xe1, 0xda, 0xc7, 0xd5, 0xe3, 0xc9]), 1256)).toBe('العاصمة')
    expect(decodeCodePage(Buffer.from([0xc6, 0x72, 0xf8, 0x73, 0x6b, 0xf8, 0x62, 0x69, 0x6e, 0x67]), 1252)).toBe('Ærøskøbing')
    expect(() => decodeCodePage(Buffer.from([1]), 99999)).toThrow(/not supported/)
  })

  it('turns stored defaults into column defaults', () => {
    expect(defaultOf('((0))')).toEqual({ kind: 'value', value: '0' })
    expect(defaultOf('(getdate())')).toEqual({ kind: 'now' })
    expect(defaultOf("(N'it''s')")).toEqual({ kind: 'value', value: "it's" })
    expect(defaultOf('(newid())')).toEqual({ kind: 'expression', sql: '(newid())', dialect: 'mssql' })
  })
})

describe('connections and collations', () => {
  it('parses mssql:// and sqlserver:// URLs with useUTC always on', () => {
    const { config, schema } = parseMssqlUrl('mssql://sa:Passw%400rd!@db.local:14330/imis?encrypt=false&trustServerCertificate=true&schema=legacy')
    expect(config).toMatchObject({ server: 'db.local', port: 14330, user: 'sa', password: 'Passw@0rd!', database: 'imis', requestTimeout: 0 })
    expect(config.options).toMatchObject({ encrypt: false, trustServerCertificate: true, useUTC: true })
    expect(schema).toBe('legacy')
    const d = parseMssqlUrl('sqlserver://127.0.0.1')
    expect(d.config).toMatchObject({ port: 1433, database: 'master', options: { encrypt: true, trustServerCertificate: false } })
    expect(d.schema).toBe('dbo')
  })

  it('folds like the collation: case and trailing spaces by default, accents with _AI, nothing with _BIN2', () => {
    expect(mssqlCollationFolder(undefined)('Médecins  ')).toBe('médecins')
    expect(mssqlCollationFolder('Latin1_General_CI_AI')('Médecins')).toBe('medecins')
    expect(mssqlCollationFolder('Latin1_General_CS_AS')('ABC ')).toBe('ABC')
    expect(mssqlCollationFolder('Latin1_General_BIN2')('ABC')).toBe('ABC')
  })
})
