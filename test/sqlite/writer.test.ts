import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { SchemaError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import type { ColumnSchema, DatabaseSchema, LogicalType, Row, TableSchema } from '../../src/schema/types.js'
import { buildDb, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

const col = (name: string, type: LogicalType, nullable = true): ColumnSchema => ({ name, type, nativeType: '', nullable })
const table = (name: string, columns: ColumnSchema[], extra: Partial<TableSchema> = {}): TableSchema => ({
  name,
  columns,
  uniques: [],
  indexes: [],
  foreignKeys: [],
  ...extra,
})

function people(): DatabaseSchema {
  return {
    dialect: 'postgres',
    tables: [
      table('people', [col('id', { kind: 'int32' }, false), col('email', { kind: 'text', length: 100 }, false), col('name', { kind: 'text' })], {
        primaryKey: { columns: ['id'] },
        uniques: [{ columns: ['email'] }],
      }),
    ],
    objects: [],
  }
}

describe('writer', () => {
  it('rejects rows that collide or are NULL where NOT NULL, and loads the rest of the batch', async () => {
    const file = tmp.path('dups.db')
    const conn = await sqlite.connect(`sqlite:${file}`, { create: true })
    const s = people()
    await conn.prepareTarget(s, { mode: 'create' })
    const w = await conn.openWriter(s.tables[0]!)
    // more rows than one multi-row INSERT holds, with the bad rows in the middle
    const rows: Row[] = Array.from({ length: 100 }, (_, i) => [i + 1, `u${i + 1}@x.org`, `user ${i + 1}`])
    rows[40] = [5, 'other@x.org', 'same id as row 5']
    rows[41] = [42, 'u1@x.org', 'same email as row 1']
    rows[42] = [43, null, 'no email']
    const first = await w.write(rows)
    expect(first.written).toBe(97)
    expect(first.rejected.map((e) => [e.code, e.key, e.column])).toEqual([
      ['duplicate_key', { id: 5 }, 'id'],
      ['duplicate_key', { id: 42 }, 'email'],
      ['not_null', { id: 43 }, 'email'],
    ])
    expect(first.rejected[0]!.message).toBe('people: duplicate key (id)=(5) collides with a row already written')
    expect(first.rejected[1]!.message).toBe('people: duplicate key (email)=("u1@x.org") collides with a row already written')
    // a later batch colliding with an earlier one
    const second = await w.write([
      [1, 'again@x.org', 'x'],
      [1000, 'new@x.org', 'y'],
    ])
    expect(second).toMatchObject({ written: 1 })
    expect(second.rejected[0]).toMatchObject({ code: 'duplicate_key', key: { id: 1 }, table: 'people' })
    await w.close()
    await conn.close()
    const db = new Database(file, { readonly: true })
    expect(db.prepare('SELECT count(*) FROM people').pluck().get()).toBe(98)
    expect(db.prepare('SELECT name FROM people WHERE id = 5').pluck().get()).toBe('user 5')
    db.close()
  })

  it('rejects an unsigned 64-bit value SQLite cannot hold instead of rounding it', async () => {
    const conn = await sqlite.connect(`sqlite:${tmp.path('u64.db')}`, { create: true })
    const s: DatabaseSchema = { dialect: 'mysql', tables: [table('u', [col('v', { kind: 'int64', unsigned: true })])], objects: [] }
    await conn.prepareTarget(s, { mode: 'create' })
    const w = await conn.openWriter(s.tables[0]!)
    const res = await w.write([[18446744073709551615n], [9223372036854775807n]])
    await conn.close()
    expect(res.written).toBe(1)
    expect(res.rejected[0]!.code).toBe('out_of_range')
  })

  it('handles table and column names with quotes, spaces and reserved words', async () => {
    const src = tmp.path('names.db')
    buildDb(
      src,
      `CREATE TABLE "we""ird table" ("select" INTEGER PRIMARY KEY, "a b" TEXT, "x""y" TEXT, "order" INT);
       CREATE TABLE "group" ("from" INTEGER REFERENCES "we""ird table"("select"), "where" TEXT);
       CREATE INDEX "idx ""q""" ON "group" ("where");
       INSERT INTO "we""ird table" VALUES (1, 'one', 'q"uote', 3), (2, 'two', NULL, NULL);
       INSERT INTO "group" VALUES (1, 'w'), (7, 'orphan');`,
    )
    const out = tmp.path('names-out.db')
    const report = await ferry({ from: `sqlite:${src}`, to: `sqlite:${out}` })
    expect(report.ok).toBe(true)
    expect(report.tables.map((t) => [t.name, t.read, t.written])).toEqual([
      ['we"ird table', 2, 2],
      ['group', 2, 2],
    ])
    expect(report.constraints).toEqual([
      expect.objectContaining({ table: 'group', kind: 'foreign_key', outcome: 'unvalidated', orphans: 1 }),
    ])
    const db = new Database(out, { readonly: true })
    expect(db.prepare('SELECT * FROM "we""ird table" ORDER BY 1').all()).toEqual([
      { select: 1, 'a b': 'one', 'x"y': 'q"uote', order: 3 },
      { select: 2, 'a b': 'two', 'x"y': null, order: null },
    ])
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index'").pluck().all()).toEqual(['idx "q"'])
    db.close()
  })

  it('creates secondary indexes after the data, renaming clashing names, and reports what it cannot create', async () => {
    const conn = await sqlite.connect(`sqlite:${tmp.path('idx.db')}`, { create: true })
    const s: DatabaseSchema = {
      dialect: 'mysql',
      tables: [
        table('a', [col('x', { kind: 'int32' }), col('y', { kind: 'text' })], {
          indexes: [
            { name: 'by_x', columns: ['x'], unique: false },
            { name: 'uniq_y', columns: ['y'], unique: true },
          ],
        }),
        table('b', [col('x', { kind: 'int32' })], {
          indexes: [
            { name: 'by_x', columns: ['x'], unique: false },
            { name: 'fancy', columns: [], unique: false, expression: '(lower(x))', dialect: 'postgres' },
          ],
        }),
      ],
      objects: [],
    }
    await conn.prepareTarget(s, { mode: 'create' })
    const wa = await conn.openWriter(s.tables[0]!)
    await wa.write([
      [1, 'same'],
      [2, 'same'],
    ])
    const problems = await conn.finalize(s, {})
    await conn.close()
    expect(problems.map((p) => [p.table, p.name, p.kind, p.outcome])).toEqual([
      ['a', 'uniq_y', 'unique', 'failed'],
      ['b', 'fancy', 'index', 'failed'],
    ])
    const db = new Database(tmp.path('idx.db'), { readonly: true })
    expect(db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index' ORDER BY name").raw(true).all()).toEqual([
      ['b_by_x', 'b'],
      ['by_x', 'a'],
    ])
    db.close()
  })
})

describe('target modes', () => {
  const file = tmp.path('modes.db')
  const count = () => {
    const db = new Database(file, { readonly: true })
    const n = db.prepare('SELECT count(*) FROM people').pluck().get()
    db.close()
    return n
  }
  const load = async (mode: 'create' | 'truncate' | 'append' | 'recreate', rows: unknown[][]) => {
    const conn = await sqlite.connect(`sqlite:${file}`, { create: true })
    try {
      await conn.prepareTarget(people(), { mode })
      const w = await conn.openWriter(people().tables[0]!)
      const r = await w.write(rows as never)
      await w.close()
      return r
    } finally {
      await conn.close()
    }
  }

  it('create refuses an existing table and names it', async () => {
    await load('create', [[1, 'a@x', 'a']])
    const err = await load('create', [[2, 'b@x', 'b']]).catch((e) => e)
    expect(err).toBeInstanceOf(SchemaError)
    expect(err.code).toBe('target_exists')
    expect(err.message).toContain('people')
    expect(count()).toBe(1)
  })

  it('append adds, truncate empties, recreate drops and creates', async () => {
    await load('append', [[2, 'b@x', 'b']])
    expect(count()).toBe(2)
    await load('truncate', [[3, 'c@x', 'c']])
    expect(count()).toBe(1)
    const db = new Database(file)
    db.exec('ALTER TABLE people ADD COLUMN extra TEXT')
    db.close()
    await load('recreate', [[4, 'd@x', 'd']])
    expect(count()).toBe(1)
    const check = new Database(file, { readonly: true })
    expect(check.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('people')).toEqual(['id', 'email', 'name'])
    // the file is left in the journal mode it had
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete')
    check.close()
  })
})

describe('generated columns and views', () => {
  it('reports generated columns, copies their values as plain columns, and reports views', async () => {
    const src = tmp.path('gen.db')
    buildDb(
      src,
      `CREATE TABLE g (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT GENERATED ALWAYS AS ('x' || a) STORED);
       INSERT INTO g (a) VALUES (1), (2);
       CREATE VIEW gv AS SELECT a, b FROM g;`,
    )
    const conn = await sqlite.connect(`sqlite:${src}`)
    const schema = await conn.introspect()
    await conn.close()
    expect(schema.tables[0]!.columns.map((c) => [c.name, c.generated === true])).toEqual([
      ['a', false],
      ['b', true],
      ['c', true],
    ])
    expect(schema.objects.map((o) => [o.name, o.type, o.dependsOn])).toEqual([['gv', 'view', ['g']]])
    const out = tmp.path('gen-out.db')
    const report = await ferry({ from: `sqlite:${src}`, to: `sqlite:${out}` })
    expect(report.ok).toBe(true)
    const db = new Database(out, { readonly: true })
    expect(db.prepare('SELECT a, b, c FROM g ORDER BY a').raw(true).all()).toEqual([
      [1, 2, 'x1'],
      [2, 4, 'x2'],
    ])
    db.close()
  })
})

describe('free-form declared types on an SQLite → SQLite copy', () => {
  it('declares the same types, quoting the ones that would read as clauses', async () => {
    const src = tmp.path('freeform.db')
    buildDb(
      src,
      `CREATE TABLE f (a "datetime default current_date", b "double precision", c signed long, d nocase, e "weird""q", g text(100), h decimal(10,2), i);
       INSERT INTO f VALUES ('2020-01-01 00:00:00', 1.5, 7, 'x', 'y', 'z', 1.25, X'01');`,
    )
    const out = tmp.path('freeform-out.db')
    const report = await ferry({ from: `sqlite:${src}`, to: `sqlite:${out}` })
    expect(report.ok).toBe(true)
    const types = (path: string) => {
      const db = new Database(path, { readonly: true })
      const r = db.prepare('SELECT name, type, dflt_value FROM pragma_table_info(?)').all('f')
      const v = db.prepare('SELECT * FROM f').raw(true).all()
      db.close()
      return [r, v]
    }
    expect(types(out)).toEqual(types(src))
  })
})

describe('tables copied concurrently', () => {
  it('interleaves reads inside one snapshot and writes every row', async () => {
    const src = tmp.path('many.db')
    buildDb(src, 'CREATE TABLE t1 (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE t2 (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE t3 (k TEXT PRIMARY KEY, v REAL) WITHOUT ROWID;', (db) => {
      const a = db.prepare('INSERT INTO t1 VALUES (?, ?)')
      const b = db.prepare('INSERT INTO t2 VALUES (?, ?)')
      const c = db.prepare('INSERT INTO t3 VALUES (?, ?)')
      for (let i = 1; i <= 3000; i++) {
        a.run(i, `a${i}`)
        b.run(i, `b${i}`)
        c.run(`k${String(i).padStart(5, '0')}`, i / 4)
      }
    })
    const out = tmp.path('many-out.db')
    const report = await ferry({ from: `sqlite:${src}`, to: `sqlite:${out}`, concurrency: 3, batchRows: 100 })
    expect(report.ok).toBe(true)
    expect(report.tables.map((t) => [t.name, t.read, t.written])).toEqual([
      ['t1', 3000, 3000],
      ['t2', 3000, 3000],
      ['t3', 3000, 3000],
    ])
    const db = new Database(out, { readonly: true })
    expect(db.prepare('SELECT (SELECT count(*) FROM t1) + (SELECT count(*) FROM t2) + (SELECT count(*) FROM t3)').pluck().get()).toBe(9000)
    expect(db.prepare('SELECT total(v) FROM t3').pluck().get()).toBe((3000 * 3001) / 2 / 4)
    db.close()
  })
})
