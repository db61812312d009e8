import Database from 'better-sqlite3'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp } from '../support/servers.js'
import { buildDb, tableOf, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

/**
 * SQLite never pads a `char(n)` value; a target's `char(n)` pads it on read (`'ab'` comes back `'ab '`).
 * So SQLite's `char(n)` is bounded text: varchar(n) elsewhere, `char(n)` kept only SQLite to SQLite or when
 * the user asks for a fixed type.
 */
describe('a char(n) column declared in SQLite', () => {
  const file = tmp.path('char.db')
  buildDb(file, `CREATE TABLE codes (id INTEGER PRIMARY KEY, code char(3), name character(10)); INSERT INTO codes VALUES (1, 'ab', 'x'), (2, 'abc', 'ten chars!')`)

  it('is text of at most n characters, not fixed', async () => {
    expect(sqlite.types.toLogical('char(3)')).toEqual({ kind: 'text', length: 3 })
    expect(sqlite.types.toLogical('NCHAR(2)')).toEqual({ kind: 'text', length: 2 })
    const conn = await sqlite.connect(`sqlite:${file}`)
    const t = tableOf((await conn.introspect()).tables, 'codes')
    await conn.close()
    expect(t.columns.map((c) => c.type)).toEqual([{ kind: 'int64' }, { kind: 'text', length: 3 }, { kind: 'text', length: 10 }])
  })

  it('reads back from PostgreSQL without padding, as varchar(n); a fixed override still gets char(n)', async () => {
    const db = await createPostgresDatabase('charn')
    try {
      const report = await ferry({ from: `sqlite:${file}`, to: db.url, types: { 'codes.name': { kind: 'text', length: 10, fixed: true } } })
      expect(report.clean).toBe(true)
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      try {
        const types = await c.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'codes' AND column_name <> 'id' ORDER BY column_name")
        expect(types.rows).toEqual([
          { column_name: 'code', data_type: 'character varying' },
          { column_name: 'name', data_type: 'character' },
        ])
        const rows = await c.query('SELECT code FROM codes ORDER BY id')
        expect(rows.rows.map((r) => r.code)).toEqual(['ab', 'abc'])
      } finally {
        await c.end()
      }
    } finally {
      await db.drop()
    }
  })

  it('stays char(n) in a SQLite to SQLite copy', async () => {
    const out = tmp.path('char-copy.db')
    const report = await ferry({ from: `sqlite:${file}`, to: `sqlite:${out}` })
    expect(report.clean).toBe(true)
    const b = new Database(out, { readonly: true })
    const declared = b.prepare("SELECT name, type FROM pragma_table_xinfo('codes') WHERE name <> 'id'").raw(true).all()
    b.close()
    expect(declared).toEqual([
      ['code', 'char(3)'],
      ['name', 'character(10)'],
    ])
  })
})

/**
 * The same for `binary(n)`: SQLite keeps a 2-byte blob in a `binary(4)` column as 2 bytes, and MariaDB's
 * `binary(4)` hands back `ab\0\0`. So it is bounded bytes (`varbinary(n)`), never padded.
 */
const mysqlUp = await serverUp('mysql')
describe('a binary(n) column declared in SQLite', () => {
  const file = tmp.path('binary.db')
  buildDb(file, `CREATE TABLE tags (id INTEGER PRIMARY KEY, tag binary(4)); INSERT INTO tags VALUES (1, x'6162'), (2, x'01020304'), (3, NULL)`)

  it('is bytes of at most n, not fixed', () => {
    expect(sqlite.types.toLogical('binary(4)')).toEqual({ kind: 'bytes', length: 4 })
    expect(sqlite.types.toLogical('varbinary(4)')).toEqual({ kind: 'bytes', length: 4 })
  })

  it.skipIf(!mysqlUp)('arrives in MariaDB unpadded, as varbinary(n)', async () => {
    const db = await createMysqlDatabase('binaryn')
    try {
      const report = await ferry({ from: `sqlite:${file}`, to: db.url })
      expect(report.clean).toBe(true)
      const c = await mysql.createConnection(db.url)
      try {
        const [types] = await c.query<mysql.RowDataPacket[]>("SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'tags' AND column_name = 'tag'")
        expect(types.map((r) => r.column_type)).toEqual(['varbinary(4)'])
        const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT HEX(tag) AS h FROM tags ORDER BY id')
        expect(rows.map((r) => r.h)).toEqual(['6162', '01020304', null])
      } finally {
        await c.end()
      }
    } finally {
      await db.drop()
    }
  })
})
