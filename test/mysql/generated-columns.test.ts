import mysql2 from 'mysql2/promise'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * Generated columns reaching a MariaDB/MySQL target: from its own engine they are recreated as generated
 * (VIRTUAL or STORED, computed by the target, not written); from another engine they become plain columns
 * holding the source's values, and the report says so. They used to vanish, with a clean report.
 */

const pgUp = await serverUp('postgres')
const mysqlUp = await serverUp('mysql')
const made: TestDatabase[] = []
afterEach(async () => {
  for (const d of made.splice(0)) await d.drop()
})

async function mysqlQuery(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = await mysql2.createConnection(url)
  try {
    return (await c.query(sql))[0] as Record<string, unknown>[]
  } finally {
    await c.end()
  }
}

async function mysqlTarget(): Promise<string> {
  const db = await createMysqlDatabase('gen_dst')
  made.push(db)
  return db.url
}

/** Each column of `table` with whether the target computes it. */
async function columnsOf(url: string, table: string): Promise<{ name: string; extra: string; expression: string | null }[]> {
  const rows = await mysqlQuery(
    url,
    `SELECT COLUMN_NAME AS name, EXTRA AS extra, GENERATION_EXPRESSION AS expression FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`,
  )
  return rows as { name: string; extra: string; expression: string | null }[]
}

describe.skipIf(!mysqlUp)('MariaDB → MariaDB: generated columns', () => {
  it('are recreated as generated, VIRTUAL and STORED kept, with the same values', async () => {
    const source = await createMysqlDatabase('gen_src')
    made.push(source)
    await mysqlQuery(source.url, "CREATE TABLE priced (id int PRIMARY KEY, qty int NOT NULL, doubled int AS (qty * 2) VIRTUAL, label varchar(20) AS (concat('n', qty)) STORED)")
    await mysqlQuery(source.url, 'INSERT INTO priced (id, qty) VALUES (1, 3), (2, 5)')
    const target = await mysqlTarget()

    const report = await ferry({ from: source.url, to: target })

    expect(report.ok).toBe(true)
    expect(report.tables[0]).toMatchObject({ name: 'priced', written: 2, rejected: 0 })
    const cols = await columnsOf(target, 'priced')
    expect(cols.map((c) => c.name)).toEqual(['id', 'qty', 'doubled', 'label'])
    expect(cols[2]!.extra).toMatch(/VIRTUAL GENERATED/i)
    expect(cols[2]!.expression).toMatch(/`qty` \* 2/)
    expect(cols[3]!.extra).toMatch(/(STORED|PERSISTENT) GENERATED/i)
    expect(await mysqlQuery(target, 'SELECT id, qty, doubled, label FROM priced ORDER BY id')).toEqual(
      await mysqlQuery(source.url, 'SELECT id, qty, doubled, label FROM priced ORDER BY id'),
    )
    expect(report.snapshot?.notes ?? []).not.toContainEqual(expect.stringContaining('generated column'))
  })
})

describe.skipIf(!pgUp || !mysqlUp)('PostgreSQL → MariaDB: a stored generated column', () => {
  it('becomes a plain column holding the values, and the report says so', async () => {
    const source = await createPostgresDatabase('gen_src')
    made.push(source)
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    try {
      await c.query('CREATE TABLE priced (id int PRIMARY KEY, qty int NOT NULL, total int GENERATED ALWAYS AS (qty * 3) STORED)')
      await c.query('INSERT INTO priced (id, qty) VALUES (1, 3), (2, 5)')
    } finally {
      await c.end()
    }
    const target = await mysqlTarget()

    const report = await ferry({ from: source.url, to: target })

    expect(report.ok).toBe(true)
    const cols = await columnsOf(target, 'priced')
    expect(cols.map((x) => x.name)).toEqual(['id', 'qty', 'total'])
    expect(cols[2]!.extra).not.toMatch(/GENERATED/i)
    expect(await mysqlQuery(target, 'SELECT id, total FROM priced ORDER BY id')).toEqual([
      { id: 1, total: 9 },
      { id: 2, total: 15 },
    ])
    expect(report.snapshot?.notes).toContainEqual(expect.stringMatching(/^priced\.total: generated column AS \(?qty \* 3\)?.*copied as a plain column with its values/))
  })
})
