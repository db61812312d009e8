import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { readSqliteTable } from '../../dialects/sqlite/sqlite-reader.js'

// the scan travels on the reader's canonical export (it shares the reader's key plan)
const scanSqliteTable = readSqliteTable.scan
import type { Connection } from '../../src/dialect.js'
import type { RowError } from '../../src/errors.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { verify } from '../../src/verify/verify.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-verify-scan-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

function file(sql: string): string {
  const f = join(dir, `s${++n}.db`)
  const db = new Database(f)
  db.exec(sql)
  db.close()
  return f
}

/** Every kind of value the reader converts or rejects, in a rowid table and a WITHOUT ROWID one. */
const MIXED = `
  CREATE TABLE m (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price DECIMAL TEXT(8,2), at TIMESTAMP, ok BOOLEAN, score REAL, raw BLOB, loose);
  INSERT INTO m VALUES
    (1, 'plain', 1, '12.50', '2024-01-02 03:04:05.120000', 1, 1.5, X'00ff', 'x'),
    (2, CAST(X'4de9646563696e73' AS TEXT), 2, '01.5', '2024-01-02 03:04:05', 0, NULL, NULL, 7),
    (3, 'real U+FFFD: ' || char(65533), 9007199254740993, '-0.00', '2024-01-02', 1, -0.0, CAST(X'ff00' AS TEXT), 2.5),
    (4, 'text in an integer column', 'abc', '3', 'not a time', 2, 'NaN?', NULL, NULL),
    (5, NULL, -9223372036854775808, '123456.78', NULL, NULL, 1e308, X'', ''),
    (6, 'é', 42, '1e2', '2024-02-30 00:00:00', 0, 0.1, NULL, X'41');
  INSERT INTO m (id, name, qty) WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < 60) SELECT 100 + value, 'row ' || value, value FROM s;
  CREATE TABLE k (a TEXT NOT NULL, b INTEGER NOT NULL, v, PRIMARY KEY (a, b)) WITHOUT ROWID;
  INSERT INTO k WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < 40) SELECT char(97 + value % 5), value, 'v' || value FROM s;
  INSERT INTO k VALUES (CAST(X'62ff' AS TEXT), 1, 'bad'), ('c', 1000, CAST(X'ff' AS TEXT));
`

async function readRows(conn: Connection, t: TableSchema): Promise<{ rows: Row[]; rejected: RowError[] }> {
  const rows: Row[] = []
  const rejected: RowError[] = []
  for await (const b of conn.read(t, { batchRows: 5, batchBytes: 1 << 20 })) {
    rows.push(...b.rows)
    rejected.push(...b.rejected)
  }
  return { rows, rejected }
}

describe('scanning an SQLite table (verify first pass)', () => {
  for (const fallbackEncoding of [undefined, 'latin1']) {
    it(`visits exactly the rows the reader yields and rejects the same ones${fallbackEncoding ? ', with a fallback encoding' : ''}`, async () => {
      const f = file(MIXED)
      const conn = await sqlite.connect(`sqlite:${f}`, fallbackEncoding ? { fallbackEncoding } : {})
      const db = (conn as unknown as { db: Database.Database }).db
      const ctx = fallbackEncoding ? { db, fallbackEncoding } : { db }
      try {
        for (const t of (await conn.introspect()).tables) {
          const read = await readRows(conn, t)
          const visited: Row[] = []
          // small statements: rows that need their stored bytes sit at statement ends
          const scan = await scanSqliteTable(ctx, t, (row) => visited.push(row.slice(0, t.columns.length)), { chunkRows: 7 })
          const key = (r: Row) => JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array || (v && v.type === 'Buffer') ? Buffer.from(v).toString('hex') : v))
          expect(visited.map(key).sort()).toEqual(read.rows.map(key).sort())
          expect(scan.rows).toBe(read.rows.length + read.rejected.length)
          const rejects = (list: RowError[]) => list.map((e) => JSON.stringify([e.code, e.key, e.column])).sort()
          expect(rejects(scan.rejected)).toEqual(rejects(read.rejected))
          if (t.name === 'm') expect(read.rejected.length).toBeGreaterThan(0)
        }
        // the same through the connection, as verify calls it
        const m = (await conn.introspect()).tables.find((t) => t.name === 'm')!
        let seen = 0
        const out = await conn.scan!(m, () => void seen++)
        expect(seen + out.rejected.length).toBe(out.rows)
      } finally {
        await conn.close()
      }
    })
  }

  it('starts again where a stretch began and stops after a number of rows, text keys that are not UTF-8 included', async () => {
    const f = file(MIXED)
    const conn = await sqlite.connect(`sqlite:${f}`)
    const db = (conn as unknown as { db: Database.Database }).db
    const text = (row: Row) => JSON.stringify(row.slice(0, 2), (_, v) => (typeof v === 'bigint' ? String(v) : v))
    try {
      for (const t of (await conn.introspect()).tables) {
        const buckets: string[][] = []
        const stretches: { from: unknown; before: number }[] = []
        const whole = await scanSqliteTable({ db }, t, (row) => buckets.at(-1)!.push(text(row)), {
          chunkRows: 4,
          onStretch: (from, before) => {
            stretches.push({ from, before })
            buckets.push([])
          },
        })
        expect(stretches.length).toBeGreaterThan(5)
        // every stretch, scanned alone from where it began, holds the same rows (in statements of another
        // size, rows that wait for their stored bytes may move within it)
        let rows = 0
        for (let i = 0; i < stretches.length; i++) {
          const limit = (stretches[i + 1]?.before ?? whole.rows) - stretches[i]!.before
          const part: string[] = []
          const out = await scanSqliteTable({ db }, t, (row) => part.push(text(row)), { chunkRows: 3, from: stretches[i]!.from, limit })
          expect(out.rows).toBe(limit)
          expect(part.sort()).toEqual([...buckets[i]!].sort())
          rows += out.rows
        }
        expect(rows).toBe(whole.rows)
      }
    } finally {
      await conn.close()
    }
  })

  it('stops when the signal is aborted', async () => {
    const f = file(MIXED)
    const conn = await sqlite.connect(`sqlite:${f}`)
    const m = (await conn.introspect()).tables.find((t) => t.name === 'm')!
    const ac = new AbortController()
    ac.abort()
    await expect(conn.scan!(m, () => {}, { signal: ac.signal })).rejects.toThrow(/abort/i)
    await conn.close()
  })
})

/** A connection without `scan`, so verify reads batches and seeks by key in its second pass. */
function withoutScan(c: Connection): Connection {
  return {
    dialect: c.dialect,
    description: c.description,
    introspect: (o) => c.introspect(o),
    snapshot: () => c.snapshot(),
    count: (t) => c.count(t),
    read: (t, o) => c.read(t, o),
    prepareTarget: (s, o) => c.prepareTarget(s, o),
    openWriter: (t) => c.openWriter(t),
    finalize: (s, o) => c.finalize(s, o),
    close: () => c.close(),
  }
}

describe('verify on SQLite, scanned or read', () => {
  it('gives the same report through scan as through batches, unreadable rows included', async () => {
    const a = file(MIXED)
    const b = file(`${MIXED}
      UPDATE m SET name = 'changed' WHERE id = 130;
      UPDATE m SET price = '12.5' WHERE id = 1;
      DELETE FROM m WHERE id = 150;
      INSERT INTO m (id, name) VALUES (999, 'new');
      UPDATE k SET v = 'w' WHERE a = 'c' AND b = 7;`)
    const scanned = await verify({ a: `sqlite:${a}`, b: `sqlite:${b}` })
    const ca = await sqlite.connect(`sqlite:${a}`)
    const cb = await sqlite.connect(`sqlite:${b}`)
    try {
      const read = await verify({ a: withoutScan(ca), b: withoutScan(cb), batchRows: 3 })
      const strip = (r: typeof scanned) => r.tables.map(({ ms: _ms, ...t }) => ({ ...t, changed: [...t.changed].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))) }))
      expect(strip(scanned)).toEqual(strip(read))
      const m = scanned.tables.find((t) => t.name === 'm')!
      // '12.50' and '12.5' are the same decimal; text that does not convert makes both sides unreadable
      expect(m).toMatchObject({ missing: [{ id: 150 }], extra: [{ id: 999 }], changed: [{ key: { id: 130 }, columns: ['name'] }] })
      expect(m.unreadableA).toBeGreaterThan(0)
      expect(m.unreadableB).toBe(m.unreadableA)
      const k = scanned.tables.find((t) => t.name === 'k')!
      expect(k.changed).toEqual([{ key: { a: 'c', b: 7 }, columns: ['v'] }])
    } finally {
      await ca.close()
      await cb.close()
    }
  })
})
