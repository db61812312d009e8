import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import type { Connection } from '../../src/dialect.js'
import type { DatabaseSchema, Row } from '../../src/schema/types.js'
import { fixtureSchema } from '../../fixtures/fixture.js'
import { ferry } from '../../src/ferry.js'
import { postgres } from '../../dialects/postgres/index.js'
import { PG_URL } from '../support/servers.js'
import { freshPostgres, pgUp, readAll, tableOf } from './helpers.js'

function clientOf(conn: Connection): pg.Client {
  return (conn as unknown as { client: pg.Client }).client
}

const shop: DatabaseSchema = fixtureSchema({
  name: 'shop',
  tables: [
    {
      name: 'sector',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false, autoIncrement: true },
        { name: 'name', type: { kind: 'text', length: 40 } },
      ],
      primaryKey: ['id'],
      rows: [],
    },
    {
      name: 'org',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false, autoIncrement: true },
        { name: 'sector_id', type: { kind: 'int64' } },
        { name: 'email', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'org_email', columns: ['email'], unique: true }, { name: 'org_sector', columns: ['sector_id'] }],
      foreignKeys: [{ name: 'org_sector_fk', columns: ['sector_id'], refTable: 'sector', refColumns: ['id'] }],
      rows: [],
    },
  ],
})

async function load(conn: Connection, name: string, rows: Row[]): Promise<void> {
  const w = await conn.openWriter(shop.tables.find((t) => t.name === name)!)
  const res = await w.write(rows)
  await w.close()
  expect(res.rejected).toEqual([])
}

describe.skipIf(!pgUp)('postgres target: modes, finalize, sequences', () => {
  let env: Awaited<ReturnType<typeof freshPostgres>>
  let conn: Connection
  beforeAll(async () => {
    env = await freshPostgres('pgtarget')
    conn = env.conn
  })
  afterAll(async () => env?.done())

  it('create mode builds tables with keys and identity; a second create fails with target_exists', async () => {
    await conn.prepareTarget(shop, { mode: 'create' })
    const s = await conn.introspect()
    expect(s.tables.map((t) => t.name)).toEqual(['org', 'sector'])
    const sector = s.tables.find((t) => t.name === 'sector')!
    expect(sector.columns[0]).toMatchObject({ nativeType: 'bigint', autoIncrement: true, nullable: false })
    expect(sector.columns[1]!.nativeType).toBe('character varying(40)')
    expect(sector.primaryKey?.columns).toEqual(['id'])
    // no foreign keys and no secondary indexes before the data
    expect(s.tables.find((t) => t.name === 'org')!.foreignKeys).toEqual([])
    expect(s.tables.find((t) => t.name === 'org')!.indexes).toEqual([])
    await expect(conn.prepareTarget(shop, { mode: 'create' })).rejects.toMatchObject({ code: 'target_exists', message: expect.stringContaining('org, sector') })
  })

  it('finalize: indexes, a foreign key with orphans created NOT VALID with their count, identity set past the max', async () => {
    await load(conn, 'sector', [[1, 'health'], [2, 'water'], [40, 'food']])
    await load(conn, 'org', [[1, 1, 'a@x'], [2, 14, 'b@x'], [3, 15, 'c@x'], [4, null, 'd@x'], [10, 2, 'e@x']])
    const problems = await conn.finalize(shop, {})
    expect(problems).toEqual([
      { table: 'org', name: 'org_sector_fk', kind: 'foreign_key', outcome: 'unvalidated', orphans: 2, message: expect.stringContaining('NOT VALID') },
    ])
    const c = clientOf(conn)
    const fk = await c.query(`SELECT convalidated FROM pg_constraint WHERE conname = 'org_sector_fk'`)
    expect(fk.rows).toEqual([{ convalidated: false }])
    // the key is enforced for new rows
    await expect(c.query(`INSERT INTO org (sector_id, email) VALUES (99, 'z@x')`)).rejects.toMatchObject({ code: '23503' })
    const ix = await c.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'org' ORDER BY 1`)
    expect(ix.rows.map((r) => r.indexname)).toEqual(['org_email', 'org_pkey', 'org_sector'])
    const s1 = await c.query(`INSERT INTO sector (name) VALUES ('next') RETURNING id`)
    expect(s1.rows[0].id).toBe('41')
    const o1 = await c.query(`INSERT INTO org (sector_id, email) VALUES (1, 'n@x') RETURNING id`)
    // 11 went to the insert the foreign key refused above
    expect(o1.rows[0].id).toBe(12)
    // finalize again (append/truncate re-runs) creates nothing twice and reports nothing new
    expect(await conn.finalize(shop, {})).toEqual([])
  })

  it('truncate mode empties existing tables and keeps the rest; append keeps rows; recreate rebuilds', async () => {
    const c = clientOf(conn)
    await conn.prepareTarget(shop, { mode: 'truncate' })
    expect((await c.query('SELECT count(*)::int AS n FROM org')).rows[0].n).toBe(0)
    expect((await c.query('SELECT count(*)::int AS n FROM sector')).rows[0].n).toBe(0)
    await load(conn, 'sector', [[1, 'health']])
    await conn.prepareTarget(shop, { mode: 'append' })
    await load(conn, 'sector', [[2, 'water']])
    expect((await readAll(conn, await tableOf(conn, 'sector'))).rows).toEqual([[1, 'health'], [2, 'water']])
    await c.query('ALTER TABLE sector ADD COLUMN extra int')
    await conn.prepareTarget(shop, { mode: 'recreate' })
    const sector = await tableOf(conn, 'sector')
    expect(sector.columns.map((col) => col.name)).toEqual(['id', 'name'])
    expect((await readAll(conn, sector)).rows).toEqual([])
  })

  it('execute runs user SQL on the target', async () => {
    await conn.execute!('CREATE VIEW sector_names AS SELECT name FROM sector')
    const s = await conn.introspect()
    expect(s.objects.map((o) => o.name)).toEqual(['sector_names'])
    await expect(conn.execute!('CREATE VIEW broken AS SELECT nope FROM sector')).rejects.toMatchObject({ code: 'schema' })
  })
})

describe.skipIf(!pgUp)('postgres connections', () => {
  it('never shows the password of a URL in an error message', async () => {
    const url = 'postgres://postgres:s3cr3t-pw@127.0.0.1:1/nowhere'
    const error = await postgres.connect(url).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'connection' })
    expect(String((error as Error).message)).not.toContain('s3cr3t-pw')
    expect((error as Error).cause).toBeDefined()
    const bad = await postgres.connect('postgres://postgres:s3cr3t-pw@127.0.0.1:5432/db%zz').catch((e: unknown) => e)
    expect(String((bad as Error).message)).not.toContain('s3cr3t-pw')
  })

  it('borrows a pg Pool or Client without ending it, and creates a missing schema when asked', async () => {
    const pgm = (await import('pg')).default
    const env = await freshPostgres('pgconn')
    const pool = new pgm.Pool({ connectionString: env.db.url, max: 2 })
    try {
      await expect(postgres.connect({ pool }, { schema: 'fresh' })).rejects.toMatchObject({ code: 'schema' })
      const a = await postgres.connect({ pool }, { schema: 'fresh', create: true })
      expect(a.description).toContain('fresh')
      await a.prepareTarget(shop, { mode: 'create' })
      await a.close()
      const r = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'fresh' ORDER BY 1`)
      expect(r.rows.map((x) => x.table_name)).toEqual(['org', 'sector'])
      const client = new pgm.Client({ connectionString: env.db.url })
      await client.connect()
      const b = await postgres.connect({ client, schema: 'fresh' })
      expect((await b.introspect()).tables).toHaveLength(2)
      await b.close()
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
      await client.end()
    } finally {
      await pool.end()
      await env.done()
    }
  })

  it('ferry() takes a bare pg Pool as the source and a bare pg Client as the target, and leaves both usable', async () => {
    const pgm = (await import('pg')).default
    const src = await freshPostgres('pgbyosrc')
    const dst = await freshPostgres('pgbyodst')
    const pool = new pgm.Pool({ connectionString: src.db.url, max: 2 })
    const client = new pgm.Client({ connectionString: dst.db.url })
    await client.connect()
    try {
      expect(postgres.accepts(pool)).toBe(true)
      expect(postgres.accepts(client)).toBe(true)
      expect(postgres.accepts({ connectionString: dst.db.url })).toBe(false)
      await src.conn.prepareTarget(shop, { mode: 'create' })
      await load(src.conn, 'sector', [[1, 'health'], [2, 'water']])
      await load(src.conn, 'org', [[1, 2, 'a@x']])
      const zone = (await client.query('SHOW TimeZone')).rows[0].TimeZone
      const report = await ferry({ from: pool, to: client })
      expect(report.error).toBeUndefined()
      expect(report.tables.map((t) => [t.name, t.written]).sort()).toEqual([['org', 1], ['sector', 2]])
      // the caller's client: open, holding the rows, with the session settings dbferry changed given back
      expect((await client.query('SELECT id, name FROM sector ORDER BY id')).rows).toEqual([{ id: '1', name: 'health' }, { id: '2', name: 'water' }])
      expect((await client.query('SHOW TimeZone')).rows[0].TimeZone).toBe(zone)
      // the caller's pool: not ended, and the client dbferry borrowed is back in it
      expect((await pool.query('SELECT count(*)::int AS n FROM org')).rows).toEqual([{ n: 1 }])
      expect(pool.idleCount).toBe(pool.totalCount)
      expect(pool.ended).toBe(false)
      // a dbferry connection on them closes without ending them either
      const again = await postgres.connect(client)
      await again.close()
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await client.end()
      await pool.end()
      await src.done()
      await dst.done()
    }
  })

  it('creates a missing database as a target', async () => {
    const name = `pgcreated_${Date.now().toString(36)}`
    const u = new URL(PG_URL)
    u.pathname = `/${name}`
    const conn = await postgres.connect(u.toString(), { create: true })
    await conn.close()
    const admin = await postgres.connect(PG_URL)
    try {
      await admin.execute!(`DROP DATABASE "${name}"`)
    } finally {
      await admin.close()
    }
  })
})

describe.skipIf(!pgUp)('postgres → postgres through ferry()', () => {
  it('copies rows, keys, indexes and sequences; a re-run in create mode fails cleanly; truncate reloads', async () => {
    const src = await freshPostgres('pgsrc')
    const dst = await freshPostgres('pgdst')
    try {
      await src.conn.prepareTarget(shop, { mode: 'create' })
      await load(src.conn, 'sector', [[1, 'health'], [2, 'water']])
      await load(src.conn, 'org', Array.from({ length: 2500 }, (_, i): Row => [i + 1, (i % 2) + 1, `u${i}@x`]))
      await src.conn.finalize(shop, {})
      const report = await ferry({ from: src.db.url, to: dst.db.url, batchRows: 1000 })
      expect(report.error).toBeUndefined()
      expect(report.ok).toBe(true)
      expect(report.clean).toBe(true)
      expect(report.tables.map((t) => [t.name, t.read, t.written])).toEqual([['sector', 2, 2], ['org', 2500, 2500]])
      const c = clientOf(dst.conn)
      const fks = await c.query(`SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'`)
      expect(fks.rows).toEqual([{ conname: 'org_sector_fk', convalidated: true }])
      const next = await c.query(`INSERT INTO org (sector_id, email) VALUES (1, 'new@x') RETURNING id`)
      expect(next.rows[0].id).toBe(2501)
      // a run that cannot start throws its typed error, naming the tables
      await expect(ferry({ from: src.db.url, to: dst.db.url })).rejects.toMatchObject({ name: 'SchemaError', code: 'target_exists', message: expect.stringContaining('org, sector') })
      const reload = await ferry({ from: src.db.url, to: dst.db.url, mode: 'truncate' })
      expect(reload.ok).toBe(true)
      expect((await c.query('SELECT count(*)::int AS n FROM org')).rows[0].n).toBe(2500)
    } finally {
      await src.done()
      await dst.done()
    }
  })
})
