import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { tablesWritten } from '../../src/formats/tsql/tsql-parser.js'
import { openScript } from './script-helpers.js'

const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex').toUpperCase()

describe('batch variables and the expressions that hash them', () => {
  it('DECLARE @v = literal is used by the INSERTs of its batch, also when the table\'s read starts after it', async () => {
    const { read } = await openScript([
      'CREATE TABLE u ([id] int NOT NULL PRIMARY KEY, [name] varchar(10) NULL, [code] nvarchar(3) NULL, [n] int NULL)',
      'GO',
      "DECLARE @Name VARCHAR(MAX) = 'admin', @Code NVARCHAR(3) = N'abcdef'",
      'DECLARE @Count INT',
      'SET @Count = 7',
      'INSERT u ([id], [name], [code], [n]) VALUES (1, @Name, @Code, @Count)',
      'GO',
      'INSERT u ([id], [name]) VALUES (2, @Name)',
    ])
    const r = await read('u')
    // nvarchar(3) keeps 3 characters, as SQL Server's assignment does
    expect(r.rows).toEqual([[1, 'admin', 'abc', 7]])
    // after GO the variable no longer exists: SQL Server refuses the statement
    expect(r.rejected.map((e) => e.key)).toEqual(['line 8'])
  })

  it('HASHBYTES, CONCAT and CONVERT(varchar, binary, 1|2) give SQL Server\'s hex text; varchar hashes its bytes, nvarchar UTF-16LE', async () => {
    const { read } = await openScript([
      'CREATE TABLE k ([id] int NOT NULL PRIMARY KEY, [key] varchar(max) NULL, [pwd] varchar(max) NULL, [nkey] varchar(max) NULL, [raw] varbinary(32) NULL)',
      "DECLARE @Key VARCHAR(MAX) = 'Admin'",
      'INSERT k ([id], [key], [pwd], [nkey], [raw]) VALUES (1,',
      "  CONVERT(varchar(max), HASHBYTES('SHA2_256', @Key), 2),",
      "  CONVERT(varchar(max), HASHBYTES('SHA2_256', CONCAT('admin123', CONVERT(varchar(max), HASHBYTES('SHA2_256', CAST('Admin' AS VARCHAR(MAX))), 2))), 2),",
      "  CONVERT(varchar(max), HASHBYTES('SHA2_256', N'Admin'), 1),",
      "  HASHBYTES('MD5', 'x'))",
    ])
    const key = sha256Hex(Buffer.from('Admin', 'latin1'))
    const r = await read('k')
    expect(r.rejected).toEqual([])
    expect(r.rows).toEqual([[
      1,
      key,
      sha256Hex(Buffer.from(`admin123${key}`, 'latin1')),
      `0x${sha256Hex(Buffer.from('Admin', 'utf16le'))}`,
      new Uint8Array(createHash('md5').update('x').digest()),
    ]])
  })

  it('an expression followed by COLLATE keeps its value', async () => {
    const { read } = await openScript([
      'CREATE TABLE c ([id] int NOT NULL PRIMARY KEY, [pwd] varchar(max) NULL)',
      "INSERT c ([id], [pwd]) VALUES (1, CONVERT(varchar(max), HASHBYTES('SHA2_256', CAST(CONVERT(NVARCHAR(25), 'JH01') COLLATE LATIN1_GENERAL_CS_AS AS VARCHAR(MAX))), 2))",
    ])
    expect((await read('c')).rows).toEqual([[1, sha256Hex(Buffer.from('JH01', 'latin1'))]])
  })

  it('a variable assigned by a statement the reader does not apply is not used with its old value', async () => {
    const { read } = await openScript([
      'CREATE TABLE v ([id] int NOT NULL PRIMARY KEY, [n] int NULL)',
      'DECLARE @n INT = 1',
      'SELECT @n = MAX(id) FROM sys.objects',
      'INSERT v ([id], [n]) VALUES (1, @n)',
    ])
    const r = await read('v')
    expect(r.rows).toEqual([])
    expect(r.rejected.map((e) => e.column)).toEqual(['n'])
  })
})

describe('TRY … CATCH blocks', () => {
  it('BEGIN TRY … END TRY runs its statements (keys dropped and added again); the CATCH block is for failures only', async () => {
    const { source, schema, read } = await openScript([
      'CREATE TABLE p ([id] int NOT NULL, [to] datetime NULL, CONSTRAINT [PK_p] PRIMARY KEY CLUSTERED ([id]))',
      'CREATE TABLE c ([id] int NOT NULL PRIMARY KEY, [pid] int NULL, CONSTRAINT [FK_c_p] FOREIGN KEY ([pid]) REFERENCES p ([id]))',
      'INSERT p ([id]) VALUES (1), (2)',
      'GO',
      'BEGIN TRY',
      '  BEGIN TRANSACTION;',
      '  ALTER TABLE c DROP CONSTRAINT [FK_c_p]',
      '  ALTER TABLE [p] DROP CONSTRAINT [PK_p]',
      '  CREATE UNIQUE CLUSTERED INDEX CI_p ON p ([id], [to]) WITH (PAD_INDEX = OFF, ONLINE = OFF) ON liveArchive([to])',
      '  ALTER TABLE p ADD CONSTRAINT PK_p PRIMARY KEY NONCLUSTERED ([id]) ON [PRIMARY];',
      '  ALTER TABLE [c] ADD CONSTRAINT [FK_c_p-pid] FOREIGN KEY ([pid]) REFERENCES [p] ([id])',
      '  COMMIT TRANSACTION;',
      'END TRY',
      'BEGIN CATCH',
      '  ROLLBACK TRANSACTION;',
      'END CATCH',
      'GO',
      'INSERT c ([id], [pid]) VALUES (10, 1)',
    ])
    expect(source.skippedStatements).toEqual([])
    const p = schema.tables.find((t) => t.name === 'p')!
    expect(p.primaryKey).toEqual({ name: 'PK_p', columns: ['id'] })
    expect(p.indexes).toEqual([{ name: 'CI_p', unique: true, columns: ['id', 'to'] }])
    expect(schema.tables.find((t) => t.name === 'c')!.foreignKeys).toMatchObject([{ name: 'FK_c_p-pid', columns: ['pid'], refTable: 'p' }])
    expect((await read('p')).rejected).toEqual([])
    expect((await read('c')).rows).toEqual([[10, 1]])
  })

  it('a CATCH block that would change data is listed (it runs only when the TRY block fails), not applied', async () => {
    const { source, read } = await openScript([
      'CREATE TABLE t ([id] int NOT NULL PRIMARY KEY)',
      'BEGIN TRY',
      '  INSERT t ([id]) VALUES (1)',
      'END TRY',
      'BEGIN CATCH',
      '  INSERT t ([id]) VALUES (2)',
      'END CATCH',
    ])
    expect((await read('t')).rows).toEqual([[1]])
    expect(source.skippedStatements.map((s) => [s.line, s.data])).toEqual([[5, false]])
    expect(source.skippedStatements[0]!.reason).toMatch(/only when the TRY block fails/)
  })
})

describe('names SQL Server reads without regard to case', () => {
  it('a foreign key\'s referenced columns take the referenced table\'s spelling, also when that table comes later', async () => {
    const { schema } = await openScript([
      'CREATE TABLE loc ([LocationId] int NOT NULL PRIMARY KEY)',
      'CREATE TABLE fam ([id] int NOT NULL PRIMARY KEY, [LocationID] int NULL, [PayID] int NULL)',
      'ALTER TABLE fam ADD CONSTRAINT FK_fam_loc FOREIGN KEY (LocationID) REFERENCES [loc] (LocationID)',
      'ALTER TABLE fam ADD CONSTRAINT FK_fam_pay FOREIGN KEY (PayID) REFERENCES [pay] (PAYMENTID)',
      'CREATE TABLE pay ([PaymentId] int NOT NULL PRIMARY KEY)',
    ])
    expect(schema.tables.find((t) => t.name === 'fam')!.foreignKeys).toMatchObject([
      { name: 'FK_fam_loc', columns: ['LocationID'], refTable: 'loc', refColumns: ['LocationId'] },
      { name: 'FK_fam_pay', columns: ['PayID'], refTable: 'pay', refColumns: ['PaymentId'] },
    ])
  })
})

describe('statements of the sample scripts', () => {
  it('IF EXISTS (… object_id(\'t\') …) DROP TABLE t and IF OBJECT_ID(\'t\') IS NOT NULL DROP TABLE t are DROP TABLE IF EXISTS', async () => {
    const { source, schema, read } = await openScript([
      "if exists (select * from sysobjects where id = object_id('dbo.Order Details') and sysstat & 0xf = 3)",
      '\tdrop table "dbo"."Order Details"',
      'GO',
      "IF OBJECT_ID('dbo.kept', 'U') IS NOT NULL DROP TABLE dbo.kept",
      'CREATE TABLE "Order Details" ([id] int NOT NULL PRIMARY KEY)',
      'CREATE TABLE kept ([id] int NOT NULL PRIMARY KEY)',
      'INSERT kept VALUES (1)',
      "IF OBJECT_ID('dbo.kept') IS NOT NULL DROP TABLE [dbo].[kept]",
      "IF EXISTS (SELECT * FROM sysobjects WHERE id = object_id('other')) DROP TABLE [Order Details]",
    ])
    expect(schema.tables.map((t) => t.name)).toEqual(['Order Details'])
    // the condition names another table than the one dropped: not evaluated, listed
    expect(source.skippedStatements.map((s) => [s.line, s.data])).toEqual([[9, true]])
    expect((await read('Order Details')).rows).toEqual([])
  })

  it('UPDATE STATISTICS changes no data', async () => {
    const { source } = await openScript(['CREATE TABLE s ([id] int NOT NULL PRIMARY KEY)', 'UPDATE STATISTICS s', 'UPDATE STATISTICS dbo.s WITH FULLSCAN'])
    expect(source.skippedStatements).toEqual([])
  })

  it('a number other than 0 into a bit column is 1, as SQL Server converts it', async () => {
    const { read } = await openScript(['CREATE TABLE b ([id] int NOT NULL PRIMARY KEY, [flag] bit NOT NULL)', "INSERT b VALUES (1, 3), (2, 0), (3, -1), (4, 0.5), (5, 'TRUE')"])
    const r = await read('b')
    expect(r.rejected).toEqual([])
    expect(r.rows).toEqual([[1, true], [2, false], [3, true], [4, true], [5, true]])
  })
})

describe('fixes of rows a later statement removes', () => {
  it('a value generated for a row that a later DELETE removes is not counted; one an UPDATE keeps is', async () => {
    const { read } = await openScript([
      'CREATE TABLE g ([id] int NOT NULL PRIMARY KEY, [uuid] uniqueidentifier NOT NULL DEFAULT NEWID(), [n] int NULL)',
      'INSERT g ([id]) VALUES (1), (2), (3)',
      'DELETE FROM g WHERE id = 2',
      'UPDATE g SET n = 5 WHERE id = 3',
      'DELETE FROM g WHERE id = 1',
      "INSERT g ([id], [uuid]) VALUES (4, '6F9619FF-8B86-D011-B42D-00C04FC964FF')",
    ])
    const r = await read('g')
    expect(r.rows.map((row) => [row[0], row[2]])).toEqual([[3, 5], [4, null]])
    expect(r.fixed).toEqual({ uuid: 1 })
  })
})

describe('tables a statement not applied writes to', () => {
  it('come from its code, not its comments, and an UPDATE of an alias is the aliased table\'s', () => {
    const text = [
      'BEGIN',
      '  --insert into [tblRoleRight] (RoleID) values (9)',
      '  /* DELETE FROM tblGone */',
      '  UPDATE IP SET IP.[StartDate] = P.[StartDate] FROM [tblInsureePolicy] IP INNER JOIN [tblPolicy] P ON IP.PolicyID = P.PolicyID',
      '  UPDATE premium SET PayDate = EnrollDate FROM [dbo].[tblPremium] AS premium INNER JOIN tblPolicy policy ON premium.PolicyID = policy.PolicyID',
      "  UPDATE [tblClaim] SET DateFrom = DATEADD(month, 1, DateFrom), Note = '-- not a comment'",
      'END',
    ].join('\n')
    expect(tablesWritten(text)).toEqual([{ name: 'tblInsureePolicy' }, { schema: 'dbo', name: 'tblPremium' }, { name: 'tblClaim' }])
  })
})
