import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MssqlConnection } from '../../dialects/mssql/mssql-connection.js'
import { mssqlDialect } from '../../dialects/mssql/mssql-dialect.js'
import { mssqlErrors } from '../../dialects/mssql/mssql-errors.js'
import type { ClassifiedError } from '../../src/dialect.js'
import type { TableSchema } from '../../src/schema/types.js'
import { MSSQL_URL, uniqueName } from '../support/servers.js'

/**
 * What SQL Server's errors mean, provoked on the live server (DBFERRY_MSSQL_URL). Real SQL Server answers with
 * its own numbers (515, 2627, 547, 8152, 220, 1205); the Babelfish stand-in answers many with those numbers
 * and PostgreSQL's texts, and others with 33557097: the assertions hold for both, and each says which
 * fields the server must have sent.
 */
type Pool = import('mssql').ConnectionPool

describe('classify offline', () => {
  it('reads numbers, PostgreSQL texts under 33557097, and lost-connection codes', () => {
    const err = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message ?? 'x')), { name: 'RequestError', ...fields })
    expect(mssqlErrors.classify(err({ number: 547, message: 'The INSERT statement conflicted with the CHECK constraint "CK_x".' }))?.kind).toBe('check_violation')
    expect(mssqlErrors.classify(err({ number: 547, message: 'The INSERT statement conflicted with the FOREIGN KEY constraint "FK_x".' }))?.kind).toBe('foreign_key_violation')
    expect(mssqlErrors.classify(err({ number: 2628, message: 'String or binary data would be truncated' }))?.kind).toBe('truncation')
    expect(mssqlErrors.classify(err({ number: 232, message: 'Arithmetic overflow' }))?.kind).toBe('out_of_range')
    expect(mssqlErrors.classify(err({ number: 33557097, message: 'numeric field overflow' }))?.kind).toBe('out_of_range')
    expect(mssqlErrors.classify(err({ number: 33557097, message: 'something else' }))?.kind).toBe('target_rejected')
    const lost = mssqlErrors.classify(Object.assign(new Error('Connection is closed.'), { name: 'ConnectionError', code: 'ECONNCLOSED' }))
    expect(lost).toMatchObject({ kind: 'connection', connectionLost: true, retryable: false, driver: { code: 'ECONNCLOSED' } })
    expect(mssqlErrors.classify(new TypeError('not a driver error'))).toBeUndefined()
    expect(mssqlErrors.classify('text')).toBeUndefined()
  })

  it('accepts an mssql ConnectionPool by its shape, nothing else', () => {
    const fake = { request() {}, connect() {}, close() {}, config: { server: 'db' } }
    expect(mssqlDialect.accepts(fake)).toBe(true)
    expect(mssqlDialect.accepts({ ...fake, config: {} })).toBe(false)
    expect(mssqlDialect.accepts({ query() {}, connect() {} })).toBe(false)
  })
})

describe.skipIf(!MSSQL_URL)('SQL Server errors, live', () => {
  let admin: Pool
  let db: Pool
  let url: string
  const name = uniqueName('dbferry_err')

  async function refused(text: string, pool: Pool = db): Promise<ClassifiedError> {
    const error = await pool
      .request()
      .batch(text)
      .then(() => undefined)
      .catch((e: unknown) => e)
    expect(error, `${text} should fail`).toBeDefined()
    const c = mssqlErrors.classify(error)
    expect(c).toBeDefined()
    return c!
  }

  beforeAll(async () => {
    const sql = (await import('mssql')).default
    admin = await new sql.ConnectionPool(MssqlConnection.parseUrl(MSSQL_URL!).config).connect()
    await admin.request().batch(`CREATE DATABASE [${name}]`)
    const u = new URL(MSSQL_URL!)
    u.pathname = `/${name}`
    url = u.toString()
    db = await new sql.ConnectionPool(MssqlConnection.parseUrl(url).config).connect()
    await db.request().batch(`
CREATE TABLE dbo.parent (id int PRIMARY KEY);
CREATE TABLE dbo.item (
  id int PRIMARY KEY,
  label nvarchar(5) NOT NULL,
  amount decimal(5,2) NULL CONSTRAINT CK_item_amount CHECK (amount >= 0),
  parent_id int NULL CONSTRAINT FK_item_parent REFERENCES dbo.parent (id),
  small smallint NULL
);
INSERT INTO dbo.parent VALUES (1);
INSERT INTO dbo.item (id, label) VALUES (1, N'a'), (2, N'b');`)
  })
  afterAll(async () => {
    await db?.close()
    if (admin) {
      // SQL Server: end other sessions first; Babelfish refuses ALTER DATABASE, so it goes in a batch of its own
      await admin.request().batch(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE`).catch(() => {})
      await admin.request().batch(`DROP DATABASE [${name}]`).catch(() => {})
      await admin.close()
    }
  })

  it('NULL into a NOT NULL column is not_null, naming the column (515)', async () => {
    const c = await refused('INSERT INTO dbo.item (id, label) VALUES (10, NULL)')
    expect(c).toMatchObject({ kind: 'not_null', connectionLost: false, retryable: false, driver: { errno: 515, code: '515' } })
    expect(c.driver.column?.toLowerCase()).toBe('label')
    expect(c.driver).toMatchObject({ state: expect.any(Number), class: expect.any(Number), lineNumber: 1 })
  })

  it('a second row with the same key is duplicate_key, naming the constraint (2627)', async () => {
    const c = await refused("INSERT INTO dbo.item (id, label) VALUES (1, N'dup')")
    expect(c).toMatchObject({ kind: 'duplicate_key', driver: { errno: 2627 } })
    expect(c.driver.constraint).toBeTruthy()
  })

  it('a key pointing at no parent is foreign_key_violation (547, FOREIGN KEY)', async () => {
    const c = await refused("INSERT INTO dbo.item (id, label, parent_id) VALUES (11, N'x', 99)")
    expect(c).toMatchObject({ kind: 'foreign_key_violation', driver: { errno: 547 } })
    expect(c.driver.constraint?.toLowerCase()).toBe('fk_item_parent')
  })

  it('a row failing a CHECK is check_violation (547, CHECK)', async () => {
    const c = await refused("INSERT INTO dbo.item (id, label, amount) VALUES (12, N'x', -1)")
    expect(c).toMatchObject({ kind: 'check_violation', driver: { errno: 547 } })
    expect(c.driver.constraint?.toLowerCase()).toBe('ck_item_amount')
  })

  it('text longer than the column is truncation (8152 or 2628)', async () => {
    const c = await refused("INSERT INTO dbo.item (id, label) VALUES (13, N'abcdefgh')")
    expect(c.kind).toBe('truncation')
    expect([8152, 2628]).toContain(c.driver.errno)
  })

  it('a number the column cannot hold is out_of_range (220 on SQL Server and Babelfish alike)', async () => {
    const c = await refused("INSERT INTO dbo.item (id, label, small) VALUES (14, N'x', 40000)")
    expect(c).toMatchObject({ kind: 'out_of_range', driver: { errno: 220 } })
    // decimal overflow: SQL Server 8115, Babelfish 33557097 "numeric field overflow" (read by its text)
    expect((await refused("INSERT INTO dbo.item (id, label, amount) VALUES (15, N'x', 12345.6)")).kind).toBe('out_of_range')
  })

  it('a deadlock is a retryable serialization_failure (1205): two sessions lock two rows in opposite order', async () => {
    const sql = (await import('mssql')).default
    const config = { ...MssqlConnection.parseUrl(url).config, pool: { max: 1, min: 0 } }
    const a = await new sql.ConnectionPool(config).connect()
    const b = await new sql.ConnectionPool(config).connect()
    const ta = new sql.Transaction(a)
    const tb = new sql.Transaction(b)
    try {
      await ta.begin()
      await tb.begin()
      await new sql.Request(ta).query("UPDATE dbo.item SET label = N'a1' WHERE id = 1")
      await new sql.Request(tb).query("UPDATE dbo.item SET label = N'b1' WHERE id = 2")
      const results = await Promise.allSettled([
        new sql.Request(ta).query("UPDATE dbo.item SET label = N'a2' WHERE id = 2"),
        new sql.Request(tb).query("UPDATE dbo.item SET label = N'b2' WHERE id = 1"),
      ])
      const victims = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      expect(victims).toHaveLength(1)
      const c = mssqlErrors.classify(victims[0]!.reason)
      expect(c).toMatchObject({ kind: 'serialization_failure', retryable: true, connectionLost: false, driver: { errno: 1205 } })
    } finally {
      await ta.rollback().catch(() => {})
      await tb.rollback().catch(() => {})
      await a.close()
      await b.close()
    }
  })

  it('a session KILLed from another connection is connection lost (KILL works on SQL Server and on Babelfish)', async () => {
    const sql = (await import('mssql')).default
    const victim = await new sql.ConnectionPool({ ...MssqlConnection.parseUrl(url).config, pool: { max: 1, min: 0 } }).connect()
    const holder = new sql.Transaction(db)
    try {
      const spid = Number((await victim.request().query('SELECT @@SPID AS s')).recordset[0].s)
      // the victim waits on a row lock the holder keeps, so it is mid-request when its session is killed
      await holder.begin()
      await new sql.Request(holder).query("UPDATE dbo.item SET label = N'h' WHERE id = 1")
      const pending = victim
        .request()
        .query("UPDATE dbo.item SET label = N'v' WHERE id = 1")
        .then(() => undefined)
        .catch((e: unknown) => e)
      await new Promise((r) => setTimeout(r, 300))
      await admin.request().batch(`KILL ${spid}`)
      const error = await pending
      expect(error).toBeDefined()
      const c = mssqlErrors.classify(error)
      expect(c).toMatchObject({ kind: 'connection', connectionLost: true, retryable: false })
      expect(['ESOCKET', 'ECONNRESET', 'ECONNCLOSED']).toContain(c!.driver.code)
    } finally {
      await holder.rollback().catch(() => {})
      await victim.close().catch(() => {})
    }
  })

  it("the writer's RowErrors carry the kind and the driver's fields of the row the server refused", async () => {
    const connection = await mssqlDialect.connect(url)
    try {
      const schema = await connection.introspect({ tables: ['item'] })
      const item = schema.tables.find((t) => t.name.toLowerCase() === 'item') as TableSchema
      const writer = await connection.openWriter(item)
      const row = (id: number, label: string | null) => item.columns.map((c) => (c.name.toLowerCase() === 'id' ? id : c.name.toLowerCase() === 'label' ? label : null))
      const result = await writer.write([row(20, 'ok'), row(1, 'dup'), row(21, null), row(22, 'fine')])
      await writer.close()
      expect(result.written).toBe(2)
      expect(result.rejected.map((e) => e.code)).toEqual(['duplicate_key', 'not_null'])
      expect(result.rejected[0]!.driver).toMatchObject({ errno: 2627, code: '2627' })
      expect(result.rejected[0]!.key).toEqual({ [item.primaryKey!.columns[0]!]: 1 })
      expect(result.rejected[1]!.driver).toMatchObject({ errno: 515 })
      expect(result.rejected[1]!.column?.toLowerCase()).toBe('label')
    } finally {
      await connection.close()
    }
  })
})
