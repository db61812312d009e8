import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { sqliteTypes } from '../../dialects/sqlite/sqlite-types.js'
import { buildDb, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

describe('declared types', () => {
  it.each([
    ['signed long', { kind: 'int64' }],
    ['text(100)', { kind: 'text', length: 100 }],
    ['"double precision"', { kind: 'float64' }],
    ['double precision', { kind: 'float64' }],
    ['smallint unsigned', { kind: 'int16', unsigned: true }],
    ['short integer', { kind: 'int16' }],
    ['intege', { kind: 'int64' }],
    ['nocase', { kind: 'text' }],
    ['datetime default current_date', { kind: 'timestamp' }],
    ['boolean', { kind: 'boolean' }],
    ['date', { kind: 'date' }],
    ['time', { kind: 'time' }],
    ['timestamp', { kind: 'timestamp' }],
    ['datetime', { kind: 'timestamp' }],
    ['decimal(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
    ['numeric', { kind: 'decimal' }],
    ['blob', { kind: 'bytes' }],
    ['', { kind: 'bytes' }],
    ['varchar(40)', { kind: 'text', length: 40 }],
    // SQLite never pads: char(n) is bounded text, not fixed (a target's char(n) would pad it on read)
    ['char(2)', { kind: 'text', length: 2 }],
    ['character varying(7)', { kind: 'text', length: 7 }],
    ['uuid', { kind: 'uuid' }],
    ['json', { kind: 'json' }],
    ['INTEGER', { kind: 'int64' }],
    ['unsigned big int', { kind: 'int64' }],
    ['int(10) unsigned', { kind: 'int64' }],
    ['mediumint unsigned', { kind: 'int32', unsigned: true }],
    ['tinyint', { kind: 'int16' }],
    ['float', { kind: 'float64' }],
    ['clob', { kind: 'text' }],
    ['DECIMAL TEXT(38,10)', { kind: 'decimal', precision: 38, scale: 10 }],
    ['JSON TEXT', { kind: 'json' }],
    ['TIMESTAMP(6)', { kind: 'timestamp', precision: 6 }],
    // affinity fallbacks
    ['whatever', { kind: 'text' }],
    ['my_text_type', { kind: 'text' }],
    ['floating point', { kind: 'float64' }],
    ['pointint', { kind: 'int64' }],
  ])('%j → %j', (declared, expected) => {
    expect(sqliteTypes.toLogical(declared)).toEqual(expected)
  })

  it('follows SQLite affinity rules in their order', () => {
    expect(sqliteTypes.affinity('CHARINT')).toBe('INTEGER')
    expect(sqliteTypes.affinity('FLOATING POINT')).toBe('INTEGER') // "POINT" contains INT: SQLite's own example
    expect(sqliteTypes.affinity('STRING')).toBe('NUMERIC')
    expect(sqliteTypes.affinity('')).toBe('BLOB')
    expect(sqliteTypes.affinity('DOUBLE')).toBe('REAL')
  })
})

describe('introspection', () => {
  const file = tmp.path('free-form.db')
  buildDb(
    file,
    `
    CREATE TABLE parent (id INTEGER PRIMARY KEY, code varchar(10) NOT NULL UNIQUE, label text(100) DEFAULT 'none');
    CREATE TABLE kinds (
      a signed long, b "double precision", c smallint unsigned, d short integer, e intege, f nocase,
      g datetime default current_date, h boolean DEFAULT 1, i date, j time, k timestamp DEFAULT CURRENT_TIMESTAMP,
      l decimal(10,2), m numeric, n blob, o, p uuid, q json, r char(3), s varchar(20) NOT NULL DEFAULT 'x''y',
      t REAL DEFAULT -1.5, parent_id int REFERENCES parent(id) ON DELETE CASCADE, parent_code varchar(10),
      FOREIGN KEY (parent_code) REFERENCES parent
    );
    CREATE TABLE pair (x text NOT NULL, y int NOT NULL, z text, PRIMARY KEY (x, y), UNIQUE (z, y)) WITHOUT ROWID;
    CREATE INDEX kinds_a ON kinds (a, b);
    CREATE UNIQUE INDEX kinds_p ON kinds (p);
    CREATE INDEX kinds_expr ON kinds (lower(f), "a") WHERE l > 0;
    CREATE INDEX kinds_part ON kinds (e) WHERE e IS NOT NULL;
    CREATE VIEW kinds_view AS SELECT a, parent.code FROM kinds JOIN parent ON parent.id = kinds.parent_id;
    INSERT INTO parent (code) VALUES ('a'), ('b'), ('c');
    `,
  )

  it('maps every free-form column and keeps the native type', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const schema = await conn.introspect()
    await conn.close()
    expect(schema.dialect).toBe('sqlite')
    expect(schema.tables.map((t) => t.name)).toEqual(['parent', 'kinds', 'pair'])
    const kinds = tableOf(schema.tables, 'kinds')
    const byName = Object.fromEntries(kinds.columns.map((c) => [c.name, c]))
    expect(byName.a!.type).toEqual({ kind: 'int64' })
    expect(byName.a!.nativeType).toBe('signed long')
    expect(byName.b!.type).toEqual({ kind: 'float64' })
    expect(byName.c!.type).toEqual({ kind: 'int16', unsigned: true })
    expect(byName.d!.type).toEqual({ kind: 'int16' })
    expect(byName.e!.type).toEqual({ kind: 'int64' })
    expect(byName.f!.type).toEqual({ kind: 'text' })
    expect(byName.g!.type).toEqual({ kind: 'timestamp' })
    expect(byName.g!.default).toEqual({ kind: 'expression', sql: 'current_date', dialect: 'sqlite' })
    expect(byName.h!.type).toEqual({ kind: 'boolean' })
    expect(byName.h!.default).toEqual({ kind: 'value', value: true })
    expect(byName.k!.default).toEqual({ kind: 'now' })
    expect(byName.l!.type).toEqual({ kind: 'decimal', precision: 10, scale: 2 })
    expect(byName.n!.type).toEqual({ kind: 'bytes' })
    expect(byName.o!.type).toEqual({ kind: 'bytes' })
    expect(byName.o!.nativeType).toBe('')
    expect(byName.p!.type).toEqual({ kind: 'uuid' })
    expect(byName.q!.type).toEqual({ kind: 'json' })
    expect(byName.r!.type).toEqual({ kind: 'text', length: 3 })
    expect(byName.s!.default).toEqual({ kind: 'value', value: "x'y" })
    expect(byName.s!.nullable).toBe(false)
    expect(byName.t!.default).toEqual({ kind: 'value', value: -1.5 })
    expect(kinds.rowid).toBe(true)
    expect(kinds.primaryKey).toBeUndefined()
  })

  it('finds keys, rowid aliases, indexes, foreign keys and views', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const schema = await conn.introspect()
    await conn.close()
    const parent = tableOf(schema.tables, 'parent')
    expect(parent.primaryKey).toEqual({ columns: ['id'] })
    expect(parent.columns[0]!.autoIncrement).toBe(true)
    expect(parent.rowid).toBe(true)
    expect(parent.uniques).toEqual([{ columns: ['code'] }])
    expect(parent.indexes).toEqual([])
    expect(parent.rowCountEstimate).toBe(3)

    const kinds = tableOf(schema.tables, 'kinds')
    const idx = Object.fromEntries(kinds.indexes.map((i) => [i.name, i]))
    expect(idx.kinds_a).toEqual({ name: 'kinds_a', columns: ['a', 'b'], unique: false })
    expect(idx.kinds_p).toEqual({ name: 'kinds_p', columns: ['p'], unique: true })
    expect(idx.kinds_expr).toMatchObject({ unique: false, expression: 'lower(f), "a"', where: 'l > 0', dialect: 'sqlite' })
    expect(idx.kinds_part).toMatchObject({ columns: ['e'], where: 'e IS NOT NULL', dialect: 'sqlite' })
    expect(idx.kinds_part!.expression).toBeUndefined()
    expect(kinds.uniques).toEqual([])
    expect(kinds.foreignKeys).toEqual([
      { columns: ['parent_id'], refTable: 'parent', refColumns: ['id'], onDelete: 'CASCADE', origin: 'source' },
      { columns: ['parent_code'], refTable: 'parent', refColumns: ['id'], origin: 'source' },
    ])

    const pair = tableOf(schema.tables, 'pair')
    expect(pair.rowid).toBe(false)
    expect(pair.primaryKey).toEqual({ columns: ['x', 'y'] })
    expect(pair.uniques).toEqual([{ columns: ['z', 'y'] }])

    expect(schema.objects).toHaveLength(1)
    expect(schema.objects[0]).toMatchObject({ name: 'kinds_view', type: 'view' })
    expect(schema.objects[0]!.dependsOn.sort()).toEqual(['kinds', 'parent'])
    expect(schema.objects[0]!.definition).toMatch(/^CREATE VIEW kinds_view/)
  })

  it('reads column collations from the table text, and a copy keeps SQLite\'s own', async () => {
    const f = tmp.path('collate.db')
    buildDb(
      f,
      `CREATE TABLE c (
         email TEXT COLLATE NOCASE UNIQUE,
         "we""ird, name" text collate "RTRIM",
         note text DEFAULT 'collate binary, yes' CHECK (note <> 'a,b'),
         plain varchar(5),
         CONSTRAINT pk PRIMARY KEY (email)
       );`,
    )
    const conn = await sqlite.connect(`sqlite:${f}`)
    const t = tableOf((await conn.introspect()).tables, 'c')
    await conn.close()
    expect(t.columns.map((c) => [c.name, c.collation])).toEqual([
      ['email', 'NOCASE'],
      ['we"ird, name', 'RTRIM'],
      ['note', undefined],
      ['plain', undefined],
    ])
    expect(t.columns[2]!.default).toEqual({ kind: 'value', value: 'collate binary, yes' })
    const out = tmp.path('collate-out.db')
    const { ferry } = await import('../../src/ferry.js')
    const report = await ferry({ from: `sqlite:${f}`, to: `sqlite:${out}` })
    expect(report.ok).toBe(true)
    const copy = await sqlite.connect(`sqlite:${out}`)
    const t2 = tableOf((await copy.introspect()).tables, 'c')
    await copy.close()
    expect(t2.columns.map((c) => c.collation)).toEqual(['NOCASE', 'RTRIM', undefined, undefined])
  })

  it('narrows to the tables asked for', async () => {
    const conn = await sqlite.connect(`sqlite:${file}`)
    const schema = await conn.introspect({ tables: ['pair'] })
    await conn.close()
    expect(schema.tables.map((t) => t.name)).toEqual(['pair'])
  })
})

describe('row estimates', () => {
  it('a rowid table: its rowid span, without a scan (more than the rows after deletes); WITHOUT ROWID: its count', async () => {
    const file = tmp.path('estimates.db')
    buildDb(file, 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID; CREATE TABLE e (v TEXT)', (db) => {
      for (let i = 1; i <= 10; i++) db.prepare('INSERT INTO t VALUES (?, ?)').run(i + 100, `v${i}`)
      db.prepare('DELETE FROM t WHERE id BETWEEN 103 AND 107').run()
      for (let i = 1; i <= 4; i++) db.prepare('INSERT INTO w VALUES (?, ?)').run(`k${i}`, `v${i}`)
    })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const schema = await conn.introspect()
    await conn.close()
    // 5 rows left between rowids 101 and 110: the span says 10, where count(*) would have read every page for 5
    expect(tableOf(schema.tables, 't').rowCountEstimate).toBe(10)
    expect(tableOf(schema.tables, 'w').rowCountEstimate).toBe(4)
    expect(tableOf(schema.tables, 'e').rowCountEstimate).toBe(0)
  })
})
