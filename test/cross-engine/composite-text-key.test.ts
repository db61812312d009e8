import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import mysql2 from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlSql } from '../../dialects/mysql/mysql-sql.js'
import { ferry } from '../../src/ferry.js'
import type { TableSchema } from '../../src/schema/types.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * A composite primary key of fixed-width columns and an unbounded text column, as SQLite and PostgreSQL allow
 * it, copied to MariaDB: InnoDB keys hold at most 3072 bytes, counting every part (int 4, bigint 8,
 * datetime(6) 8, utf8mb4 text 4 bytes a character), so the text part becomes the longest varchar that fits.
 */

async function mysqlRows(url: string, query: string): Promise<Record<string, unknown>[]> {
  const c = await mysql2.createConnection({ uri: url, dateStrings: true })
  try {
    return (await c.query(query))[0] as Record<string, unknown>[]
  } finally {
    await c.end()
  }
}

const table = (columns: [string, TableSchema['columns'][number]['type']][], key: string[]): TableSchema => ({
  name: 't',
  columns: columns.map(([name, type]) => ({ name, type, nativeType: '', nullable: false })),
  primaryKey: { columns: key },
  uniques: [],
  indexes: [],
  foreignKeys: [],
})

describe('composite primary key of an integer and a text column: sized to InnoDB key bytes', () => {
  it('counts the fixed-width parts: int + text leaves 767 characters, bigint + datetime(6) + text 764', () => {
    const intText = mysqlSql.createTable(table([['id', { kind: 'int32' }], ['name', { kind: 'text' }]], ['id', 'name']))
    expect(intText).toContain('`name` varchar(767) NOT NULL')
    const wide = mysqlSql.createTable(
      table([['id', { kind: 'int64' }], ['at', { kind: 'timestamp', precision: 6 }], ['name', { kind: 'text' }]], ['id', 'at', 'name']),
    )
    expect(wide).toContain('`name` varchar(764) NOT NULL')
  })

  it('gives a short declared text part its length and the rest to the unbounded one', () => {
    const sql = mysqlSql.createTable(
      table([['code', { kind: 'text', length: 10 }], ['id', { kind: 'int32' }], ['name', { kind: 'text' }]], ['code', 'id', 'name']),
    )
    expect(sql).toContain('`code` varchar(10) NOT NULL')
    // 3072 - 4 (int) - 40 (varchar(10)) = 3028 bytes: 757 characters
    expect(sql).toContain('`name` varchar(757) NOT NULL')
  })
})

describe.skipIf(!(await serverUp('mysql')) || !(await serverUp('postgres')))('composite primary key (id int, name text) into MariaDB, live', () => {
  let dir: string
  const dbs: TestDatabase[] = []
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-key-'))
  })
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    for (const d of dbs) await d.drop()
  })

  it('from SQLite: the table is created with the key and every row copied', async () => {
    const file = join(dir, 'k.db')
    const db = new Database(file)
    db.exec('CREATE TABLE pair (id INTEGER NOT NULL, name TEXT NOT NULL, note TEXT, PRIMARY KEY (id, name))')
    const ins = db.prepare('INSERT INTO pair VALUES (?, ?, ?)')
    ins.run(1, 'alpha', 'a')
    ins.run(1, 'beta', null)
    ins.run(2, 'alpha', 'c')
    // SQLite's INTEGER is 64-bit: a bigint's 8 bytes leave 3064, 766 characters of utf8mb4
    ins.run(3, 'é'.repeat(766), 'the longest name that fits')
    db.close()
    const target = await createMysqlDatabase('dbferry_key')
    dbs.push(target)
    const report = await ferry({ from: `sqlite:${file}`, to: target.url })
    expect(report.error).toBeUndefined()
    expect(report.tables.map((t) => [t.name, t.read, t.written, t.rejected])).toEqual([['pair', 4, 4, 0]])
    expect(report.clean).toBe(true)
    const rows = await mysqlRows(target.url, 'SELECT id, name, note FROM pair ORDER BY id, name')
    expect(rows).toEqual([
      { id: 1, name: 'alpha', note: 'a' },
      { id: 1, name: 'beta', note: null },
      { id: 2, name: 'alpha', note: 'c' },
      { id: 3, name: 'é'.repeat(766), note: 'the longest name that fits' },
    ])
    const key = await mysqlRows(target.url, "SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'pair' AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION")
    expect(key.map((r) => r.c)).toEqual(['id', 'name'])
  })

  it('from PostgreSQL: a name longer than the key holds is rejected with the reason, never cut', async () => {
    const source = await createPostgresDatabase('dbferry_key')
    dbs.push(source)
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    try {
      await c.query('CREATE TABLE pair (id int NOT NULL, name text NOT NULL, PRIMARY KEY (id, name))')
      await c.query(`INSERT INTO pair VALUES (1, 'alpha'), (1, 'beta'), (2, 'alpha'), (3, repeat('x', 800))`)
    } finally {
      await c.end()
    }
    const target = await createMysqlDatabase('dbferry_key')
    dbs.push(target)
    const report = await ferry({ from: source.url, to: target.url })
    expect(report.error).toBeUndefined()
    const t = report.tables[0]!
    expect([t.read, t.written, t.rejected]).toEqual([4, 3, 1])
    expect(t.byKind).toEqual({ truncation: 1 })
    expect(t.examples?.[0]?.message ?? JSON.stringify(t)).toMatch(/pair\.name: the value is 800 characters long, but the column holds 767: it is part of the primary key \(id, name\)/)
    expect(report.clean).toBe(false)
    expect(await mysqlRows(target.url, 'SELECT id, name FROM pair ORDER BY id, name')).toEqual([
      { id: 1, name: 'alpha' },
      { id: 1, name: 'beta' },
      { id: 2, name: 'alpha' },
    ])
  })
})
