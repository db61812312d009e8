import { existsSync, writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite, sqlitePath } from '../../dialects/sqlite/index.js'
import { connect } from '../../src/connect.js'
import { ConnectionError, UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { buildDb, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

describe('connecting', () => {
  it('reads paths from sqlite: URLs', () => {
    expect(sqlitePath('sqlite:./rel.db')).toBe('./rel.db')
    expect(sqlitePath('sqlite:/abs/x.db')).toBe('/abs/x.db')
    expect(sqlitePath('sqlite:///abs/x.db')).toBe('/abs/x.db')
    expect(sqlitePath('sqlite::memory:')).toBe(':memory:')
    expect(sqlitePath('data/x.db')).toBe('data/x.db')
  })

  it('refuses a source file that does not exist, and does not create it', async () => {
    const path = tmp.path('missing.db')
    const err = await sqlite.connect(`sqlite:${path}`).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toBe(`SQLite source ${path} does not exist`)
    expect(existsSync(path)).toBe(false)
  })

  it('refuses a file that is not a database, naming it', async () => {
    const path = tmp.path('notes.txt')
    writeFileSync(path, 'these are not the pages you are looking for\n'.repeat(200))
    const err = await sqlite.connect(`sqlite:${path}`).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an SQLite database`))
    expect(err.cause).toBeDefined()
    // as a target too
    const err2 = await sqlite.connect(`sqlite:${path}`, { create: true }).catch((e) => e)
    expect(err2).toBeInstanceOf(ConnectionError)
    expect(err2.message).toContain('is not an SQLite database')
  })

  it('refuses a target path that cannot be written', async () => {
    const file = tmp.path('plain-file')
    writeFileSync(file, 'x')
    const under = `${file}/target.db`
    const err = await sqlite.connect(`sqlite:${under}`, { create: true }).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.message).toContain(under)
    const nodir = tmp.path('no/such/dir/target.db')
    const err2 = await sqlite.connect(`sqlite:${nodir}`, { create: true }).catch((e) => e)
    expect(err2).toBeInstanceOf(ConnectionError)
    expect(err2.message).toContain('does not exist')
    // a source connection (read-only) cannot be used as a target
    const src = tmp.path('ro.db')
    buildDb(src, 'CREATE TABLE t (a)')
    const ro = await sqlite.connect(`sqlite:${src}`)
    const err3 = await ro.prepareTarget({ dialect: 'sqlite', tables: [], objects: [] }, { mode: 'create' }).catch((e) => e)
    await ro.close()
    expect(err3).toBeInstanceOf(ConnectionError)
  })

  it('ferry throws the connection error for a missing source', async () => {
    const err = await ferry({ from: `sqlite:${tmp.path('nope.db')}`, to: `sqlite:${tmp.path('out.db')}` }).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(existsSync(tmp.path('out.db'))).toBe(false)
  })

  it('is found through the sqlite: scheme and works in memory', async () => {
    const { connection } = await connect('sqlite::memory:', { create: true })
    expect(connection.dialect.name).toBe('sqlite')
    expect(connection.description).toBe('sqlite::memory:')
    await connection.execute!('CREATE TABLE m (a INTEGER)')
    expect((await connection.introspect()).tables.map((t) => t.name)).toEqual(['m'])
    await connection.close()
  })

  it('uses a caller-owned better-sqlite3 handle and leaves it open', async () => {
    const db = new Database(':memory:')
    db.exec('CREATE TABLE h (a TEXT); INSERT INTO h VALUES (1)')
    const conn = await sqlite.connect({ database: db })
    const schema = await conn.introspect()
    expect(schema.tables[0]!.rowCountEstimate).toBe(1)
    await conn.close()
    expect(db.open).toBe(true)
    expect(db.prepare('SELECT a FROM h').pluck().get()).toBe('1')
    db.close()
  })

  it('refuses an unknown fallback encoding up front', async () => {
    const err = await sqlite.connect('sqlite::memory:', { fallbackEncoding: 'klingon-8' }).catch((e) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect(err.message).toContain('klingon-8')
  })

  it('quotes identifiers by doubling quotes', () => {
    expect(sqlite.quoteIdentifier('we"ird table')).toBe('"we""ird table"')
    expect(sqlite.nativeType({ kind: 'decimal', precision: 12, scale: 3 })).toBe('DECIMAL TEXT(12,3)')
    expect(sqlite.nativeType({ kind: 'text', length: 10, fixed: true })).toBe('CHAR(10)')
    expect(sqlite.collationFolder?.('NOCASE')?.('ÀbC')).toBe('Àbc')
  })
})

describe('a caller-owned handle used as a target', () => {
  it('gets its pragmas back after the load', async () => {
    const path = tmp.path('owned-target.db')
    const db = new Database(path)
    db.pragma('foreign_keys = ON')
    const before = [db.pragma('journal_mode', { simple: true }), db.pragma('synchronous', { simple: true }), db.pragma('foreign_keys', { simple: true })]
    const conn = await sqlite.connect({ database: db })
    await conn.prepareTarget({ dialect: 'sqlite', tables: [{ name: 't', columns: [{ name: 'a', type: { kind: 'text' }, nativeType: 'TEXT', nullable: true }], uniques: [], indexes: [], foreignKeys: [] }], objects: [] }, { mode: 'create' })
    expect(db.pragma('foreign_keys', { simple: true })).toBe(0)
    await conn.close()
    expect([db.pragma('journal_mode', { simple: true }), db.pragma('synchronous', { simple: true }), db.pragma('foreign_keys', { simple: true })]).toEqual(before)
    db.close()
  })
})
