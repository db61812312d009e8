import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import type { Connection } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { fixtureSchema } from '../../fixtures/fixture.js'
import { postgresErrors, postgresSql } from '../../dialects/postgres/index.js'
import { freshPostgres, pgUp, readAll, tableOf } from './helpers.js'

const { encode: encodeValue, decode: unescapeCopy } = postgresSql.copyText
const copyLineOf = postgresErrors.copyLine

describe('postgres COPY encoding (no server)', () => {
  it('encodes every canonical value in text format', () => {
    expect(encodeValue(null)).toBe('\\N')
    expect(encodeValue('\\N')).toBe('\\\\N')
    expect(encodeValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e')
    expect(encodeValue('')).toBe('')
    expect(encodeValue(NaN)).toBe('NaN')
    expect(encodeValue(Infinity)).toBe('Infinity')
    expect(encodeValue(-Infinity)).toBe('-Infinity')
    expect(encodeValue(-0)).toBe('-0')
    expect(encodeValue(9223372036854775807n)).toBe('9223372036854775807')
    expect(encodeValue(true)).toBe('t')
    expect(encodeValue(false)).toBe('f')
    expect(encodeValue(Buffer.from([0, 255, 92]))).toBe('\\\\x00ff5c')
    expect(encodeValue(new Uint8Array([1, 2]))).toBe('\\\\x0102')
  })
  it('finds the line a COPY error names', () => {
    expect(copyLineOf({ where: 'COPY t, line 12, column x: "abc, line 99"' }, 't')).toBe(12)
    expect(copyLineOf({ where: 'COPY a, line 3, line 7' }, 'a, line 3')).toBe(7)
    expect(copyLineOf({ where: 'SQL statement' }, 't')).toBeUndefined()
    expect(copyLineOf({}, 't')).toBeUndefined()
  })
})

function clientOf(conn: Connection): pg.Client {
  return (conn as unknown as { client: pg.Client }).client
}

describe.skipIf(!pgUp)('postgres COPY writer: rejects only the bad rows', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let conn: Connection
  beforeAll(async () => {
    env = await freshPostgres('pgwrite')
    conn = env.conn
  })
  afterAll(async () => env?.done())

  const people = fixtureSchema({
    name: 'w',
    tables: [
      {
        name: 'people',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nullable: false },
          { name: 'email', type: { kind: 'text', length: 20 } },
        ],
        primaryKey: ['id'],
        uniques: [['email']],
        rows: [],
      },
    ],
  })

  it('a batch with one duplicate key rejects that row as duplicate_key and loads the others', async () => {
    await conn.prepareTarget(people, { mode: 'create' })
    const w = await conn.openWriter(people.tables[0]!)
    const rows: Row[] = Array.from({ length: 1000 }, (_, i) => [i + 1, `u${i + 1}@x.org`])
    rows.splice(500, 0, [7, 'dup@x.org']) // collides with row id 7
    const res = await w.write(rows)
    await w.close()
    expect(res.written).toBe(1000)
    expect(res.rejected).toHaveLength(1)
    const e = res.rejected[0]!
    expect(e.code).toBe('duplicate_key')
    expect(e.key).toEqual({ id: 7 })
    expect(e.message).toContain('Key (id)=(7) already exists')
    expect(e.row).toEqual([7, 'dup@x.org'])
    const { rows: back } = await readAll(conn, await tableOf(conn, 'people'))
    expect(back).toHaveLength(1000)
    expect(back[6]).toEqual([7, 'u7@x.org'])
  })

  it('several bad rows of different kinds: each rejected alone, the rest loaded, across batches', async () => {
    await conn.prepareTarget(people, { mode: 'truncate' })
    const w = await conn.openWriter(people.tables[0]!)
    const first = await w.write([[1, 'a@x'], [2, 'b@x']])
    expect(first).toEqual({ written: 2, rejected: [] })
    const rows: Row[] = [
      [3, 'c@x'],
      [1, 'again@x'], // duplicate of an earlier batch
      [4, 'this-email-is-far-too-long@example.org'], // varchar(20)
      [5, 'a@x'], // duplicate on the unique email
      [6, 'f@x'],
      [6, 'f2@x'], // duplicate inside the batch
      [7, 'g@x'],
    ]
    const res = await w.write(rows)
    await w.close()
    expect(res.written).toBe(3)
    expect(res.rejected.map((e) => [e.code, e.key])).toEqual([
      ['duplicate_key', { id: 1 }],
      ['truncation', { id: 4 }],
      ['duplicate_key', { id: 5 }],
      ['duplicate_key', { id: 6 }],
    ])
    expect(res.rejected[2]!.message).toContain('(email)=(a@x)')
    expect((res.rejected[1]!.cause as { code: string }).code).toBe('22001')
    // each reject carries the server's own fields
    expect(res.rejected[1]!.driver).toMatchObject({ code: '22001', sqlState: '22001' })
    expect(res.rejected[2]!.driver).toMatchObject({ code: '23505', constraint: 'people_email_key', table: 'people', detail: 'Key (email)=(a@x) already exists.' })
    const { rows: back } = await readAll(conn, await tableOf(conn, 'people'))
    expect(back.map((r) => r[0])).toEqual([1, 2, 3, 6, 7])
  })

  it('a large batch refused while it is still streaming: the bad row is rejected, the rest loaded', async () => {
    const c = clientOf(conn)
    await c.query('CREATE TABLE big (id int PRIMARY KEY, v text)')
    const table = await tableOf(conn, 'big')
    const w = await conn.openWriter(table)
    const pad = 'é'.repeat(200)
    const rows: Row[] = Array.from({ length: 20_000 }, (_, i) => [i + 1, `${pad}\t${i}`])
    rows[10] = [3, 'early duplicate']
    rows[19_990] = [5, 'late duplicate']
    const res = await w.write(rows)
    expect(res.written).toBe(19_998)
    expect(res.rejected.map((e) => [e.code, e.key])).toEqual([['duplicate_key', { id: 3 }], ['duplicate_key', { id: 5 }]])
    // the next batch on the same writer still works
    expect(await w.write([[100_000, 'after']])).toEqual({ written: 1, rejected: [] })
    await w.close()
    const n = await c.query('SELECT count(*)::int AS n FROM big')
    expect(n.rows[0].n).toBe(19_999)
  })

  it('bisects when the server names no line (a deferred unique constraint fails at commit)', async () => {
    const c = clientOf(conn)
    await c.query('CREATE TABLE deferred (id int, v int, CONSTRAINT v_u UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)')
    const table: TableSchema = await tableOf(conn, 'deferred')
    const w = await conn.openWriter(table)
    const rows: Row[] = Array.from({ length: 64 }, (_, i) => [i, i])
    rows[40] = [40, 3] // collides with row 3, reported only at commit
    const res = await w.write(rows)
    await w.close()
    expect(res.written + res.rejected.length).toBe(64)
    expect(res.rejected).toHaveLength(1)
    expect(res.rejected[0]!.code).toBe('duplicate_key')
    expect(res.rejected[0]!.row).toEqual([40, 3])
    const n = await c.query('SELECT count(*)::int AS n FROM deferred')
    expect(n.rows[0].n).toBe(63)
  })

  it('a broken connection fails the write instead of hanging', async () => {
    const other = await freshPostgres('pgwrite2')
    try {
      await other.conn.prepareTarget(people, { mode: 'create' })
      const w = await other.conn.openWriter(people.tables[0]!)
      const pid = (clientOf(other.conn) as unknown as { processID: number }).processID
      await clientOf(conn).query('SELECT pg_terminate_backend($1)', [pid])
      await expect(w.write([[1, 'x']])).rejects.toMatchObject({ code: 'connection' })
    } finally {
      await other.done()
    }
  })
})

describe('postgres COPY text decoding (no server)', () => {
  it('undoes every COPY escape', async () => {
    expect(unescapeCopy('plain')).toBe('plain')
    expect(unescapeCopy('a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh')).toBe('a\tb\nc\rd\\e\bf\fg\vh')
    expect(unescapeCopy('\\101\\x42\\x4a\\7')).toBe('ABJ\u0007')
    expect(unescapeCopy('\\\\x00ff')).toBe('\\x00ff')
    expect(unescapeCopy('\\q')).toBe('q')
    expect(unescapeCopy('end\\')).toBe('end\\')
  })
  it('round-trips through encodeValue', async () => {
    for (const s of ['\\N', '\\\\', '\t\n\r', 'é\\x41', '\\101']) expect(unescapeCopy(encodeValue(s))).toBe(s)
  })
})
