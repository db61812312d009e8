import mysql2 from 'mysql2/promise'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * Names and shapes MariaDB refuses — a name ending in a space, two columns differing only in case, more
 * columns than InnoDB holds — used to stop the run at that table's CREATE TABLE, after the tables before it
 * were created. They are found before anything is created, every one named with its table and column.
 */

const up = (await serverUp('postgres')) && (await serverUp('mysql'))
const made: TestDatabase[] = []
afterEach(async () => {
  for (const d of made.splice(0)) await d.drop()
})

async function pgSource(statements: string[]): Promise<string> {
  const db = await createPostgresDatabase('names_src')
  made.push(db)
  const c = new pg.Client({ connectionString: db.url })
  await c.connect()
  try {
    // a plain table first in load order: it is the one a late failure used to leave behind
    await c.query('CREATE TABLE aa_plain (id int PRIMARY KEY, label text); INSERT INTO aa_plain VALUES (1, $$one$$)')
    for (const s of statements) await c.query(s)
  } finally {
    await c.end()
  }
  return db.url
}

async function targetTables(url: string): Promise<string[]> {
  const c = await mysql2.createConnection(url)
  try {
    const [rows] = await c.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()')
    return (rows as { t: string }[]).map((r) => r.t)
  } finally {
    await c.end()
  }
}

/** Runs the copy, expects it to throw a schema error, and returns the message once the target is checked empty. */
async function refused(source: string): Promise<string> {
  const target = await createMysqlDatabase('names_dst')
  made.push(target)
  // the run cannot start: ferry() throws the schema error rather than reporting
  const error: unknown = await ferry({ from: source, to: target.url }).then(
    (report) => expect.fail(`the run started: ${JSON.stringify(report.error)}`),
    (e: unknown) => e,
  )
  expect(error).toMatchObject({ name: 'SchemaError', code: 'schema' })
  expect(await targetTables(target.url)).toEqual([])
  return (error as Error).message
}

const wide = Array.from({ length: 1100 }, (_, i) => `c${i} int`).join(', ')

describe.skipIf(!up)('PostgreSQL → MariaDB: names and shapes the target refuses stop the run before any table is created', () => {
  it('a column name ending in a space', async () => {
    const message = await refused(await pgSource(['CREATE TABLE bb_spaced (id int PRIMARY KEY, "name " text)']))
    expect(message).toContain('bb_spaced."name "')
    expect(message).toMatch(/ends in a space/)
  })

  it('two columns differing only in case', async () => {
    const message = await refused(await pgSource(['CREATE TABLE bb_cased (id int PRIMARY KEY, "A" text, "a" text)']))
    expect(message).toContain('columns of bb_cased: "A" and "a" differ only in case')
  })

  it('1100 columns, past InnoDB’s 1017 (a PostgreSQL source holds at most 1600)', async () => {
    const message = await refused(await pgSource([`CREATE TABLE bb_wide (${wide})`]))
    expect(message).toContain('bb_wide: 1100 columns, more than the 1017 the target allows')
  })

  it('all three at once, each named in one error', async () => {
    const message = await refused(
      await pgSource([
        'CREATE TABLE bb_spaced (id int PRIMARY KEY, "name " text)',
        'CREATE TABLE bb_cased (id int PRIMARY KEY, "A" text, "a" text)',
        `CREATE TABLE bb_wide (${wide})`,
      ]),
    )
    for (const part of ['bb_spaced."name "', 'columns of bb_cased', 'bb_wide: 1100 columns']) expect(message).toContain(part)
  })
})
