import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { TsqlSource, detectEncoding, scriptStatements, tsql } from '../../src/formats/tsql/index.js'
import type { DatabaseSchema, Row, TableSchema } from '../../src/schema/types.js'
import type { RowError } from '../../src/errors.js'
import { INSURANCE_SCRIPT, writeInsuranceScript } from '../../fixtures/tsql/encode.js'

const FIXTURES = join(import.meta.dirname, '../../fixtures/tsql')

async function readAll(source: TsqlSource, table: TableSchema, batchRows = 1000): Promise<{ rows: Row[]; rejected: RowError[]; batches: number }> {
  const rows: Row[] = []
  const rejected: RowError[] = []
  let batches = 0
  for await (const b of source.read(table, { batchRows, batchBytes: 8 << 20 })) {
    rows.push(...b.rows)
    rejected.push(...b.rejected)
    batches++
  }
  return { rows, rejected, batches }
}

const hex = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)

describe('T-SQL script reader on the insurance fixture', () => {
  let source: TsqlSource
  let schema: DatabaseSchema
  const table = (name: string) => schema.tables.find((t) => t.name === name)!

  beforeAll(async () => {
    source = (await connect('tsql:./fixtures/tsql/insurance.sql')).connection as TsqlSource
    schema = await source.introspect()
  })

  it('is registered under tsql: and is read-only', async () => {
    expect(source.dialect.name).toBe('tsql')
    await expect(source.prepareTarget(schema, { mode: 'create' })).rejects.toThrow(/read-only/)
  })

  it('reads CREATE TABLE with types, identity, nullability, keys and computed columns', () => {
    expect(schema.tables.map((t) => t.name)).toEqual(['tblLocations', 'tblFamilies', 'tblPolicy'])
    const loc = table('tblLocations')
    expect(loc.primaryKey).toEqual({ name: 'PK_tblLocations', columns: ['LocationId'] })
    expect(loc.columns.map((c) => [c.name, c.nativeType, c.nullable, c.autoIncrement ?? false])).toEqual([
      ['LocationId', 'int', false, true],
      ['LocationCode', 'nvarchar(8)', true, false],
      ['LocationName', 'nvarchar(50)', true, false],
      ['ParentLocationId', 'int', true, false],
      ['LocationType', 'nchar(1)', false, false],
    ])
    const pol = table('tblPolicy')
    expect(Object.fromEntries(pol.columns.map((c) => [c.name, c.type]))).toMatchObject({
      EnrollDate: { kind: 'date' },
      StartTime: { kind: 'time', precision: 7 },
      PolicyValue: { kind: 'decimal', precision: 18, scale: 2 },
      Premium: { kind: 'decimal', precision: 19, scale: 4 },
      Rate: { kind: 'float64' },
      Stamp: { kind: 'timestamp', precision: 7 },
      StampTz: { kind: 'timestamptz', precision: 7 },
      Photo: { kind: 'bytes' },
      Note: { kind: 'text', length: 100 },
    })
    expect(pol.columns.find((c) => c.name === 'Total')).toMatchObject({ generated: true })
    expect(table('tblFamilies').columns.find((c) => c.name === 'RowID')).toMatchObject({ nativeType: 'rowversion', type: { kind: 'bytes', length: 8 } })
  })

  it('reads ALTER TABLE foreign keys (WITH CHECK / NOCHECK, ON DELETE), defaults and CREATE INDEX', () => {
    expect(table('tblLocations').foreignKeys).toEqual([
      { name: 'FK_tblLocations_tblLocations', columns: ['ParentLocationId'], refTable: 'tblLocations', refColumns: ['LocationId'], origin: 'source' },
    ])
    expect(table('tblFamilies').foreignKeys[0]).toMatchObject({ name: 'FK_tblFamilies_tblLocations', refTable: 'tblLocations', onDelete: 'SET NULL' })
    expect(table('tblPolicy').foreignKeys[0]).toMatchObject({ columns: ['FamilyID'], refTable: 'tblFamilies', refColumns: ['FamilyID'] })
    // GETDATE() as a default is "now", which every target can express
    expect(table('tblFamilies').columns.find((c) => c.name === 'ValidityFrom')!.default).toEqual({ kind: 'now' })
    expect(table('tblPolicy').indexes).toEqual([{ name: 'IX_tblPolicy_EnrollDate', unique: false, columns: ['EnrollDate'] }])
  })

  it('captures views and functions with their dependencies', () => {
    expect(schema.objects.map((o) => [o.name, o.type, o.dependsOn])).toEqual([
      ['uvwPolicies', 'view', ['tblFamilies', 'tblPolicy']],
      ['udfPolicyCount', 'function', ['uvwPolicies']],
    ])
    expect(schema.objects[0]!.definition).toMatch(/^CREATE VIEW \[dbo\]\.\[uvwPolicies\] AS\s+SELECT/)
  })

  it('lists the statements it does not apply, with their lines, in the snapshot text too (the UPDATE is applied)', async () => {
    expect(source.skippedStatements).toEqual([
      { line: 98, text: expect.stringMatching(/^EXEC sys\.sp_addextendedproperty/), reason: 'EXEC sp_addextendedproperty (procedures are not run)', data: false },
    ])
    const snap = await source.snapshot()
    expect(snap.guarantee).toMatch(/1 statement\(s\) not understood and skipped: line 98: EXEC /)
    expect(snap.notes).toEqual([
      expect.stringMatching(/^line 98: skipped EXEC sys\.sp_addextendedproperty/),
      'tblFamilies.RowID: rowversion, copied as nullable binary(8) without generated values',
      'tblPolicy.Total: computed column, not copied',
    ])
  })

  it('reads INSERT rows: single and multi-row VALUES, N strings, CAST, CONVERT, 0x, NULL, signs, CHAR()+', async () => {
    expect(table('tblLocations').rowCountEstimate).toBe(4)
    const loc = await readAll(source, table('tblLocations'))
    expect(loc.rows).toEqual([
      // line 100's UPDATE, applied to the rows held by then
      [1, 'R1', 'changed', null, 'R'],
      [2, 'D1', 'العاصمة', 1, 'D'],
      [3, 'D2', 'Ærøskøbing -- not a comment', 1, 'D'],
      [4, 'V1', "O'Brien's /* not a comment */", 2, 'V'],
    ])
    const pol = await readAll(source, table('tblPolicy'))
    expect(pol.rejected).toEqual([])
    expect(pol.rows.map((r) => r.map(hex))).toEqual([
      [1, 1, '2020-02-29', '08:30:00.1234567', '12345678901234.56', '1234.5678', 1.5, '2020-02-29 23:59:59.9999999', '2020-02-29 23:59:59.1234567+05:30', '0a1b', 'plain', null],
      [2, 2, '1999-12-31', null, '-0.01', '-922337203685477.5808', -0.0025, '0001-01-01 00:00:00', null, '', null, null],
      [3, 1, '2024-01-15', '00:00:00', null, null, null, null, null, null, 'tab\tand "quotes"', null],
    ])
  })

  it('rejects a row whose value does not convert as type_conversion, and keeps the others', async () => {
    const fam = await readAll(source, table('tblFamilies'))
    expect(fam.rows.map((r) => [r[0], r[1], r[3], r[4], r[5], r[7]])).toEqual([
      [1, '5b2c3a1e-8f4d-4c2b-9a7e-1d2e3f4a5b6c', true, '2009-01-01 00:00:00', null, 'line one\r\nline two'],
      [2, 'a0b1c2d3-e4f5-4677-8899-aabbccddeeff', false, '2017-03-31 23:59:59.997', '2018-12-31 10:11:12.123', null],
    ])
    expect(fam.rejected).toHaveLength(1)
    expect(fam.rejected[0]).toMatchObject({ code: 'type_conversion', column: 'ValidityFrom', value: 'not a date', key: 'line 60' })
  })

  it('batches by rows and resumes after a key', async () => {
    const r = await readAll(source, table('tblLocations'), 3)
    expect(r.batches).toBe(2)
    const after: Row[] = []
    for await (const b of source.read(table('tblLocations'), { batchRows: 10, batchBytes: 1 << 20, after: [2] })) after.push(...b.rows)
    expect(after.map((x) => x[0])).toEqual([3, 4])
  })
})

describe('T-SQL script encodings and streaming', () => {
  let dir: string
  let utf8: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbferry-tsql-'))
    utf8 = await readFile(join(FIXTURES, 'insurance.sql'), 'utf8')
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function rowsOf(path: string): Promise<{ tables: Record<string, unknown[]>; skipped: number }> {
    const s = (await tsql.connect(`tsql:${path}`)) as TsqlSource
    const schema = await s.introspect()
    const tables: Record<string, unknown[]> = {}
    for (const t of schema.tables) tables[t.name] = (await readAll(s, t)).rows.map((r) => r.map(hex))
    return { tables, skipped: s.skippedStatements.length }
  }

  it('detects the encoding from the BOM, or from the zero bytes of UTF-16 without one', () => {
    expect(detectEncoding(Buffer.from([0xef, 0xbb, 0xbf, 0x2f]))).toEqual({ encoding: 'utf8', bom: 3 })
    expect(detectEncoding(Buffer.from([0xff, 0xfe, 0x2f, 0]))).toEqual({ encoding: 'utf16le', bom: 2 })
    expect(detectEncoding(Buffer.from([0xfe, 0xff, 0, 0x2f]))).toEqual({ encoding: 'utf16be', bom: 2 })
    expect(detectEncoding(Buffer.from('/*x', 'utf16le'))).toEqual({ encoding: 'utf16le', bom: 0 })
    expect(detectEncoding(Buffer.from('/* x'))).toEqual({ encoding: 'utf8', bom: 0 })
  })

  it('reads the same data from UTF-8, UTF-8 with BOM, UTF-16LE with BOM (CRLF), UTF-16BE and BOM-less UTF-16LE', async () => {
    const base = await rowsOf(join(FIXTURES, 'insurance.sql'))
    expect(base.tables.tblPolicy).toHaveLength(3)
    expect(await rowsOf(await writeInsuranceScript(dir, 'utf8-bom'))).toEqual(base)
    expect(await rowsOf(await writeInsuranceScript(dir, 'utf16le-crlf'))).toEqual(base)
    const be = Buffer.from(utf8, 'utf16le').swap16()
    await writeFile(join(dir, 'be.sql'), Buffer.concat([Buffer.from([0xfe, 0xff]), be]))
    expect(await rowsOf(join(dir, 'be.sql'))).toEqual(base)
    await writeFile(join(dir, 'le-nobom.sql'), Buffer.from(utf8, 'utf16le'))
    expect(await rowsOf(join(dir, 'le-nobom.sql'))).toEqual(base)
  })

  it('parses identically whatever the chunk size (tokens, strings and UTF-16 pairs split across reads)', async () => {
    await writeFile(join(dir, 'emoji.sql'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf8.replace('Region One', 'Region 🌍 One'), 'utf16le')]))
    const collect = async (chunk: number) => {
      const out: unknown[] = []
      for await (const s of scriptStatements(join(dir, 'emoji.sql'), chunk)) out.push(JSON.stringify(s, (_k, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v)))
      return out
    }
    const whole = await collect(1 << 20)
    expect(whole.length).toBeGreaterThan(30)
    expect(whole.join('')).toContain('Region 🌍 One')
    expect(await collect(7)).toEqual(whole)
    expect(await collect(64)).toEqual(whole)
  })

  it('knows each statement\'s byte range, so a table is re-read from its first INSERT to its last', async () => {
    const files = [[INSURANCE_SCRIPT, 'utf8'], [await writeInsuranceScript(dir, 'utf16le-crlf'), 'utf16le']] as const
    for (const [file, enc] of files) {
      const bytes = await readFile(file)
      const seen: string[] = []
      for await (const s of scriptStatements(file, 64)) {
        if (s.statement.kind !== 'insert') continue
        const text = bytes.subarray(s.byteStart!, s.byteEnd!).toString(enc)
        expect(text).toMatch(/^INSERT /)
        seen.push(text.trim().slice(-12))
      }
      expect(seen).toHaveLength(7)
    }
  })

  it('streams a large script with bounded memory and counts every row', { timeout: 180_000 }, async () => {
    const path = join(dir, 'big.sql')
    const lines = ['CREATE TABLE [dbo].[big] ([id] [int] NOT NULL PRIMARY KEY, [txt] [nvarchar](100) NULL, [ts] [datetime2](7) NULL)', 'GO']
    const n = 60_000
    for (let i = 1; i <= n; i++) lines.push(`INSERT [dbo].[big] ([id], [txt], [ts]) VALUES (${i}, N'row ${i} ''quoted''', CAST(N'2020-01-01T00:00:00.${String(i).padStart(7, '0')}' AS DateTime2))`)
    await writeFile(path, lines.join('\n'))
    const s = (await tsql.connect(`tsql:${path}`)) as TsqlSource
    const [t] = (await s.introspect()).tables
    expect(t!.rowCountEstimate).toBe(n)
    let count = 0
    let last: Row | undefined
    let maxBatch = 0
    for await (const b of s.read(t!, { batchRows: 5000, batchBytes: 8 << 20 })) {
      count += b.rows.length
      maxBatch = Math.max(maxBatch, b.rows.length)
      last = b.rows[b.rows.length - 1]
    }
    expect(count).toBe(n)
    expect(maxBatch).toBe(5000)
    expect(last).toEqual([n, `row ${n} 'quoted'`, '2020-01-01 00:00:00.006'])
  })

  it('handles statement forms: no GO, semicolons, INSERT without column list, nested comments, quoted identifiers, orphan INSERT', async () => {
    const path = join(dir, 'forms.sql')
    await writeFile(
      path,
      [
        'SET NOCOUNT ON;',
        '/* outer /* nested */ still comment */',
        'CREATE TABLE "dbo"."T]x" (id int PRIMARY KEY, [na]]me] varchar(10) NOT NULL DEFAULT (\'a\'), amount money NULL, guid uniqueidentifier ROWGUIDCOL NULL);',
        "INSERT INTO [dbo].[T]]x] VALUES (1, 'one', $12.50, NULL), (2, N'two', -3, NEWID());",
        "INSERT [dbo].[T]]x] ([id], [na]]me]) VALUES (3, CONVERT(nvarchar(10), N'three'))",
        'INSERT [dbo].[Nowhere] ([a]) VALUES (1)',
        'CREATE TABLE dbo.later (a int NOT NULL, b nvarchar(5) NOT NULL, c int NULL)',
        'GO',
        'ALTER TABLE [dbo].[later] ADD CONSTRAINT [PK_later] PRIMARY KEY CLUSTERED ([a] ASC, [b] DESC) WITH (PAD_INDEX = OFF) ON [PRIMARY]',
        'ALTER TABLE [dbo].[later] ADD UNIQUE NONCLUSTERED ([c])',
        'CREATE UNIQUE NONCLUSTERED INDEX [UX_later_b] ON [dbo].[later] ([b]) INCLUDE ([c])',
        'BEGIN TRANSACTION',
        'COMMIT',
        'IF EXISTS (SELECT 1 FROM sys.objects WHERE name = N\'x\') PRINT \'x\'',
      ].join('\n'),
    )
    const s = (await tsql.connect(`tsql:${path}`)) as TsqlSource
    const [t, later] = (await s.introspect()).tables
    expect(later).toMatchObject({ name: 'later', primaryKey: { name: 'PK_later', columns: ['a', 'b'] }, uniques: [{ columns: ['c'] }], indexes: [{ name: 'UX_later_b', unique: true, columns: ['b'] }] })
    expect(t!.name).toBe('T]x')
    expect(t!.columns.map((c) => c.name)).toEqual(['id', 'na]me', 'amount', 'guid'])
    const r = await readAll(s, t!)
    expect(r.rows).toEqual([
      [1, 'one', '12.50', null],
      // NEWID() is evaluated at load time
      [2, 'two', '-3', expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)],
      [3, 'three', null, null],
    ])
    expect(r.rejected).toEqual([])
    // the IF takes the statement it governs: running that alone would ignore the condition
    expect(s.skippedStatements.map((x) => [x.text, x.data])).toEqual([["IF EXISTS (SELECT 1 FROM sys.objects WHERE name = N'x') PRINT 'x'", false], ['INSERT dbo.Nowhere (1 rows)', true]])
  })
})
