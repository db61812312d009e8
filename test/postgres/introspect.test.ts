import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import type { Connection } from '../../src/dialect.js'
import type { DatabaseSchema, TableSchema } from '../../src/schema/types.js'
import { postgres, postgresTypes } from '../../dialects/postgres/index.js'
import { freshPostgres, pgUp, readAll } from './helpers.js'

const DDL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN short_text AS varchar(12) NOT NULL;
CREATE TABLE parent (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code char(3) NOT NULL UNIQUE
);
CREATE TABLE child (
  id bigserial PRIMARY KEY,
  parent_id integer REFERENCES parent (id) ON DELETE CASCADE,
  amount numeric(38,10) DEFAULT 0,
  name varchar(80) NOT NULL DEFAULT 'nobody',
  email text,
  seen timestamptz(3) DEFAULT now(),
  at timestamp,
  t time(2),
  u uuid,
  doc jsonb,
  j json,
  feel mood,
  tags text[],
  nums int[],
  label short_text,
  cash money,
  span interval,
  f4 real,
  f8 double precision,
  ok boolean DEFAULT true,
  raw bytea,
  total numeric GENERATED ALWAYS AS (amount * 2) STORED,
  UNIQUE (name, email)
);
CREATE INDEX child_lower_email ON child (lower(email));
CREATE INDEX child_recent ON child (seen) WHERE seen IS NOT NULL;
CREATE INDEX child_plain ON child (parent_id, at);
CREATE INDEX child_doc ON child USING gin (doc);
CREATE VIEW child_names AS SELECT c.name, p.code FROM child c JOIN parent p ON p.id = c.parent_id;
`

describe.skipIf(!pgUp)('postgres introspection', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let conn: Connection
  let schema: DatabaseSchema
  let child: TableSchema
  beforeAll(async () => {
    env = await freshPostgres('pgintro')
    conn = env.conn
    const c = (conn as unknown as { client: pg.Client }).client
    await c.query(DDL)
    await c.query(`INSERT INTO parent (code) VALUES ('abc')`)
    await c.query(
      `INSERT INTO child (parent_id, amount, name, email, seen, at, t, u, doc, j, feel, tags, nums, label, cash, span, f4, f8, raw)
       VALUES (1, 12345678901234567890.0123456789, 'n', 'E@x', '2024-01-02 03:04:05.678+02', '2024-01-02 03:04:05.123456', '10:11:12.34',
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1, "a": [1, 2]}', '{"z":1,  "a":2}', 'happy', ARRAY['x', 'y "q"', NULL], ARRAY[[1,2],[3,4]],
               'label', 12.34, '1 day 02:03:04', 0.1, 0.1, '\\x00ff')`,
    )
    await c.query('ANALYZE')
    schema = await conn.introspect()
    child = schema.tables.find((t) => t.name === 'child')!
  })
  afterAll(async () => env?.done())

  const col = (name: string) => child.columns.find((c) => c.name === name)!

  it('finds tables, exact types, enums, domains and arrays', () => {
    expect(schema.dialect).toBe('postgres')
    expect(schema.tables.map((t) => t.name)).toEqual(['child', 'parent'])
    expect(col('amount').type).toEqual({ kind: 'decimal', precision: 38, scale: 10 })
    expect(col('amount').nativeType).toBe('numeric(38,10)')
    expect(col('name').type).toEqual({ kind: 'text', length: 80 })
    expect(col('seen').type).toEqual({ kind: 'timestamptz', precision: 3 })
    expect(col('at').type).toEqual({ kind: 'timestamp' })
    expect(col('t').type).toEqual({ kind: 'time', precision: 2 })
    expect(col('u').type).toEqual({ kind: 'uuid' })
    expect(col('doc').type).toEqual({ kind: 'json' })
    expect(col('doc').nativeType).toBe('jsonb')
    expect(col('feel').type).toEqual({ kind: 'text', values: ['sad', 'ok', 'happy'] })
    expect(col('tags').type).toEqual({ kind: 'json' })
    expect(col('tags').nativeType).toBe('text[]')
    expect(col('label').type).toEqual({ kind: 'text', length: 12 })
    expect(col('label').nullable).toBe(false)
    expect(col('cash').type).toEqual({ kind: 'decimal', precision: 19, scale: 2 })
    expect(col('span').type).toEqual({ kind: 'text' })
    expect(col('span').nativeType).toBe('interval')
    expect(col('f4').type).toEqual({ kind: 'float32' })
    expect(col('raw').type).toEqual({ kind: 'bytes' })
    expect(schema.tables[1]!.columns[1]!.type).toEqual({ kind: 'text', length: 3, fixed: true })
  })

  it('finds defaults, identity and serial columns, generated columns', () => {
    const parent = schema.tables[1]!
    expect(parent.columns[0]!.autoIncrement).toBe(true)
    expect(col('id').autoIncrement).toBe(true)
    expect(col('id').default).toBeUndefined()
    expect(col('amount').default).toEqual({ kind: 'value', value: '0' })
    expect(col('name').default).toEqual({ kind: 'value', value: 'nobody' })
    expect(col('seen').default).toEqual({ kind: 'now' })
    expect(col('ok').default).toEqual({ kind: 'value', value: true })
    expect(col('total').generated).toBe(true)
    expect(col('total').default).toMatchObject({ kind: 'expression', dialect: 'postgres' })
  })

  it('finds keys, unique constraints, foreign keys, partial and expression indexes, views, row estimates', () => {
    expect(child.primaryKey).toEqual({ name: 'child_pkey', columns: ['id'] })
    expect(child.uniques).toEqual([{ name: 'child_name_email_key', columns: ['name', 'email'] }])
    expect(schema.tables[1]!.uniques).toEqual([{ name: 'parent_code_key', columns: ['code'] }])
    expect(child.foreignKeys).toEqual([
      { name: 'child_parent_id_fkey', columns: ['parent_id'], refTable: 'parent', refColumns: ['id'], onDelete: 'CASCADE', origin: 'source' },
    ])
    const ix = Object.fromEntries(child.indexes.map((i) => [i.name, i]))
    expect(Object.keys(ix).sort()).toEqual(['child_doc', 'child_lower_email', 'child_plain', 'child_recent'])
    expect(ix.child_plain).toEqual({ name: 'child_plain', columns: ['parent_id', 'at'], unique: false })
    expect(ix.child_lower_email).toMatchObject({ expression: 'lower(email)', dialect: 'postgres', unique: false })
    expect(ix.child_recent).toMatchObject({ columns: ['seen'], where: '(seen IS NOT NULL)', dialect: 'postgres' })
    expect(ix.child_doc).toMatchObject({ expression: 'USING gin (doc)', dialect: 'postgres' })
    expect(schema.objects).toEqual([{ name: 'child_names', type: 'view', definition: expect.stringContaining('JOIN parent'), dependsOn: ['child', 'parent'] }])
    expect(child.rowCountEstimate).toBe(1)
  })

  it('reads enum, array, money, interval, timestamptz and numeric values as canonical values', async () => {
    const { rows } = await readAll(conn, child)
    const r = rows[0]!
    const v = (name: string) => r[child.columns.findIndex((c) => c.name === name)]
    expect(v('id')).toBe(1)
    expect(v('amount')).toBe('12345678901234567890.0123456789')
    expect(v('seen')).toBe('2024-01-02 01:04:05.678+00:00')
    expect(v('at')).toBe('2024-01-02 03:04:05.123456')
    expect(v('t')).toBe('10:11:12.34')
    expect(JSON.parse(v('doc') as string)).toEqual({ a: [1, 2], b: 1 })
    expect(v('j')).toBe('{"z":1,  "a":2}')
    expect(v('feel')).toBe('happy')
    expect(JSON.parse(v('tags') as string)).toEqual(['x', 'y "q"', null])
    expect(JSON.parse(v('nums') as string)).toEqual([[1, 2], [3, 4]])
    expect(v('cash')).toBe('12.34')
    expect(v('span')).toBe('1 day 02:03:04')
    // real 0.1 is read as the shortest decimal that names its float32, not as 0.10000000149011612
    expect(v('f4')).toBe(0.1)
    expect(v('f8')).toBe(0.1)
    expect(v('raw')).toEqual(Buffer.from([0, 255]))
    expect(v('total')).toBe('24691357802469135780.0246913578')
  })

  it('copies to another PostgreSQL database keeping native types, arrays, and the expression and partial indexes', async () => {
    const other = await freshPostgres('pgintro2')
    try {
      await other.conn.prepareTarget(schema, { mode: 'create' })
      for (const t of [schema.tables[1]!, child]) {
        const w = await other.conn.openWriter(t)
        const { rows } = await readAll(conn, t)
        expect(await w.write(rows)).toEqual({ written: rows.length, rejected: [] })
        await w.close()
      }
      expect(await other.conn.finalize(schema, {})).toEqual([])
      const copied = await other.conn.introspect()
      const c2 = copied.tables.find((t) => t.name === 'child')!
      const natives = (t: TableSchema) => t.columns.map((c) => [c.name, c.nativeType])
      const want = natives(child).map(([n, t]) => [n, n === 'feel' ? 'text' : n === 'label' ? 'character varying(12)' : t])
      expect(natives(c2)).toEqual(want)
      expect(c2.indexes.map((i) => i.name).sort()).toEqual(['child_doc', 'child_lower_email', 'child_plain', 'child_recent'])
      expect(c2.indexes.find((i) => i.name === 'child_recent')!.where).toBe('(seen IS NOT NULL)')
      expect(c2.foreignKeys).toHaveLength(1)
      const back = await readAll(other.conn, c2)
      const orig = await readAll(conn, child)
      expect(back.rows).toEqual(orig.rows)
      // the identity continues after the copied rows
      const oc = (other.conn as unknown as { client: pg.Client }).client
      const next = await oc.query(`INSERT INTO parent (code) VALUES ('def') RETURNING id`)
      expect(next.rows[0].id).toBe(2)
    } finally {
      await other.done()
    }
  })

  it('narrows to named tables and fails cleanly for a missing one', async () => {
    const s = await conn.introspect({ tables: ['parent'] })
    expect(s.tables.map((t) => t.name)).toEqual(['parent'])
    await expect(conn.introspect({ tables: ['nope'] })).rejects.toMatchObject({ code: 'schema' })
  })

  it('reads another schema from ?schema= and ConnectOptions.schema', async () => {
    const c = (conn as unknown as { client: pg.Client }).client
    await c.query('CREATE SCHEMA other; CREATE TABLE other.thing (id int PRIMARY KEY, v text)')
    await c.query(`INSERT INTO other.thing VALUES (1, 'in other')`)
    for (const conn2 of [await postgres.connect(`${env.db.url}?schema=other`), await postgres.connect(env.db.url, { schema: 'other' })]) {
      try {
        const s = await conn2.introspect()
        expect(s.tables.map((t) => [t.name, t.schema])).toEqual([['thing', 'other']])
        expect((await readAll(conn2, s.tables[0]!)).rows).toEqual([[1, 'in other']])
      } finally {
        await conn2.close()
      }
    }
  })
})

describe('postgresTypes.toLogical (no server)', () => {
  it('reads declared types as the introspector reads the same columns', () => {
    const cases: [string, unknown][] = [
      ['numeric(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
      ['NUMERIC(12)', { kind: 'decimal', precision: 12, scale: 0 }],
      ['numeric', { kind: 'decimal' }],
      ['character varying(20)', { kind: 'text', length: 20 }],
      ['varchar(20)', { kind: 'text', length: 20 }],
      ['character(3)', { kind: 'text', length: 3, fixed: true }],
      ['char', { kind: 'text', length: 1, fixed: true }],
      ['timestamp(3) with time zone', { kind: 'timestamptz', precision: 3 }],
      ['timestamptz', { kind: 'timestamptz' }],
      ['Timestamp Without Time Zone', { kind: 'timestamp' }],
      ['time(2)', { kind: 'time', precision: 2 }],
      ['int8', { kind: 'int64' }],
      ['bigserial', { kind: 'int64' }],
      ['smallint', { kind: 'int16' }],
      ['double precision', { kind: 'float64' }],
      ['float(10)', { kind: 'float32' }],
      ['bytea', { kind: 'bytes' }],
      ['jsonb', { kind: 'json' }],
      ['uuid', { kind: 'uuid' }],
      ['text[]', { kind: 'json' }],
      ['integer[][]', { kind: 'json' }],
      ['interval', { kind: 'text' }],
      ['time with time zone', { kind: 'text' }],
    ]
    for (const [declared, logical] of cases) expect(postgresTypes.toLogical(declared), declared).toEqual(logical)
    expect(postgresTypes.toLogical('geometry(Point,4326)')).toEqual({ reject: expect.stringContaining('geometry') })
  })

  it('reads back every type toNative writes', () => {
    const types = [
      { kind: 'boolean' }, { kind: 'int16' }, { kind: 'int32' }, { kind: 'int64' }, { kind: 'decimal', precision: 38, scale: 10 },
      { kind: 'float32' }, { kind: 'float64' }, { kind: 'text' }, { kind: 'text', length: 40 }, { kind: 'text', length: 2, fixed: true },
      { kind: 'bytes' }, { kind: 'date' }, { kind: 'time', precision: 3 }, { kind: 'timestamp' }, { kind: 'timestamptz', precision: 0 },
      { kind: 'uuid' }, { kind: 'json' },
    ] as const
    for (const t of types) expect(postgresTypes.toLogical(postgresTypes.toNative(t)), postgresTypes.toNative(t)).toEqual(t)
  })
})
