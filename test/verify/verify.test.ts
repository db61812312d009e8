import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { verify } from '../../src/verify/verify.js'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-verify-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

/** A fresh SQLite file made by running `sql`, and its URL. */
function sqliteFile(sql: string, fill?: (db: Database.Database) => void): string {
  const file = join(dir, `db${++n}.sqlite`)
  const db = new Database(file)
  db.exec(sql)
  fill?.(db)
  db.close()
  return `sqlite:${file}`
}

const PEOPLE = `CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, born DATE);`
function people(db: Database.Database, count = 100): void {
  const ins = db.prepare('INSERT INTO people VALUES (?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= count; i++) ins.run(i, `person ${i}`, i / 4, `19${String(i % 100).padStart(2, '0')}-01-0${(i % 9) + 1}`)
  })()
}

describe('verify on SQLite', () => {
  it('finds a copy equal, and reports counts per table', async () => {
    const a = join(dir, 'types-a.db')
    const b = join(dir, 'types-b.db')
    await buildFixture(typesFixture, `sqlite:${a}`)
    const copy = await ferry({ from: `sqlite:${a}`, to: `sqlite:${b}` })
    expect(copy.ok).toBe(true)
    const r = await verify({ a: `sqlite:${a}`, b: `sqlite:${b}` })
    expect(r.equal).toBe(true)
    const t = r.tables.find((x) => x.name === 'types_all')!
    expect(t.rowsA).toBe(copy.tables.find((x) => x.name === 'types_all')!.read)
    expect(t.rowsB).toBe(t.rowsA)
    expect(t.key).toEqual(['id'])
  })

  it('names the key and column of a single changed value, and missing and extra rows', async () => {
    const a = sqliteFile(PEOPLE, (db) => people(db, 5000))
    const b = sqliteFile(PEOPLE, (db) => {
      people(db, 5000)
      db.prepare('UPDATE people SET name = ? WHERE id = 4321').run('someone else')
      db.prepare('UPDATE people SET score = 0.5, born = NULL WHERE id = 17').run()
      db.prepare('DELETE FROM people WHERE id IN (10, 2500)').run()
      db.prepare("INSERT INTO people VALUES (9000, 'new', NULL, NULL)").run()
    })
    const r = await verify({ a, b })
    expect(r.equal).toBe(false)
    const t = r.tables[0]!
    expect(t.rowsA).toBe(5000)
    expect(t.rowsB).toBe(4999)
    expect(t.changed).toEqual(
      expect.arrayContaining([
        { key: { id: 4321 }, columns: ['name'] },
        { key: { id: 17 }, columns: ['score', 'born'] },
      ]),
    )
    expect(t.changedCount).toBe(2)
    expect(t.missing.sort((x, y) => (x.id as number) - (y.id as number))).toEqual([{ id: 10 }, { id: 2500 }])
    expect(t.extra).toEqual([{ id: 9000 }])
    // small batches: the second pass seeks to the few batches holding differing segments
    const small = await verify({ a, b, batchRows: 97 })
    expect(small.tables[0]).toMatchObject({ changedCount: 2, missingCount: 2, extraCount: 1 })
    expect(small.tables[0]!.changed).toEqual(expect.arrayContaining(t.changed))
  })

  it('compares tables without a key as multisets of rows', async () => {
    const sql = 'CREATE TABLE log (at TEXT, msg TEXT);'
    const a = sqliteFile(sql, (db) => db.exec("INSERT INTO log VALUES ('1', 'x'), ('1', 'x'), ('2', 'y')"))
    const b = sqliteFile(sql, (db) => db.exec("INSERT INTO log VALUES ('1', 'x'), ('2', 'y'), ('2', 'y')"))
    const r = await verify({ a, b })
    const t = r.tables[0]!
    expect(t.key).toEqual([])
    expect(t.missing).toEqual([{ at: '1', msg: 'x' }])
    expect(t.extra).toEqual([{ at: '2', msg: 'y' }])
    const same = await verify({ a, b: sqliteFile(sql, (db) => db.exec("INSERT INTO log VALUES ('2', 'y'), ('1', 'x'), ('1', 'x')")) })
    expect(same.equal).toBe(true)
  })

  it('applies per-column tolerances', async () => {
    const sql = 'CREATE TABLE m (id INTEGER PRIMARY KEY, v REAL, label TEXT);'
    const a = sqliteFile(sql, (db) => db.exec("INSERT INTO m VALUES (1, 1.0, 'Alpha'), (2, 2.5, 'beta')"))
    const b = sqliteFile(sql, (db) => db.exec("INSERT INTO m VALUES (1, 1.0000001, 'alpha  '), (2, 2.5, 'beta')"))
    const strict = await verify({ a, b })
    expect(strict.tables[0]!.changed).toEqual([{ key: { id: 1 }, columns: ['v', 'label'] }])
    const loose = await verify({ a, b, tolerances: { 'm.v': { floatEpsilon: 1e-6 }, '*.label': { caseInsensitive: true, trimTrailingSpaces: true } } })
    expect(loose.equal).toBe(true)
  })

  it('follows recorded renames and counts expected drops instead of reporting them', async () => {
    const a = sqliteFile(PEOPLE, (db) => people(db, 50))
    const b = sqliteFile('CREATE TABLE persons (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL, score REAL, born DATE);', (db) => {
      const ins = db.prepare('INSERT INTO persons VALUES (?, ?, ?, ?)')
      for (let i = 1; i <= 50; i++) if (i !== 7 && i !== 8) ins.run(i, `person ${i}`, i / 4, `19${String(i % 100).padStart(2, '0')}-01-0${(i % 9) + 1}`)
    })
    const unrenamed = await verify({ a, b })
    expect(unrenamed.equal).toBe(false)
    expect(unrenamed.tables.map((t) => t.problems[0])).toEqual(['table is missing on b', 'table exists only on b'])
    const r = await verify({
      a,
      b,
      renames: [
        { kind: 'table', from: 'people', to: 'persons', reason: 'clash' },
        { kind: 'column', table: 'people', from: 'name', to: 'full_name', reason: 'clash' },
      ],
      expectDropped: { people: ['{"id":7}', { id: 8 }] },
    })
    expect(r.tables).toHaveLength(1)
    expect(r.tables[0]).toMatchObject({ name: 'people', nameB: 'persons', equal: true, expectedDropped: 2, rowsA: 50, rowsB: 48 })
    expect(r.equal).toBe(true)
  })

  it('reports columns only one side has, and narrows to the tables asked for', async () => {
    const a = sqliteFile('CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, y TEXT); CREATE TABLE u (id INTEGER PRIMARY KEY);')
    const b = sqliteFile('CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT, z TEXT);')
    const r = await verify({ a, b, tables: ['t'] })
    expect(r.tables).toHaveLength(1)
    expect(r.tables[0]!.problems).toEqual(['column y is missing on b', 'column z exists only on b'])
    expect(r.equal).toBe(false)
    await expect(verify({ a, b, tables: ['nope'] })).rejects.toThrow(/no table "nope"/)
  })

  it('reports a table whose text keys differ only in case as different rows', async () => {
    const sql = 'CREATE TABLE k (code TEXT PRIMARY KEY, v INTEGER);'
    const a = sqliteFile(sql, (db) => db.exec("INSERT INTO k VALUES ('abc', 1), ('ABD', 2)"))
    const b = sqliteFile(sql, (db) => db.exec("INSERT INTO k VALUES ('ABC', 1), ('ABD', 2)"))
    const r = await verify({ a, b })
    expect(r.tables[0]!.missing).toEqual([{ code: 'abc' }])
    expect(r.tables[0]!.extra).toEqual([{ code: 'ABC' }])
    expect((await verify({ a, b, tolerances: { 'k.code': { caseInsensitive: true } } })).equal).toBe(true)
  })
})
