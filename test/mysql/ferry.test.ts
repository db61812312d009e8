import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry, MemoryJournal } from '../../src/ferry.js'
import type { DatabaseSchema } from '../../src/schema/types.js'
import type { Transform } from '../../src/transforms/transform.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

async function sql(url: string, statements: string[], values: unknown[][] = []): Promise<void> {
  const c = await mysql2.createConnection(url)
  try {
    // source fixtures are written the way old applications wrote them: no strict mode, zero dates allowed
    await c.query("SET SESSION sql_mode = ''")
    for (const [i, s] of statements.entries()) await c.query(s, values[i])
  } finally {
    await c.end()
  }
}

async function select(url: string, query: string): Promise<Record<string, unknown>[]> {
  const c = await mysql2.createConnection({ uri: url, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true })
  try {
    return (await c.query(query))[0] as Record<string, unknown>[]
  } finally {
    await c.end()
  }
}

/** A schema transform like rewriteEngine/collation changes: sets the target's engine or a column's collation. */
function reshape(name: string, f: (s: DatabaseSchema) => void): Transform {
  return {
    name,
    schema(schema) {
      const copy = structuredClone(schema)
      f(copy)
      return copy
    },
  }
}

describe.skipIf(!(await serverUp('mysql')))('MariaDB → MariaDB: MySQL-specific sources', () => {
  let src: TestDatabase
  let dst: TestDatabase
  beforeAll(async () => {
    src = await createMysqlDatabase('dbferry_src')
    dst = await createMysqlDatabase('dbferry_dst')
  })
  afterAll(async () => {
    await src?.drop()
    await dst?.drop()
  })

  it('copies MySQL types exactly: unsigned bigint max, bit(1), bit(10), tinyint(1), enum, set, year, zero dates', async () => {
    await sql(src.url, [
      `CREATE TABLE kinds (
         id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
         u64 BIGINT UNSIGNED, flag BIT(1), bits BIT(10), yes TINYINT(1), tiny TINYINT UNSIGNED,
         mid MEDIUMINT UNSIGNED, yr YEAR, size ENUM('small','large'), tags SET('a','b','c'),
         f FLOAT, d DATE, dt DATETIME(3), ts TIMESTAMP(6) NULL, t TIME, dec1 DECIMAL(20,4), j JSON,
         name VARCHAR(40) COLLATE utf8mb4_bin, blob1 BLOB
       ) ENGINE=InnoDB`,
      `INSERT INTO kinds VALUES
         (1, 18446744073709551615, b'1', b'1000000001', 1, 255, 16777215, 2155, 'large', 'a,c', 16777217, '2024-02-29', '2024-02-29 12:00:00.123', '2038-01-19 03:14:07.999999', '23:59:59', '-12345678901234.5678', '{"k": [1, "two"]}', 'Ünïcödé 😀', X'00FF'),
         (2, 0, b'0', b'0', 0, 0, 0, 1901, 'small', '', 0.1, '0000-00-00', '0000-00-00 00:00:00', NULL, '00:00:00', '0.0000', 'null', '', X''),
         (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2020-00-05', '2020-05-00 10:00:00', NULL, NULL, NULL, NULL, NULL, NULL)`,
    ])
    const journal = new MemoryJournal()
    const report = await ferry({ from: src.url, to: dst.url, journal })
    expect(report.error).toBeUndefined()
    const t = report.tables.find((x) => x.name === 'kinds')!
    expect({ read: t.read, written: t.written, rejected: t.rejected }).toEqual({ read: 3, written: 3, rejected: 0 })
    // zero dates become NULL, counted per column and journaled one by one
    expect(t.fixed).toEqual({ d: 2, dt: 2 })
    expect(journal.entries.filter((e) => e.action === 'fixed').map((e) => e.message).sort()).toEqual([
      'zero_date: zero date "0000-00-00 00:00:00.000" read as NULL',
      'zero_date: zero date "0000-00-00" read as NULL',
      'zero_date: zero date "2020-00-05" read as NULL',
      'zero_date: zero date "2020-05-00 10:00:00.000" read as NULL',
    ])
    const rows = await select(
      dst.url,
      'SELECT id, CAST(u64 AS CHAR) u64, flag + 0 flag, CAST(bits AS UNSIGNED) + 0E0 bits, yes, tiny, mid, yr, size, tags, f + 0E0 f, d, dt, ts, t, dec1, CONCAT(\'\', j) j, name, HEX(blob1) b FROM kinds ORDER BY id',
    )
    expect(rows).toEqual([
      { id: 1, u64: '18446744073709551615', flag: 1, bits: 513, yes: 1, tiny: 255, mid: 16777215, yr: 2155, size: 'large', tags: 'a,c', f: 16777216, d: '2024-02-29', dt: '2024-02-29 12:00:00.123', ts: '2038-01-19 03:14:07.999999', t: '23:59:59', dec1: '-12345678901234.5678', j: '{"k": [1, "two"]}', name: 'Ünïcödé 😀', b: '00FF' },
      { id: 2, u64: '0', flag: 0, bits: 0, yes: 0, tiny: 0, mid: 0, yr: 1901, size: 'small', tags: '', f: 0.10000000149011612, d: null, dt: null, ts: null, t: '00:00:00', dec1: '0.0000', j: 'null', name: '', b: '' },
      { id: 3, u64: null, flag: null, bits: null, yes: null, tiny: null, mid: null, yr: null, size: null, tags: null, f: null, d: null, dt: null, ts: null, t: null, dec1: null, j: null, name: null, b: null },
    ])
    // MySQL → MySQL keeps the native types and the table's engine and collation
    const cols = await select(dst.url, "SELECT COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kinds' ORDER BY ORDINAL_POSITION")
    expect(Object.fromEntries(cols.map((c) => [c.COLUMN_NAME, c.COLUMN_TYPE]))).toMatchObject({
      id: 'int(10) unsigned',
      u64: 'bigint(20) unsigned',
      flag: 'bit(1)',
      bits: 'bit(10)',
      yes: 'tinyint(1)',
      yr: 'year(4)',
      size: "enum('small','large')",
      tags: "set('a','b','c')",
      dt: 'datetime(3)',
    })
    expect(cols.find((c) => c.COLUMN_NAME === 'name')!.COLLATION_NAME).toBe('utf8mb4_bin')
    // auto_increment continues after the largest id
    const [auto] = await select(dst.url, "SELECT AUTO_INCREMENT a FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kinds'")
    expect(Number(auto!.a)).toBe(4)
  })

  it('rejects zero dates instead with zeroDates=reject (kind zero_date)', async () => {
    const report = await ferry({ from: `${src.url}?zeroDates=reject`, to: dst.url, mode: 'recreate', tables: { include: ['kinds'] } })
    const t = report.tables[0]!
    expect({ read: t.read, written: t.written, rejected: t.rejected }).toEqual({ read: 3, written: 1, rejected: 2 })
    expect(t.byKind).toEqual({ zero_date: 2 })
    expect(t.examples.map((e) => e.key)).toEqual(['{"id":2}', '{"id":3}'])
  })

  it('a MyISAM source with declared foreign keys loads parents first; the orphan is reported, the key created unvalidated', async () => {
    await sql(src.url, [
      'CREATE TABLE org (id INT PRIMARY KEY, sector_id INT, name VARCHAR(50)) ENGINE=MyISAM',
      'CREATE TABLE sector (id INT PRIMARY KEY, name VARCHAR(50)) ENGINE=MyISAM',
      "INSERT INTO sector VALUES (1, 'Health'), (2, 'Water')",
      "INSERT INTO org VALUES (10, 1, 'MSF'), (11, 2, 'Oxfam'), (12, 16, 'Lost sector'), (13, NULL, 'None')",
    ])
    const report = await ferry({
      from: src.url,
      to: dst.url,
      mode: 'recreate',
      tables: { include: ['org', 'sector'] },
      foreignKeys: [{ from: 'org.sector_id', to: 'sector.id' }],
      transforms: [reshape('rewriteEngine(MyISAM→InnoDB)', (s) => s.tables.forEach((t) => t.engine === 'MyISAM' && (t.engine = 'InnoDB')))],
    })
    expect(report.error).toBeUndefined()
    expect(report.tables.map((t) => t.name)).toEqual(['sector', 'org'])
    expect(report.tables.map((t) => t.written)).toEqual([2, 4])
    expect(report.constraints).toEqual([
      expect.objectContaining({ table: 'org', kind: 'foreign_key', outcome: 'unvalidated', orphans: 1 }),
    ])
    const [fk] = await select(dst.url, "SELECT REFERENCED_TABLE_NAME r FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'org'")
    expect(fk!.r).toBe('sector')
    const engines = await select(dst.url, "SELECT TABLE_NAME n, ENGINE e FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('org','sector') ORDER BY 1")
    expect(engines).toEqual([{ n: 'org', e: 'InnoDB' }, { n: 'sector', e: 'InnoDB' }])
  })

  it('strict mode: a value the target column cannot hold is a rejected row with the server message; the rest load', async () => {
    await sql(src.url, [
      'CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), age INT)',
      "INSERT INTO people VALUES (1, 'Ann', 30), (2, 'A name far too long', 40), (3, 'Bo', 300), (4, 'Cy', 50)",
    ])
    await sql(dst.url, ['DROP TABLE IF EXISTS people', 'CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(5), age TINYINT)'])
    const journal = new MemoryJournal()
    const report = await ferry({ from: src.url, to: dst.url, mode: 'append', tables: { include: ['people'] }, journal })
    const t = report.tables[0]!
    expect({ read: t.read, written: t.written, rejected: t.rejected }).toEqual({ read: 4, written: 2, rejected: 2 })
    expect(t.byKind).toEqual({ truncation: 1, out_of_range: 1 })
    const messages = journal.entries.filter((e) => e.action === 'rejected').map((e) => `${e.key} ${e.kind} ${e.message}`)
    expect(messages).toEqual([
      expect.stringMatching(/^\{"id":2\} truncation people: Data (too long|truncated) for column 'name'/),
      expect.stringMatching(/^\{"id":3\} out_of_range people: Out of range value for column 'age'/),
    ])
    expect(await select(dst.url, 'SELECT id, name, age FROM people ORDER BY id')).toEqual([
      { id: 1, name: 'Ann', age: 30 },
      { id: 4, name: 'Cy', age: 50 },
    ])
  })

  it('duplicates under a case- and accent-insensitive target collation are rejected as duplicate_key naming the key; the rest load', async () => {
    await sql(src.url, [
      'CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(60) COLLATE utf8mb4_bin NOT NULL, org VARCHAR(60) COLLATE utf8mb4_bin, UNIQUE KEY email_u (email), UNIQUE KEY org_u (org))',
      "INSERT INTO users VALUES (1, 'alice@example.org', 'Médecins Sans Frontières'), (2, 'ALICE@example.org', 'Medecins Sans Frontieres'), (3, 'bob@example.org', 'Oxfam'), (4, 'carol@example.org', 'oxfam  '), (5, 'dan@example.org', NULL)",
    ])
    const report = await ferry({
      from: src.url,
      to: dst.url,
      mode: 'recreate',
      tables: { include: ['users'] },
      transforms: [reshape('collation', (s) => s.tables.forEach((t) => t.columns.forEach((c) => c.collation && (c.collation = 'utf8mb4_general_ci'))))],
    })
    const t = report.tables[0]!
    // row 2 collides with row 1 on both keys (case on email, accents on org), row 4 with row 3 (case and
    // trailing spaces under PAD SPACE)
    expect({ read: t.read, written: t.written, rejected: t.rejected }).toEqual({ read: 5, written: 3, rejected: 2 })
    expect(t.byKind).toEqual({ duplicate_key: 2 })
    const byKey = Object.fromEntries(t.examples.map((e) => [e.key, e.message]))
    expect(byKey['{"id":2}']).toMatch(/Duplicate entry 'ALICE@example.org' for key 'email_u'.*unique key email_u \(email\)/)
    expect(byKey['{"id":4}']).toMatch(/Duplicate entry 'oxfam  ' for key 'org_u'/)
    expect(await select(dst.url, 'SELECT id FROM users ORDER BY id')).toEqual([{ id: 1 }, { id: 3 }, { id: 5 }])
  })
})
