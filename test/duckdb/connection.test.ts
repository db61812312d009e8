import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { duckdb, duckdbTypes } from '../../dialects/duckdb/index.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import type { Row } from '../../src/schema/types.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dbferry-duckconn-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function readAll(url: string, table: string): Promise<Row[]> {
  const { connection } = await connect(url)
  try {
    const t = (await connection.introspect()).tables.find((x) => x.name === table)!
    const rows: Row[] = []
    for await (const b of connection.read(t, { batchRows: 2, batchBytes: 1 << 20 })) rows.push(...b.rows)
    return rows
  } finally {
    await connection.close()
  }
}

describe('duckdb type map', () => {
  it('reads DuckDB’s own type text', () => {
    const cases: [string, unknown][] = [
      ['UTINYINT', { kind: 'int16' }],
      ['USMALLINT', { kind: 'int32' }],
      ['UINTEGER', { kind: 'int64' }],
      ['UBIGINT', { kind: 'int64', unsigned: true }],
      ['HUGEINT', { kind: 'decimal', precision: 38, scale: 0 }],
      ['UHUGEINT', { kind: 'decimal', precision: 38, scale: 0 }],
      ['DECIMAL(18,3)', { kind: 'decimal', precision: 18, scale: 3 }],
      ['TIMESTAMP_NS', { kind: 'timestamp', precision: 9 }],
      ['TIMESTAMP_MS', { kind: 'timestamp', precision: 3 }],
      ['TIMESTAMP WITH TIME ZONE', { kind: 'timestamptz', precision: 6 }],
      ['INTERVAL', { kind: 'text' }],
      ['INTEGER[]', { kind: 'json' }],
      ['INTEGER[3]', { kind: 'json' }],
      ['STRUCT(a INTEGER, b VARCHAR)', { kind: 'json' }],
      ['MAP(VARCHAR, INTEGER)', { kind: 'json' }],
      ["ENUM('happy', 'it''s')", { kind: 'text', values: ['happy', "it's"] }],
      ['GEOMETRY', { reject: expect.stringMatching(/GEOMETRY/) }],
    ]
    for (const [declared, logical] of cases) expect({ declared, logical: duckdbTypes.toLogical(declared) }).toEqual({ declared, logical })
    expect(duckdbTypes.toNative({ kind: 'decimal', precision: 40, scale: 2 })).toBe('VARCHAR')
    expect(duckdbTypes.toNative({ kind: 'int64', unsigned: true })).toBe('UBIGINT')
  })
})

describe('duckdb values', () => {
  it('reads every DuckDB type in canonical form, nested types as JSON, in key order and from a resume key', async () => {
    const file = join(dir, 'values.duckdb')
    const instance = await DuckDBInstance.create(file)
    const c = await instance.connect()
    await c.run(`CREATE TABLE v (id INTEGER PRIMARY KEY, h HUGEINT, ub UBIGINT, d DECIMAL(38,10), ts TIMESTAMP_NS, tz TIMESTAMPTZ, iv INTERVAL, l INTEGER[], s STRUCT(a INTEGER, b VARCHAR), m MAP(VARCHAR, INTEGER), u UUID, b BLOB)`)
    await c.run(`SET TimeZone = 'America/New_York'`)
    await c.run(`INSERT INTO v VALUES (2, 99999999999999999999999999999999999999, 18446744073709551615, -1.5, '2024-01-01 00:00:00.123456789', '2000-01-01 00:00:00.5+02:00', INTERVAL 1 DAY, [1, NULL], {'a': 1, 'b': 'x'}, MAP {'k': 1}, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\\xFF\\x00'::BLOB)`)
    await c.run(`INSERT INTO v VALUES (1, -1, 0, 0, '1900-01-01 00:00:00', '1970-01-01 00:00:00+00', INTERVAL 90 MINUTE, [], {'a': NULL, 'b': NULL}, MAP {}, '00000000-0000-0000-0000-000000000000', ''::BLOB)`)
    // HUGEINT's 39-digit extremes do not fit decimal(38,0): rejected as out_of_range, never rounded
    await c.run(`INSERT INTO v (id, h) VALUES (4, 170141183460469231731687303715884105727)`)
    await c.run(`INSERT INTO v VALUES (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
    // the caller's connection keeps its TimeZone: dbferry reads instants, not the session's rendering
    const { connection } = await connect(c)
    try {
      await connection.snapshot()
      const t = (await connection.introspect()).tables[0]!
      const rows: Row[] = []
      const rejected: { code: string; column?: string; key?: unknown }[] = []
      for await (const b of connection.read(t, { batchRows: 2, batchBytes: 1 << 20 })) {
        rows.push(...b.rows)
        rejected.push(...b.rejected)
      }
      expect(rows.map((r) => r[0])).toEqual([1, 2, 3])
      expect(rejected).toMatchObject([{ code: 'out_of_range', column: 'h', key: { id: 4 } }])
      expect(rows[1]).toEqual([
        2,
        '99999999999999999999999999999999999999',
        18446744073709551615n,
        '-1.5000000000',
        '2024-01-01 00:00:00.123456789',
        '1999-12-31 22:00:00.5+00:00',
        '1 day',
        '[1,null]',
        '{"a":1,"b":"x"}',
        '{"k":1}',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        Buffer.from([0xff, 0]),
      ])
      expect(rows[0]!.slice(5, 7)).toEqual(['1970-01-01 00:00:00+00:00', '01:30:00'])
      const resumed: Row[] = []
      for await (const b of connection.read(t, { batchRows: 10, batchBytes: 1 << 20, after: [1] })) resumed.push(...b.rows)
      expect(resumed.map((r) => r[0])).toEqual([2, 3])
      expect(await connection.tableState!(t)).toEqual({ rows: 4, maxKey: '["4"]' })
    } finally {
      await connection.close()
    }
    // the caller's connection and instance still work
    expect((await c.runAndReadAll('SELECT count(*) FROM v')).getRows()).toEqual([[4n]])
    c.closeSync()
    instance.closeSync()
  })
})

describe('duckdb: bring your own connection', () => {
  it('accepts a DuckDBConnection and a DuckDBInstance, and nothing else', async () => {
    const instance = await DuckDBInstance.create(':memory:')
    const c = await instance.connect()
    expect(duckdb.accepts(c)).toBe(true)
    expect(duckdb.accepts(instance)).toBe(true)
    expect(duckdb.accepts({ connect() {}, query() {} })).toBe(false)
    expect(duckdb.accepts(null)).toBe(false)
    c.closeSync()
    instance.closeSync()
  })

  it('ferry() from a caller’s DuckDBConnection into a caller’s DuckDBInstance leaves both open; identity continues', async () => {
    const source = await DuckDBInstance.create(':memory:')
    const sc = await source.connect()
    await sc.run(`CREATE SEQUENCE s; CREATE TABLE items (id INTEGER PRIMARY KEY DEFAULT nextval('s'), name VARCHAR NOT NULL, seen TIMESTAMPTZ)`)
    await sc.run(`INSERT INTO items (name, seen) VALUES ('a', '2020-01-01 10:00:00+05:30'), ('b', NULL), ('c', '2020-06-01 00:00:00.25+00')`)
    const target = await DuckDBInstance.create(join(dir, 'byo-target.duckdb'))
    const report = await ferry({ from: sc, to: target })
    expect(report.error).toBeUndefined()
    expect(report.tables[0]).toMatchObject({ name: 'items', read: 3, written: 3, rejected: 0 })
    // both objects still work after ferry() closed its connections
    expect((await sc.runAndReadAll('SELECT count(*) FROM items')).getRows()).toEqual([[3n]])
    const tc = await target.connect()
    const rows = (await tc.runAndReadAll(`SELECT id, name, epoch_us(seen) FROM items ORDER BY id`)).getRows()
    expect(rows).toEqual([
      [1, 'a', 1577853000000000n],
      [2, 'b', null],
      [3, 'c', 1590969600250000n],
    ])
    // the identity column's sequence starts past the copied keys
    await tc.run(`INSERT INTO items (name) VALUES ('d')`)
    expect((await tc.runAndReadAll(`SELECT id FROM items WHERE name = 'd'`)).getRows()).toEqual([[4]])
    tc.closeSync()
    sc.closeSync()
    target.closeSync()
    source.closeSync()
  })

  it('a URL source that does not exist is a connection error; a source file opens read-only', async () => {
    await expect(connect(`duckdb:${join(dir, 'missing.duckdb')}`)).rejects.toMatchObject({ code: 'connection' })
    const file = join(dir, 'ro.duckdb')
    const w = await DuckDBInstance.create(file)
    const wc = await w.connect()
    await wc.run('CREATE TABLE t (id INTEGER PRIMARY KEY)')
    wc.closeSync()
    w.closeSync()
    const { connection } = await connect(`duckdb:${file}`)
    try {
      await expect(connection.execute!('INSERT INTO t VALUES (1)')).rejects.toMatchObject({ driver: { message: expect.stringMatching(/read-only/i) } })
    } finally {
      await connection.close()
    }
    expect(await readAll(`duckdb:${file}`, 't')).toEqual([])
  })
})
