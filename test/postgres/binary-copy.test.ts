import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import { postgresSql, postgresTypes } from '../../dialects/postgres/index.js'
import type { Value } from '../../src/schema/types.js'
import { createPostgresDatabase, type TestDatabase } from '../support/servers.js'
import { pgUp } from './helpers.js'

/*
 * The binary COPY encoders against the server's own reading of the same values as COPY text (the path every
 * value took before): each value goes into one table through binary COPY and into another through text COPY,
 * and the two must be the same value with the same text. Values an encoder refuses must be exactly the ones
 * listed as refused (they go as text).
 */

const { encoders, header, trailer, isNotExact, RowBuffer } = postgresSql.copyBinary
const { encode } = postgresSql.copyText

/** Every byte value, and a run of them long enough to go as a large value (sent as views of itself). */
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
const largeBytes = Buffer.concat(Array.from({ length: 400 }, () => allBytes))

/** Per column type: values that must go through binary exactly, and values the encoder must refuse. */
const CASES: Record<string, { exact: Value[]; refused?: Value[] }> = {
  int2: { exact: [0, -0, 1, -1, 32767, -32768, 255n, -32768n], refused: [32768, -32769, 1.5, '12', 40000n, true] },
  int4: { exact: [0, 2147483647, -2147483648, 2147483647n, -7], refused: [2147483648, -2147483649, 0.5, NaN, Infinity, '1'] },
  int8: {
    exact: [0, 9007199254740991, -9007199254740991, 9223372036854775807n, -9223372036854775808n, 4294967296, -4294967297, 123456789012n],
    refused: [2 ** 53, -(2 ** 62), 2 ** 63, 9223372036854775808n, -9223372036854775809n, 1.25, '5'],
  },
  float4: {
    exact: [0, -0, 1, -1, 0.1, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, NaN, Infinity, -Infinity, 16777218, 1 / 3, 2 ** -149],
    // past real's range, an underflow to zero, and doubles exactly halfway between two singles
    refused: [3.5e38, 1e-50, 1 + 2 ** -24, 16777217, 3 * 2 ** -150, 12n],
  },
  float8: { exact: [0, -0, 0.1, 1 / 3, Number.MAX_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, NaN, Infinity, -Infinity, 9007199254740993], refused: [1n, '1.5'] },
  numeric: {
    exact: [
      '0', '-0', '0.0', '0.000', '1', '-1', '10000', '9999', '100000000', '0.0001', '0.00001', '-0.00000001',
      '12345.6789', '-98765432109876543210987654321.123456789012345678901', '007.50', '1.10', '0.1000', 'NaN', 'Infinity', '-Infinity',
      '-' + '9'.repeat(120) + '.' + '1'.repeat(77), '1' + '0'.repeat(1000), '0.' + '0'.repeat(200) + '1', '9'.repeat(131072), '-0.' + '5'.repeat(16383), 12.5, -0, 42n, -123456789012345678901234567890n,
    ],
    refused: ['1e5', '.5', '5.', '+1', ' 1', '1.2.3', '', '-', 'nan', '1' + '0'.repeat(131072), '0.' + '1'.repeat(16384), 1e21, true],
  },
  'numeric(10,2)': { exact: ['1.005', '-1.015', '12345678.99', '0.001', '-0.004'], refused: [] },
  text: { exact: ['', ' ', 'plain', 'a\tb\nc\rd\\e', '\\N', 'Zoë 😀 lone \ud800 end \udfff', 'x'.repeat(70_000) + 'é', 'é'.repeat(40_000)], refused: [1, true] },
  'varchar(5)': { exact: ['', 'abcde', 'abc  ', 'éèêëa'], refused: [] },
  'char(3)': { exact: ['', 'a', 'ab '], refused: [] },
  bytea: { exact: [Buffer.alloc(0), allBytes, new Uint8Array([0]), largeBytes, new Uint8Array(allBytes.buffer, 10, 20)], refused: ['\\x00', 1] },
  bool: { exact: [true, false], refused: [1, 't'] },
  uuid: { exact: ['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '123e4567-e89b-12d3-a456-426614174000'], refused: ['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'] },
  json: { exact: ['{"a": 1,  "b": [1, 2]}', '"x"', 'null', '[]', '{"k": "é😀\\u0000"}'], refused: [1] },
  jsonb: { exact: ['{"b": 1, "a": [1.50, 2]}', '"x"', 'null', '1e400', '{"a": {"b": "' + 'y'.repeat(70_000) + '"}}'], refused: [{} as unknown as Value] },
  date: {
    exact: ['2000-01-01', '1999-12-31', '2000-03-01', '1970-01-01', '0001-01-01', '9999-12-31', '2024-02-29', '1900-03-01', '0001-01-01 BC', '0044-03-15 BC', '4713-01-01 BC', '0005-02-29 BC', 'infinity', '-infinity'],
    refused: ['2023-02-29', '0004-02-29 BC', '1900-02-29', '2000-13-01', '0000-01-01', '10000-01-01', '4714-11-24 BC', '2000-1-1', '20000101', 'epoch', 'today', 1],
  },
  time: { exact: ['00:00:00', '23:59:59.999999', '12:34:56.7', '24:00:00', '01:02:03.000001'], refused: ['24:00:01', '12:60:00', '12:00:60', '12:00', '12:00:00.1234567', '12:00:00+01'] },
  'time(2)': { exact: ['10:00:00.125', '10:00:00.135', '23:59:59.999'], refused: [] },
  timestamp: {
    exact: [
      '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001', '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999',
      '1600-02-29 12:00:00.5', '2262-04-11 23:47:16.854775', '1677-09-21 00:12:43.145224', '0044-03-15 12:00:00 BC', '4713-01-01 00:00:00 BC',
      'infinity', '-infinity',
    ],
    refused: ['2000-01-01 24:00:00', '2000-01-01T00:00:00', '2000-01-01 00:00:00+00:00', '2000-01-01', '2000-01-01 00:00:00.1234567', 'now'],
  },
  'timestamp(0)': { exact: ['2000-01-01 00:00:00.5', '1999-12-31 23:59:59.5', '2001-01-01 00:00:01.4'], refused: [] },
  timestamptz: {
    exact: [
      '2000-01-01 00:00:00+00:00', '2000-01-01 00:00:00+00', '1999-12-31 23:59:59.999999-05:30', '2021-06-01 12:00:00+15:59', '0001-01-01 00:00:00+01:00',
      '9999-12-31 22:00:00-01:00', '0044-03-15 12:00:00+00:00 BC', '1900-01-01 00:00:00.000001+02', 'infinity', '-infinity',
    ],
    refused: ['2000-01-01 00:00:00', '2000-01-01 00:00:00Z', '2000-01-01 00:00:00+00:00:30', '2000-01-01 00:00:00+16:00', '2000-01-01 00:00:00 UTC'],
  },
}

const typname = (sqlType: string) => sqlType.replace(/\(.*$/, '').replace(/^char$/, 'bpchar')

describe('binary COPY encoders (no server)', () => {
  it('frames a binary COPY as PostgreSQL does', () => {
    expect(header).toEqual(Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]))
    expect(trailer).toEqual(Buffer.from([0xff, 0xff]))
  })

  it('writes a tuple as a field count, then a length and the bytes of each field (-1 for NULL)', () => {
    const b = new RowBuffer(Buffer.alloc(4), [encoders.int4!, encoders.text!, encoders.numeric!, encoders.date!, encoders.timestamp!])
    b.row([-2, 'é', '-12345.670', '1999-12-31', '2000-01-01 00:00:01.5'], [0, 1, 2, 3, 4])
    b.row([null, '', null, null, null], [0, 1, 2, 3, 4])
    expect(b.range(0, 1).toString('hex')).toBe(
      [
        '0005',
        '00000004', 'fffffffe',
        '00000002', 'c3a9',
        // ndigits 3, weight 1, negative, dscale 3: 1 2345 6700
        '0000000e', '0003', '0001', '4000', '0003', '0001', '0929', '1a2c',
        '00000004', 'ffffffff',
        '00000008', '00000000', '0016e360',
      ].join(''),
    )
    expect(b.range(1, 2).toString('hex')).toBe(['0005', 'ffffffff', '00000000', 'ffffffff', 'ffffffff', 'ffffffff'].join(''))
  })

  it('leaves the batch as it was when a value of a row is refused', () => {
    const b = new RowBuffer(Buffer.alloc(64), [encoders.int2!, encoders.bytea!])
    b.row([1, largeBytes], [0, 1])
    const len = b.len
    expect(() => b.row([2, 'not bytes'], [0, 1])).toThrow()
    expect(b.len).toBe(len)
    expect(b.rows).toBe(1)
    expect(b.largeValues).toBe(1)
    expect(b.range(0, 1).length).toBe(2 + 4 + 2 + 4 + largeBytes.length)
  })

  it('chooses binary for a table only where it gains overall and every type has an encoder', () => {
    expect(postgresTypes.binaryCopyFaster(['int4', 'int4', 'text', 'float8', 'text', 'timestamp', 'bool'])).toBe(true)
    expect(postgresTypes.binaryCopyFaster(['bool'])).toBe(false)
    expect(postgresTypes.binaryCopyFaster(['numeric', 'numeric'])).toBe(false)
    expect(postgresTypes.binaryCopyFaster(['timestamp', 'interval'])).toBe(false)
    expect(postgresTypes.binaryCopyFaster([])).toBe(false)
    // booleans and numerics alone cost more in binary; every other type with an encoder gains
    for (const t of Object.keys(encoders)) expect(postgresTypes.binaryCopyFaster([t, t]), t).toBe(!['bool', 'numeric'].includes(t))
  })

  for (const [sqlType, { exact, refused = [] }] of Object.entries(CASES)) {
    it(`${sqlType}: refuses only what it cannot write exactly`, () => {
      const encoder = encoders[typname(sqlType)]!
      const b = new RowBuffer(Buffer.alloc(16), [encoder])
      for (const v of exact) expect(() => b.row([v], [0]), String(v).slice(0, 80)).not.toThrow()
      for (const v of refused) {
        let error: unknown
        try {
          b.row([v], [0])
        } catch (e) {
          error = e
        }
        expect(isNotExact(error), `${String(v)} should be refused`).toBe(true)
      }
      expect(b.rows).toBe(exact.length)
    })
  }
})

describe.skipIf(!pgUp)('binary COPY encoders against the server reading the same values as text', () => {
  let db: TestDatabase
  let client: pg.Client
  beforeAll(async () => {
    db = await createPostgresDatabase('pgbinary')
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
    // the writer's session settings
    await client.query("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET extra_float_digits = 1")
  })
  afterAll(async () => {
    await client?.end()
    await db?.drop()
  })

  async function copyIn(sql: string, chunks: Buffer[]): Promise<void> {
    const stream = client.query(copyStreams.from(sql))
    await new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve)
      stream.on('error', reject)
      for (const c of chunks) stream.write(c)
      stream.end()
    })
  }

  for (const [sqlType, { exact }] of Object.entries(CASES)) {
    it(`${sqlType}: every edge value is the value its text gives`, async () => {
      const name = typname(sqlType) + sqlType.length
      await client.query(`CREATE TABLE b_${name} (id int, v ${sqlType}); CREATE TABLE t_${name} (id int, v ${sqlType})`)
      const rows: Value[][] = [...exact.map((v, i) => [i, v]), [exact.length, null]]
      const b = new RowBuffer(Buffer.alloc(1024), [encoders.int4!, encoders[typname(sqlType)]!])
      for (const r of rows) b.row(r, [0, 1])
      await copyIn(`COPY b_${name} (id, v) FROM STDIN (FORMAT binary)`, [header, ...b.pieces(0, b.len), trailer])
      const text = rows.map((r) => `${r[0]}\t${r[1] === null ? '\\N' : encode(r[1]!)}\n`).join('')
      await copyIn(`COPY t_${name} (id, v) FROM STDIN`, [Buffer.from(text, 'utf8')])
      const r = await client.query<{ id: number; b: string | null; t: string | null; same: boolean }>(
        `SELECT t.id, b.v::text AS b, t.v::text AS t, ${sqlType === 'json' ? 'b.v::text IS NOT DISTINCT FROM t.v::text' : 'b.v IS NOT DISTINCT FROM t.v'} AS same FROM t_${name} t FULL JOIN b_${name} b ON b.id = t.id ORDER BY t.id`,
      )
      expect(r.rows).toHaveLength(rows.length)
      for (const row of r.rows) {
        const label = `${sqlType} ${String(rows[row.id]?.[1]).slice(0, 60)}`
        expect(row.b, label).toBe(row.t)
        expect(row.same || (row.b !== null && row.b === row.t), label).toBe(true)
      }
      expect(r.rows.at(-1)!.b).toBeNull()
    })
  }

  it('keeps an empty text apart from NULL', async () => {
    await client.query('CREATE TABLE empty_null (id int, v text)')
    const b = new RowBuffer(Buffer.alloc(16), [encoders.int4!, encoders.text!])
    b.row([1, ''], [0, 1])
    b.row([2, null], [0, 1])
    await copyIn('COPY empty_null (id, v) FROM STDIN (FORMAT binary)', [header, ...b.pieces(0, b.len), trailer])
    const r = await client.query('SELECT id, v, v IS NULL AS isnull FROM empty_null ORDER BY id')
    expect(r.rows).toEqual([
      { id: 1, v: '', isnull: false },
      { id: 2, v: null, isnull: true },
    ])
  })

  it('has the server refuse a NUL character in text, naming the row, as in text COPY', async () => {
    await client.query('CREATE TABLE nul_text (id int, v text)')
    const b = new RowBuffer(Buffer.alloc(16), [encoders.int4!, encoders.text!])
    b.row([1, 'fine'], [0, 1])
    b.row([2, 'a\u0000b'], [0, 1])
    const error = await copyIn('COPY nul_text (id, v) FROM STDIN (FORMAT binary)', [header, ...b.pieces(0, b.len), trailer]).catch((e: unknown) => e)
    expect((error as { code?: string }).code).toBe('22021')
    expect((error as { where?: string }).where).toMatch(/COPY nul_text, line 2/)
  })

  // reads the tables the per-type tests above loaded through binary COPY
  it('has the server round numerics and times to the column as it does their text (numeric(10,2), time(2), timestamp(0))', async () => {
    const r = await client.query<{ n: string; t: string; ts: string }>(
      "SELECT (SELECT string_agg(v::text, ' ' ORDER BY id) FROM b_numeric13) AS n, (SELECT string_agg(v::text, ' ' ORDER BY id) FROM b_time7) AS t, (SELECT string_agg(v::text, ' ' ORDER BY id) FROM b_timestamp12) AS ts",
    )
    expect(r.rows[0]).toEqual({
      n: '1.01 -1.02 12345678.99 0.00 0.00',
      t: '10:00:00.13 10:00:00.14 24:00:00',
      // half a second is rounded away from 2000-01-01, before it as after it
      ts: '2000-01-01 00:00:01 1999-12-31 23:59:59 2001-01-01 00:00:01',
    })
  })
})
