import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import { postgresErrors } from '../../dialects/postgres/index.js'
import type { ClassifiedError, Connection } from '../../src/dialect.js'
import type { Row } from '../../src/schema/types.js'
import { freshPostgres, pgUp, tableOf } from './helpers.js'

/** A client of the test database that never crashes the run when the server ends it. */
async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url })
  c.on('error', () => {})
  await c.connect()
  return c
}

/** What the server answers to `sql`, as classify reads it (the statement must fail). */
async function classified(c: pg.Client, sql: string): Promise<ClassifiedError> {
  const error = await c.query(sql).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, `${sql} should fail`).toBeInstanceOf(Error)
  const read = postgresErrors.classify(error)
  expect(read).toBeDefined()
  return read!
}

describe.skipIf(!pgUp)('postgresErrors.classify on the server\'s own errors', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let c: pg.Client
  beforeAll(async () => {
    env = await freshPostgres('pgerrors')
    c = await client(env.db.url)
    await c.query(`
      CREATE TABLE parent (id int PRIMARY KEY);
      CREATE TABLE item (
        id int CONSTRAINT item_pk PRIMARY KEY,
        name varchar(3) NOT NULL,
        qty smallint CONSTRAINT qty_positive CHECK (qty > 0),
        parent_id int CONSTRAINT item_parent_fk REFERENCES parent (id)
      );
      INSERT INTO parent VALUES (1);
      INSERT INTO item VALUES (1, 'a', 1, 1), (2, 'b', 1, 1);`)
  })
  afterAll(async () => {
    await c?.end().catch(() => {})
    await env?.done()
  })

  it('23502 NULL into NOT NULL: not_null, with the column and table', async () => {
    const r = await classified(c, `INSERT INTO item (id, name) VALUES (10, NULL)`)
    expect(r).toMatchObject({ kind: 'not_null', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '23502', sqlState: '23502', column: 'name', table: 'item', schema: 'public' })
  })

  it('23505 unique violation: duplicate_key, with the constraint and detail', async () => {
    const r = await classified(c, `INSERT INTO item (id, name) VALUES (1, 'x')`)
    expect(r).toMatchObject({ kind: 'duplicate_key', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '23505', constraint: 'item_pk', table: 'item', detail: 'Key (id)=(1) already exists.' })
  })

  it('23503 foreign key violation: foreign_key_violation, with the constraint', async () => {
    const r = await classified(c, `INSERT INTO item (id, name, parent_id) VALUES (11, 'x', 99)`)
    expect(r).toMatchObject({ kind: 'foreign_key_violation', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '23503', constraint: 'item_parent_fk', table: 'item', detail: expect.stringContaining('(parent_id)=(99)') })
  })

  it('23514 check violation: check_violation, with the constraint', async () => {
    const r = await classified(c, `INSERT INTO item (id, name, qty) VALUES (12, 'x', -1)`)
    expect(r).toMatchObject({ kind: 'check_violation', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '23514', constraint: 'qty_positive', table: 'item' })
  })

  it('22001 string too long: truncation', async () => {
    const r = await classified(c, `INSERT INTO item (id, name) VALUES (13, 'far too long')`)
    expect(r).toMatchObject({ kind: 'truncation', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '22001', message: expect.stringContaining('character varying(3)') })
  })

  it('22003 numeric overflow and 22008 datetime overflow: out_of_range', async () => {
    const n = await classified(c, `INSERT INTO item (id, name, qty) VALUES (14, 'x', 99999)`)
    expect(n).toMatchObject({ kind: 'out_of_range', connectionLost: false, retryable: false })
    expect(n.driver).toMatchObject({ code: '22003', message: expect.stringContaining('smallint out of range') })
    const d = await classified(c, `SELECT '2020-01-01 25:61:00'::timestamp`)
    expect(d).toMatchObject({ kind: 'out_of_range' })
    expect(d.driver.code).toBe('22008')
  })

  it('22021 bytes that are not UTF-8: invalid_encoding', async () => {
    const r = await classified(c, `SELECT convert_from('\\xff'::bytea, 'UTF8')`)
    expect(r).toMatchObject({ kind: 'invalid_encoding', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '22021', message: expect.stringContaining('0xff') })
  })

  it('any other server error: target_rejected', async () => {
    const r = await classified(c, `INSERT INTO item (id, name) VALUES ('not a number', 'x')`)
    expect(r).toMatchObject({ kind: 'target_rejected', connectionLost: false, retryable: false })
    expect(r.driver).toMatchObject({ code: '22P02' })
  })

  it('40P01 deadlock between two sessions locking rows in opposite order: serialization_failure, retryable', async () => {
    const a = await client(env.db.url)
    const b = await client(env.db.url)
    try {
      await a.query(`SET deadlock_timeout = '100ms'`)
      await b.query(`SET deadlock_timeout = '100ms'`)
      await a.query('BEGIN')
      await b.query('BEGIN')
      await a.query('UPDATE item SET qty = qty + 1 WHERE id = 1')
      await b.query('UPDATE item SET qty = qty + 1 WHERE id = 2')
      const results = await Promise.allSettled([a.query('UPDATE item SET qty = qty + 1 WHERE id = 2'), b.query('UPDATE item SET qty = qty + 1 WHERE id = 1')])
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      // the server breaks the cycle by failing exactly one of the two
      expect(failed).toHaveLength(1)
      const r = postgresErrors.classify(failed[0]!.reason)
      expect(r).toMatchObject({ kind: 'serialization_failure', connectionLost: false, retryable: true })
      expect(r!.driver).toMatchObject({ code: '40P01', message: 'deadlock detected' })
    } finally {
      await a.query('ROLLBACK').catch(() => {})
      await b.query('ROLLBACK').catch(() => {})
      await a.end()
      await b.end()
    }
  })

  it('the session killed by pg_terminate_backend from another session: connection, lost', async () => {
    const victim = await client(env.db.url)
    try {
      const pid = (victim as unknown as { processID: number }).processID
      const sleeping = victim.query('SELECT pg_sleep(30)').then(
        () => undefined,
        (e: unknown) => e,
      )
      // wait until the victim's query runs, so the server answers it with the termination
      for (let i = 0; i < 100; i++) {
        const r = await c.query(`SELECT state FROM pg_stat_activity WHERE pid = $1`, [pid])
        if (r.rows[0]?.state === 'active') break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await c.query('SELECT pg_terminate_backend($1)', [pid])
      const during = postgresErrors.classify(await sleeping)
      expect(during).toMatchObject({ kind: 'connection', connectionLost: true, retryable: false })
      expect(during!.driver).toMatchObject({ code: '57P01', message: expect.stringContaining('terminating connection') })
      // and what the dead client says afterwards, with no SQLSTATE
      const after = await classified(victim, 'SELECT 1')
      expect(after).toMatchObject({ kind: 'connection', connectionLost: true })
      expect(after.driver.sqlState).toBeUndefined()
    } finally {
      await victim.end().catch(() => {})
    }
  })

  it('a refused socket (ECONNREFUSED): connection, lost, with errno', async () => {
    const dead = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/nowhere' })
    dead.on('error', () => {})
    const error = await dead.connect().then(
      () => undefined,
      (e: unknown) => e,
    )
    const r = postgresErrors.classify(error)
    expect(r).toMatchObject({ kind: 'connection', connectionLost: true, retryable: false })
    expect(r!.driver).toMatchObject({ code: 'ECONNREFUSED', errno: expect.any(Number) })
  })
})

describe.skipIf(!pgUp)('postgres writer: rejects and failures carry the classified kind and the driver fields', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let conn: Connection
  beforeAll(async () => {
    env = await freshPostgres('pgrejects')
    conn = env.conn
    await conn.execute!(`
      CREATE TABLE parent (id int PRIMARY KEY);
      INSERT INTO parent VALUES (1);
      CREATE TABLE child (
        id int PRIMARY KEY,
        name varchar(5) NOT NULL,
        qty smallint CONSTRAINT qty_positive CHECK (qty > 0),
        parent_id int CONSTRAINT child_parent_fk REFERENCES parent (id)
      )`)
  })
  afterAll(async () => env?.done())

  it('each refused row is rejected with its own kind and the server\'s fields; the rest are written', async () => {
    const w = await conn.openWriter(await tableOf(conn, 'child'))
    const rows: Row[] = [
      [1, 'ok', 1, 1],
      [2, null, 1, 1], // NOT NULL
      [3, 'ok', -5, 1], // CHECK
      [4, 'ok', 1, 42], // foreign key
      [5, 'too long', 1, 1], // varchar(5)
      [6, 'ok', 70000, 1], // smallint
      [1, 'dup', 1, 1], // primary key
      [7, 'ok', 2, null],
    ]
    const res = await w.write(rows)
    await w.close()
    expect(res.written).toBe(2)
    expect(res.rejected.map((e) => [e.code, e.key])).toEqual([
      ['not_null', { id: 2 }],
      ['check_violation', { id: 3 }],
      ['foreign_key_violation', { id: 4 }],
      ['truncation', { id: 5 }],
      ['out_of_range', { id: 6 }],
      ['duplicate_key', { id: 1 }],
    ])
    const [notNull, check, fk, long, range, dup] = res.rejected
    expect(notNull!.driver).toMatchObject({ code: '23502', column: 'name', table: 'child' })
    expect(notNull!.column).toBe('name')
    expect(check!.driver).toMatchObject({ code: '23514', constraint: 'qty_positive', table: 'child' })
    expect(fk!.driver).toMatchObject({ code: '23503', constraint: 'child_parent_fk', detail: expect.stringContaining('(parent_id)=(42)') })
    expect(long!.driver).toMatchObject({ code: '22001' })
    expect(range!.driver).toMatchObject({ code: '22003' })
    expect(dup!.driver).toMatchObject({ code: '23505', constraint: 'child_pkey' })
  })

  it('a write on a killed session fails with a ConnectionError that keeps the driver\'s fields', async () => {
    const other = await freshPostgres('pgrejects2')
    try {
      await other.conn.execute!('CREATE TABLE t (id int PRIMARY KEY)')
      const w = await other.conn.openWriter(await tableOf(other.conn, 't'))
      const pid = (other.conn as unknown as { client: { processID: number } }).client.processID
      await conn.execute!(`SELECT pg_terminate_backend(${pid})`)
      const error = await w.write([[1]]).catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'connection', table: 't' })
      expect((error as { driver?: { message: string } }).driver?.message).toEqual(expect.any(String))
    } finally {
      await other.done()
    }
  })
})
