import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysql, MysqlConnection } from '../../dialects/mysql/index.js'
import { openMysqlWriter, type MysqlSession } from '../../dialects/mysql/mysql-writer.js'
import type { TableWriter } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

const table = (name: string): TableSchema => ({
  name,
  columns: [
    { name: 'id', type: { kind: 'int64' }, nativeType: '', nullable: false },
    { name: 'note', type: { kind: 'text' }, nativeType: '', nullable: true },
    { name: 'score', type: { kind: 'float64' }, nativeType: '', nullable: true },
  ],
  primaryKey: { columns: ['id'] },
  uniques: [],
  indexes: [],
  foreignKeys: [],
})

/** A session that counts the LOAD DATA text chunks the driver has taken from the writer's streams. */
function counting(session: MysqlSession): { session: MysqlSession; sent: () => number; asked: () => number } {
  let sent = 0
  let asked = 0
  return {
    sent: () => sent,
    asked: () => asked,
    session: {
      query(options, values) {
        if (typeof options === 'string' || !options.infileStreamFactory) return session.query(options, values)
        const factory = options.infileStreamFactory
        return session.query({
          ...options,
          infileStreamFactory: () => {
            asked++
            const stream: Readable = factory()
            stream.on('data', () => sent++)
            return stream
          },
        })
      },
    },
  }
}

const rowsFrom = (from: number, n: number, note: (i: number) => string | null = (i) => `row ${i}`): Row[] =>
  Array.from({ length: n }, (_, k) => [from + k, note(from + k), (from + k) / 8])

describe.skipIf(!(await serverUp('mysql')))('MariaDB LOAD DATA pipeline', () => {
  let db: TestDatabase
  let conn: MysqlConnection
  beforeAll(async () => {
    db = await createMysqlDatabase('dbferry_my_pipe')
    conn = (await mysql.connect(db.url)) as MysqlConnection
  })
  afterAll(async () => {
    await conn?.close()
    await db?.drop()
  })

  async function writerFor(name: string): Promise<{ writer: TableWriter; probe: ReturnType<typeof counting> }> {
    const t = table(name)
    await conn.prepareTarget({ dialect: 'mysql', tables: [t], objects: [] }, { mode: 'create' })
    const lease = await conn.lease()
    const probe = counting(lease.session as MysqlSession)
    const writer = await openMysqlWriter(probe.session, t, { loadData: true, release: lease.release })
    return { writer, probe }
  }

  async function stored(name: string): Promise<unknown[][]> {
    const lease = await conn.lease()
    try {
      const [rows] = await (lease.session as MysqlSession).query(`SELECT id, note, score FROM ${name} ORDER BY id`)
      return (rows as { id: number | string; note: string | null; score: number | null }[]).map((r) => [Number(r.id), r.note, r.score])
    } finally {
      lease.release()
    }
  }

  it("opens the next batch's LOAD DATA ahead: its text is on the socket before write() first waits", async () => {
    const { writer, probe } = await writerFor('ahead')
    expect((await writer.write(rowsFrom(1, 1000))).written).toBe(1000)
    // the server has already asked for the next statement's text
    expect(probe.asked()).toBe(2)
    const before = probe.sent()
    const pending = writer.write(rowsFrom(1001, 1000))
    // synchronously, before any round trip: a synchronous reader that runs next leaves the server with rows to parse
    expect(probe.sent()).toBeGreaterThan(before)
    expect((await pending).written).toBe(1000)
    await writer.close()
    const rows = await stored('ahead')
    expect(rows).toHaveLength(2000)
    expect(rows[1999]).toEqual([2000, 'row 2000', 250])
  })

  it('a batch with a refused row still goes through the statement opened ahead, and the next batch loads after it', async () => {
    const { writer } = await writerFor('refused')
    expect((await writer.write(rowsFrom(1, 10))).written).toBe(10)
    // id 5 again: the LOAD reports a skipped duplicate, the batch is redone by INSERTs that reject only that row
    const second = await writer.write([...rowsFrom(11, 5), [5, 'again', 1]])
    expect(second.written).toBe(5)
    expect(second.rejected.map((e) => [e.key, e.code])).toEqual([[{ id: 5 }, 'duplicate_key']])
    expect((await writer.write(rowsFrom(16, 5))).written).toBe(5)
    await writer.close()
    expect((await stored('refused')).map((r) => r[0])).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('abort ends the statement opened ahead and keeps what was written', async () => {
    const { writer } = await writerFor('aborted')
    expect((await writer.write(rowsFrom(1, 100))).written).toBe(100)
    await writer.abort!()
    expect(await stored('aborted')).toHaveLength(100)
  })

  it('a statement opened ahead that no batch comes for is ended after 5 s, freeing the session', async () => {
    const t = table('idle')
    await conn.prepareTarget({ dialect: 'mysql', tables: [t], objects: [] }, { mode: 'create' })
    const lease = await conn.lease()
    const session = lease.session as MysqlSession
    const writer = await openMysqlWriter(session, t, { loadData: true, release: lease.release })
    expect((await writer.write(rowsFrom(1, 10))).written).toBe(10)
    await new Promise((resolve) => setTimeout(resolve, 5_500))
    // a statement on the session answers at once: nothing waits for LOAD DATA text any more
    const answered = await Promise.race([session.query('SELECT 1').then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 2_000))])
    expect(answered).toBe(true)
    expect((await writer.write(rowsFrom(11, 10))).written).toBe(10)
    await writer.close()
    expect(await stored('idle')).toHaveLength(20)
  }, 20_000)

  it('text across chunk boundaries arrives exact: escapes, 4-byte characters, NULLs and values near the large-value cut', async () => {
    const { writer } = await writerFor('chunks')
    const note = (i: number) =>
      i % 11 === 0 ? null : i % 97 === 0 ? `${'é😀\t'.repeat(16_000)}\\` : `${'\\\t\n\r\0\x1a'.slice(i % 6)}Zoë n°${i} ${'😀'.repeat(i % 50)}\r\n— été`
    const rows = rowsFrom(1, 3000, note)
    expect((await writer.write(rows)).written).toBe(3000)
    await writer.close()
    const got = await stored('chunks')
    expect(got.length).toBe(3000)
    const wrong = got.filter((r, i) => r[1] !== rows[i]![1] || r[2] !== rows[i]![2])
    expect(wrong).toEqual([])
  })
})
