import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { AbortError, RowError } from '../../src/errors.js'
import { decodeKey, encodeKey } from '../../src/journal/keys.js'
import { buildDb, readAll, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

describe('reading values that do not fit their column', () => {
  const file = tmp.path('dirty.db')
  buildDb(
    file,
    `
    CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, at DATETIME, price decimal(5,2), flag boolean, small smallint);
    INSERT INTO t VALUES (1, 10, '2010-01-14 10:00:00', 1.5, 1, 1);
    INSERT INTO t VALUES (2, 'lots-of-it', '2010-01-14 10:00:00', 2, 0, 2);
    INSERT INTO t VALUES (3, 12, '01/14/10 1', 3.25, 't', 3);
    INSERT INTO t VALUES (4, 13.0, '2010-01-14', '4.50', 'no', 4);
    INSERT INTO t VALUES (5, 14, '2010-01-14T10:00:00.5', 123.0, 1, 5);
    INSERT INTO t VALUES (9, 18, NULL, 123456.0, NULL, 9);
    INSERT INTO t VALUES (6, 15, NULL, NULL, 2, 6);
    INSERT INTO t VALUES (7, 16, NULL, NULL, NULL, 40000);
    INSERT INTO t VALUES (8, 17, X'00', NULL, NULL, 8);
    CREATE TABLE nokey (a text, b integer);
    INSERT INTO nokey VALUES ('x', 1), ('y', 'two'), ('z', 3);
    `,
  )

  it('rejects only the rows with a bad value, with table, key, column and raw value', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 't')
    const batches = await readAll(conn, t, 3)
    await conn.close()
    const rows = batches.flatMap((b) => b.rows)
    const rejected = batches.flatMap((b) => b.rejected)
    expect(rows.map((r) => r[0])).toEqual([1, 4, 5])
    expect(rows[0]).toEqual([1, 10, '2010-01-14 10:00:00', '1.5', true, 1])
    // 13.0 in an INTEGER column is stored as 13; '4.50' in NUMERIC affinity becomes 4.5; a bare date gets midnight
    expect(rows[1]).toEqual([4, 13, '2010-01-14 00:00:00', '4.5', false, 4])
    expect(rows[2]).toEqual([5, 14, '2010-01-14 10:00:00.5', '123', true, 5])
    const summary = rejected.map((e) => [e.code, e.table, e.key, e.column, e.value])
    expect(summary).toEqual([
      ['type_conversion', 't', { id: 2 }, 'qty', 'lots-of-it'],
      ['type_conversion', 't', { id: 3 }, 'at', '01/14/10 1'],
      ['type_conversion', 't', { id: 6 }, 'flag', 2],
      ['out_of_range', 't', { id: 7 }, 'small', 40000],
      ['type_conversion', 't', { id: 8 }, 'at', Buffer.from([0])],
      ['out_of_range', 't', { id: 9 }, 'price', 123456],
    ])
    expect(rejected.every((e) => e instanceof RowError)).toBe(true)
    expect(rejected[0]!.message).toContain('t.qty')
    expect(rejected[0]!.row).toEqual([2, 'lots-of-it', '2010-01-14 10:00:00', '2', false, 2])
  })

  it('keys rows of a table without a primary key by rowid', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'nokey')
    const batches = await readAll(conn, t)
    await conn.close()
    expect(batches.flatMap((b) => b.rows)).toEqual([
      ['x', 1],
      ['z', 3],
    ])
    const [e] = batches.flatMap((b) => b.rejected)
    expect(e).toMatchObject({ code: 'type_conversion', table: 'nokey', key: { rowid: 2 }, column: 'b', value: 'two' })
    expect(batches.at(-1)!.lastKey).toEqual([3])
  })
})

describe('text that is not valid UTF-8', () => {
  const file = tmp.path('latin1.db')
  buildDb(
    file,
    `
    CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, raw BLOB, note);
    INSERT INTO people VALUES (1, 'plain', NULL, NULL);
    INSERT INTO people VALUES (2, CAST(X'4de9646563696e73' AS TEXT), CAST(X'ff00' AS TEXT), CAST(X'c3' AS TEXT));
    INSERT INTO people VALUES (3, 'real U+FFFD: ' || char(65533), NULL, NULL);
    INSERT INTO people VALUES (4, 'after', NULL, NULL);
    `,
  )

  it('rejects the row as invalid_encoding without a fallback, never U+FFFD', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'people')
    const batches = await readAll(conn, t)
    await conn.close()
    const rows = batches.flatMap((b) => b.rows)
    expect(rows.map((r) => r[0])).toEqual([1, 3, 4])
    expect(rows[1]![1]).toBe('real U+FFFD: \uFFFD')
    const [e] = batches.flatMap((b) => b.rejected)
    expect(e).toMatchObject({ code: 'invalid_encoding', table: 'people', key: { id: 2 }, column: 'name' })
    expect(Buffer.from(e!.value as Uint8Array).toString('hex')).toBe('4de9646563696e73')
    expect(batches.some((b) => b.fixed)).toBe(false)
  })

  it('decodes with the fallback encoding and counts the fix', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`, { fallbackEncoding: 'cp1252' })
    const t = tableOf((await conn.introspect()).tables, 'people')
    const batches = await readAll(conn, t)
    await conn.close()
    expect(batches.flatMap((b) => b.rejected)).toEqual([])
    const rows = batches.flatMap((b) => b.rows)
    expect(rows).toHaveLength(4)
    expect(rows[1]![1]).toBe('Médecins')
    // bytes columns get the stored bytes, whatever the storage class
    expect(Buffer.from(rows[1]![2] as Uint8Array).toString('hex')).toBe('ff00')
    expect(Buffer.from(rows[1]![3] as Uint8Array).toString('hex')).toBe('c3')
    expect(batches.reduce((n, b) => n + (b.fixed?.name ?? 0), 0)).toBe(1)
  })
})

describe('keyset order and snapshots', () => {
  it('reads a WITHOUT ROWID table in primary-key order across batches, text keys included', async () => {
    const file = tmp.path('keyset.db')
    buildDb(file, `CREATE TABLE k (a TEXT NOT NULL, b INTEGER NOT NULL, v, PRIMARY KEY (a, b)) WITHOUT ROWID;`, (db) => {
      const ins = db.prepare('INSERT INTO k VALUES (?, ?, ?)')
      for (const a of ['b', 'a', 'c']) for (let b = 5; b >= 1; b--) ins.run(a, b, `${a}${b}`)
      // an invalid UTF-8 key sorts by its bytes
      db.exec("INSERT INTO k VALUES (CAST(X'62ff' AS TEXT), 1, 'bad'), (CAST(X'62ff' AS TEXT), 2, 'bad2')")
    })
    const conn = await sqlite.connect(`sqlite:${file}`, { fallbackEncoding: 'latin1' })
    const t = tableOf((await conn.introspect()).tables, 'k')
    expect(t.rowid).toBe(false)
    const batches = await readAll(conn, t, 4)
    await conn.close()
    const keys = batches.flatMap((b) => b.rows).map((r) => `${r[0]}${r[1]}`)
    expect(keys).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5', 'bÿ1', 'bÿ2', 'c1', 'c2', 'c3', 'c4', 'c5'])
    expect(batches.length).toBeGreaterThanOrEqual(5)
    expect(batches[0]!.lastKey).toEqual(['a', 4])
    // and a copy is a WITHOUT ROWID table too
    const out = tmp.path('keyset-copy.db')
    const { ferry } = await import('../../src/ferry.js')
    const report = await ferry({ from: `sqlite:${file}`, to: `sqlite:${out}`, fallbackEncoding: 'latin1' })
    expect(report.tables[0]).toMatchObject({ read: 17, written: 17 })
    const db = new Database(out, { readonly: true })
    expect(db.prepare("SELECT wr FROM pragma_table_list WHERE name = 'k'").pluck().get()).toBe(1)
    db.close()
  })

  it('resumes exactly after a key holding invalid UTF-8, its checkpoint keeping the stored bytes', async () => {
    const file = tmp.path('bad-key.db')
    buildDb(file, `CREATE TABLE k (a TEXT NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b)) WITHOUT ROWID;`, (db) => {
      // 'b\xff' reads as 'bÿ' through latin1, whose UTF-8 (62 c3 bf) sorts before the stored 62 ff; 'b\x80'
      // reads as U+0080 (62 c2 80), which sorts after the stored 62 80 and before 'b\xc3'
      db.exec(`INSERT INTO k VALUES ('b', 1), (CAST(X'6280' AS TEXT), 1), (CAST(X'6280' AS TEXT), 2), ('bé', 1), (CAST(X'62ff' AS TEXT), 1), (CAST(X'62ff' AS TEXT), 2), ('c', 1)`)
    })
    const conn = await sqlite.connect(`sqlite:${file}`, { fallbackEncoding: 'latin1' })
    const t = tableOf((await conn.introspect()).tables, 'k')
    const all = (await readAll(conn, t, 100)).flatMap((b) => b.rows).map((r) => `${r[0]}${r[1]}`)
    expect(all).toEqual(['b1', 'b\u00801', 'b\u00802', 'bé1', 'bÿ1', 'bÿ2', 'c1'])
    // stop after each row in turn, keep the key as a checkpoint does (encoded, decoded), resume from it
    for (let stop = 1; stop < all.length; stop++) {
      const first = await readAll(conn, t, stop)
      const key = decodeKey(encodeKey(first[0]!.lastKey))
      const rest: string[] = []
      for await (const b of conn.read(t, { batchRows: 100, batchBytes: 1 << 20, after: key })) rest.push(...b.rows.map((r) => `${r[0]}${r[1]}`))
      expect([...first[0]!.rows.map((r) => `${r[0]}${r[1]}`), ...rest]).toEqual(all)
    }
    await conn.close()
  })

  it('resumes after a checkpoint key', async () => {
    const file = tmp.path('resume.db')
    buildDb(file, 'CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT);', (db) => {
      const ins = db.prepare('INSERT INTO r VALUES (?, ?)')
      for (let i = 1; i <= 20; i++) ins.run(i * 10, `v${i}`)
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'r')
    const rows = []
    for await (const b of conn.read(t, { batchRows: 7, batchBytes: 1 << 20, after: [150] })) rows.push(...b.rows)
    await conn.close()
    expect(rows.map((r) => r[0])).toEqual([160, 170, 180, 190, 200])
  })

  it('keeps int64 values past 2^53 exact and mixes storage classes row by row', async () => {
    const file = tmp.path('ints.db')
    buildDb(
      file,
      `CREATE TABLE n (id INTEGER PRIMARY KEY, big INTEGER, any_text TEXT);
       INSERT INTO n VALUES (1, 9007199254740993, 1), (2, -9223372036854775808, 2.5), (3, 42, X'41'), (4, 9223372036854775807, 'x');`,
    )
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'n')
    const [b] = await readAll(conn, t)
    await conn.close()
    expect(b!.rows).toEqual([
      [1, 9007199254740993n, '1'],
      [2, -9223372036854775808n, '2.5'],
      [3, 42, 'A'],
      [4, 9223372036854775807n, 'x'],
    ])
  })

  it('sees the data as it was when snapshot() was called', async () => {
    const file = tmp.path('snap.db')
    buildDb(file, "PRAGMA journal_mode = WAL; CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO s VALUES (1, 'a'), (2, 'b');")
    const conn = await sqlite.connect(`sqlite:${file}`)
    expect(await conn.snapshot()).toEqual({ guarantee: 'one read transaction' })
    const t = tableOf((await conn.introspect()).tables, 's')
    const writer = new Database(file)
    writer.exec("INSERT INTO s VALUES (3, 'c'); DELETE FROM s WHERE id = 1")
    writer.close()
    const rows = (await readAll(conn, t, 1)).flatMap((b) => b.rows)
    expect(await conn.count(t)).toBe(2)
    await conn.close()
    expect(rows).toEqual([
      [1, 'a'],
      [2, 'b'],
    ])
    const after = await sqlite.connect(`sqlite:${file}`)
    expect((await readAll(after, t)).flatMap((b) => b.rows)).toEqual([
      [2, 'b'],
      [3, 'c'],
    ])
    await after.close()
  })

  it('keeps batches near batchBytes for wide rows', async () => {
    const file = tmp.path('wide.db')
    buildDb(file, 'CREATE TABLE w (id INTEGER PRIMARY KEY, blob BLOB);', (db) => {
      const ins = db.prepare('INSERT INTO w VALUES (?, ?)')
      for (let i = 1; i <= 600; i++) ins.run(i, Buffer.alloc(10_000, i % 256))
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'w')
    const sizes: number[] = []
    for await (const b of conn.read(t, { batchRows: 10_000, batchBytes: 100_000 })) sizes.push(b.rows.length)
    await conn.close()
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(600)
    // after the first (probe) batch, about 100 kB per batch: 9 or 10 rows of 10 kB
    expect(Math.max(...sizes.slice(1))).toBeLessThanOrEqual(10)
  })
})

describe('aborting', () => {
  it('throws AbortError instead of ending the table early', async () => {
    const file = tmp.path('abort.db')
    buildDb(file, 'CREATE TABLE a (id INTEGER PRIMARY KEY);', (db) => {
      const ins = db.prepare('INSERT INTO a VALUES (?)')
      for (let i = 1; i <= 50; i++) ins.run(i)
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'a')
    const ac = new AbortController()
    let seen = 0
    const err = await (async () => {
      for await (const b of conn.read(t, { batchRows: 10, batchBytes: 1 << 20, signal: ac.signal })) {
        seen += b.rows.length
        ac.abort()
      }
    })().catch((e) => e)
    await conn.close()
    expect(err).toBeInstanceOf(AbortError)
    // the first batch (a small probe) arrived, nothing after the abort
    expect(seen).toBe(8)
  })
})
