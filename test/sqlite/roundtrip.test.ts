import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { ferry } from '../../src/ferry.js'
import type { ColumnSchema, DatabaseSchema, LogicalType, Row, TableSchema } from '../../src/schema/types.js'
import { readAll, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

const col = (name: string, type: LogicalType, nullable = true): ColumnSchema => ({ name, type, nativeType: '', nullable })

const types: [string, LogicalType][] = [
  ['b', { kind: 'boolean' }],
  ['i16', { kind: 'int16' }],
  ['i32', { kind: 'int32' }],
  ['i64', { kind: 'int64' }],
  ['dec', { kind: 'decimal', precision: 38, scale: 10 }],
  ['f32', { kind: 'float32' }],
  ['f64', { kind: 'float64' }],
  ['t', { kind: 'text' }],
  ['vc', { kind: 'text', length: 20 }],
  ['bin', { kind: 'bytes' }],
  ['d', { kind: 'date' }],
  ['tm', { kind: 'time', precision: 6 }],
  ['ts', { kind: 'timestamp', precision: 6 }],
  ['tz', { kind: 'timestamptz', precision: 6 }],
  ['u', { kind: 'uuid' }],
  ['j', { kind: 'json' }],
]

const bigText = 'x'.repeat(70_000) + '€'
const bigBlob = Buffer.alloc(1 << 20, 7)

// one row per edge value set; the id orders them
const rows: Row[] = [
  [1, true, -32768, -2147483648, -9223372036854775808n, '1234567890123456789012345678.1234567890', 0.5, NaN, '', '', Buffer.from([0, 255, 0]), '2024-02-29', '23:59:59.999999', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456+05:30', '123e4567-e89b-12d3-a456-426614174000', '{"a":[1,2,{"b":null}]}'],
  [2, false, 32767, 2147483647, 9223372036854775807n, '-0.0000000001', -1.25, Infinity, 'a\0b', 'tab\there', Buffer.alloc(0), '0001-01-01', '00:00:00', '1970-01-01 00:00:00', '1999-12-31 23:59:59-08:00', '00000000-0000-0000-0000-000000000000', '1.0'],
  [3, null, 0, 0, 9007199254740993n, '0', 0, -Infinity, 'back\\slash', 'cr\r\nlf\n', bigBlob, '9999-12-31', '12:00:00.5', '2000-01-01 00:00:00.000001', '2000-01-01 00:00:00+00:00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"text"'],
  [4, true, null, null, -9007199254740993n, '99999999999999999999999999.9999999999', null, 1.7976931348623157e308, '😀 four bytes', null, null, null, null, null, null, null, 'null'],
  [5, null, null, null, 9007199254740991, null, null, 5e-324, bigText, 'NULL', null, null, null, null, null, null, null],
  [6, null, null, null, null, null, null, null, null, '', null, null, null, null, null, null, '[]'],
]

function schema(): DatabaseSchema {
  const table: TableSchema = {
    name: 'all types',
    columns: [{ ...col('id', { kind: 'int32' }, false), autoIncrement: true }, ...types.map(([n, t]) => col(n, t))],
    primaryKey: { columns: ['id'] },
    uniques: [],
    indexes: [],
    foreignKeys: [],
  }
  return { dialect: 'postgres', tables: [table], objects: [] }
}

describe('every logical type round-trips through the writer and the reader', () => {
  it('keeps values exactly and reads the logical types back', async () => {
    const file = tmp.path('types.db')
    const target = await sqlite.connect(`sqlite:${file}`, { create: true })
    const s = schema()
    await target.prepareTarget(s, { mode: 'create' })
    const w = await target.openWriter(s.tables[0]!)
    const res = await w.write(rows)
    await w.close()
    expect(res.rejected).toEqual([])
    expect(res.written).toBe(rows.length)
    expect(await target.finalize(s, {})).toEqual([])
    await target.close()

    const source = await sqlite.connect(`sqlite:${file}`)
    await source.snapshot()
    const back = await source.introspect()
    const t = tableOf(back.tables, 'all types')
    expect(t.columns.map((c) => [c.name, c.type])).toEqual([['id', { kind: 'int64' }], ...types])
    expect(t.columns[0]!.autoIncrement).toBe(true)
    const batches = await readAll(source, t, 2)
    await source.close()
    expect(batches.flatMap((b) => b.rejected)).toEqual([])
    const got = batches.flatMap((b) => b.rows)
    expect(got).toHaveLength(rows.length)
    for (let r = 0; r < rows.length; r++) {
      for (let c = 0; c < rows[r]!.length; c++) {
        const want = rows[r]![c]
        const have = got[r]![c]
        const where = `row ${r + 1} column ${c === 0 ? 'id' : types[c - 1]![0]}`
        if (want instanceof Uint8Array) {
          expect(have instanceof Uint8Array, where).toBe(true)
          expect(Buffer.compare(Buffer.from(have as Uint8Array), want), where).toBe(0)
        } else if (typeof want === 'number' && Number.isNaN(want)) expect(Number.isNaN(have), where).toBe(true)
        else expect(have, where).toStrictEqual(want)
      }
    }
    expect(batches.at(-1)!.lastKey).toEqual([6])
  })

  it('stores decimals and JSON with TEXT affinity so no digit is lost', () => {
    const db = new Database(tmp.path('types.db'), { readonly: true })
    const r = db.prepare('SELECT typeof(dec) AS td, dec, typeof(j) AS tj, j FROM "all types" WHERE id = 1').get() as Record<string, unknown>
    const r2 = db.prepare('SELECT typeof(j) AS tj, j FROM "all types" WHERE id = 2').get() as Record<string, unknown>
    db.close()
    expect(r).toEqual({ td: 'text', dec: '1234567890123456789012345678.1234567890', tj: 'text', j: '{"a":[1,2,{"b":null}]}' })
    expect(r2).toEqual({ tj: 'text', j: '1.0' })
  })

  it('copies SQLite to SQLite with ferry and the same values come out', async () => {
    const out = tmp.path('types-copy.db')
    const report = await ferry({ from: `sqlite:${tmp.path('types.db')}`, to: `sqlite:${out}` })
    expect(report.ok).toBe(true)
    expect(report.clean).toBe(true)
    expect(report.tables[0]).toMatchObject({ read: 6, written: 6, rejected: 0 })
    const a = new Database(tmp.path('types.db'), { readonly: true })
    const b = new Database(out, { readonly: true })
    const dump = (db: Database.Database) =>
      (db.prepare('SELECT * FROM "all types" ORDER BY id').raw(true).safeIntegers(true).all() as unknown[][]).map((r) =>
        // compare blobs by digest: a deep diff of a 1 MiB buffer is slow
        r.map((v) => (Buffer.isBuffer(v) ? `blob:${v.length}:${createHash('sha1').update(v).digest('hex')}` : v)),
      )
    expect(dump(b)).toEqual(dump(a))
    const typesOf = (db: Database.Database) =>
      db.prepare(`SELECT ${['id', ...types.map(([n]) => n)].map((n) => `typeof("${n}")`).join(', ')} FROM "all types" ORDER BY id`).raw(true).all()
    expect(typesOf(b)).toEqual(typesOf(a))
    const decl = (db: Database.Database) => db.prepare('SELECT name, type FROM pragma_table_info(?)').all('all types')
    expect(decl(b)).toEqual(decl(a))
    a.close()
    b.close()
  })
})
