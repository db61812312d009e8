import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Connection } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { buildFixture, fixtureSchema } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { freshPostgres, pgUp, readAll, tableOf } from './helpers.js'

const expectedDecimal = (d: string | null) => {
  if (d === null) return null
  const [i, f = ''] = d.split('.')
  return `${i}.${f.padEnd(10, '0')}`
}

describe.skipIf(!pgUp)('postgres values: every logical type round-trips exactly', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let conn: Connection
  beforeAll(async () => {
    env = await freshPostgres('pgval')
    conn = env.conn
  })
  afterAll(async () => env?.done())

  /** The fixture's float32 values whose shortest decimal differs from their exact double. */
  const F32_SHORTEST = new Map([
    [-3.4028234663852886e38, -3.4028235e38],
    [3.4028234663852886e38, 3.4028235e38],
  ])

  it('writes the types fixture with COPY and reads back the same canonical values', async () => {
    const { skipped } = await buildFixture(typesFixture, conn)
    expect(skipped).toEqual({ types_all: 1 }) // row 4: U+0000 in text
    const table = await tableOf(conn, 'types_all')
    const { rows } = await readAll(conn, table)
    const byId = new Map(rows.map((r) => [r[0], r]))
    const source = typesFixture.tables[0]!.rows.filter((r) => r[0] !== 4)
    expect(rows.map((r) => r[0])).toEqual(source.map((r) => r[0]))
    const cols = table.columns.map((c) => c.name)
    for (const want of source) {
      const got = byId.get(want[0])!
      for (const [i, name] of cols.entries()) {
        let w = want[i]
        if (name === 'dec') w = expectedDecimal(w as string | null)
        // real comes back as the shortest decimal that names its float32 (the fixture holds the exact double)
        if (name === 'f32') w = F32_SHORTEST.get(w as number) ?? w
        if (name === 'byt' && w !== null) {
          expect(Buffer.isBuffer(got[i]), `${name} of row ${want[0]}`).toBe(true)
          expect(Buffer.compare(got[i] as Buffer, w as Buffer), `${name} of row ${want[0]}`).toBe(0)
          continue
        }
        if (name === 'j' && w !== null) {
          expect(JSON.parse(got[i] as string), `${name} of row ${want[0]}`).toEqual(JSON.parse(w as string))
          continue
        }
        if (typeof w === 'bigint' && w >= BigInt(Number.MIN_SAFE_INTEGER) && w <= BigInt(Number.MAX_SAFE_INTEGER)) w = Number(w)
        if (typeof w === 'number' && typeof got[i] === 'number') {
          expect(Object.is(got[i], w) || got[i] === w, `${name} of row ${want[0]}: ${String(got[i])} vs ${String(w)}`).toBe(true)
          continue
        }
        expect(got[i], `${name} of row ${want[0]}`).toEqual(w)
      }
    }
    // exact types on the way out
    const r3 = byId.get(3)!
    expect(r3[cols.indexOf('i64')]).toBe(9007199254740993n)
    expect(Number.isNaN(r3[cols.indexOf('f64')])).toBe(true)
    expect(byId.get(7)![cols.indexOf('i64')]).toBe(2 ** 53)
  })

  it('encodes hostile strings exactly (backslash, tab, CR/LF, \\N, empty vs NULL, octal-looking escapes)', async () => {
    const hostile = ['\\N', '\\', '\\\\', '\t', '\n', '\r\n', '\r', '', ' ', '\\x41', '\\101', 'a\tb\nc\\d', '\u2028\u2029', '"\'', '\\.', '.', 'end\\']
    const schema = {
      dialect: 'test',
      objects: [],
      tables: [
        {
          name: 'hostile',
          columns: [
            { name: 'id', type: { kind: 'int32' as const }, nativeType: '', nullable: false },
            { name: 's', type: { kind: 'text' as const }, nativeType: '', nullable: true },
            { name: 'b', type: { kind: 'bytes' as const }, nativeType: '', nullable: true },
          ],
          primaryKey: { columns: ['id'] },
          uniques: [],
          indexes: [],
          foreignKeys: [],
        } satisfies TableSchema,
      ],
    }
    await conn.prepareTarget(schema, { mode: 'create' })
    const rows: Row[] = hostile.map((s, i) => [i + 1, s, Buffer.from(s, 'utf8')])
    rows.push([hostile.length + 1, null, null])
    const w = await conn.openWriter(schema.tables[0]!)
    const res = await w.write(rows)
    await w.close()
    expect(res).toEqual({ written: rows.length, rejected: [] })
    const { rows: back } = await readAll(conn, await tableOf(conn, 'hostile'))
    expect(back.map((r) => r[1])).toEqual([...hostile, null])
    expect(back.map((r) => (r[2] === null ? null : (r[2] as Buffer).toString('utf8')))).toEqual([...hostile, null])
    // and the server agrees on lengths (nothing was unescaped twice)
    const check = await (conn as unknown as { client: import('pg').Client }).client.query('SELECT id, length(s) AS n FROM hostile ORDER BY id')
    expect(check.rows.map((r) => r.n)).toEqual([...hostile.map((s) => [...s].length), null])
  })

  it('reads in bounded batches with lastKey', async () => {
    const schema = fixtureSchema({ name: 'n', tables: [{ name: 'many', columns: [{ name: 'id', type: { kind: 'int64' }, nullable: false }, { name: 'v', type: { kind: 'text' } }], primaryKey: ['id'], rows: [] }] })
    await conn.prepareTarget(schema, { mode: 'create' })
    const w = await conn.openWriter(schema.tables[0]!)
    const rows: Row[] = Array.from({ length: 25_000 }, (_, i) => [i + 1, `v${i}\n`])
    expect((await w.write(rows)).written).toBe(25_000)
    const { batches } = await readAll(conn, await tableOf(conn, 'many'), 10_000)
    expect(batches.map((b) => b.rows.length)).toEqual([10_000, 10_000, 5_000])
    expect(batches.map((b) => b.lastKey)).toEqual([[10_000], [20_000], [25_000]])
    expect(batches[2]!.rows[4999]).toEqual([25_000, 'v24999\n'])
    // resume after a key uses bound parameters
    const after: Row[] = []
    for await (const b of conn.read(await tableOf(conn, 'many'), { batchRows: 4000, batchBytes: 1 << 20, after: [20_000] })) after.push(...b.rows)
    expect(after.length).toBe(5_000)
    expect(after[0]).toEqual([20_001, 'v20000\n'])
  })
})
