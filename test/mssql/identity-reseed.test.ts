import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Connection } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { MSSQL_URL, createMssqlDatabase, type TestDatabase } from '../support/servers.js'
import { rawPool } from './raw-pool.js'

/**
 * After a copy into an IDENTITY table, the application's next plain INSERT gets a key past the loaded ones,
 * whatever the server does with bulk-loaded IDENTITY values: SQL Server renumbers them (the writer stages every
 * batch), the Babelfish stand-in keeps them and then leaves a never-used identity where it is, even under `DBCC
 * CHECKIDENT … RESEED` (the writer stages only the first batch; finalize reseeds past the keys). Live
 * (DBFERRY_MSSQL_URL).
 */
if (!MSSQL_URL) console.warn('dbferry mssql identity reseed suite: SKIPPED because DBFERRY_MSSQL_URL is not set')

function table(name: string): TableSchema {
  return {
    name,
    columns: [
      { name: 'id', type: { kind: 'int64' }, nativeType: '', nullable: false, autoIncrement: true },
      { name: 'label', type: { kind: 'text', length: 40 }, nativeType: '', nullable: false },
    ],
    primaryKey: { columns: ['id'] },
    uniques: [],
    indexes: [],
    foreignKeys: [],
  }
}

const rows = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => [from + i, `row ${from + i}`])

/** The application's next row: a plain INSERT without the key; its key and the largest key before it. */
async function nextInsert(connection: Connection, t: TableSchema): Promise<{ key: number; before: number }> {
  const [before] = await connection.query!(`SELECT MAX([id]) AS m FROM [dbo].[${t.name}]`)
  const [after] = await connection.query!(`INSERT INTO [dbo].[${t.name}] ([label]) VALUES (N'next'); SELECT CAST(SCOPE_IDENTITY() AS bigint) AS k`)
  return { key: Number(after!.k), before: Number(before!.m) }
}

describe.skipIf(!MSSQL_URL)('SQL Server: the identity after a copy', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createMssqlDatabase('dbferry_ident')
  })
  afterAll(async () => {
    await db?.drop()
  })

  it('a copy in several batches, the largest keys after the first batch: the next INSERT gets the largest key + 1', async () => {
    const t = table('copied')
    const { connection } = await connect(db.url)
    try {
      await connection.prepareTarget!({ dialect: 'sqlite', tables: [t], objects: [] }, { mode: 'create' })
      const writer = await connection.openWriter!(t)
      // the first batch is the seed itself (a key the identity would hand out next were it never used)
      await writer.write(rows(1, 1))
      await writer.write(rows(2, 999))
      await writer.write(rows(5000, 1000))
      await writer.close()
      expect(await connection.finalize!({ dialect: 'sqlite', tables: [t], objects: [] }, {})).toEqual([])
      const [loaded] = await connection.query!(`SELECT COUNT(*) AS n, MIN([id]) AS lo, MAX([id]) AS hi FROM [dbo].[copied]`)
      expect(loaded).toEqual({ n: 2000, lo: '1', hi: '5999' })
      expect(await nextInsert(connection, t)).toEqual({ key: 6000, before: 5999 })
      // finalize again (a resumed finish): the identity stays where it is
      expect(await connection.finalize!({ dialect: 'sqlite', tables: [t], objects: [] }, {})).toEqual([])
      expect(await nextInsert(connection, t)).toEqual({ key: 6001, before: 6000 })
    } finally {
      await connection.close()
    }
  })

  it('rows bulk-loaded by another client (their IDENTITY values kept where the server keeps them): finalize moves the identity past them', async () => {
    const t = table('loaded_elsewhere')
    const { connection } = await connect(db.url)
    try {
      await connection.prepareTarget!({ dialect: 'sqlite', tables: [t], objects: [] }, { mode: 'create' })
      // a plain tedious bulk load, no dbferry writer: a never-used identity under kept values on the stand-in
      const sql = (await import('mssql')).default
      const pool = await rawPool(db.url)
      try {
        const bulk = new sql.Table('[dbo].[loaded_elsewhere]')
        bulk.columns.add('id', sql.BigInt, { nullable: false })
        bulk.columns.add('label', sql.NVarChar(40), { nullable: false })
        for (const [id, label] of [[5, 'five'], [6, 'six']] as const) bulk.rows.add(id, label)
        await pool.request().bulk(bulk)
      } finally {
        await pool.close()
      }
      expect(await connection.finalize!({ dialect: 'sqlite', tables: [t], objects: [] }, {})).toEqual([])
      const next = await nextInsert(connection, t)
      expect(next.key).toBe(next.before + 1)
    } finally {
      await connection.close()
    }
  })
})
