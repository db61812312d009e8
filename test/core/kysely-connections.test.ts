import Database from 'better-sqlite3'
import { DialectAdapterBase, Kysely, Migrator, MssqlDialect, MysqlDialect, PostgresDialect, SqliteDialect, sql, type KyselyPlugin, type Migration } from 'kysely'
import { createPool, type Pool as MysqlPool } from 'mysql2'
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
import { rename } from '../../src/transforms/rename.js'
import type { Transform } from '../../src/transforms/transform.js'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { normalize } from '../cross/compare.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * A Kysely instance as `from`/`to`: PostgreSQL, MySQL/MariaDB and SQLite through Kysely's public API only (one
 * reserved connection, plain statements), compared value for value with what the driver paths (COPY, LOAD
 * DATA, prepared statements) read and write.
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
    expect(exactText(sorted(rb)), t.name).toEqual(exactText(sorted(ra)))
  }
}

const big = (_: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)

/**
 * A pool of one connection by default, so that every query of the test after a run reaches the client dbferry
 * held. A run with `verify: true` needs two: verify opens its own while the run still holds one.
 */
function poolOf(db: TestDatabase, timeZone = 'America/New_York', max = 1): pg.Pool {
  const pool = new pg.Pool({ connectionString: db.url, max, options: `-c TimeZone=${timeZone}` })
  // pool.end() (Kysely's destroy) returns before its clients' sockets close, and the test's DROP DATABASE …
  // WITH (FORCE) then terminates those backends: the FATAL reaches a client the pool no longer listens to
  pool.on('connect', (client) => client.on('error', () => {}))
  return pool
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

// ---------------------------------------------------------------------------------------------------------
// MySQL/MariaDB: MysqlDialect over a mysql2 pool

const mysqlUp = await serverUp('mysql')

/** MySQL's own types with tricky values; `log` has no key, `child` a foreign key, `counter` an auto_increment. */
function mysqlFixture(): string[] {
  const generated = Array.from({ length: 2500 }, (_, i) => `(${101 + i}, 'row ${i + 1}\\r\\n', X'${(i + 1).toString(16).padStart(8, '0')}', '2020-01-01 00:00:00.${String(i).padStart(6, '0')}')`)
  return [
    "SET SESSION sql_mode = ''",
    `CREATE TABLE things (
      id BIGINT PRIMARY KEY, big BIGINT UNSIGNED, amount DECIMAL(38,10), f FLOAT, d DOUBLE, ts TIMESTAMP(6) NULL DEFAULT NULL, dt DATETIME(6),
      da DATE, t TIME(6), y YEAR, b VARBINARY(16), bl BLOB, txt TEXT, lat VARCHAR(20) CHARACTER SET latin1, flag TINYINT(1), bits BIT(10),
      bit1 BIT(1), j JSON, e ENUM('a','b'), st SET('x','y'), zd DATE, KEY things_txt (txt(20))
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `INSERT INTO things VALUES
      (1, 18446744073709551615, '1234567890123456789012345678.0123456789', 1.1, 0.1, '2024-06-01 12:00:00.654321', '2024-02-29 23:59:59.123456',
       '2024-01-02', '-838:59:59', 2024, X'00ff10', X'000102', 'line1\nline2\ttab \\\\ back é ☃ 😀', 'Médecins', 1, b'1010101010', b'1',
       '{"a":[1,2,{"b":null}]}', 'b', 'x,y', '0000-00-00'),
      (2, 0, '-0.0000000001', -3.4e38, -1.5e300, '1970-01-01 00:00:01', '1000-01-01 00:00:00', '9999-12-31', '00:00:00', 1901, X'', X'', '', '',
       0, b'0', b'0', 'null', 'a', '', NULL),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    `INSERT INTO things (id, txt, b, dt) VALUES ${generated.join(', ')}`,
    'CREATE TABLE log (msg TEXT, at DATETIME(6))',
    "INSERT INTO log VALUES ('one', '2024-01-01 00:00:00.000001'), ('two', NULL), (NULL, '2000-02-29 12:00:00')",
    'CREATE TABLE child (id INT PRIMARY KEY, thing_id BIGINT, CONSTRAINT child_thing FOREIGN KEY (thing_id) REFERENCES things (id))',
    'INSERT INTO child VALUES (1, 1), (2, 3), (3, NULL)',
    'CREATE TABLE counter (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)',
    "INSERT INTO counter (v) VALUES ('a'), ('b')",
  ]
}

async function mysqlExec(url: string, statements: readonly string[]): Promise<void> {
  const mysql = await import('mysql2/promise')
  const c = await mysql.createConnection(url)
  try {
    for (const s of statements) await c.query(s)
  } finally {
    await c.end()
  }
}

/**
 * A caller's mysql2 pool (the callback API, as Kysely's MysqlDialect takes it) of one connection by default,
 * with none of dbferry's driver options and a session time zone of its own.
 */
function mysqlPoolOf(db: TestDatabase, max = 1): MysqlPool {
  const pool = createPool({ uri: db.url, connectionLimit: max })
  pool.on('connection', (c) => c.query("SET time_zone = '-05:00'"))
  return pool
}

function mysqlKysely(pool: MysqlPool): Kysely<unknown> {
  return new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) })
}

/** The caller's mysql2 pool holds every connection it made idle (none lent out, none waiting). */
function expectMysqlReleased(pool: MysqlPool): void {
  const p = pool as unknown as { _allConnections: { length: number }; _freeConnections: { length: number }; _connectionQueue: { length: number } }
  expect(p._freeConnections.length).toBe(p._allConnections.length)
  expect(p._connectionQueue.length).toBe(0)
}

/** The session time zone the caller's connection has: dbferry's UTC must not be left behind. */
async function mysqlTimeZone(db: Kysely<unknown>): Promise<string> {
  const r = await sql<{ tz: string }>`SELECT @@session.time_zone AS tz`.execute(db)
  return r.rows[0]!.tz
}

async function mysqlCount(db: Kysely<unknown>, table: string): Promise<number> {
  const r = await sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql.table(table)}`.execute(db)
  return Number(r.rows[0]!.n)
}

describe.skipIf(!mysqlUp)('a Kysely instance over MySQL/MariaDB', () => {
  let source: TestDatabase
  beforeAll(async () => {
    source = await createMysqlDatabase('dbferry_kysely_src')
    await mysqlExec(source.url, mysqlFixture())
  })
  afterAll(async () => {
    await source?.drop()
  })

  it('reads every value exactly as the streaming path reads it, whatever the caller\'s pool settings and time zone', async () => {
    const pool = mysqlPoolOf(source)
    const db = mysqlKysely(pool)
    const viaUrl = (await connect(source.url)).connection
    const viaKysely = (await connect(db)).connection
    try {
      expect(viaKysely.description).toBe('mysql (Kysely)')
      await viaUrl.snapshot()
      expect((await viaKysely.snapshot()).guarantee).toMatch(/^REPEATABLE READ, START TRANSACTION WITH CONSISTENT SNAPSHOT/)
      expect(await viaKysely.introspect()).toEqual(await viaUrl.introspect())
      await expectSameRows(viaUrl, viaKysely)
      const things = (await viaKysely.introspect({ tables: ['things'] })).tables[0]!
      expect(await viaKysely.count(things)).toBe(2503)
      expect(await viaKysely.tableState!(things)).toEqual(await viaUrl.tableState!(things))
      // resuming after a key reads the rest in key order
      const rest: Row[] = []
      for await (const b of viaKysely.read(things, { batchRows: 1000, batchBytes: 1 << 20, after: [2590] })) rest.push(...b.rows)
      expect(rest.map((r) => r[0])).toEqual([2591, 2592, 2593, 2594, 2595, 2596, 2597, 2598, 2599, 2600])
      // a key range, as the streaming path reads it
      const range = async (c: Connection) => {
        const ids: unknown[] = []
        for await (const b of c.read(things, { batchRows: 2, batchBytes: 1 << 20, after: [2590], until: [2595] })) ids.push(...b.rows.map((r) => r[0]))
        return ids
      }
      expect(await range(viaKysely)).toEqual([2591, 2592, 2593, 2594, 2595])
      expect(await range(viaKysely)).toEqual(await range(viaUrl))
      // a table without a key, one row per page (OFFSET inside the snapshot)
      const log = (await viaKysely.introspect({ tables: ['log'] })).tables[0]!
      const one: Row[] = []
      for await (const b of viaKysely.read(log, { batchRows: 1, batchBytes: 1 << 20 })) one.push(...b.rows)
      expect(exactText(one.sort())).toBe(exactText((await readAll(viaUrl, log)).sort()))
      // pages follow the byte limit: more batches than rows / batchRows, the same rows
      const paged: Row[] = []
      let pages = 0
      for await (const b of viaKysely.read(things, { batchRows: 1000, batchBytes: 8192 })) {
        paged.push(...b.rows)
        pages++
      }
      expect(paged).toEqual(await readAll(viaUrl, things))
      expect(pages).toBeGreaterThan(3)
      const first = (await readAll(viaKysely, things))[0]!
      expect(first.slice(0, 10)).toEqual([1, 18446744073709551615n, '1234567890123456789012345678.0123456789', 1.1, 0.1, '2024-06-01 12:00:00.654321+00:00', '2024-02-29 23:59:59.123456', '2024-01-02', '-838:59:59.000000', 2024])
    } finally {
      await viaUrl.close()
      await viaKysely.close()
    }
    // the connection went back to the pool with the caller's settings, and the instance still works
    expectMysqlReleased(pool)
    expect(await mysqlTimeZone(db)).toBe('-05:00')
    await db.destroy()
  })

  it('the types fixture: written through Kysely and read back through Kysely, exactly as the driver path writes and reads it', async () => {
    const viaDriver = await createMysqlDatabase('dbferry_kysely_tdrv')
    const viaKysely = await createMysqlDatabase('dbferry_kysely_tky')
    const pool = mysqlPoolOf(viaKysely)
    const db = mysqlKysely(pool)
    try {
      const a = await buildFixture(typesFixture, viaDriver.url)
      const b = await buildFixture(typesFixture, db)
      expect(b).toEqual(a)
      expectMysqlReleased(pool)
      const byDriver = (await connect(viaDriver.url)).connection
      const byKysely = (await connect(db)).connection
      const written = (await connect(viaKysely.url)).connection
      try {
        await expectSameRows(byDriver, written)
        await expectSameRows(byDriver, byKysely)
      } finally {
        await byDriver.close()
        await byKysely.close()
        await written.close()
      }
      expectMysqlReleased(pool)
    } finally {
      await db.destroy()
      await viaDriver.drop()
      await viaKysely.drop()
    }
  })

  it('writes every value exactly as LOAD DATA writes it, and finishes keys, indexes and auto_increment', async () => {
    const viaLoad = await createMysqlDatabase('dbferry_kysely_load')
    const viaInsert = await createMysqlDatabase('dbferry_kysely_ins')
    const pool = mysqlPoolOf(viaInsert)
    const db = mysqlKysely(pool)
    try {
      const loaded = await ferry({ from: source.url, to: viaLoad.url, batchRows: 1000 })
      const inserted = await ferry({ from: source.url, to: db, batchRows: 1000 })
      expect(loaded.clean).toBe(true)
      expect(inserted.clean, JSON.stringify(inserted.error)).toBe(true)
      expect(inserted.tables.map((t) => [t.name, t.written, t.fixed])).toEqual(loaded.tables.map((t) => [t.name, t.written, t.fixed]))
      expect(inserted.snapshot?.notes).toContain('target is a Kysely instance: rows written with multi-row INSERT statements, not LOAD DATA')
      expectMysqlReleased(pool)
      const a = (await connect(viaLoad.url)).connection
      const b = (await connect(viaInsert.url)).connection
      try {
        expect(await b.introspect()).toEqual(await a.introspect())
        await expectSameRows(a, b)
      } finally {
        await a.close()
        await b.close()
      }
      // auto_increment continues past the loaded keys, through the caller's Kysely
      const next = await sql`INSERT INTO counter (v) VALUES ('c')`.execute(db)
      expect(Number(next.insertId)).toBe(3)
      expect(await mysqlTimeZone(db)).toBe('-05:00')
    } finally {
      await db.destroy()
      await viaLoad.drop()
      await viaInsert.drop()
    }
  })

  it('rejects only the rows the target refuses, one by one, and writes the rest of the batch', async () => {
    const target = await createMysqlDatabase('dbferry_kysely_rej')
    await mysqlExec(target.url, [
      "CREATE TABLE things (id BIGINT PRIMARY KEY, big BIGINT, `dec` DECIMAL(38,10), ts DATETIME(6), tstz DATETIME(6), d DATE, b BLOB, txt TEXT CHECK (txt NOT LIKE 'row 1_\\r\\n'), flag TINYINT(1), j JSON, f DOUBLE, u CHAR(36))",
    ])
    const pool = mysqlPoolOf(target)
    const db = mysqlKysely(pool)
    try {
      const report = await ferry({ from: sqliteFixture('mysql-rejects.db'), to: db, mode: 'append', batchRows: 1000 })
      const t = report.tables.find((x) => x.name === 'things')!
      // rows 10–19 are "row 1_\r\n"
      expect(t).toMatchObject({ status: 'done', read: 2999, written: 2999 - 10, rejected: 10, byKind: { check_violation: 10 } })
      expect(t.examples[0]).toMatchObject({ kind: 'check_violation', key: '{"id":10}', by: 'target' })
      expect(await mysqlCount(db, 'things')).toBe(2999 - 10)
      expectMysqlReleased(pool)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })

  it('an interrupted run into a Kysely target resumes without losing or repeating a row', async () => {
    const target = await createMysqlDatabase('dbferry_kysely_resume')
    const pool = mysqlPoolOf(target, 2)
    const db = mysqlKysely(pool)
    const from = sqliteFixture('mysql-resume.db')
    const journal = join(dir, 'mysql-resume-journal.sqlite')
    try {
      const first = await ferry({ from, to: db, journal, batchRows: 400, transforms: [failingAt(4)] })
      expect(first.ok).toBe(false)
      expectMysqlReleased(pool)
      const second = await ferry({ from, to: db, journal, batchRows: 400, resume: true, verify: true })
      expect(second.error).toBeUndefined()
      expect(second.clean, JSON.stringify(second.verify)).toBe(true)
      expect(second.tables.find((t) => t.name === 'things')).toMatchObject({ status: 'done', read: 2999, written: 2999 })
      expect(await mysqlCount(db, 'things')).toBe(2999)
      expectMysqlReleased(pool)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })

  it('an interrupted run from a Kysely source resumes after the last key it committed', async () => {
    const pool = mysqlPoolOf(source)
    const db = mysqlKysely(pool)
    const to = `sqlite:${join(dir, 'mysql-source-resume.db')}`
    const journal = join(dir, 'mysql-source-resume-journal.sqlite')
    try {
      const first = await ferry({ from: db, to, journal, batchRows: 400, tables: { include: ['things'] }, transforms: [failingAt(3)] })
      expect(first.ok).toBe(false)
      const second = await ferry({ from: db, to, journal, batchRows: 400, tables: { include: ['things'] }, resume: true })
      expect(second.error).toBeUndefined()
      const t = second.tables.find((x) => x.name === 'things')!
      // row 1's BIGINT UNSIGNED maximum does not fit SQLite's 64-bit integer: rejected, as from the streaming path
      expect(t).toMatchObject({ status: 'done', read: 2503, written: 2502, rejected: 1, byKind: { out_of_range: 1 } })
      const file = new Database(join(dir, 'mysql-source-resume.db'), { readonly: true })
      try {
        const ids = file.prepare('SELECT id FROM things ORDER BY id').pluck().all() as number[]
        expect(ids.length).toBe(2502)
        expect(new Set(ids).size).toBe(2502)
      } finally {
        file.close()
      }
      expectMysqlReleased(pool)
    } finally {
      await db.destroy()
    }
  })

  it('inside a transaction the caller opened: reads in it, and the rows written commit or roll back with it', async () => {
    const target = await createMysqlDatabase('dbferry_kysely_trx')
    await mysqlExec(target.url, ['CREATE TABLE log (msg TEXT, at DATETIME(6))', 'CREATE TABLE counter (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT)'])
    const sourcePool = mysqlPoolOf(source)
    const sourceDb = mysqlKysely(sourcePool)
    const pool = mysqlPoolOf(target)
    const db = mysqlKysely(pool)
    const tables = { include: ['log', 'counter'] }
    try {
      const report = await sourceDb.transaction().execute(async (trx) => {
        const r = await ferry({ from: trx, to: `sqlite:${join(dir, 'mysql-from-trx.db')}`, tables, verify: true })
        await sql`SELECT 1`.execute(trx)
        return r
      })
      expect(report.clean, JSON.stringify(report.verify)).toBe(true)
      expect(report.snapshot?.guarantee).toBe("the caller's transaction (REPEATABLE-READ)")
      expect(report.snapshot?.notes).toContain("source is a Kysely instance: rows read with keyset-paged SELECT statements inside the caller's transaction, not one streamed query")
      expect(report.tables.map((t) => [t.name, t.written])).toEqual([['counter', 2], ['log', 3]])

      // a transaction rolled back after the run takes the rows with it
      await expect(
        db.transaction().execute(async (trx) => {
          const r = await ferry({ from: source.url, to: trx, mode: 'append', tables })
          expect(r.clean).toBe(true)
          expect(await mysqlCount(trx, 'log')).toBe(3)
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      expect(await mysqlCount(db, 'log')).toBe(0)
      // and one that commits keeps them
      const kept = await db.transaction().execute((trx) => ferry({ from: source.url, to: trx, mode: 'append', tables }))
      expect(kept.snapshot?.notes?.join('; ')).toContain("target is a Kysely instance: rows written with multi-row INSERT statements inside the caller's transaction, not LOAD DATA")
      expect(await mysqlCount(db, 'log')).toBe(3)
      expect(await mysqlCount(db, 'counter')).toBe(2)

      // tables created inside it: MySQL commits before CREATE TABLE, and the rows after it still go with the
      // caller's transaction, rolled back here
      await expect(
        db.transaction().execute(async (trx) => {
          const r = await ferry({ from: source.url, to: trx, tables: { include: ['log'] }, transforms: [rename({ tables: { log: 'log_copy' } })] })
          expect(r.clean).toBe(true)
          expect(await mysqlCount(trx, 'log_copy')).toBe(3)
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      expect(await mysqlCount(db, 'log_copy')).toBe(0)
      expectMysqlReleased(pool)
      expectMysqlReleased(sourcePool)
      expect(await mysqlTimeZone(db)).toBe('-05:00')
    } finally {
      await sourceDb.destroy()
      await db.destroy()
      await target.drop()
    }
  })
  it('inside a Kysely migration: up(db) calls ferry() with the migration\'s db', async () => {
    const target = await createMysqlDatabase('dbferry_kysely_mig')
    const pool = mysqlPoolOf(target)
    const db = mysqlKysely(pool)
    const migrations: Record<string, Migration> = {
      '001_import': {
        async up(mdb) {
          const report = await ferry({ from: sqliteFixture('mysql-migration.db'), to: mdb })
          if (!report.clean) throw new Error(`import not clean: ${JSON.stringify(report.tables)}`)
        },
      },
    }
    try {
      const result = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest()
      expect(result.error).toBeUndefined()
      expect(result.results?.[0]).toMatchObject({ migrationName: '001_import', status: 'Success' })
      expect(await mysqlCount(db, 'things')).toBe(2999)
      expectMysqlReleased(pool)
    } finally {
      await db.destroy()
      await target.drop()
    }
  })
})

// ---------------------------------------------------------------------------------------------------------
// SQLite: SqliteDialect over a better-sqlite3 Database

/** A Kysely instance over its own better-sqlite3 handle of `url`'s file, which the test closes after the instance. */
function sqliteKysely(url: string): { db: Kysely<unknown>; handle: Database.Database } {
  const handle = new Database(url.replace(/^sqlite:/, ''))
  return { db: new Kysely<unknown>({ dialect: new SqliteDialect({ database: handle }) }), handle }
}

/** Values only a driver that reads stored bytes and 64-bit integers exactly gets right, and a WITHOUT ROWID table. */
function sqliteTrickyFixture(name: string): string {
  const url = sqliteFixture(name)
  const db = new Database(url.replace(/^sqlite:/, ''))
  db.defaultSafeIntegers(true)
  db.exec(`CREATE TABLE words (w TEXT PRIMARY KEY, n INTEGER, r REAL, any_value) WITHOUT ROWID;
    CREATE TABLE loose (id INTEGER PRIMARY KEY, n INTEGER, t TEXT, ts TIMESTAMP);
    CREATE INDEX words_n ON words (n)`)
  const words = db.prepare('INSERT INTO words VALUES (?, ?, ?, ?)')
  db.exec('BEGIN')
  words.run('é', 9223372036854775807n, 0.1, Buffer.from([1, 2]))
  words.run('a', -9007199254740993n, 1e308, 'text')
  words.run('\uFFFD real replacement character', 1n, -0, 12.5)
  for (let i = 0; i < 1500; i++) words.run(`w${String(i).padStart(5, '0')}`, BigInt(i), i / 3, null)
  const loose = db.prepare('INSERT INTO loose VALUES (?, ?, ?, ?)')
  loose.run(1n, 'not a number', 'ok', '2024-01-01 10:00:00')
  loose.run(2n, 2n, 'ok', '01/14/10 1')
  // invalid UTF-8 in a TEXT column: rejected without a fallback encoding, as the driver path does
  db.prepare("INSERT INTO loose VALUES (3, 3, CAST(X'48e96c6c6f' AS TEXT), NULL)").run()
  loose.run(4n, 4n, 'ok', '2024-01-01 10:00:00')
  db.exec('COMMIT')
  db.close()
  return url
}

/**
 * Rows as text that keeps every distinction `toEqual` makes (bytes, bigints, -0, NaN), compared in one step: a
 * deep comparison of megabyte blobs value by value takes seconds.
 */
function exactText(x: unknown): string {
  return JSON.stringify(x, function (this: Record<string, unknown>, key: string) {
    const v = this[key]
    if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('hex')}`
    if (typeof v === 'bigint') return `${v}n`
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return `number:${Object.is(v, -0) ? '-0' : v}`
    return v
  })
}

/** Every table of `a` and `b` read through their own connections: the same rows and the same rejects. */
async function expectSameReads(a: Connection, b: Connection, batchRows = 700): Promise<void> {
  const schema = await a.introspect()
  expect(await b.introspect()).toEqual(schema)
  for (const t of schema.tables) {
    const read = async (c: Connection) => {
      const rows: Row[] = []
      const rejected: unknown[] = []
      const keys: unknown[] = []
      for await (const batch of c.read(t, { batchRows, batchBytes: 8 << 20 })) {
        rows.push(...batch.rows)
        rejected.push(...batch.rejected.map((e) => [e.code, e.message, e.key]))
        keys.push(batch.lastKey)
      }
      return { rows, rejected, keys }
    }
    expect(exactText(await read(b)), t.name).toEqual(exactText(await read(a)))
  }
}

describe('a Kysely instance over SQLite', () => {
  it('reads every value exactly as the driver path reads it: 64-bit integers, stored bytes, WITHOUT ROWID keys, rejects', async () => {
    const url = sqliteTrickyFixture('kysely-sqlite-read.db')
    const { db, handle } = sqliteKysely(url)
    const viaUrl = (await connect(url)).connection
    const viaKysely = (await connect(db)).connection
    try {
      expect(viaKysely.description).toBe('sqlite (Kysely)')
      expect(await viaKysely.identity!()).toEqual(await viaUrl.identity!())
      await viaUrl.snapshot()
      expect(await viaKysely.snapshot()).toEqual({ guarantee: 'one read transaction' })
      await expectSameReads(viaUrl, viaKysely)
      await expectSameReads(viaUrl, viaKysely, 3)
      const schema = await viaKysely.introspect()
      const loose = schema.tables.find((t) => t.name === 'loose')!
      const rejected = []
      for await (const b of viaKysely.read(loose, { batchRows: 100, batchBytes: 1 << 20 })) rejected.push(...b.rejected.map((e) => e.code))
      expect(rejected).toEqual(['type_conversion', 'type_conversion', 'invalid_encoding'])
      const things = schema.tables.find((t) => t.name === 'things')!
      expect(await viaKysely.count(things)).toBe(2999)
      expect(await viaKysely.tableState!(things)).toEqual(await viaUrl.tableState!(things))
      const words = schema.tables.find((t) => t.name === 'words')!
      expect(await viaKysely.tableState!(words)).toEqual(await viaUrl.tableState!(words))
      // resuming after a key, and a key range, as the driver path reads them
      const range = async (c: Connection) => {
        const ids: unknown[] = []
        for await (const b of c.read(things, { batchRows: 1000, batchBytes: 1 << 20, after: [2990], until: [2995] })) ids.push(...b.rows.map((r) => r[0]))
        return ids
      }
      expect(await range(viaKysely)).toEqual([2991, 2992, 2993, 2994, 2995])
      expect(await range(viaKysely)).toEqual(await range(viaUrl))
      const first = (await readAll(viaKysely, things))[0]!
      expect(first.slice(0, 2)).toEqual([1, 9007199254740993n])
    } finally {
      await viaUrl.close()
      await viaKysely.close()
    }
    // the instance still works, and its handle is open
    const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expect((n as { n: number }).n).toBe(2999)
    await db.destroy()
    expect(handle.open).toBe(false)
  })

  it('the types fixture: written and read back through Kysely exactly as the driver path writes and reads it', async () => {
    const viaDriver = `sqlite:${join(dir, 'kysely-types-driver.db')}`
    const viaKysely = `sqlite:${join(dir, 'kysely-types-kysely.db')}`
    const { db, handle } = sqliteKysely(viaKysely)
    try {
      const a = await buildFixture(typesFixture, viaDriver)
      const b = await buildFixture(typesFixture, db)
      expect(b).toEqual(a)
      const byDriver = (await connect(viaDriver)).connection
      const written = (await connect(viaKysely)).connection
      const byKysely = (await connect(db)).connection
      try {
        await expectSameReads(byDriver, written)
        await expectSameReads(byDriver, byKysely)
      } finally {
        await byDriver.close()
        await written.close()
        await byKysely.close()
      }
      expect(handle.pragma('foreign_keys', { simple: true })).toBe(1)
    } finally {
      await db.destroy()
    }
  })

  it('writes every value exactly as the driver path writes it, indexes and keys included, and rejects only the refused rows', async () => {
    const from = sqliteTrickyFixture('kysely-sqlite-from.db')
    const viaDriver = `sqlite:${join(dir, 'kysely-sqlite-driver.db')}`
    const viaKysely = `sqlite:${join(dir, 'kysely-sqlite-kysely.db')}`
    const { db } = sqliteKysely(viaKysely)
    try {
      const a = await ferry({ from, to: viaDriver, batchRows: 500 })
      const b = await ferry({ from, to: db, batchRows: 500 })
      expect(b.tables.map((t) => [t.name, t.read, t.written, t.rejected])).toEqual(a.tables.map((t) => [t.name, t.read, t.written, t.rejected]))
      expect(b.snapshot?.notes).toContain('target is a Kysely instance: rows written with multi-row INSERT statements through it, one savepoint per batch')
      const ca = (await connect(viaDriver)).connection
      const cb = (await connect(viaKysely)).connection
      try {
        await expectSameReads(ca, cb)
      } finally {
        await ca.close()
        await cb.close()
      }

      const target = `sqlite:${join(dir, 'kysely-sqlite-rejects.db')}`
      const t = new Database(target.replace(/^sqlite:/, ''))
      t.exec("CREATE TABLE things (id INTEGER PRIMARY KEY, big BIGINT, dec DECIMAL(38,10), ts TIMESTAMP, tstz TIMESTAMPTZ, d DATE, b BLOB, txt TEXT CHECK (txt NOT LIKE 'row 1_' || char(13) || char(10)), flag BOOLEAN, j JSON, f DOUBLE, u UUID)")
      t.close()
      const k = sqliteKysely(target)
      try {
        const report = await ferry({ from: sqliteFixture('kysely-sqlite-rej-src.db'), to: k.db, mode: 'append', batchRows: 1000 })
        const things = report.tables.find((x) => x.name === 'things')!
        expect(things).toMatchObject({ status: 'done', read: 2999, written: 2999 - 10, rejected: 10, byKind: { check_violation: 10 } })
        expect(things.examples[0]).toMatchObject({ kind: 'check_violation', key: '{"id":10}', by: 'target' })
      } finally {
        await k.db.destroy()
      }
    } finally {
      await db.destroy()
    }
  })

  it('an interrupted run into a Kysely target resumes without losing or repeating a row, and verifies through the same instance', async () => {
    const { db } = sqliteKysely(`sqlite:${join(dir, 'kysely-sqlite-resume.db')}`)
    const from = sqliteFixture('kysely-sqlite-resume-src.db')
    const journal = join(dir, 'kysely-sqlite-resume-journal.sqlite')
    try {
      const first = await ferry({ from, to: db, journal, batchRows: 400, transforms: [failingAt(4)] })
      expect(first.ok).toBe(false)
      const second = await ferry({ from, to: db, journal, batchRows: 400, resume: true, verify: true })
      expect(second.error).toBeUndefined()
      expect(second.clean, JSON.stringify(second.verify)).toBe(true)
      expect(second.tables.find((t) => t.name === 'things')).toMatchObject({ status: 'done', read: 2999, written: 2999 })
      const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      expect((n as { n: number }).n).toBe(2999)
    } finally {
      await db.destroy()
    }
  })

  it('an interrupted run from a Kysely source resumes after the last key it committed', async () => {
    const { db } = sqliteKysely(sqliteTrickyFixture('kysely-sqlite-src-resume.db'))
    const to = `sqlite:${join(dir, 'kysely-sqlite-src-resume-to.db')}`
    const journal = join(dir, 'kysely-sqlite-src-resume-journal.sqlite')
    try {
      const first = await ferry({ from: db, to, journal, batchRows: 400, transforms: [failingAt(3)] })
      expect(first.ok).toBe(false)
      const second = await ferry({ from: db, to, journal, batchRows: 400, resume: true, verify: true })
      expect(second.error).toBeUndefined()
      // the three rows of `loose` that do not convert are rejected, and verify expects them absent
      expect(second.verify?.equal, JSON.stringify(second.verify)).toBe(true)
      expect(second.tables.find((t) => t.name === 'things')).toMatchObject({ status: 'done', read: 2999, written: 2999 })
      expect(second.tables.find((t) => t.name === 'loose')).toMatchObject({ status: 'done', read: 4, written: 1, rejected: 3 })
    } finally {
      await db.destroy()
    }
  })

  it('inside a transaction the caller opened: reads in it, and the rows written commit or roll back with it', async () => {
    const from = sqliteFixture('kysely-sqlite-trx-src.db')
    const source = sqliteKysely(from)
    const { db } = sqliteKysely(`sqlite:${join(dir, 'kysely-sqlite-trx.db')}`)
    try {
      const report = await source.db.transaction().execute(async (trx) => {
        const r = await ferry({ from: trx, to: `sqlite:${join(dir, 'kysely-sqlite-from-trx.db')}`, verify: true })
        await sql`SELECT 1`.execute(trx)
        return r
      })
      expect(report.clean, JSON.stringify(report.verify)).toBe(true)
      expect(report.snapshot?.guarantee).toBe("the caller's transaction")
      expect(report.tables.map((t) => [t.name, t.written])).toEqual([['things', 2999]])

      await expect(
        db.transaction().execute(async (trx) => {
          const r = await ferry({ from, to: trx })
          expect(r.clean).toBe(true)
          expect(r.snapshot?.notes?.join('; ')).toContain("target is a Kysely instance: rows written with multi-row INSERT statements through it, one savepoint per batch inside the caller's transaction")
          throw new Error('roll back')
        }),
      ).rejects.toThrow('roll back')
      const none = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_schema WHERE name = 'things'`.execute(db)
      expect(none.rows[0]!.n).toBe(0)
      await db.transaction().execute((trx) => ferry({ from, to: trx }))
      const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      expect((n as { n: number }).n).toBe(2999)
    } finally {
      await source.db.destroy()
      await db.destroy()
    }
  })
  it('runs SQL of several statements one at a time, a trigger\'s body and quoted semicolons kept whole', async () => {
    const { db } = sqliteKysely(`sqlite:${join(dir, 'kysely-sqlite-execute.db')}`)
    const conn = (await connect(db)).connection
    try {
      await conn.execute!(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); -- a comment; with a semicolon
        CREATE VIEW v AS SELECT id, 'a;b' AS s FROM t;
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET v = CASE WHEN new.id > 0 THEN 'x;' ELSE 'y' END WHERE id = new.id; END;
        INSERT INTO t (id) VALUES (1)`)
    } finally {
      await conn.close()
    }
    // the instance's one connection is back: the test's own query runs
    try {
      const r = await sql<{ v: string; s: string }>`SELECT t.v, v.s FROM t JOIN v ON v.id = t.id`.execute(db)
      expect(r.rows).toEqual([{ v: 'x;', s: 'a;b' }])
    } finally {
      await db.destroy()
    }
  })

  it('inside a Kysely migration: up(db) calls ferry() with the migration\'s db', async () => {
    const { db } = sqliteKysely(`sqlite:${join(dir, 'kysely-sqlite-migration.db')}`)
    const migrations: Record<string, Migration> = {
      '001_import': {
        async up(mdb) {
          const report = await ferry({ from: sqliteFixture('kysely-sqlite-migration-src.db'), to: mdb, verify: true })
          if (!report.clean) throw new Error(`import not clean: ${JSON.stringify(report)}`)
        },
      },
    }
    try {
      const result = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest()
      expect(result.error).toBeUndefined()
      expect(result.results?.[0]).toMatchObject({ migrationName: '001_import', status: 'Success' })
      const n = await db.selectFrom('things' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      expect((n as { n: number }).n).toBe(2999)
    } finally {
      await db.destroy()
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
        /a Kysely instance over MssqlAdapter is not taken: dbferry takes Kysely instances over SqliteAdapter, PostgresAdapter, MysqlAdapter;.*an mssql ConnectionPool for MssqlDialect/,
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
