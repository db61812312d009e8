import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { connect } from '../../src/connect.js'
import { mssqlSql } from '../../dialects/mssql/mssql-sql.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { MSSQL_URL, createMssqlDatabase, type TestDatabase } from '../support/servers.js'
import { serverKeepsBulkIdentity } from './raw-pool.js'

/**
 * The bulk-load writer keeps one transaction over several batches (`committed: false` until it commits), so a
 * batch costs its bulk load and one statement instead of six round trips. A refused batch is isolated to its
 * rows and the batches before it are kept, whether the server keeps the transaction (undone to a savepoint)
 * or ends it (the stand-in does for a bulk load refused for a NULL: they are written again). Live
 * (DBFERRY_MSSQL_URL).
 */
if (!MSSQL_URL) console.warn('dbferry mssql grouped writes suite: SKIPPED because DBFERRY_MSSQL_URL is not set')

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

const batch = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => [from + i, `row ${from + i}`])

describe.skipIf(!MSSQL_URL)('SQL Server: several bulk-loaded batches per transaction', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createMssqlDatabase('dbferry_group')
  })
  afterAll(async () => {
    await db?.drop()
  })

  /** Opens the database, creates the table and hands a writer to `work`; closes the connection after. */
  async function withWriter(t: TableSchema, work: (w: Awaited<ReturnType<NonNullable<Awaited<ReturnType<typeof connect>>['connection']['openWriter']>>>, count: () => Promise<number>) => Promise<void>) {
    const { connection } = await connect(db.url)
    try {
      await connection.prepareTarget!({ dialect: 'sqlite', tables: [t], objects: [] }, { mode: 'create' })
      const writer = await connection.openWriter!(t)
      await work(writer, () => connection.count(t))
    } finally {
      await connection.close()
    }
  }

  for (const identity of [false, true]) {
    it(`${identity ? 'IDENTITY table' : 'plain table'}: three batches in one transaction, committed at close`, async () => {
      const sql = (await import('mssql')).default
      const begins = vi.spyOn(sql.Transaction.prototype, 'begin')
      try {
        await withWriter(table(identity ? 'g_identity' : 'g_plain', identity), async (writer, count) => {
          // opening an IDENTITY table's writer probes the server in a transaction of its own
          begins.mockClear()
          const results = [await writer.write(batch(1, 1000)), await writer.write(batch(1001, 1000)), await writer.write(batch(2001, 1000))]
          expect(results.map((r) => [r.written, r.rejected.length, r.committed])).toEqual([
            [1000, 0, false],
            [1000, 0, false],
            [1000, 0, false],
          ])
          // one transaction for the three batches (one per batch before)
          expect(begins.mock.calls.length).toBe(1)
          await writer.close()
          expect(await count()).toBe(3000)
        })
      } finally {
        begins.mockRestore()
      }
    })

    it(`${identity ? 'IDENTITY table' : 'plain table'}: a refused batch in the middle keeps the batches before it and rejects only its bad row`, async () => {
      await withWriter(table(identity ? 'r_identity' : 'r_plain', identity), async (writer, count) => {
        const first = await writer.write(batch(1, 1000))
        const bad = batch(1001, 1000)
        bad[500] = [1501, null]
        const second = await writer.write(bad)
        const third = await writer.write(batch(2001, 1000))
        await writer.close()
        expect(first).toMatchObject({ written: 1000, committed: false })
        expect(second.written).toBe(999)
        expect(second.rejected.map((e) => [e.code, e.key])).toEqual([['not_null', { id: 1501 }]])
        expect(third.written).toBe(1000)
        expect(await count()).toBe(2999)
      })
    })
  }

  it('IDENTITY table: the first batch through the stage, the rest straight in where the server keeps bulk-loaded IDENTITY values (all staged where it renumbers them), keys exact', async () => {
    const keeps = await serverKeepsBulkIdentity(db.url)
    const sql = (await import('mssql')).default
    const batches = vi.spyOn(sql.Request.prototype, 'batch')
    try {
      await withWriter(table('probe_identity', true), async (writer, count) => {
        const big = 2n ** 53n + 7n
        await writer.write([[5, 'five'], [70, 'seventy']])
        await writer.write([[big, 'past 2^53'], [900, 'nine hundred']])
        await writer.write([[901, 'nine hundred one']])
        await writer.close()
        expect(await count()).toBe(5)
        const staged = batches.mock.calls.filter((c) => /INSERT INTO/.test(String(c[0]))).length
        expect(staged).toBe(keeps ? 1 : 3)
      })
      const { connection } = await connect(db.url)
      try {
        const ids: string[] = []
        for await (const b of connection.read!(table('probe_identity', true), { batchRows: 100, batchBytes: 1 << 20 })) for (const r of b.rows) ids.push(String(r[0]))
        expect(ids).toEqual(['5', '70', '900', '901', String(2n ** 53n + 7n)])
      } finally {
        await connection.close()
      }
    } finally {
      batches.mockRestore()
    }
  })

  // where the server keeps the transaction under a refused load (SQL Server), the savepoint after the staged first
  // batch must not undo the direct batch after it; the stand-in ends the transaction, and the group is written again
  it('IDENTITY table straight in after its first batch: a refused batch after a direct one loses none of the batches before it', async () => {
    await withWriter(table('d_identity', true), async (writer, count) => {
      const first = await writer.write(batch(1, 500))
      const second = await writer.write(batch(501, 500))
      const bad = batch(1001, 500)
      bad[100] = [1101, null]
      const third = await writer.write(bad)
      const fourth = await writer.write(batch(1501, 500))
      await writer.close()
      expect([first.written, second.written, third.written, fourth.written]).toEqual([500, 500, 499, 500])
      expect(third.rejected.map((e) => [e.code, e.key])).toEqual([['not_null', { id: 1101 }]])
      expect(await count()).toBe(1999)
    })
  })

  it('abort after a failure commits the batches write() reported written', async () => {
    await withWriter(table('a_plain', false), async (writer, count) => {
      expect((await writer.write(batch(1, 500))).committed).toBe(false)
      expect((await writer.write(batch(501, 500))).committed).toBe(false)
      await writer.abort!()
      expect(await count()).toBe(1000)
    })
  })

  it('a load whose stream would end in a few bytes of a packet is sent in two parts, not refused', async () => {
    const sql = (await import('mssql')).default
    const t = table('short_packet', false)
    // rows whose bulk stream leaves 8 bytes in its last 4 096-byte packet, part of the 13-byte DONE token (the
    // stand-in refuses that stream)
    const columns = mssqlSql.bulkColumns(t)
    const frame = mssqlSql.bulkFrameBytes(columns)!
    const rowBytes = (r: Row) => 1 + columns.reduce((n, c) => n + mssqlSql.bulkValueBytes(c.type, mssqlSql.bulkValue(r[c.index] ?? null, c.logical))!, 0)
    let rows: Row[] = []
    let last: Row | undefined
    for (const n of [299, 300]) {
      rows = batch(1, n)
      const rest = rows.reduce((sum, r) => sum + rowBytes(r), frame)
      for (let length = 1; length < 5000 && !last; length++) {
        const r: Row = [n + 1, 'y'.repeat(length)]
        if ((rest + rowBytes(r)) % 4088 === 8) last = r
      }
      if (last) break
    }
    rows.push(last!)
    expect(rows.reduce((n, r) => n + rowBytes(r), frame) % 4088).toBe(8)
    const bulk = vi.spyOn(sql.Request.prototype, 'bulk')
    try {
      await withWriter(t, async (writer, count) => {
        const res = await writer.write(rows)
        await writer.close()
        expect(res).toMatchObject({ written: rows.length, rejected: [] })
        // two loads, both taken: none refused and split after the fact
        expect(bulk.mock.calls.length).toBe(2)
        for (const r of bulk.mock.results) await expect(r.value).resolves.toBeDefined()
        expect(await count()).toBe(rows.length)
      })
    } finally {
      bulk.mockRestore()
    }
  })
})
