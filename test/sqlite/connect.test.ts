import { existsSync, writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { connect } from '../../src/connect.js'
import { ConnectionError, UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { buildDb, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

describe('connecting', () => {
  it('reads paths from sqlite: URLs', () => {
    const file = sqlite.localFile!
    expect(file('sqlite:./rel.db')).toBe('./rel.db')
    expect(file('sqlite:/abs/x.db')).toBe('/abs/x.db')
    expect(file('sqlite:///abs/x.db')).toBe('/abs/x.db')
    expect(file('data/x.db')).toBe('data/x.db')
    // an in-memory database is no file
    expect(file('sqlite::memory:')).toBeUndefined()
    expect(file('sqlite:')).toBeUndefined()
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

  it('recognises a better-sqlite3 Database by its shape, and nothing else', () => {
    const db = new Database(':memory:')
    expect(sqlite.accepts(db)).toBe(true)
    db.close()
    // a closed handle is still one (connect then fails on use, as the caller's handle would)
    expect(sqlite.accepts(db)).toBe(true)
    expect(sqlite.accepts({ database: db })).toBe(false)
    expect(sqlite.accepts({ prepare() {}, exec() {}, name: 'x', open: true })).toBe(false)
    expect(sqlite.accepts(null)).toBe(false)
  })

  it('copies from and into caller-owned Databases passed to ferry, and leaves both usable', async () => {
    const from = new Database(':memory:')
    from.exec("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO p VALUES (1, 'a'), (2, 'b')")
    const to = new Database(tmp.path('owned-ferry.db'))
    const report = await ferry({ from, to, journal: false })
    expect(report.error).toBeUndefined()
    expect(report.totals).toMatchObject({ read: 2, written: 2 })
    expect(from.open && to.open).toBe(true)
    expect(to.prepare('SELECT name FROM p ORDER BY id').pluck().all()).toEqual(['a', 'b'])
    from.exec("INSERT INTO p VALUES (3, 'c')")
    expect(from.prepare('SELECT count(*) FROM p').pluck().get()).toBe(3)
    from.close()
    to.close()
  })

  it('goes through connect() for a bare Database and does not close it', async () => {
    const db = new Database(':memory:')
    db.exec('CREATE TABLE h (a TEXT)')
    const { connection } = await connect(db)
    expect(connection.dialect.name).toBe('sqlite')
    expect((await connection.introspect()).tables.map((t) => t.name)).toEqual(['h'])
    await connection.close()
    expect(db.open).toBe(true)
    db.close()
  })

  it('refuses an unknown fallback encoding up front', async () => {
    const err = await sqlite.connect('sqlite::memory:', { fallbackEncoding: 'klingon-8' }).catch((e) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect(err.message).toContain('klingon-8')
  })

  it('quotes identifiers by doubling quotes', () => {
    expect(sqlite.sql.quoteIdentifier('we"ird table')).toBe('"we""ird table"')
    expect(sqlite.types.toNative({ kind: 'decimal', precision: 12, scale: 3 })).toBe('DECIMAL TEXT(12,3)')
    expect(sqlite.types.toNative({ kind: 'text', length: 10, fixed: true })).toBe('CHAR(10)')
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
