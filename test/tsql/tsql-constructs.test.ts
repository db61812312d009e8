import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { openScript, scriptFile } from './script-helpers.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const dir = await mkdtemp(join(tmpdir(), 'dbferry-tsql-constructs-run-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('T-SQL constructs held as SQL Server holds them', () => {
  it('a table constraint not preceded by a comma keeps the table and its rows', async () => {
    const { schema, read } = await openScript([
      'CREATE TABLE [dbo].[tblNoComma] ([Id] int NOT NULL, [Code] nvarchar(5) NULL CONSTRAINT [PK_tblNoComma] PRIMARY KEY CLUSTERED ([Id] ASC) WITH (PAD_INDEX = OFF) ON [PRIMARY]) ON [PRIMARY]',
      'CREATE TABLE [dbo].[tblChild] ([Id] int NOT NULL PRIMARY KEY, [ParentId] int NULL CONSTRAINT [FK_child] FOREIGN KEY ([ParentId]) REFERENCES [dbo].[tblNoComma] ([Id]) ON DELETE CASCADE UNIQUE ([ParentId]))',
      "INSERT [dbo].[tblNoComma] ([Id], [Code]) VALUES (1, N'a'), (2, N'b')",
      'INSERT [dbo].[tblChild] ([Id], [ParentId]) VALUES (10, 1)',
    ])
    expect(schema.tables.map((t) => t.name)).toEqual(['tblNoComma', 'tblChild'])
    expect(schema.tables[0]!.primaryKey).toEqual({ name: 'PK_tblNoComma', columns: ['Id'] })
    expect(schema.tables[1]!.foreignKeys).toMatchObject([{ name: 'FK_child', columns: ['ParentId'], refTable: 'tblNoComma', refColumns: ['Id'], onDelete: 'CASCADE' }])
    expect(schema.tables[1]!.uniques).toEqual([{ columns: ['ParentId'] }])
    expect((await read('tblNoComma')).rows).toEqual([[1, 'a'], [2, 'b']])
    expect((await read('tblChild')).rows).toEqual([[10, 1]])
  })

  it('date literals follow SET DATEFORMAT and SQL Server\'s other forms, two-digit years cut at 2049', async () => {
    const { read } = await openScript([
      'CREATE TABLE d ([id] int NOT NULL PRIMARY KEY, [dt] datetime NULL, [d2] datetime2(3) NULL)',
      "INSERT d VALUES (1, '1962/2/18', '2021/1/1'), (2, '19980101', '19980101 10:30'), (3, 'Jan 1 1998', '1 January 1998'), (4, 'January 2, 1998 10:00PM', '2021-01-01T10:00:00')",
      "INSERT d VALUES (5, '1/2/49', '1/2/50'), (6, '3/4/2020 10:11:12.123', '3/4/2020 10:11:12:5'), (7, '', '10:30')",
      'SET DATEFORMAT dmy',
      "INSERT d VALUES (8, '3/4/2020', '2020-04-03'), (9, '2020-03-04', '13.12.99')",
      'SET DATEFORMAT ymd',
      "INSERT d VALUES (10, '20/1/2', '2020.12.31')",
      'SET DATEFORMAT ydm',
      "INSERT d VALUES (11, '20/2/1', NULL)",
      'SET DATEFORMAT myd',
      "INSERT d VALUES (12, '2/20/1', NULL)",
      'SET DATEFORMAT dym',
      "INSERT d VALUES (13, '1/20/2', NULL)",
    ])
    const r = await read('d')
    expect(r.rejected).toEqual([])
    expect(r.rows).toEqual([
      [1, '1962-02-18 00:00:00', '2021-01-01 00:00:00'],
      [2, '1998-01-01 00:00:00', '1998-01-01 10:30:00'],
      [3, '1998-01-01 00:00:00', '1998-01-01 00:00:00'],
      [4, '1998-01-02 22:00:00', '2021-01-01 10:00:00'],
      [5, '2049-01-02 00:00:00', '1950-01-02 00:00:00'],
      [6, '2020-03-04 10:11:12.123', '2020-03-04 10:11:12.005'],
      [7, '1900-01-01 00:00:00', '1900-01-01 10:30:00'],
      // dmy: day first; a year-first literal in a datetime column reads year-day-month, in datetime2 ISO
      [8, '2020-04-03 00:00:00', '2020-04-03 00:00:00'],
      [9, '2020-04-03 00:00:00', '1999-12-13 00:00:00'],
      [10, '2020-01-02 00:00:00', '2020-12-31 00:00:00'],
      [11, '2020-01-02 00:00:00', null],
      [12, '2020-02-01 00:00:00', null],
      [13, '2020-02-01 00:00:00', null],
    ])
  })

  it('DEFAULT constraints, inline and added by ALTER TABLE, fill the columns an INSERT leaves out and stay on the schema', async () => {
    const { schema, read } = await openScript([
      "CREATE TABLE [dbo].[tblDefaults] ([Id] int NOT NULL PRIMARY KEY, [Status] nchar(1) NOT NULL CONSTRAINT [DF_Status] DEFAULT (N'A'), [Qty] int NULL, [Note] nvarchar(10) NULL DEFAULT 'n/a')",
      "INSERT [dbo].[tblDefaults] ([Id]) VALUES (1)",
      'ALTER TABLE [dbo].[tblDefaults] ADD CONSTRAINT [DF_Qty] DEFAULT ((0)) FOR [Qty]',
      "INSERT [dbo].[tblDefaults] ([Id], [Note]) VALUES (2, DEFAULT)",
      'ALTER TABLE [dbo].[tblDefaults] DROP CONSTRAINT [DF_Status]',
      "INSERT [dbo].[tblDefaults] ([Id], [Status]) VALUES (3, N'B')",
    ])
    const t = schema.tables[0]!
    expect(t.columns.map((c) => c.default)).toEqual([undefined, undefined, { kind: 'value', value: 0 }, { kind: 'value', value: 'n/a' }])
    expect((await read('tblDefaults')).rows).toEqual([
      [1, 'A', null, 'n/a'],
      [2, 'A', 0, 'n/a'],
      [3, 'B', 0, 'n/a'],
    ])
  })

  it('NEWID(), GETDATE(), GETUTCDATE(), SYSDATETIME() and CURRENT_TIMESTAMP are evaluated per row and counted as generated', async () => {
    const { schema, read } = await openScript([
      'CREATE TABLE g ([id] int NOT NULL PRIMARY KEY, [u] uniqueidentifier NOT NULL DEFAULT (newid()), [at] datetime NULL DEFAULT (getdate()), [utc] datetime NULL, [sys] datetime2(7) NULL, [cur] datetime NULL)',
      'INSERT g ([id], [u], [at], [utc], [sys], [cur]) VALUES (1, NEWID(), GETDATE(), GETUTCDATE(), SYSDATETIME(), CURRENT_TIMESTAMP)',
      'INSERT g ([id]) VALUES (2)',
    ])
    expect(schema.tables[0]!.columns.find((c) => c.name === 'at')!.default).toEqual({ kind: 'now' })
    const r = await read('g')
    expect(r.rejected).toEqual([])
    expect(r.rows).toHaveLength(2)
    const [a, b] = r.rows
    expect(a![1]).toMatch(UUID)
    expect(b![1]).toMatch(UUID)
    expect(a![1]).not.toBe(b![1])
    for (const v of [a![2], a![3], a![4], a![5], b![2]]) expect(v).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/)
    expect(Math.abs(Date.parse(String(a![2]).replace(' ', 'T')) - Date.now())).toBeLessThan(60_000)
    expect(b![3]).toBeNull()
    expect(r.fixed).toEqual({ u: 2, at: 2, utc: 1, sys: 1, cur: 1 })
    expect(new Set(r.fixes.map((f) => f.kind))).toEqual(new Set(['generated']))
  })

  it('rowversion and timestamp columns are nullable bytes without generated values, never a reject', async () => {
    const { schema, read, source } = await openScript([
      'CREATE TABLE v ([id] int NOT NULL PRIMARY KEY, [rv] rowversion NOT NULL, [ts] timestamp)',
      'INSERT v ([id]) VALUES (1)',
      'INSERT v VALUES (2, NULL, DEFAULT)',
    ])
    expect(schema.tables[0]!.columns.slice(1).map((c) => [c.nativeType, c.nullable, c.type])).toEqual([
      ['rowversion', true, { kind: 'bytes', length: 8, fixed: true }],
      ['rowversion', true, { kind: 'bytes', length: 8, fixed: true }],
    ])
    const r = await read('v')
    expect(r.rejected).toEqual([])
    expect(r.rows).toEqual([[1, null, null], [2, null, null]])
    expect((await source.snapshot()).notes).toContain('v.rv: rowversion, copied as nullable binary(8) without generated values')
  })

  it('user-defined types from sp_addtype and CREATE TYPE … FROM resolve to their base type and nullability', async () => {
    const { schema } = await openScript([
      "EXEC sp_addtype N'ssn', 'varchar(11)', 'NOT NULL'",
      "EXEC dbo.sp_addtype @typename = N'note', @phystype = N'nvarchar(200)'",
      'CREATE TYPE [dbo].[money4] FROM [decimal](19, 4) NULL',
      'CREATE TABLE p ([id] int NOT NULL PRIMARY KEY, [s] [dbo].[ssn], [n] note, [m] money4, [s2] ssn NULL)',
    ])
    expect(schema.tables[0]!.columns.slice(1).map((c) => [c.name, c.nativeType, c.nullable])).toEqual([
      ['s', 'varchar(11)', false],
      ['n', 'nvarchar(200)', true],
      ['m', 'decimal(19,4)', true],
      ['s2', 'varchar(11)', true],
    ])
  })

  it('REFERENCES t without a column list means t\'s primary key, also when t comes later', async () => {
    const { schema } = await openScript([
      'CREATE TABLE child ([id] int NOT NULL PRIMARY KEY, [pid] int NULL REFERENCES parent, [qid] int NULL)',
      'CREATE TABLE parent ([pid] int NOT NULL, CONSTRAINT [PK_parent] PRIMARY KEY ([pid]))',
      'ALTER TABLE child ADD CONSTRAINT [FK_q] FOREIGN KEY ([qid]) REFERENCES parent',
    ])
    expect(schema.tables[0]!.foreignKeys.map((f) => [f.columns, f.refTable, f.refColumns])).toEqual([
      [['pid'], 'parent', ['pid']],
      [['qid'], 'parent', ['pid']],
    ])
  })

  it('UPDATE and DELETE with literal predicates are applied in script order; identities follow IDENTITY_INSERT', async () => {
    const { read, source } = await openScript([
      'CREATE TABLE [dbo].[tblItems] ([Id] int IDENTITY(10, 5) NOT NULL PRIMARY KEY, [Name] nvarchar(20) NULL, [Qty] int NULL, [Kind] char(1) NULL)',
      "INSERT [dbo].[tblItems] VALUES (N'apple', 3, 'f'), (N'bolt', 100, 'h'), (N'cherry', NULL, 'f')",
      'SET IDENTITY_INSERT [dbo].[tblItems] ON',
      "INSERT [dbo].[tblItems] ([Id], [Name], [Qty], [Kind]) VALUES (50, N'drill', 1, 'h')",
      "INSERT [dbo].[tblItems] VALUES (N'refused', 1, 'x')",
      'SET IDENTITY_INSERT [dbo].[tblItems] OFF',
      "INSERT [dbo].[tblItems] ([Name], [Qty], [Kind]) VALUES (N'elm', 7, 'f')",
      "UPDATE [dbo].[tblItems] SET [Qty] = 0, [Kind] = 'z' WHERE [Kind] = 'F' AND ([Qty] < 5 OR [Qty] IS NULL)",
      "DELETE FROM [dbo].[tblItems] WHERE [Name] IN (N'bolt', N'nothing') OR [Qty] >= 7",
      "UPDATE [dbo].[tblItems] SET [Name] = N'DRILL' WHERE [Id] <> 10 AND NOT [Qty] IS NULL AND [Kind] != 'z'",
      "UPDATE [dbo].[tblItems] SET [Qty] = [Qty] + 1",
      "INSERT [dbo].[tblItems] ([Name]) VALUES (N'fig')",
    ])
    const r = await read('tblItems')
    expect(r.rows).toEqual([
      [10, 'apple', 0, 'z'],
      [20, 'cherry', 0, 'z'],
      [50, 'DRILL', 1, 'h'],
      [60, 'fig', null, null],
    ])
    // the INSERT SQL Server refuses and the UPDATE with an expression are rejected with their lines
    expect(r.rejected.map((e) => [e.key, e.message])).toEqual([
      ['line 5', expect.stringMatching(/IDENTITY_INSERT is ON .* needs a column list/)],
      ['line 11', expect.stringMatching(/^line 11: not applied: UPDATE \[dbo\]\.\[tblItems\] SET \[Qty\] = \[Qty\] \+ 1 \(.*only literals/)],
    ])
    expect(source.skippedStatements).toEqual([expect.objectContaining({ line: 11, data: true })])
  })

  it('a date-and-time literal into a date column keeps the date and counts a fix', async () => {
    const { read } = await openScript([
      'CREATE TABLE dd ([id] int NOT NULL PRIMARY KEY, [d] date NULL)',
      "INSERT dd VALUES (1, '2021-03-04T10:20:30'), (2, CAST(N'2021-03-05 00:00:00.000' AS DateTime)), (3, '2021/3/6 23:59')",
    ])
    const r = await read('dd')
    expect(r.rows).toEqual([[1, '2021-03-04'], [2, '2021-03-05'], [3, '2021-03-06']])
    expect(r.fixed).toEqual({ d: 2 })
    expect(r.fixes.map((f) => f.kind)).toEqual(['date_truncated', 'date_truncated'])
  })

  it('DROP CONSTRAINT then ADD CONSTRAINT of the same foreign key keeps one key', async () => {
    const { schema } = await openScript([
      'CREATE TABLE a ([id] int NOT NULL PRIMARY KEY)',
      'CREATE TABLE b ([id] int NOT NULL PRIMARY KEY, [aid] int NULL)',
      'ALTER TABLE [dbo].[b] WITH CHECK ADD CONSTRAINT [FK_b_a] FOREIGN KEY ([aid]) REFERENCES [dbo].[a] ([id])',
      'ALTER TABLE [dbo].[b] DROP CONSTRAINT [FK_b_a]',
      'ALTER TABLE [dbo].[b] WITH CHECK ADD CONSTRAINT [FK_b_a] FOREIGN KEY ([aid]) REFERENCES [dbo].[a] ([id])',
      'ALTER TABLE [dbo].[b] ADD CONSTRAINT [FK_b_a] FOREIGN KEY ([aid]) REFERENCES [dbo].[a] ([id])',
    ])
    expect(schema.tables[1]!.foreignKeys).toEqual([{ name: 'FK_b_a', columns: ['aid'], refTable: 'a', refColumns: ['id'], origin: 'source' }])
  })
})

describe('statements the reader does not apply', () => {
  const UNSUPPORTED = [
    'CREATE TABLE [dbo].[t] ([id] int NOT NULL PRIMARY KEY, [n] int NULL)',
    'INSERT [dbo].[t] ([id], [n]) VALUES (1, 1), (2, 2)',
    'MERGE [dbo].[t] AS tgt USING (SELECT 3 AS id) AS src ON tgt.id = src.id WHEN NOT MATCHED THEN INSERT (id, n) VALUES (src.id, 3);',
    'DECLARE c CURSOR FOR SELECT id FROM t',
    'OPEN c',
    'WHILE @@FETCH_STATUS = 0',
    'BEGIN',
    '  UPDATE t SET n = n + 1 WHERE CURRENT OF c',
    '  FETCH NEXT FROM c',
    'END',
    'INSERT INTO [dbo].[t] ([id], [n]) SELECT 4, 4',
    'INSERT [dbo].[gone] ([id]) VALUES (1)',
    "PRINT 'done'",
  ]

  it('are listed with their line, text and reason; those that change data are flagged and rejected in their table', async () => {
    const { source, read } = await openScript(UNSUPPORTED)
    expect(source.skippedStatements.map((s) => [s.line, s.text.slice(0, 24), s.data])).toEqual([
      [3, 'MERGE [dbo].[t] AS tgt U', true],
      [4, 'DECLARE c CURSOR FOR SEL', false],
      [5, 'OPEN c', false],
      [6, 'WHILE @@FETCH_STATUS = 0', true],
      [11, 'INSERT INTO [dbo].[t] ([', true],
      [13, "PRINT 'done'", false],
      [12, 'INSERT dbo.gone (1 rows)', true],
    ])
    for (const s of source.skippedStatements) expect(s.reason).not.toBe('')
    const r = await read('t')
    expect(r.rows).toEqual([[1, 1], [2, 2]])
    expect(r.rejected.map((e) => e.key)).toEqual(['line 3', 'line 6', 'line 11'])
    const snap = await source.snapshot()
    expect(snap.guarantee).toMatch(/4 of them would have changed data/)
    expect(snap.notes).toContain('line 12: skipped INSERT dbo.gone (1 rows) (the script does not create this table) — changes data')
  })

  it('make the run not clean (exit 3), the rows it did apply written', async () => {
    const report = await ferry({ from: `tsql:${await scriptFile(UNSUPPORTED)}`, to: `sqlite:${join(dir, 'unsupported.db')}` })
    expect(report.ok).toBe(true)
    expect(report.clean).toBe(false)
    expect(report.tables.map((t) => [t.name, t.written, t.rejected])).toEqual([['t', 2, 3]])
    expect(report.tables[0]!.examples.map((e) => e.message)).toEqual([
      expect.stringMatching(/^line 3: not applied: MERGE/),
      expect.stringMatching(/^line 6: not applied: WHILE/),
      expect.stringMatching(/^line 11: not applied: INSERT INTO/),
    ])
  })

  // fails until the core reads the snapshot's notApplied (see docs/file-workflows.md, T-SQL): then drop `.fails`
  it('a data statement with no table to carry it (an INSERT into a table never created) still makes the run not clean', async () => {
    const report = await ferry({
      from: `tsql:${await scriptFile(['CREATE TABLE [dbo].[ok] ([id] int NOT NULL PRIMARY KEY)', 'INSERT [dbo].[ok] VALUES (1)', 'INSERT [dbo].[gone] ([id]) VALUES (1)'])}`,
      to: `sqlite:${join(dir, 'orphan.db')}`,
    })
    expect(report.ok).toBe(true)
    expect((report.snapshot as { notApplied?: number }).notApplied).toBe(1)
    expect(report.snapshot?.notes).toContain('line 3: skipped INSERT dbo.gone (1 rows) (the script does not create this table) — changes data')
    // needs the core to read the snapshot's notApplied (see the report): until then this run reports clean
    expect(report.clean).toBe(false)
  })
})
