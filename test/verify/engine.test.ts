import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verify, type TableVerification, type VerifyReport } from '../../src/verify/verify.js'
import { createMysqlDatabase, createPostgresDatabase, selectedDialects, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * Engine-side hashing (PostgreSQL and MariaDB hash their own rows and sum the hashes per segment) must give
 * exactly the report Node-side hashing gives: the same changed, missing, extra and unreadable rows.
 */

interface Engine {
  name: 'postgres' | 'mysql'
  create(): Promise<TestDatabase>
  /** Runs statements on a database. */
  run(url: string, statements: string[]): Promise<void>
  /** The table, 2 000 rows of every common type, and the rows its reader rejects (on both sides): `unreadable`. */
  build: string[]
  /** How many rows of `t` the reader rejects when told `readerOptions`. */
  unreadable: number
  /** URL query for the reader (`?zeroDates=reject`), or ''. */
  readerOptions: string
  /** On b: one value changed, one row deleted, one added, two values of one row changed. */
  tamper: string[]
  /** On b: a column of another type holding the same values. */
  retype: string
}

const ROWS = 2000
const DIGITS = `(${Array.from({ length: 10 }, (_, d) => `SELECT ${d} AS d`).join(' UNION ALL ')})`

const engines: Engine[] = [
  {
    name: 'postgres',
    create: () => createPostgresDatabase('verify_engine'),
    async run(url, statements) {
      const pg = (await import('pg')).default
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        for (const s of statements) await c.query(s)
      } finally {
        await c.end()
      }
    },
    build: [
      `CREATE TABLE t (id bigint PRIMARY KEY, name text, qty integer, price numeric(12,2), at timestamp(6), tz timestamptz, ok boolean,
        score double precision, data bytea, tags text[], doc jsonb)`,
      `INSERT INTO t SELECT i, CASE WHEN i % 50 = 0 THEN NULL WHEN i % 7 = 0 THEN '' ELSE 'name "' || i || E'",\\n' || repeat('é', i % 5) END,
        i % 97, (i % 10000) / 100.0, timestamp '2024-01-01' + i * interval '1 second 1 microsecond', timestamptz '2024-01-01 00:00+02' + i * interval '1 minute',
        i % 2 = 0, CASE WHEN i % 11 = 0 THEN 'NaN'::float8 ELSE i / 7.0 END, decode(lpad(to_hex(i), 8, '0'), 'hex'), ARRAY['a' || i, NULL, 'b,c'],
        jsonb_build_object('i', i, 'k', ARRAY[1, 2]) FROM generate_series(1, ${ROWS}) i`,
      // numeric NaN is carried (as 'NaN'): hashed and compared like any value
      `UPDATE t SET price = 'NaN' WHERE id = 77`,
      // no key: rows compared as a multiset, duplicates counted
      `CREATE TABLE log (at date, msg text)`,
      `INSERT INTO log SELECT date '2024-01-01' + i % 10, 'm' || i % 3 FROM generate_series(1, 300) i`,
    ],
    tamper: [
      `UPDATE t SET name = 'someone else' WHERE id = 1234`,
      `UPDATE t SET score = 0.5, tags = ARRAY['x'] WHERE id = 17`,
      `DELETE FROM t WHERE id = 10`,
      `INSERT INTO t (id, name) VALUES (9000, 'new')`,
      `INSERT INTO log VALUES ('2024-01-02', 'm1')`,
    ],
    retype: `ALTER TABLE t ALTER COLUMN qty TYPE bigint`,
    // the PostgreSQL reader carries every value of these types (NaN, infinity, BC dates): nothing unreadable
    unreadable: 0,
    readerOptions: '',
  },
  {
    name: 'mysql',
    create: () => createMysqlDatabase('verify_engine'),
    async run(url, statements) {
      const mysql = await import('mysql2/promise')
      const c = await mysql.createConnection(url)
      try {
        for (const s of statements) await c.query(s)
      } finally {
        await c.end()
      }
    },
    build: [
      `CREATE TABLE t (id bigint PRIMARY KEY, name varchar(100), qty int, price decimal(12,2), at datetime(6), ok tinyint(1),
        score double, small float, data varbinary(16), note text CHARACTER SET latin1, doc json)`,
      `INSERT INTO t SELECT i, CASE WHEN i % 50 = 0 THEN NULL WHEN i % 7 = 0 THEN '' ELSE CONCAT('name "', i, '",\\n', REPEAT('é', i % 5), '\\\\') END,
        i % 97, (i % 10000) / 100, TIMESTAMPADD(MICROSECOND, i * 1000001, '2024-01-01'), i % 2, i / 7, i / 3, UNHEX(LPAD(HEX(i), 8, '0')),
        CONCAT('café ', i), JSON_OBJECT('i', i, 'k', JSON_ARRAY(1, 2))
        FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 1 AS i FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} e) s WHERE i <= ${ROWS}`,
      // a tinyint(1) holding 2 is read as 2, not as a boolean
      `UPDATE t SET ok = 2 WHERE id = 76`,
      // a zero date, which a reader told zeroDates=reject rejects: the row verify cannot read
      `SET SESSION sql_mode = ''`,
      `UPDATE t SET at = '0000-00-00 00:00:00' WHERE id = 77`,
      // no key: rows compared as a multiset, duplicates counted
      `CREATE TABLE log (at date, msg text)`,
      `INSERT INTO log SELECT DATE_ADD('2024-01-01', INTERVAL i % 10 DAY), CONCAT('m', i % 3)
        FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1 AS i FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c) s WHERE i <= 300`,
    ],
    tamper: [
      `UPDATE t SET name = 'someone else' WHERE id = 1234`,
      `UPDATE t SET score = 0.5, small = 0.25 WHERE id = 17`,
      `DELETE FROM t WHERE id = 10`,
      `INSERT INTO t (id, name) VALUES (9000, 'new')`,
      `INSERT INTO log VALUES ('2024-01-02', 'm1')`,
    ],
    retype: `ALTER TABLE t MODIFY qty bigint`,
    unreadable: 1,
    readerOptions: '?zeroDates=reject',
  },
]

/** The parts of a table's report that must not depend on where rows were hashed. */
function outcome(t: TableVerification) {
  const byId = (x: Record<string, unknown>, y: Record<string, unknown>) => Number(x.id) - Number(y.id)
  return {
    equal: t.equal,
    rowsA: t.rowsA,
    rowsB: t.rowsB,
    missing: [...t.missing].sort(byId),
    extra: [...t.extra].sort(byId),
    changed: [...t.changed].sort((x, y) => byId(x.key, y.key)),
    counts: [t.missingCount, t.extraCount, t.changedCount, t.unreadableA, t.unreadableB, t.expectedDropped],
    problems: t.problems,
  }
}

const selected = selectedDialects()
for (const engine of engines) {
  const available = selected.has(engine.name) && (await serverUp(engine.name))
  describe.skipIf(!available)(`verify with engine-side hashing: ${engine.name} ↔ ${engine.name}`, () => {
    let a: TestDatabase
    let b: TestDatabase
    beforeAll(async () => {
      a = await engine.create()
      b = await engine.create()
      await engine.run(a.url, engine.build)
      await engine.run(b.url, engine.build)
    })
    afterAll(async () => {
      await a?.drop()
      await b?.drop()
    })

    const table = (r: VerifyReport) => r.tables.find((t) => t.name === 't')!

    it('finds equal tables equal, counting the rows the reader rejects on both sides', async () => {
      const [ra, rb] = [a.url + engine.readerOptions, b.url + engine.readerOptions]
      const r = await verify({ a: ra, b: rb, hashing: 'engine' })
      expect(table(r).hashing).toBe('engine')
      expect(outcome(table(r))).toEqual(outcome(table(await verify({ a: ra, b: rb, hashing: 'node' }))))
      const n = engine.unreadable
      expect(table(r)).toMatchObject({ rowsA: ROWS, rowsB: ROWS, unreadableA: n, unreadableB: n, changedCount: 0, missingCount: 0, extraCount: 0 })
      if (n === 0) return
      // the rejected row is expected: then the tables are equal
      const expected = await verify({ a: ra, b: rb, expectDropped: { t: [{ id: 77 }] } })
      expect(table(expected).hashing).toBe('engine')
      expect(table(expected)).toMatchObject({ unreadableA: 0, expectedDropped: 1, unreadableB: 1 })
    })

    it('names the same changed, missing and extra rows as Node-side hashing', async () => {
      await engine.run(b.url, engine.tamper)
      const byEngine = await verify({ a: a.url, b: b.url, hashing: 'engine' })
      // small batches: Node's second pass reads only the batches holding differing rows, each from its key
      const byNode = await verify({ a: a.url, b: b.url, hashing: 'node', batchRows: 97 })
      expect(table(byEngine).hashing).toBe('engine')
      expect(table(byNode).hashing).toBe('node')
      expect(outcome(table(byEngine))).toEqual(outcome(table(byNode)))
      const t = table(byEngine)
      expect(t.missing).toEqual([{ id: 10 }])
      expect(t.extra).toEqual([{ id: 9000 }])
      expect(t.changed).toEqual(
        expect.arrayContaining([
          { key: { id: 1234 }, columns: ['name'] },
          { key: { id: 17 }, columns: engine.name === 'postgres' ? ['score', 'tags'] : ['score', 'small'] },
        ]),
      )
      expect(t.changedCount).toBe(2)
      // `auto` hashes in the engine where it can
      expect(table(await verify({ a: a.url, b: b.url })).hashing).toBe('engine')
      const log = (r: VerifyReport) => r.tables.find((x) => x.name === 'log')!
      expect(log(byEngine).hashing).toBe('engine')
      expect(log(byEngine)).toMatchObject({ key: [], extra: [{ at: '2024-01-02', msg: 'm1' }], extraCount: 1, missingCount: 0, rowsA: 300, rowsB: 301 })
      expect(outcome(log(byEngine))).toEqual(outcome(log(byNode)))
    })

    it('hashes in Node where the engine cannot be exact: other column types, tolerances', async () => {
      const before = outcome(table(await verify({ a: a.url, b: b.url, hashing: 'node' })))
      const tolerant = await verify({ a: a.url, b: b.url, hashing: 'engine', tolerances: { 't.name': { caseInsensitive: true } } })
      expect(table(tolerant).hashing).toBe('node')
      await engine.run(b.url, [engine.retype])
      const r = await verify({ a: a.url, b: b.url, hashing: 'engine' })
      expect(table(r).hashing).toBe('node')
      expect(outcome(table(r))).toEqual(before)
    })
  })
}
