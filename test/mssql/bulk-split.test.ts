import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { MSSQL_URL, createMssqlDatabase, type TestDatabase } from '../support/servers.js'

/**
 * A bulk load the server refuses is split in halves, not written row by row: one bad row in a batch costs a
 * few bulk loads and a few dozen INSERTs, whatever the batch's size. Live (DBFERRY_MSSQL_URL), on both write
 * paths: a plain table (bulk straight into it) and an IDENTITY table (bulk into the stage).
 */
if (!MSSQL_URL) console.warn('dbferry mssql bulk split suite: SKIPPED because DBFERRY_MSSQL_URL is not set')

function table(name: string, identity: boolean): TableSchema {
  return {
    name,
    columns: [
      { name: 'id', type: { kind: 'int64' }, nativeType: '', nullable: false, autoIncrement: identity },
      { name: 'label', type: { kind: 'text' }, nativeType: '', nullable: false },
    ],
    primaryKey: { columns: ['id'] },
    uniques: [],
    indexes: [],
    foreignKeys: [],
  }
}

describe.skipIf(!MSSQL_URL)('SQL Server: a refused bulk load is split in halves', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createMssqlDatabase('dbferry_split')
  })
  afterAll(async () => {
    await db?.drop()
  })

  for (const identity of [false, true]) {
    it(`${identity ? 'IDENTITY table (staged)' : 'plain table'}: 1 000 rows with one NULL label and one duplicate key → 998 written by bulk, 2 rejected, a few INSERTs`, async () => {
      const sql = (await import('mssql')).default
      const t = table(identity ? 'with_identity' : 'plain', identity)
      const rows: Row[] = Array.from({ length: 1000 }, (_, i) => [i + 1, `row ${i + 1}`])
      rows[700] = [701, null]
      rows[300] = [300, 'again']
      const bulk = vi.spyOn(sql.Request.prototype, 'bulk')
      const query = vi.spyOn(sql.Request.prototype, 'query')
      const { connection } = await connect(db.url)
      try {
        await connection.prepareTarget!({ dialect: 'sqlite', tables: [t], objects: [] }, { mode: 'create' })
        const writer = await connection.openWriter!(t)
        bulk.mockClear()
        query.mockClear()
        const res = await writer.write(rows)
        await writer.close()
        expect(res.written).toBe(998)
        expect(res.rejected.map((e) => [e.code, e.key])).toEqual([
          ['duplicate_key', { id: 300 }],
          ['not_null', { id: 701 }],
        ])
        // row by row this would be 1 000 INSERTs; split in halves it is two pieces of at most 64 rows
        const inserts = query.mock.calls.filter((c) => String(c[0]).includes('INSERT INTO')).length
        expect(inserts).toBeLessThanOrEqual(128)
        expect(bulk.mock.calls.length).toBeLessThan(40)
        const n = await connection.count(t)
        expect(n).toBe(998)
      } finally {
        bulk.mockRestore()
        query.mockRestore()
        await connection.close()
      }
    })
  }
})
