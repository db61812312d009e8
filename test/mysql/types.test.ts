import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysql } from '../../dialects/mysql/index.js'
import type { Connection } from '../../src/dialect.js'
import type { Row, TableSchema, Value } from '../../src/schema/types.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

async function readAll(conn: Connection, table: TableSchema): Promise<{ rows: Row[]; rejected: number }> {
  const rows: Row[] = []
  let rejected = 0
  for await (const b of conn.read(table, { batchRows: 1000, batchBytes: 1 << 20 })) {
    rows.push(...b.rows)
    rejected += b.rejected.length
  }
  return { rows, rejected }
}

const norm = (v: Value): unknown =>
  v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'string' && v.length > 200 ? `${v.length} chars ending ${JSON.stringify(v.slice(-3))}` : v

// every logical type with its edge values, written through the dialect and read back
const table: TableSchema = {
  name: 'edge',
  columns: [
    { name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false },
    { name: 'b', type: { kind: 'boolean' }, nativeType: '', nullable: true },
    { name: 'i16', type: { kind: 'int16' }, nativeType: '', nullable: true },
    { name: 'i32', type: { kind: 'int32' }, nativeType: '', nullable: true },
    { name: 'i64', type: { kind: 'int64' }, nativeType: '', nullable: true },
    { name: 'u64', type: { kind: 'int64', unsigned: true }, nativeType: '', nullable: true },
    { name: 'dec', type: { kind: 'decimal', precision: 38, scale: 10 }, nativeType: '', nullable: true },
    { name: 'f32', type: { kind: 'float32' }, nativeType: '', nullable: true },
    { name: 'f64', type: { kind: 'float64' }, nativeType: '', nullable: true },
    { name: 'txt', type: { kind: 'text' }, nativeType: '', nullable: true },
    { name: 'vc', type: { kind: 'text', length: 10 }, nativeType: '', nullable: true },
    { name: 'en', type: { kind: 'text', values: ['small', 'large'] }, nativeType: '', nullable: true },
    { name: 'bin', type: { kind: 'bytes' }, nativeType: '', nullable: true },
    { name: 'd', type: { kind: 'date' }, nativeType: '', nullable: true },
    { name: 't', type: { kind: 'time', precision: 6 }, nativeType: '', nullable: true },
    { name: 'ts', type: { kind: 'timestamp', precision: 6 }, nativeType: '', nullable: true },
    { name: 'tz', type: { kind: 'timestamptz', precision: 6 }, nativeType: '', nullable: true },
    { name: 'u', type: { kind: 'uuid' }, nativeType: '', nullable: true },
    { name: 'j', type: { kind: 'json' }, nativeType: '', nullable: true },
  ],
  primaryKey: { columns: ['id'] },
  uniques: [],
  indexes: [],
  foreignKeys: [],
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const longText = 'x'.repeat(100_000) + '\\'
const rows: Row[] = [
  [1, true, -32768, -2147483648, -9223372036854775808n, 0, '-1234567890123456789012345678.0123456789', 3.4028234663852886e38, 1.7976931348623157e308, '', '', 'small', Buffer.alloc(0), '1000-01-01', '00:00:00', '1000-01-01 00:00:00', '2020-06-01 12:00:00+02:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a":[1,2,{"b":null}]}'],
  [2, false, 32767, 2147483647, 9223372036854775807n, 18446744073709551615n, '0.0000000001', 1.401298464324817e-45, 5e-324, 'tab\there\nnew line\r\nback\\slash \\N quote\'" ctrl\x1aZ', 'ten chars!', 'large', allBytes, '9999-12-31', '23:59:59.999999', '9999-12-31 23:59:59.999999', '2000-01-01 00:30:00-01:00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]'],
  [3, null, 0, 0, 9007199254740993n, 9007199254740991, '0', 0.10000000149011612, 0.30000000000000004, 'NUL\0inside and emoji 😀 and accents é', '\\N', null, Buffer.from('\\N\t\n'), '2024-02-29', '12:34:56.5', '2024-02-29 12:34:56.123456', '2024-02-29 23:59:59.999999+00:00', null, '"text"'],
  [4, null, null, null, null, null, null, -0, -0, longText, null, null, null, null, null, null, null, null, null],
  [5, null, null, null, null, null, null, null, null, '\\', null, null, null, null, null, null, null, null, 'null'],
]
// what MySQL gives back: timestamptz values come back in UTC (MySQL has no offset type); decimals come back
// with the column's scale ('0' in decimal(38,10) is '0.0000000000', the same number); MySQL has no negative
// zero in float/double columns: -0 is stored as 0
const expected: Row[] = rows.map((r) => r.slice())
expected[0]![16] = '2020-06-01 10:00:00+00:00'
expected[1]![16] = '2000-01-01 01:30:00+00:00'
expected[2]![6] = '0.0000000000'
expected[3]![7] = 0
// FLOAT values come back as the shortest decimal that names their float32
expected[0]![7] = 3.4028235e38
expected[1]![7] = 1e-45
expected[2]![7] = 0.1
expected[3]![8] = 0

describe.skipIf(!(await serverUp('mysql')))('mysql: every logical type round-trips exactly', () => {
  let db: TestDatabase
  let conn: Connection
  beforeAll(async () => {
    db = await createMysqlDatabase('dbferry_types')
    conn = await mysql.connect(db.url)
  })
  afterAll(async () => {
    await conn?.close()
    await db?.drop()
  })

  it('writes edge values with LOAD DATA and reads them back unchanged', async () => {
    await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'create' })
    const w = await conn.openWriter(table)
    const res = await w.write(rows)
    await w.close()
    expect(res.rejected.map((e) => e.message)).toEqual([])
    expect(res.written).toBe(rows.length)
    const back = await readAll(conn, table)
    expect(back.rejected).toBe(0)
    expect(back.rows.map((r) => r.map(norm))).toEqual(expected.map((r) => r.map(norm)))
  })

  it('refuses a second create (target_exists) and appends, truncates, recreates', async () => {
    await expect(conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'create' })).rejects.toMatchObject({ code: 'target_exists' })
    await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'truncate' })
    expect(await conn.count(table)).toBe(0)
    const w = await conn.openWriter(table)
    await w.write(rows.slice(0, 2))
    await w.close()
    await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'append' })
    expect(await conn.count(table)).toBe(2)
    await conn.prepareTarget({ dialect: 'mysql', tables: [table], objects: [] }, { mode: 'recreate' })
    expect(await conn.count(table)).toBe(0)
  })

  it('rejects what MySQL cannot hold, each with the server message, and writes the rest', async () => {
    // NaN and ±Infinity: MySQL floats cannot hold them (the engine's fit step rejects them before the writer;
    // given to the writer directly, the server refuses them); a 4-byte character in a utf8mb3 column is
    // found before the load; text over a varchar's length and out-of-range integers are refused by the server
    const t: TableSchema = {
      name: 'limits',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false },
        { name: 'f', type: { kind: 'float64' }, nativeType: '', nullable: true },
        { name: 'short', type: { kind: 'text', length: 3 }, nativeType: '', nullable: true },
        { name: 'small', type: { kind: 'int16' }, nativeType: '', nullable: true },
        { name: 'm3', type: { kind: 'text', length: 20 }, nativeType: '', nullable: true, charset: 'utf8mb3', collation: 'utf8mb3_general_ci' },
      ],
      primaryKey: { columns: ['id'] },
      uniques: [],
      indexes: [],
      foreignKeys: [],
    }
    await conn.prepareTarget({ dialect: 'mysql', tables: [t], objects: [] }, { mode: 'create' })
    const w = await conn.openWriter(t)
    const res = await w.write([
      [1, 1.5, 'abc', 1, 'ok'],
      [2, NaN, 'abc', 1, 'ok'],
      [3, 2, 'abcd', 1, 'ok'],
      [4, 3, 'ab', 40000, 'ok'],
      [5, 4, 'a', 2, 'emoji 😀'],
      [6, Infinity, 'b', 3, 'ok'],
      [7, 5, 'c', 4, 'ok'],
    ])
    await w.close()
    expect(res.written).toBe(2)
    const byId = Object.fromEntries(res.rejected.map((e) => [(e.key as { id: number }).id, e]))
    expect(Object.keys(byId).sort()).toEqual(['2', '3', '4', '5', '6'])
    expect(byId[3]!.code).toBe('truncation')
    expect(byId[3]!.message).toMatch(/Data (too long|truncated) for column 'short'/)
    expect(byId[4]!.code).toBe('out_of_range')
    expect(byId[4]!.message).toMatch(/Out of range value for column 'small'/)
    expect(byId[5]!.code).toBe('invalid_encoding')
    expect(byId[5]!.message).toMatch(/utf8mb3/)
    const back = await readAll(conn, t)
    expect(back.rows).toEqual([
      [1, 1.5, 'abc', 1, 'ok'],
      [7, 5, 'c', 4, 'ok'],
    ])
  })
})
