import mysql2cb from 'mysql2'
import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysql, MysqlConnection } from '../../dialects/mysql/index.js'
import { openMysqlWriter } from '../../dialects/mysql/mysql-writer.js'
import { engineAccepting } from '../../src/registry.js'
import { ferry } from '../../src/ferry.js'
import type { Connection } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

async function readAll(conn: Connection, table: TableSchema, after?: Row): Promise<Row[]> {
  const rows: Row[] = []
  for await (const b of conn.read(table, { batchRows: 2, batchBytes: 1 << 20, after })) rows.push(...b.rows)
  return rows
}

describe.skipIf(!(await serverUp('mysql')))('mysql connections: caller pools, snapshots, resume, the INSERT path', () => {
  let db: TestDatabase
  beforeAll(async () => {
    db = await createMysqlDatabase('dbferry_conn')
    const c = await mysql2.createConnection(db.url)
    await c.query('CREATE TABLE t (a INT NOT NULL, b VARCHAR(10) NOT NULL, v VARCHAR(20), PRIMARY KEY (a, b))')
    await c.query("INSERT INTO t VALUES (1, 'x', 'one'), (2, 'a', 'two a'), (2, 'b', 'two b'), (3, 'z', 'three')")
    await c.end()
  })
  afterAll(async () => {
    await db?.drop()
  })

  it("uses a caller's pool without ending it, and reads inside one consistent snapshot", async () => {
    const pool = mysql2.createPool({ uri: db.url, connectionLimit: 3 })
    const conn = await mysql.connect({ pool })
    try {
      await conn.snapshot()
      const table = (await conn.introspect()).tables.find((t) => t.name === 't')!
      // a row committed after the snapshot started is not seen by it
      await pool.query("INSERT INTO t VALUES (4, 'new', 'after the snapshot')")
      expect((await readAll(conn, table)).map((r) => r[0])).toEqual([1, 2, 2, 3])
      // resuming after a composite key continues exactly after it
      expect(await readAll(conn, table, [2, 'a'])).toEqual([
        [2, 'b', 'two b'],
        [3, 'z', 'three'],
      ])
    } finally {
      await conn.close()
    }
    // the pool is still the caller's, and open
    const [r] = await pool.query('SELECT COUNT(*) AS n FROM t')
    expect(Number((r as { n: number }[])[0]!.n)).toBe(5)
    await pool.end()
  })

  it('without local_infile, multi-row INSERTs give the same outcome: duplicates and strict errors rejected, the rest written', async () => {
    const conn = (await mysql.connect(db.url)) as MysqlConnection
    try {
      const table: TableSchema = {
        name: 'ins',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false },
          { name: 'email', type: { kind: 'text', length: 12 }, nativeType: '', nullable: false, collation: 'utf8mb4_general_ci' },
          { name: 'raw', type: { kind: 'bytes' }, nativeType: '', nullable: true },
          { name: 'note', type: { kind: 'text' }, nativeType: '', nullable: true },
        ],
        primaryKey: { columns: ['id'] },
        uniques: [{ name: 'email_u', columns: ['email'] }],
        indexes: [],
        foreignKeys: [],
      }
      await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'create' })
      const lease = await conn.lease()
      const writer = await openMysqlWriter(lease.session, table, { loadData: false, release: lease.release })
      const res = await writer.write([
        [1, 'a@x.org', Buffer.from([0, 255, 92]), 'back\\slash \\N'],
        [2, 'A@X.ORG', null, null],
        [3, 'far-too-long@example.org', null, null],
        [4, 'b@x.org', Buffer.alloc(0), ''],
      ])
      await writer.close()
      expect(res.written).toBe(2)
      expect(res.rejected.map((e) => [e.key, e.code])).toEqual([
        [{ id: 2 }, 'duplicate_key'],
        [{ id: 3 }, 'truncation'],
      ])
      expect(res.rejected[0]!.message).toMatch(/Duplicate entry 'A@X.ORG' for key 'email_u'/)
      const rows = await readAll(conn, table)
      expect(rows.map((r) => [r[0], r[1], r[2] === null ? null : Buffer.from(r[2] as Uint8Array).toString('hex'), r[3]])).toEqual([
        [1, 'a@x.org', '00ff5c', 'back\\slash \\N'],
        [4, 'b@x.org', '', ''],
      ])
    } finally {
      await conn.close()
    }
  })

  // what a caller may hold, of both mysql2 APIs: each is a source and a target of a ferry() and still works after
  type Held = { query: (sql: string) => unknown; end: (...args: never[]) => unknown }
  const kinds: [string, (url: string) => Promise<Held>][] = [
    ['mysql2/promise pool', async (url) => mysql2.createPool({ uri: url, connectionLimit: 2 })],
    ['mysql2/promise connection', async (url) => mysql2.createConnection(url)],
    ['mysql2 (callback) pool', async (url) => mysql2cb.createPool({ uri: url, connectionLimit: 2 })],
    ['mysql2 (callback) connection', async (url) => mysql2cb.createConnection(url)],
  ]
  const promiseOf = (held: Held) => ('promise' in held && typeof held.promise === 'function' ? (held.promise as () => mysql2.Pool)() : (held as unknown as mysql2.Pool))
  const countOf = async (held: Held, table: string) => Number((((await promiseOf(held).query(`SELECT COUNT(*) AS n FROM ${table}`))[0]) as { n: number }[])[0]!.n)
  const end = (held: Held) => ('promise' in held ? new Promise<void>((resolve) => (held.end as (cb: () => void) => void)(() => resolve())) : (held.end as () => Promise<void>)())

  for (const [kind, open] of kinds) {
    it(`${kind}: accepted, copied from and to, and still open afterwards`, async () => {
      const other = await createMysqlDatabase('dbferry_held')
      const source = await open(db.url)
      const target = await open(other.url)
      try {
        expect(mysql.accepts(source)).toBe(true)
        expect((await engineAccepting(source))?.name).toBe('mysql')
        const there = await ferry({ from: source, to: other.url, tables: { include: ['t'] } })
        expect(there.ok).toBe(true)
        const back = await ferry({ from: db.url, to: target, mode: 'recreate', tables: { include: ['t'] } })
        expect(back.ok).toBe(true)
        // neither object was ended: both still answer, and see the rows
        const rows = await countOf(source, 't')
        expect(rows).toBeGreaterThan(0)
        expect(await countOf(target, 't')).toBe(rows)
      } finally {
        await end(source)
        await end(target)
        await other.drop()
      }
    })
  }

  it('accepts only mysql2 objects: not their options, nor other drivers\' objects', () => {
    expect(mysql.accepts({ uri: db.url, connectionLimit: 2 })).toBe(false)
    expect(mysql.accepts({ connect() {}, query() {}, totalCount: 0 })).toBe(false)
    expect(mysql.accepts(null)).toBe(false)
  })
})
