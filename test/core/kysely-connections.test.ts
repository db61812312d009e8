import Database from 'better-sqlite3'
import { DialectAdapterBase, Kysely, Migrator, MssqlDialect, PostgresDialect, SqliteDialect, sql, type KyselyPlugin, type Migration } from 'kysely'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { Connection } from '../../src/dialect.js'
import { UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import type { Transform } from '../../src/transforms/transform.js'
import { normalize } from '../cross/compare.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * A Kysely instance as `from`/`to`: PostgreSQL through Kysely's public API only (one reserved connection,
 * plain statements), compared value for value with what the COPY paths read and write.
 */

const up = await serverUp('postgres')
const dir = mkdtempSync(join(tmpdir(), 'dbferry-kysely-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Tricky values in PostgreSQL's own types; `log` has no key, `child` a foreign key, `counter` an identity. */
const PG_FIXTURE = `
CREATE TABLE things (
  id bigint PRIMARY KEY, big bigint, dec numeric(38,10), nan numeric, ts timestamp(6), tstz timestamptz, d date, t time,
  b bytea, txt text, flag boolean, j json, jb jsonb, ch char(4), ip inet, u uuid, r real, f double precision,
  arr int[], tags text[], iv interval
);
CREATE INDEX things_txt ON things (txt);
INSERT INTO things VALUES
 (1, 9007199254740993, '1234567890123456789012345678.0123456789', 'NaN', '2024-02-29 23:59:59.123456', '2024-06-01 12:00:00.654321+02',
  '2024-01-02', '13:14:15.000001', '\\x00ff10', E'line1\\nline2\\ttab \\\\ back é ☃ 😀', true, '{"a":[1,2,{"b":null}]}', '{"k": "v"}',
  'ab', '10.0.0.1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 9.8, 0.1, '{1,NULL,3}', '{"a b","c,d"}', '1 day 02:03:04.5'),
 (2, -9223372036854775808, '-0.0000000001', 'Infinity', '1999-12-31 00:00:00', '1970-01-01 00:00:00+00', 'infinity', '00:00:00',
  '\\x', '', false, 'null', '[]', '    ', '::1', NULL, 'NaN', '-Infinity', '{}', '{}', '-1 mons'),
 (3, 9223372036854775807, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO things (id, txt, b) SELECT 100 + g, 'row ' || g || E'\\r\\n', decode(lpad(to_hex(g), 8, '0'), 'hex') FROM generate_series(1, 2500) g;
CREATE TABLE log (msg text, at timestamptz);
INSERT INTO log VALUES ('one', '2024-01-01 00:00:00.000001+00'), ('two', NULL), (NULL, '2000-02-29 12:00:00+05:30');
CREATE TABLE child (id int PRIMARY KEY, thing_id bigint REFERENCES things (id));
INSERT INTO child VALUES (1, 1), (2, 3), (3, NULL);
CREATE TABLE counter (id serial PRIMARY KEY, v text);
INSERT INTO counter (v) VALUES ('a'), ('b');
`

/** The same kinds of values in a SQLite file, as dbferry's canonical forms read them. */
function sqliteFixture(name: string): string {
  const file = join(dir, name)
  const db = new Database(file)
  db.exec(`CREATE TABLE things (id INTEGER PRIMARY KEY, big BIGINT, dec DECIMAL(38,10), ts TIMESTAMP, tstz TIMESTAMPTZ, d DATE,
    b BLOB, txt TEXT, flag BOOLEAN, j JSON, f DOUBLE, u UUID)`)
  const insert = db.prepare('INSERT INTO things VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  db.defaultSafeIntegers(true)
  db.transaction(() => {
    insert.run(1n, 9007199254740993n, '1234567890123456789012345678.0123456789', '2024-02-29 23:59:59.123456', '2024-06-01 10:00:00.654321+00:00', '2024-01-02',
      Buffer.from([0, 255, 16, 0]), 'line1\nline2\ttab \\ back é ☃ 😀', 1, '{"a":[1,2,{"b":null}]}', 0.1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
    insert.run(2n, -9223372036854775808n, '-0.0000000001', '1999-12-31 00:00:00', '1970-01-01 00:00:00+00:00', '0001-01-01', Buffer.alloc(0), '', 0, '[]', -1.5e300, null)
    insert.run(3n, 9223372036854775807n, null, null, null, null, null, null, null, null, null, null)
    for (let i = 4; i < 3000; i++) insert.run(BigInt(i), BigInt(i) * 3_000_000_000_000n, `${i}.${i % 10}`, null, null, null, Buffer.from([i & 255]), `row ${i}\r\n`, i % 2, null, i / 7, null)
  })()
  db.close()
  return `sqlite:${file}`
}

async function readAll(connection: Connection, table: TableSchema): Promise<Row[]> {
  const rows: Row[] = []
  for await (const batch of connection.read(table, { batchRows: 700, batchBytes: 8 << 20 })) {
    expect(batch.rejected).toEqual([])
    rows.push(...batch.rows)
  }
  return rows
}

/** Every table of `a` and `b`, read through their own connections, value for value (keyless tables as sorted lists). */
async function expectSameRows(a: Connection, b: Connection): Promise<void> {
  const schema = await a.introspect()
  const other = await b.introspect()
  expect(other.tables.map((t) => t.name)).toEqual(schema.tables.map((t) => t.name))
  for (const t of schema.tables) {
    const ra = await readAll(a, t)
    const rb = await readAll(b, other.tables.find((x) => x.name === t.name)!)
    const sorted = (rows: Row[]) => (t.primaryKey ? rows : [...rows].sort((x, y) => (JSON.stringify(x, big) < JSON.stringify(y, big) ? -1 : 1)))
    expect(sorted(rb), t.name).toEqual(sorted(ra))
  }
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)

/**
 * A pool of one connection by default, so that every query of the test after a run reaches the client dbferry
 * held. A run with `verify: true` needs two: verify opens its own while the run still holds one.
 */
function poolOf(db: TestDatabase, timeZone = 'America/New_York', max = 1): pg.Pool {
  return new pg.Pool({ connectionString: db.url, max, options: `-c TimeZone=${timeZone}` })
}

async function pgExec(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

/** The caller's pool gave back every client it lent (none held, none waiting). */
function expectReleased(pool: pg.Pool): void {
  expect(pool.idleCount).toBe(pool.totalCount)
  expect(pool.waitingCount).toBe(0)
}

describe.skipIf(!up)('a Kysely instance over PostgreSQL', () => {
  let source: TestDatabase
  beforeAll(async () => {
    source = await createPostgresDatabase('dbferry_kysely_src')
    await pgExec(source.url, PG_FIXTURE)
  })
  afterAll(async () => {
    await source?.drop()
  })

  it('reads every value exactly as the COPY path reads it, whatever the caller\'s type parsers and time zone', async () => {
    const pool = poolOf(source)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    const viaUrl = (await connect(source.url)).connection
    const viaKysely = (await connect(db)).connection
    try {
      expect(viaKysely.description).toBe('postgres (Kysely)')
      await viaUrl.snapshot()
      expect(await viaKysely.snapshot()).toEqual({ guarantee: 'REPEATABLE READ READ ONLY' })
      expect(await viaKysely.introspect()).toEqual(await viaUrl.introspect())
      await expectSameRows(viaUrl, viaKysely)
      const things = (await viaKysely.introspect({ tables: ['things'] })).tables[0]!
      expect(await viaKysely.count(things)).toBe(2503)
      // resuming after a key reads the rest, as the keyset pages of the COPY path do
      const rest = []
      for await (const b of viaKysely.read(things, { batchRows: 1000, batchBytes: 1 << 20, after: [2590] })) rest.push(...b.rows)
      expect(rest.map((r) => r[0])).toEqual([2591, 2592, 2593, 2594, 2595, 2596, 2597, 2598, 2599, 2600])
      // pages follow the byte limit as COPY's batches do: after a page past it, the next ones are smaller
      const paged: Row[] = []
      let pages = 0
      for await (const b of viaKysely.read(things, { batchRows: 1000, batchBytes: 8192 })) {
        paged.push(...b.rows)
        pages++
      }
      expect(paged).toEqual(await readAll(viaUrl, things))
      expect(pages).toBeGreaterThan(3) // 2503 rows in pages of 1000 rows would be 3
      const first = (await readAll(viaKysely, things))[0]!
      expect(first.slice(0, 8)).toEqual([1, 9007199254740993n, '1234567890123456789012345678.0123456789', 'NaN', '2024-02-29 23:59:59.123456', '2024-06-01 10:00:00.654321+00:00', '2024-01-02', '13:14:15.000001'])
    } finally {
      await viaUrl.close()
      await viaKysely.close()
    }
    // the connection went back to the pool with the caller's settings, and the instance still works
    expectReleased(pool)
    const tz = await db.selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('TimeZone')]).as('tz')).executeTakeFirstOrThrow()
    expect(tz.tz).toBe('America/New_York')
    await db.destroy()
  })

  it('writes every value exactly as the COPY path writes it, and finishes keys, indexes and identities', async () => {
    const viaCopy = await createPostgresDatabase('dbferry_kysely_copy')
    const viaInsert = await createPostgresDatabase('dbferry_kysely_ins')
    const pool = poolOf(viaInsert)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    try {
      const copied = await ferry({ from: source.url, to: viaCopy.url, batchRows: 1000 })
      const inserted = await ferry({ from: source.url, to: db, batchRows: 1000 })
      expect(copied.clean).toBe(true)
      expect(inserted.clean, JSON.stringify(inserted.error)).toBe(true)
      expect(inserted.tables.map((t) => [t.name, t.written])).toEqual(copied.tables.map((t) => [t.name, t.written]))
      expect(inserted.snapshot?.notes).toContain('target is a Kysely instance: rows written with one INSERT … SELECT FROM unnest(…) statement per batch, not COPY')
      expect(copied.snapshot?.notes ?? []).not.toContain('target is a Kysely instance: rows written with one INSERT … SELECT FROM unnest(…) statement per batch, not COPY')
      expectReleased(pool)

      const a = (await connect(viaCopy.url)).connection
      const b = (await connect(viaInsert.url)).connection
      try {
        expect(await b.introspect()).toEqual(await a.introspect())
        await expectSameRows(a, b)
      } finally {
        await a.close()
        await b.close()
      }
      // the identity moved past the loaded keys, through the caller's Kysely
      const next = await sql<{ id: number }>`INSERT INTO counter (v) VALUES ('c') RETURNING id`.execute(db)
      expect(next.rows[0]!.id).toBe(3)
    } finally {
      await db.destroy()
      await viaCopy.drop()
      await viaInsert.drop()
    }
  })

  it('rejects only the rows the target refuses, one by one, and writes the rest of the batch', async () => {
    const target = await createPostgresDatabase('dbferry_kysely_rej')
    await pgExec(target.url, 'CREATE TABLE things (id INTEGER PRIMARY KEY, big BIGINT, dec NUMERIC(38,10), ts TIMESTAMP, tstz TIMESTAMPTZ, d DATE, b BYTEA, txt TEXT CHECK (txt NOT LIKE E\'row 1_\\r\\n\'), flag BOOLEAN, j JSON, f DOUBLE PRECISION, u UUID)')
    const pool = poolOf(target)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    try {
      const report = await ferry({ from: sqliteFixture('rejects.db'), to: db, mode: 'append', batchRows: 1000 })
      const t = report.tables.find((x) => x.name === 'things')!
      // rows 10–19 are "row 1_\r\n"
      expect(t).toMatchObject({ status: 'done', read: 2999, written: 2999 - 10, rejected: 10, byKind: { check_violation: 10 } })
      expect(t.examples[0]).toMatchObject({ kind: 'check_violation', key: '{"id":10}', by: 'target' })
      const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
      expect(Number((n as { n: string }).n)).toBe(2999 - 10)
      expectReleased(pool)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })

  it('SQLite file → PostgreSQL through Kysely and back: row for row, with verify', async () => {
    const target = await createPostgresDatabase('dbferry_kysely_rt')
    const pool = poolOf(target, 'Asia/Kolkata', 2)
    // the caller's plugins do not reach dbferry's statements (a CamelCasePlugin would rename the catalogue's columns)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }), plugins: [upperCaseColumns] })
    const from = sqliteFixture('roundtrip.db')
    const back = `sqlite:${join(dir, 'back.db')}`
    try {
      const there = await ferry({ from, to: db, verify: true, batchRows: 500 })
      expect(there.clean, JSON.stringify(there.verify)).toBe(true)
      expect(there.verify?.equal).toBe(true)
      const again = await ferry({ from: db, to: back, verify: true, batchRows: 500 })
      expect(again.clean, JSON.stringify(again.verify)).toBe(true)
      expect(again.snapshot?.notes).toContain('source is a Kysely instance: rows read with FETCH from a cursor, not COPY')
      expectReleased(pool)

      // independently of verify: the file that came back holds the first file's values
      const a = (await connect(from)).connection
      const b = (await connect(back)).connection
      try {
        const [ta] = (await a.introspect()).tables
        const [tb] = (await b.introspect()).tables
        const ra = await readAll(a, ta!)
        const rb = await readAll(b, tb!)
        expect(rb.length).toBe(2999)
        expect(rb.map((r) => r.map((v, i) => normalize(v, ta!.columns[i]!.type)))).toEqual(ra.map((r) => r.map((v, i) => normalize(v, ta!.columns[i]!.type))))
        // (a DECIMAL column of SQLite has NUMERIC affinity: the file already holds that value as a REAL; the
        // 38-digit decimals of PostgreSQL are compared exactly in the tests above)
        expect(rb[0]!.slice(0, 2)).toEqual([1, 9007199254740993n])
        expect(rb[1]!.slice(0, 2)).toEqual([2, -9223372036854775808n])
      } finally {
        await a.close()
        await b.close()
      }
      const rows = await db.selectFrom('things' as never).selectAll().execute()
      expect(rows.length).toBe(2999)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })

  it('a failed run leaves the caller\'s Kysely working, its connection back in the pool and its settings as they were', async () => {
    const target = await createPostgresDatabase('dbferry_kysely_fail')
    await pgExec(target.url, 'CREATE TABLE things (id int)')
    const pool = poolOf(target)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    try {
      await expect(ferry({ from: sqliteFixture('fail.db'), to: db })).rejects.toThrow(/already exist/)
      expectReleased(pool)
      const tz = await db.selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('TimeZone')]).as('tz')).executeTakeFirstOrThrow()
      expect(tz.tz).toBe('America/New_York')
      // a run that fails mid-table (a transform throws) gives the connection back too
      const report = await ferry({ from: sqliteFixture('fail2.db'), to: db, mode: 'recreate', batchRows: 500, transforms: [failingAt(3)] })
      expect(report.ok).toBe(false)
      const written = report.tables.find((t) => t.name === 'things')!.written
      expect(written).toBeGreaterThan(0)
      expectReleased(pool)
      const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
      expect(Number((n as { n: string }).n)).toBe(written)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })

  // the pool itself too: counting the target's rows for resume used to hold its connection in a read snapshot
  it.each(['kysely', 'pool'] as const)('an interrupted run into a held target (%s) resumes without losing or repeating a row', async (kind) => {
    const target = await createPostgresDatabase('dbferry_kysely_resume')
    const pool = poolOf(target, 'UTC', 2)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    const to = kind === 'kysely' ? db : pool
    const from = sqliteFixture(`resume-${kind}.db`)
    const journal = join(dir, `resume-journal-${kind}.sqlite`)
    try {
      const first = await ferry({ from, to, journal, batchRows: 400, transforms: [failingAt(4)] })
      expect(first.ok).toBe(false)
      const second = await ferry({ from, to, journal, batchRows: 400, resume: true, verify: true })
      expect(second.error).toBeUndefined()
      expect(second.clean, JSON.stringify(second.verify)).toBe(true)
      expect(second.tables.find((t) => t.name === 'things')).toMatchObject({ status: 'done', read: 2999, written: 2999 })
      const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
      expect(Number((n as { n: string }).n)).toBe(2999)
      expectReleased(pool)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })

  it('a transaction the caller opened reads as its isolation level lets it, and stays the caller\'s', async () => {
    const pool = poolOf(source)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    const to = `sqlite:${join(dir, 'from-trx.db')}`
    try {
      const report = await db
        .transaction()
        .setIsolationLevel('repeatable read')
        .execute(async (trx) => {
          const r = await ferry({ from: trx, to, tables: { include: ['log', 'counter'] }, verify: true })
          // the transaction is still open and usable after the run
          await sql`SELECT 1`.execute(trx)
          return r
        })
      expect(report.clean, JSON.stringify(report.verify)).toBe(true)
      expect(report.snapshot?.guarantee).toBe("the caller's transaction (repeatable read)")
      expect(report.snapshot?.notes).toContain("source is a Kysely instance: rows read with FETCH from a cursor inside the caller's transaction, not COPY")
      expect(report.tables.map((t) => [t.name, t.written])).toEqual([['counter', 2], ['log', 3]])
      expectReleased(pool)
    } finally {
      await db.destroy()
    }
  })

  it('inside a Kysely migration: up(db) calls ferry() with the migration\'s db, and its rows commit (or roll back) with it', async () => {
    const target = await createPostgresDatabase('dbferry_kysely_mig')
    const pool = poolOf(target)
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    const from = sqliteFixture('migration.db')
    const seen: string[] = []
    const migrations: Record<string, Migration> = {
      '001_things': {
        async up(mdb) {
          await mdb.schema
            .createTable('things')
            .addColumn('id', 'bigint', (c) => c.primaryKey())
            .addColumn('big', 'bigint').addColumn('dec', sql`numeric(38,10)`).addColumn('ts', sql`timestamp(6)`).addColumn('tstz', 'timestamptz')
            .addColumn('d', 'date').addColumn('b', 'bytea').addColumn('txt', 'text').addColumn('flag', 'boolean').addColumn('j', 'json')
            .addColumn('f', 'float8').addColumn('u', 'uuid')
            .execute()
          const report = await ferry({ from, to: mdb, mode: 'append' })
          if (!report.clean) throw new Error(`import not clean: ${JSON.stringify(report.tables)}`)
          seen.push(report.snapshot!.notes!.join('; '))
        },
      },
      '002_fails': {
        async up(mdb) {
          await mdb.schema.createTable('other').addColumn('id', 'integer').execute()
          // a run that fails inside the migration: the migration's transaction rolls back everything it did
          await ferry({ from, to: mdb, mode: 'create' })
        },
      },
    }
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } })
    try {
      const first = await migrator.migrateTo('001_things')
      expect(first.error).toBeUndefined()
      expect(first.results?.[0]).toMatchObject({ migrationName: '001_things', status: 'Success' })
      expect(seen[0]).toContain("target is a Kysely instance: rows written with one INSERT … SELECT FROM unnest(…) statement per batch inside the caller's transaction, not COPY")
      const rows = await db.selectFrom('things' as never).selectAll().orderBy('id' as never).execute()
      expect(rows.length).toBe(2999)
      expect((rows[0] as { big: string }).big).toBe('9007199254740993')

      const second = await migrator.migrateToLatest()
      expect(String(second.error)).toMatch(/already exist/)
      const other = await db.selectNoFrom((eb) => eb.fn<string | null>('to_regclass', [eb.val('other')]).as('r')).executeTakeFirstOrThrow()
      expect(other.r).toBeNull()
      expectReleased(pool)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })
})

describe('a Kysely instance no engine takes', () => {
  it('over SQL Server is refused with a usage error naming the adapters taken and the driver object to pass', async () => {
    // no query runs: Kysely connects lazily, so no server is needed
    // a tarn pool that never connects: dbferry must refuse the instance before asking it for a connection
    const tarn = { options: { min: 0, max: 1 }, Pool: class { acquire() { throw new Error('no connection expected') } async destroy() {} } }
    const db = new Kysely<unknown>({ dialect: new MssqlDialect({ tarn: tarn as never, tedious: {} as never }) })
    try {
      await expect(connect(db)).rejects.toThrow(UsageError)
      await expect(ferry({ from: db, to: 'sqlite::memory:' })).rejects.toThrow(
        /a Kysely instance over MssqlAdapter is not taken: dbferry takes Kysely instances over PostgresAdapter.*an mssql ConnectionPool for MssqlDialect/,
      )
    } finally {
      await db.destroy()
    }
  })

  it('over a dialect of its own (an unknown adapter) is refused the same way', async () => {
    const sqlite = new Database(':memory:')
    const base = new SqliteDialect({ database: sqlite })
    class OtherAdapter extends DialectAdapterBase {
      async acquireMigrationLock(): Promise<void> {}
      async releaseMigrationLock(): Promise<void> {}
    }
    const db = new Kysely<unknown>({
      dialect: { createAdapter: () => new OtherAdapter(), createDriver: () => base.createDriver(), createIntrospector: (k) => base.createIntrospector(k), createQueryCompiler: () => base.createQueryCompiler() },
    })
    try {
      await expect(ferry({ from: db, to: 'sqlite::memory:' })).rejects.toThrow(/a Kysely instance over OtherAdapter is not taken/)
    } finally {
      await db.destroy()
    }
  })
})

/** A plugin that renames every result column, as `CamelCasePlugin` renames snake_case ones. */
const upperCaseColumns: KyselyPlugin = {
  transformQuery: (args) => args.node,
  transformResult: async (args) => ({
    ...args.result,
    rows: args.result.rows.map((r) => Object.fromEntries(Object.entries(r as Record<string, unknown>).map(([k, v]) => [k.toUpperCase(), v]))),
  }),
}

/** A transform that fails on its `at`-th batch of `things`. */
function failingAt(at: number): Transform {
  let n = 0
  return {
    name: 'fails-mid-table',
    table: (t) =>
      t.name !== 'things'
        ? undefined
        : {
            batch(rows) {
              if (++n === at) throw new Error('stopped on purpose')
              return rows
            },
          },
  }
}
