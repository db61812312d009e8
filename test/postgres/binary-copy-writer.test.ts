import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import type { Connection } from '../../src/dialect.js'
import type { Row, TableSchema, Value } from '../../src/schema/types.js'
import { openPostgresWriter } from '../../dialects/postgres/postgres-writer.js'
import { freshPostgres, pgUp, readAll, tableOf } from './helpers.js'

/*
 * The COPY writer's choice of format: a table whose every column takes binary exactly goes through binary COPY,
 * and its rows read back as written; a value binary does not carry exactly sends that batch and the rest of the
 * table as text; rejects work in binary as in text (the server's line numbers count tuples).
 */

function clientOf(conn: Connection): pg.Client {
  return (conn as unknown as { client: pg.Client }).client
}

describe.skipIf(!pgUp)('postgres COPY writer: binary format', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let conn: Connection
  /** The COPY statements the writer started, in order. */
  const copies: string[] = []
  beforeAll(async () => {
    env = await freshPostgres('pgbinw')
    conn = env.conn
    const client = clientOf(conn) as unknown as { query: (...args: unknown[]) => unknown }
    const query = client.query.bind(client)
    client.query = (...args: unknown[]) => {
      const text = (args[0] as { text?: unknown } | undefined)?.text
      if (typeof text === 'string' && text.startsWith('COPY ')) copies.push(text)
      return query(...args)
    }
  })
  afterAll(async () => env?.done())

  const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

  /** One row per edge, the same values a PostgreSQL source reads back. */
  const EDGES: Row[] = [
    [1, true, -32768, -2147483648, '-9223372036854775808', -3.4028234663852886e38, -Number.MAX_VALUE, '-98765432109876543210.123456789012345678901234567890', '', allBytes, '00000000-0000-0000-0000-000000000000', '{"a": [1, 2]}', '0001-01-01 BC', '00:00:00', '4713-01-01 00:00:00 BC', '0044-03-15 12:00:00+00:00 BC'],
    [2, false, 32767, 2147483647, '9223372036854775807', 3.4028234663852886e38, Number.MAX_VALUE, '0.000000000000000000001', 'a\tb\nc\rd\\e é 😀', Buffer.alloc(0), 'ffffffff-ffff-ffff-ffff-ffffffffffff', '{}', '9999-12-31', '24:00:00', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59.999999+00:00'],
    [3, true, 0, 0, 0, -0, -0, '-0.001', '\\N', new Uint8Array([0]), '123e4567-e89b-12d3-a456-426614174000', 'null', '1999-12-31', '23:59:59.999999', '1999-12-31 23:59:59.999999', '1999-12-31 23:59:59.999999+00:00'],
    [4, false, -1, -1, -1, NaN, NaN, 'NaN', ' ', Buffer.from([255]), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '"s"', 'infinity', '12:00:00.5', 'infinity', 'infinity'],
    [5, null, null, null, null, Infinity, -Infinity, 'Infinity', null, null, null, null, '-infinity', null, '-infinity', '-infinity'],
    [6, true, 7, 7, 9007199254740991, 1.401298464324817e-45, 5e-324, '-Infinity', 'x'.repeat(70_000), Buffer.concat(Array.from({ length: 300 }, () => allBytes)), null, '[1, 2.5, "x"]', '2000-02-29', '01:02:03.000001', '1900-03-01 00:00:00.000001', '2000-01-01 00:00:00.5+00:00'],
  ].map((r) => r.map((v) => (typeof v === 'string' && /^-?\d{16,}$/.test(v) ? BigInt(v) : v)) as Row)

  const COLUMNS =
    'id int PRIMARY KEY, b boolean, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, n numeric, t text, y bytea, u uuid, j jsonb, d date, tm time, ts timestamp, tz timestamptz'

  it('writes every type at its edges through binary COPY, and reads it back unchanged', async () => {
    await clientOf(conn).query(`CREATE TABLE edges (${COLUMNS})`)
    const table = await tableOf(conn, 'edges')
    copies.length = 0
    const w = await conn.openWriter(table)
    expect(await w.write(EDGES)).toEqual({ written: EDGES.length, rejected: [] })
    await w.close()
    expect(copies).toEqual([expect.stringMatching(/^COPY "public"\."edges" \(.*\) FROM STDIN \(FORMAT binary\)$/)])
    const { rows } = await readAll(conn, table)
    // real reads back as the shortest decimal of its single (compared as singles); jsonb as the server normalised it
    const normal = (v: Value, i: number) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('hex') : i === 5 && typeof v === 'number' ? Math.fround(v) : typeof v === 'bigint' && v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : v
    const jsonb = (v: Value, i: number) => (i === 11 && typeof v === 'string' ? JSON.stringify(JSON.parse(v)).replace(/,/g, ', ').replace(/:/g, ': ') : v)
    expect(rows.map((r) => r.map(normal))).toEqual(EDGES.map((r) => r.map(jsonb).map(normal)))
  })

  it('gives the same table as text COPY for the same rows', async () => {
    const c = clientOf(conn)
    await c.query(`CREATE TABLE same_b (${COLUMNS}); CREATE TABLE same_t (${COLUMNS}, pad interval)`)
    for (const name of ['same_b', 'same_t']) {
      const w = await conn.openWriter(await tableOf(conn, name))
      const rows = name === 'same_t' ? EDGES.map((r) => [...r, null]) : EDGES
      expect(await w.write(rows)).toEqual({ written: EDGES.length, rejected: [] })
      await w.close()
    }
    // the interval column keeps same_t in text
    expect(copies.filter((s) => s.includes('same_')).map((s) => s.endsWith('(FORMAT binary)'))).toEqual([true, false])
    const diff = await c.query(
      `SELECT b.id FROM same_b b JOIN same_t t USING (id)
        WHERE (b.b, b.i2, b.i4, b.i8, b.f4, b.f8, b.n::text, b.t, b.y, b.u, b.j, b.d, b.tm, b.ts, b.tz)
              IS DISTINCT FROM (t.b, t.i2, t.i4, t.i8, t.f4, t.f8, t.n::text, t.t, t.y, t.u, t.j, t.d, t.tm, t.ts, t.tz)`,
    )
    expect(diff.rows).toEqual([])
    const count = await c.query('SELECT count(*)::int AS n FROM same_b')
    expect(count.rows[0].n).toBe(EDGES.length)
  })

  it('sends a batch as text from the first value binary does not carry exactly, and the rest of the table too', async () => {
    const c = clientOf(conn)
    await c.query('CREATE TABLE fallback (id int PRIMARY KEY, ts timestamp, n numeric(10,2))')
    const table = await tableOf(conn, 'fallback')
    copies.length = 0
    const w = await conn.openWriter(table)
    expect(await w.write([[1, '2000-01-01 00:00:00.25', '1.005']])).toEqual({ written: 1, rejected: [] })
    // seven fraction digits: the server rounds the text; the binary encoder does not guess
    const rows: Row[] = Array.from({ length: 5000 }, (_, i) => [i + 2, '2000-01-01 00:00:00.25', '2.5'])
    rows[4000] = [4002, '2000-01-01 00:00:00.1234567', '3.14159']
    expect(await w.write(rows)).toEqual({ written: 5000, rejected: [] })
    expect(await w.write([[9000, '2001-01-01 00:00:00', '1']])).toEqual({ written: 1, rejected: [] })
    await w.close()
    expect(copies.map((s) => (s.endsWith('(FORMAT binary)') ? 'binary' : 'text'))).toEqual(['binary', 'binary', 'text', 'text'])
    const r = await c.query("SELECT count(*)::int AS n, min(ts)::text AS lo, (SELECT ts::text || ' ' || n::text FROM fallback WHERE id = 4002) AS odd FROM fallback")
    expect(r.rows[0]).toEqual({ n: 5002, lo: '2000-01-01 00:00:00.123457', odd: '2000-01-01 00:00:00.123457 3.14' })
  })

  it('restarts as text when the very first value of a table is one binary does not carry exactly', async () => {
    const c = clientOf(conn)
    await c.query('CREATE TABLE first_odd (id int, at timestamptz)')
    copies.length = 0
    const w = await conn.openWriter(await tableOf(conn, 'first_odd'))
    // a time zone name: the server resolves it, the binary encoder does not
    expect(await w.write([[1, '2020-06-01 12:00:00 Europe/Paris'], [2, '2020-06-01 12:00:00+00:00']])).toEqual({ written: 2, rejected: [] })
    await w.close()
    expect(copies.map((s) => (s.endsWith('(FORMAT binary)') ? 'binary' : 'text'))).toEqual(['binary', 'text'])
    const r = await c.query("SELECT string_agg(at::text, ' ' ORDER BY id) AS t FROM first_odd")
    expect(r.rows[0].t).toBe('2020-06-01 10:00:00+00 2020-06-01 12:00:00+00')
  })

  it('rejects only the rows the server refuses in binary COPY, by the tuple it names', async () => {
    const c = clientOf(conn)
    await c.query('CREATE TABLE refused (id int PRIMARY KEY, name varchar(5), at timestamptz)')
    const table = await tableOf(conn, 'refused')
    copies.length = 0
    const w = await conn.openWriter(table)
    const rows: Row[] = Array.from({ length: 3000 }, (_, i) => [i + 1, `n${i % 1000}`, '2020-01-01 00:00:00+00:00'])
    rows[10] = [11, 'a\u0000b', '2020-01-01 00:00:00+00:00'] // NUL: not valid text for the server
    rows[1500] = [3, 'dup', '2020-01-01 00:00:00+00:00'] // duplicate key
    rows[2999] = [3000, 'toolong', '2020-01-01 00:00:00+00:00'] // varchar(5)
    const res = await w.write(rows)
    await w.close()
    expect(copies[0]).toMatch(/\(FORMAT binary\)$/)
    expect(res.written).toBe(2997)
    expect(res.rejected.map((e) => [e.code, e.key])).toEqual([
      ['invalid_encoding', { id: 11 }],
      ['duplicate_key', { id: 3 }],
      ['truncation', { id: 3000 }],
    ])
    const n = await c.query('SELECT count(*)::int AS n FROM refused')
    expect(n.rows[0].n).toBe(2997)
  })

  it('writes binary inside a transaction the caller holds, under savepoints, leaving it open', async () => {
    const c = clientOf(conn)
    await c.query('CREATE TABLE held (id int PRIMARY KEY, at timestamp)')
    const table = await tableOf(conn, 'held')
    copies.length = 0
    await c.query('BEGIN')
    try {
      const w = openPostgresWriter(c, 'public', table, 'test', () => true)
      const res = await w.write([[1, '2020-01-01 00:00:00'], [1, '2020-01-02 00:00:00'], [2, '1999-12-31 23:59:59.999999']])
      expect(res.written).toBe(2)
      expect(res.rejected.map((e) => e.code)).toEqual(['duplicate_key'])
      expect(copies[0]).toMatch(/\(FORMAT binary\)$/)
      // still the caller's transaction: nothing committed yet, and it takes more statements
      const r = await c.query("SELECT count(*)::int AS n, now() = statement_timestamp() AS fresh FROM held")
      expect(r.rows[0]).toEqual({ n: 2, fresh: false })
    } finally {
      await c.query('ROLLBACK')
    }
    const after = await c.query('SELECT count(*)::int AS n FROM held')
    expect(after.rows[0].n).toBe(0)
  })

  it('keeps text for a table with a column type binary has no encoder for, and for arrays', async () => {
    const c = clientOf(conn)
    await c.query("CREATE DOMAIN posint AS int CHECK (VALUE > 0); CREATE TABLE kept (id posint, tags text[], at interval)")
    const table = await tableOf(conn, 'kept')
    copies.length = 0
    const w = await conn.openWriter(table)
    expect(await w.write([[1, '["a","b"]', '1 day']])).toEqual({ written: 1, rejected: [] })
    await w.close()
    expect(copies).toEqual([expect.not.stringContaining('FORMAT binary')])
  })
})
