import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlDialect, mysqlErrors } from '../../dialects/mysql/index.js'
import { ConnectionError } from '../../src/errors.js'
import type { TableSchema } from '../../src/schema/types.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/** Runs `sql` on `conn` and returns the error it fails with (the test fails when it succeeds). */
async function failure(conn: mysql2.Connection, sql: string): Promise<unknown> {
  try {
    await conn.query(sql)
  } catch (error) {
    return error
  }
  throw new Error(`expected ${sql} to fail`)
}

describe.skipIf(!(await serverUp('mysql')))('mysqlErrors.classify: every failure kind, provoked on the live server', () => {
  let db: TestDatabase
  let c: mysql2.Connection
  let admin: mysql2.Connection
  let mariadb = false
  beforeAll(async () => {
    db = await createMysqlDatabase('dbferry_errors')
    c = await mysql2.createConnection(db.url)
    admin = await mysql2.createConnection(db.url)
    await c.query("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
    mariadb = /mariadb/i.test(((await c.query('SELECT VERSION() AS v'))[0] as { v: string }[])[0]!.v)
    await c.query('CREATE TABLE parent (id INT PRIMARY KEY)')
    await c.query(`CREATE TABLE t (
      id INT PRIMARY KEY, a INT NOT NULL, s VARCHAR(3), n TINYINT, m VARCHAR(10) CHARACTER SET utf8mb3, pid INT,
      CONSTRAINT positive CHECK (n >= 0), CONSTRAINT t_parent FOREIGN KEY (pid) REFERENCES parent (id))`)
    await c.query('INSERT INTO parent VALUES (1), (2)')
    await c.query('INSERT INTO t (id, a) VALUES (1, 1)')
  })
  afterAll(async () => {
    await c?.end()
    await admin?.end()
    await db?.drop()
  })

  const plain = { connectionLost: false, retryable: false }

  it('not_null: ER_BAD_NULL_ERROR names the column', async () => {
    const e = mysqlErrors.classify(await failure(c, 'INSERT INTO t (id, a) VALUES (2, NULL)'))
    expect(e).toMatchObject({ kind: 'not_null', ...plain, driver: { code: 'ER_BAD_NULL_ERROR', errno: 1048, sqlState: '23000', column: 'a' } })
    expect(e!.driver.message).toMatch(/Column 'a' cannot be null/)
  })

  it("duplicate_key: ER_DUP_ENTRY names the key ('PRIMARY')", async () => {
    const e = mysqlErrors.classify(await failure(c, 'INSERT INTO t (id, a) VALUES (1, 1)'))
    expect(e).toMatchObject({ kind: 'duplicate_key', ...plain, driver: { code: 'ER_DUP_ENTRY', errno: 1062, sqlState: '23000', constraint: 'PRIMARY' } })
  })

  it('foreign_key_violation: ER_NO_REFERENCED_ROW_2 names the table, the constraint and the column', async () => {
    const e = mysqlErrors.classify(await failure(c, 'INSERT INTO t (id, a, pid) VALUES (3, 1, 99)'))
    expect(e).toMatchObject({
      kind: 'foreign_key_violation',
      ...plain,
      driver: { code: 'ER_NO_REFERENCED_ROW_2', errno: 1452, sqlState: '23000', table: 't', constraint: 't_parent', column: 'pid' },
    })
  })

  it('check_violation: a CHECK constraint (MariaDB 4025, MySQL 3819) names the constraint', async () => {
    const e = mysqlErrors.classify(await failure(c, 'INSERT INTO t (id, a, n) VALUES (4, 1, -1)'))
    expect(e).toMatchObject({ kind: 'check_violation', ...plain, driver: { errno: mariadb ? 4025 : 3819, sqlState: mariadb ? '23000' : 'HY000', constraint: 'positive' } })
    if (mariadb) {
      expect(e!.driver.table).toBe('t')
      // MariaDB's json is longtext checked by json_valid(): invalid JSON is a check violation of its column
      await c.query('CREATE TABLE j (id INT PRIMARY KEY, doc JSON)')
      const json = mysqlErrors.classify(await failure(c, "INSERT INTO j VALUES (1, '{not json')"))
      expect(json).toMatchObject({ kind: 'check_violation', driver: { errno: 4025, table: 'j', constraint: 'j.doc', column: 'doc' } })
    }
  })

  it('truncation: ER_DATA_TOO_LONG names the column', async () => {
    const e = mysqlErrors.classify(await failure(c, "INSERT INTO t (id, a, s) VALUES (5, 1, 'abcd')"))
    expect(e).toMatchObject({ kind: 'truncation', ...plain, driver: { code: 'ER_DATA_TOO_LONG', errno: 1406, sqlState: '22001', column: 's' } })
  })

  it('out_of_range: ER_WARN_DATA_OUT_OF_RANGE names the column', async () => {
    const e = mysqlErrors.classify(await failure(c, 'INSERT INTO t (id, a, n) VALUES (6, 1, 1000)'))
    expect(e).toMatchObject({ kind: 'out_of_range', ...plain, driver: { code: 'ER_WARN_DATA_OUT_OF_RANGE', errno: 1264, sqlState: '22003', column: 'n' } })
  })

  it('invalid_encoding: an incorrect string value (4-byte UTF-8 in utf8mb3) names the column', async () => {
    const e = mysqlErrors.classify(await failure(c, "INSERT INTO t (id, a, m) VALUES (7, 1, 'emoji 😀')"))
    expect(e).toMatchObject({ kind: 'invalid_encoding', ...plain, driver: { code: 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD', errno: 1366, column: 'm' } })
    // an incorrect value that is not text did not convert: a different kind for the same number
    const number = mysqlErrors.classify(await failure(c, "INSERT INTO t (id, a) VALUES (8, 'abc')"))
    expect(number).toMatchObject({ kind: 'type_conversion', driver: { errno: 1366, column: 'a' } })
  })

  it('serialization_failure: a deadlock between two sessions locking rows in opposite order is retryable', async () => {
    const one = await mysql2.createConnection(db.url)
    const two = await mysql2.createConnection(db.url)
    try {
      await one.query('START TRANSACTION')
      await two.query('START TRANSACTION')
      await one.query('UPDATE parent SET id = id WHERE id = 1')
      await two.query('UPDATE parent SET id = id WHERE id = 2')
      // each now waits for the other's row: the server picks one victim and lets the other go on
      const outcomes = await Promise.allSettled([one.query('UPDATE parent SET id = id WHERE id = 2'), two.query('UPDATE parent SET id = id WHERE id = 1')])
      const victims = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
      expect(victims).toHaveLength(1)
      const e = mysqlErrors.classify(victims[0]!.reason)
      expect(e).toEqual({
        kind: 'serialization_failure',
        connectionLost: false,
        retryable: true,
        driver: { code: 'ER_LOCK_DEADLOCK', errno: 1213, sqlState: '40001', message: expect.stringMatching(/Deadlock found/) },
      })
    } finally {
      await one.query('ROLLBACK').catch(() => {})
      await two.query('ROLLBACK').catch(() => {})
      await one.end()
      await two.end()
    }
  })

  it('connection: a session killed from another connection is lost, and says so', async () => {
    const victim = await mysql2.createConnection(db.url)
    const id = ((await victim.query('SELECT CONNECTION_ID() AS id'))[0] as { id: number }[])[0]!.id
    // killed while a statement runs: the server closes the socket under it
    const running = victim.query('SELECT SLEEP(10)').then(
      () => undefined,
      (error: unknown) => error,
    )
    await new Promise((resolve) => setTimeout(resolve, 200))
    await admin.query(`KILL ${id}`)
    const e = mysqlErrors.classify(await running)
    expect(e).toMatchObject({ kind: 'connection', connectionLost: true, retryable: false, driver: { code: 'PROTOCOL_CONNECTION_LOST' } })
    // and every later statement on it fails the same way (mysql2 marks it fatal, without a code)
    const later = mysqlErrors.classify(await failure(victim, 'SELECT 1'))
    expect(later).toMatchObject({ kind: 'connection', connectionLost: true, driver: { message: expect.stringMatching(/closed state/) } })
  })

  it('target_rejected for any other server error; undefined for what is not a mysql2 error', async () => {
    const e = mysqlErrors.classify(await failure(c, 'SELECT * FROM no_such_table'))
    expect(e).toMatchObject({ kind: 'target_rejected', ...plain, driver: { code: 'ER_NO_SUCH_TABLE', errno: 1146, sqlState: '42S02' } })
    expect(mysqlErrors.classify(new TypeError('x is undefined'))).toBeUndefined()
    expect(mysqlErrors.classify({ errno: 1062, message: 'not an Error' })).toBeUndefined()
  })

  it("the writer's rejected rows carry the kind and the driver's fields, on the LOAD DATA and the INSERT paths", async () => {
    const table: TableSchema = {
      name: 'w',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false },
        { name: 'code', type: { kind: 'text', length: 3 }, nativeType: '', nullable: false },
        { name: 'pid', type: { kind: 'int32' }, nativeType: '', nullable: true },
      ],
      primaryKey: { columns: ['id'] },
      uniques: [{ name: 'w_code', columns: ['code'] }],
      indexes: [],
      foreignKeys: [],
    }
    const conn = await mysqlDialect.connect(db.url)
    try {
      await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'create' })
      await c.query('ALTER TABLE w ADD CONSTRAINT w_parent FOREIGN KEY (pid) REFERENCES parent (id)')
      const w = await conn.openWriter(table)
      const res = await w.write([
        [1, 'abc', 1],
        [2, 'toolong', null],
        [3, 'abc', null],
        [4, 'xyz', 99],
        [5, 'ok', 2],
      ])
      await w.close()
      expect(res.written).toBe(2)
      const byId = Object.fromEntries(res.rejected.map((e) => [(e.key as { id: number }).id, e]))
      // LOAD DATA reports the row in a warning (1265, data truncated); an INSERT fails (1406, data too long)
      expect(byId[2]).toMatchObject({ code: 'truncation', column: 'code', value: 'toolong', driver: { column: 'code' } })
      expect([1265, 1406]).toContain(byId[2]!.driver?.errno)
      expect(byId[3]).toMatchObject({ code: 'duplicate_key', driver: { errno: 1062, constraint: 'w_code' } })
      expect(byId[3]!.message).toMatch(/collides on unique key w_code \(code\)/)
      expect(byId[4]).toMatchObject({ code: 'foreign_key_violation', driver: { errno: 1452, constraint: 'w_parent', column: 'pid' } })
      expect(res.rejected).toHaveLength(3)
    } finally {
      await conn.close()
    }
  })

  it("a writer whose connection is killed stops with a ConnectionError that keeps the driver's fields", async () => {
    const table: TableSchema = {
      name: 'k',
      columns: [{ name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false }],
      primaryKey: { columns: ['id'] },
      uniques: [],
      indexes: [],
      foreignKeys: [],
    }
    const own = await mysql2.createConnection(db.url)
    const conn = await mysqlDialect.connect(own)
    try {
      await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'create' })
      const w = await conn.openWriter(table)
      await admin.query(`KILL ${own.threadId}`)
      const error = await w.write([[1], [2]]).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).toMatchObject({ code: 'connection', table: 'k', driver: { message: expect.any(String) } })
      expect((error as ConnectionError).driver?.code ?? (error as ConnectionError).driver?.message).toMatch(/EPIPE|PROTOCOL_CONNECTION_LOST|ECONNRESET|closed state/)
      await w.abort?.().catch(() => {})
    } finally {
      await conn.close()
      await own.end().catch(() => {})
    }
  })
})
