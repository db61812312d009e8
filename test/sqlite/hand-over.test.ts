import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { readSqliteTable } from '../../dialects/sqlite/sqlite-reader.js'
import { sqliteDialect } from '../../dialects/sqlite/sqlite-dialect.js'
import { valueToJson } from '../../src/schema/rows.js'
import type { Row } from '../../src/schema/types.js'
import { readAll, tableOf, tempDir } from './helpers.js'

// The SQLite → SQLite pass-through copies stored values as they are, only where the reader would read each one
// without rejecting or repairing it, and the same value back from the copy: checked here value by value against
// the reader itself, over the awkward values of every declared type the type map knows
const tmp = tempDir()
afterAll(() => tmp.cleanup())

const bytes = (hex: string) => Buffer.from(hex, 'hex')
/** Text whose stored bytes are `hex` (invalid UTF-8 included), as SQL. */
const rawText = (hex: string) => ({ sql: `CAST(x'${hex}' AS TEXT)` })

type Probe = unknown
const PROBES: Record<string, Probe[]> = {
  BOOLEAN: [0, 1, 2, -1, 'true', 1.5, bytes('01')],
  SMALLINT: [0, -32768, 32767, 32768, -32769, '12', '12abc', 1.5, 9223372036854775807n],
  INT4: [2147483647, 2147483648, -2147483649],
  INTEGER: [-9223372036854775808n, 9223372036854775807n, 9007199254740993n, 1.25, 'x'],
  REAL: [1.5, 0, -0, 1e308, -1e-300, 'NaN', 'nan', 'Infinity', Infinity, -Infinity, 9007199254740993n],
  'FLOATING POINT': [1.5, 2, 9007199254740993n, -9007199254740993n, 'NaN'],
  FLOAT4: [3.4028234663852886e38, 0.1],
  'NUMERIC(10,2)': [12.5, 12.345, 1e-7, 123456789.5, '12.50', 'abc', 99999999.99, 1e21, 100, 123456789, 99999999, -99999999, 0.1 + 0.2, '1234567890123456789012.5'],
  'NUMERIC(4)': [1234, 12345, 1.5, 0.5, '9999'],
  DECIMAL: [1e21, 0.1, 1e-7, 'x', '123456789012345678901234567890.123', 12, -0],
  TEXT: ['abc', 'é', '\uFFFD', 'a\u0000b', 12, 1.5, bytes('00ff'), rawText('c328'), rawText('61ff62'), rawText('eda080'), rawText('61006280'), '😀'],
  'VARCHAR(3)': ['toolong', 'ok'],
  JSON: ['{"a":1}', '{a:1}', '[1,]', ' 1 ', 'NaN', '"\u0001"', '"é"', rawText('22c322'), '1e999', '[' .repeat(2000) + ']'.repeat(2000)],
  BLOB: [bytes('00ff'), 'text', 12, 1.5, rawText('ff')],
  '': [bytes('00'), 'abc', 12],
  DATE: ['2024-02-29', '2023-02-29', '2024-2-29', '2024-02-29 00:00:00', 20240229, '0000-01-01', '9999-12-31', ' 2024-01-01', '2024-01-01 ', '-001-01-01'],
  TIME: ['12:00:00', '24:00:00', '23:59:60', '12:00', '12:00:00.5', '12:00:00.123456789', '12:00:00.1234567891', '12:00:00.', '12:00:00.50', '12:00:00.5a', 43200],
  DATETIME: [
    '2024-01-01 12:00:00',
    '2024-01-01T12:00:00',
    '2024-01-01 12:00:00.000010',
    '2024-01-01 12:00:00.123456789',
    '2024-01-01 12:00:00.1234567891',
    '2024-01-01 12:00:00+02:00',
    1700000000,
    1700000000.5,
    '2024-02-30 00:00:00',
    '2024-01-01 24:00:00',
    '2024-01-01 12:00:60',
    '2024-01-01 12:00:00.',
    '2024-01-01 12:00:00.x',
    '2024-01-01',
  ],
  'TIMESTAMP(3)': ['2024-01-01 12:00:00.123456', '2024-01-01 12:00:00.1'],
  TIMESTAMPTZ: [
    '2024-01-01 12:00:00+02:00',
    '2024-01-01 12:00:00.5-05:30',
    '2024-01-01 12:00:00.123456789+00:00',
    '2024-01-01 12:00:00.1234567891+00:00',
    '2024-01-01 12:00:00Z',
    '2024-01-01 12:00:00',
    '2024-01-01 12:00:00+0200',
    '2024-01-01 12:00:00+99:99',
    '2024-01-01T12:00:00+02:00',
    '2024-01-01 12:00:00.+02:00',
    1700000000,
  ],
  UUID: ['123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000', '{123e4567-e89b-12d3-a456-426614174000}', bytes('00112233445566778899aabbccddeeff'), ' 123e4567-e89b-12d3-a456-426614174000', '123e4567-e89b-12d3-a456-42661417400g'],
}

/** One table per declared type: `id`, and `v` holding the probes in order. */
function build(file: string, declared: string, probes: Probe[]): void {
  const db = new Database(file)
  try {
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v ${declared})`)
    for (const [i, p] of probes.entries()) {
      if (p !== null && typeof p === 'object' && 'sql' in p) db.prepare(`INSERT INTO t VALUES (?, ${(p as { sql: string }).sql})`).run(i + 1)
      else db.prepare('INSERT INTO t VALUES (?, ?)').run(i + 1, p as never)
    }
  } finally {
    db.close()
  }
}

/** Each row's values as the reader gives them, by id; the ids it rejects and the ids whose row it repaired. */
async function read(file: string, options: { numericTimestamps?: boolean } = {}) {
  const conn = await sqliteDialect.connect(`sqlite:${file}`, options.numericTimestamps ? { sqliteNumericTimestamps: 'unixepoch' } : {})
  try {
    const table = tableOf((await conn.introspect()).tables, 't')
    const values = new Map<number, unknown>()
    const rejected = new Set<number>()
    let fixed = 0
    for (const b of await readAll(conn, table, 1000)) {
      for (const r of b.rows) values.set(Number(r[0]), JSON.stringify(valueToJson(r[1] as Row[number])))
      for (const e of b.rejected) rejected.add(Number((e.key as Record<string, unknown>).id))
      fixed += Object.values(b.fixed ?? {}).reduce((a, n) => a + n, 0)
    }
    return { table, values, rejected, fixed }
  } finally {
    await conn.close()
  }
}

describe('the hand-over condition against the reader', () => {
  let k = 0
  for (const [declared, probes] of Object.entries(PROBES)) {
    it(`${declared || '(no type)'}: a value passed as it is stored reads back as the row path writes it`, async () => {
      const file = tmp.path(`probe-${++k}.db`)
      build(file, declared, probes)
      const source = await read(file)
      const db = new Database(file)
      let plain: number[]
      try {
        const sql = readSqliteTable.handOver(db, source.table)
        plain = (db.prepare(`SELECT id FROM t WHERE ${sql.where} ORDER BY id`).pluck().all() as number[]).map(Number)
      } finally {
        db.close()
      }
      // the condition keeps at least the ordinary values, so it is no stub
      expect(plain.length).toBeGreaterThan(0)
      for (const id of plain) expect({ id, declared, rejected: source.rejected.has(id) }).toEqual({ id, declared, rejected: false })
      // the plain rows, copied as stored into the same declared type, read back as from the source
      const copy = tmp.path(`copy-${k}.db`)
      const c = new Database(copy)
      try {
        c.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v ${declared})`)
        c.prepare('ATTACH DATABASE ? AS s').run(file)
        c.exec(`INSERT INTO t SELECT * FROM s.t WHERE id IN (${plain.join(', ')})`)
        c.exec('DETACH DATABASE s')
      } finally {
        c.close()
      }
      const back = await read(copy)
      expect(back.rejected.size).toBe(0)
      expect(back.fixed).toBe(0)
      for (const id of plain) expect({ id, declared, value: back.values.get(id) }).toEqual({ id, declared, value: source.values.get(id) })
      // and the row path repairs none of them: a repair the copy would not make shows as a fix on the source side
      const onlyPlain = tmp.path(`only-${k}.db`)
      const o = new Database(onlyPlain)
      try {
        o.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v ${declared})`)
        o.prepare('ATTACH DATABASE ? AS s').run(file)
        o.exec(`INSERT INTO t SELECT * FROM s.t WHERE id IN (${plain.join(', ')})`)
      } finally {
        o.close()
      }
      expect((await read(onlyPlain)).fixed).toBe(0)
    })
  }

  it('numbers in timestamp columns are never passed as they are, whatever the source reads them as', async () => {
    const file = tmp.path('numeric.db')
    build(file, 'DATETIME', [1700000000, 1700000000.5, '2024-01-01 00:00:00'])
    const db = new Database(file)
    try {
      const table = (await read(file, { numericTimestamps: true })).table
      const sql = readSqliteTable.handOver(db, table)
      expect(db.prepare(`SELECT id FROM t WHERE ${sql.where}`).pluck().all()).toEqual([3])
    } finally {
      db.close()
    }
  })
})
