import { writeFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import type { ClassifiedError } from '../../src/dialect.js'
import { ConnectionError, RowError } from '../../src/errors.js'
import type { TableSchema } from '../../src/schema/types.js'
import { tempDir } from './helpers.js'

// Every kind SQLite can produce, provoked on a real file database. SQLite itself never reports a number out of
// range (a column takes any integer or real its affinity allows) nor text in a bad encoding (text is stored as
// bound): out_of_range comes only from the driver, refusing to bind a bigint past 64 bits, and invalid_encoding
// never comes from the target at all (the reader finds bad UTF-8 in a source instead). A STRICT table refusing
// a value's storage class (SQLITE_CONSTRAINT_DATATYPE) and a non-integer for a rowid (SQLITE_MISMATCH) are
// type_conversion: the value is not of the column's type.

const tmp = tempDir()
afterAll(() => tmp.cleanup())
let n = 0

/** A new file database with `sql` run on it. */
function database(sql: string, options?: Database.Options): { db: Database.Database; file: string } {
  const file = tmp.path(`e${++n}.db`)
  const db = new Database(file, options)
  db.exec(sql)
  return { db, file }
}

/** The error `run` throws (failing the test when it throws none), classified. */
function provoke(run: () => unknown): { error: unknown; c: ClassifiedError } {
  let error: unknown
  try {
    run()
  } catch (e) {
    error = e
  }
  expect(error, 'the statement should have failed').toBeDefined()
  const c = sqlite.errors.classify(error)
  expect(c, `not classified: ${String(error)}`).toBeDefined()
  return { error, c: c! }
}

const flags = (c: ClassifiedError) => ({ connectionLost: c.connectionLost, retryable: c.retryable })

describe('sqliteErrors.classify on a live database', () => {
  it('not_null: NOT NULL constraint failed, naming the table and column', () => {
    const { db } = database('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
    const { c } = provoke(() => db.prepare('INSERT INTO t VALUES (1, NULL)').run())
    expect(c.kind).toBe('not_null')
    expect(flags(c)).toEqual({ connectionLost: false, retryable: false })
    expect(c.driver).toEqual({ code: 'SQLITE_CONSTRAINT_NOTNULL', message: 'NOT NULL constraint failed: t.name', table: 't', column: 'name' })
    db.close()
  })

  it('duplicate_key: a primary key (one column named) and a unique key of two columns (none named)', () => {
    const { db } = database("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, UNIQUE (a, b)); INSERT INTO t VALUES (1, 'x', 'y')")
    const pk = provoke(() => db.prepare("INSERT INTO t VALUES (1, 'p', 'q')").run()).c
    expect(pk.kind).toBe('duplicate_key')
    expect(pk.driver).toEqual({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY', message: 'UNIQUE constraint failed: t.id', table: 't', column: 'id' })
    const uq = provoke(() => db.prepare("INSERT INTO t VALUES (2, 'x', 'y')").run()).c
    expect(uq.kind).toBe('duplicate_key')
    expect(flags(uq)).toEqual({ connectionLost: false, retryable: false })
    expect(uq.driver).toEqual({ code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: t.a, t.b', table: 't' })
    db.close()
  })

  it('foreign_key_violation: a child row pointing nowhere, with foreign keys enforced', () => {
    const { db } = database('PRAGMA foreign_keys = ON; CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id))')
    const { c } = provoke(() => db.prepare('INSERT INTO c VALUES (1, 42)').run())
    expect(c.kind).toBe('foreign_key_violation')
    expect(flags(c)).toEqual({ connectionLost: false, retryable: false })
    // SQLite names neither the table nor the key
    expect(c.driver).toEqual({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY', message: 'FOREIGN KEY constraint failed' })
    db.close()
  })

  it('check_violation: a named CHECK constraint, kept as the constraint', () => {
    const { db } = database('CREATE TABLE t (qty INTEGER CONSTRAINT qty_positive CHECK (qty > 0))')
    const { c } = provoke(() => db.prepare('INSERT INTO t VALUES (-1)').run())
    expect(c.kind).toBe('check_violation')
    expect(flags(c)).toEqual({ connectionLost: false, retryable: false })
    expect(c.driver).toEqual({ code: 'SQLITE_CONSTRAINT_CHECK', message: 'CHECK constraint failed: qty_positive', constraint: 'qty_positive' })
    db.close()
  })

  it('truncation: a value past SQLite\'s length limit (string or blob too big)', () => {
    const { db } = database('CREATE TABLE t (b BLOB)')
    // zeroblob past SQLITE_MAX_LENGTH (1e9 bytes) fails before allocating anything
    const { c } = provoke(() => db.prepare('INSERT INTO t VALUES (zeroblob(2000000000))').run())
    expect(c.kind).toBe('truncation')
    expect(flags(c)).toEqual({ connectionLost: false, retryable: false })
    expect(c.driver).toEqual({ code: 'SQLITE_TOOBIG', message: 'string or blob too big' })
    db.close()
  })

  it('type_conversion: a STRICT column refusing text, and text for a rowid', () => {
    const { db } = database('CREATE TABLE s (id INTEGER, note TEXT) STRICT; CREATE TABLE r (id INTEGER PRIMARY KEY)')
    const strict = provoke(() => db.prepare("INSERT INTO s VALUES ('abc', 'x')").run()).c
    expect(strict.kind).toBe('type_conversion')
    expect(strict.driver).toEqual({ code: 'SQLITE_CONSTRAINT_DATATYPE', message: 'cannot store TEXT value in INTEGER column s.id', table: 's', column: 'id' })
    const rowid = provoke(() => db.prepare("INSERT INTO r VALUES ('abc')").run()).c
    expect(rowid.kind).toBe('type_conversion')
    expect(flags(rowid)).toEqual({ connectionLost: false, retryable: false })
    expect(rowid.driver).toEqual({ code: 'SQLITE_MISMATCH', message: 'datatype mismatch' })
    db.close()
  })

  it('out_of_range: the driver refuses to bind a bigint past 64 bits (the engine never sees it)', () => {
    const { db } = database('CREATE TABLE t (n INTEGER)')
    const { c } = provoke(() => db.prepare('INSERT INTO t VALUES (?)').run(2n ** 64n))
    expect(c.kind).toBe('out_of_range')
    expect(flags(c)).toEqual({ connectionLost: false, retryable: false })
    expect(c.driver).toEqual({ message: 'The bound string, buffer, or bigint is too big' })
    db.close()
  })

  it('serialization_failure: another connection holds the write lock (BUSY), retryable', () => {
    const { db, file } = database('CREATE TABLE t (a INTEGER)')
    // no busy timeout: the second writer fails at once instead of waiting
    const other = new Database(file, { timeout: 0 })
    db.exec('BEGIN IMMEDIATE')
    try {
      const { c } = provoke(() => other.prepare('INSERT INTO t VALUES (1)').run())
      expect(c.kind).toBe('serialization_failure')
      expect(flags(c)).toEqual({ connectionLost: false, retryable: true })
      expect(c.driver).toEqual({ code: 'SQLITE_BUSY', message: 'database is locked' })
    } finally {
      db.exec('ROLLBACK')
      other.close()
      db.close()
    }
    // the lock gone, the same statement succeeds: retrying is what the kind promises
    const again = new Database(file)
    again.prepare('INSERT INTO t VALUES (1)').run()
    expect(again.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1)
    again.close()
  })

  it('serialization_failure: a table dropped while this connection still reads it (LOCKED)', () => {
    const { db } = database('CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2)')
    const rows = db.prepare('SELECT a FROM t').iterate()
    rows.next()
    // better-sqlite3 refuses any statement while an iterator is open; unsafe mode lets SQLite itself answer
    db.unsafeMode(true)
    try {
      const { c } = provoke(() => db.exec('DROP TABLE t'))
      expect(c.kind).toBe('serialization_failure')
      expect(flags(c)).toEqual({ connectionLost: false, retryable: true })
      expect(c.driver.code).toMatch(/^SQLITE_LOCKED/)
    } finally {
      rows.return?.()
      db.unsafeMode(false)
      db.close()
    }
  })

  it('connection: a file that is not a database, a file that cannot be opened, a closed handle', () => {
    const junk = tmp.path('junk.db')
    writeFileSync(junk, 'this is a text file, not an SQLite database; '.repeat(20))
    const notadb = provoke(() => new Database(junk).prepare('SELECT * FROM sqlite_schema').all()).c
    expect(notadb.kind).toBe('connection')
    expect(flags(notadb)).toEqual({ connectionLost: true, retryable: false })
    expect(notadb.driver).toEqual({ code: 'SQLITE_NOTADB', message: 'file is not a database' })

    // a directory where the file should be
    const cantopen = provoke(() => new Database(tmp.dir)).c
    expect(cantopen.kind).toBe('connection')
    expect(cantopen.driver).toEqual({ code: 'SQLITE_CANTOPEN', message: 'unable to open database file' })

    const { db } = database('CREATE TABLE t (a INTEGER)')
    db.close()
    const closed = provoke(() => db.prepare('SELECT * FROM t')).c
    expect(closed.kind).toBe('connection')
    expect(flags(closed)).toEqual({ connectionLost: true, retryable: false })
    expect(closed.driver).toEqual({ message: 'The database connection is not open' })
  })

  it('target_rejected: any other engine error (a trigger aborting, a missing table)', () => {
    const { db } = database("CREATE TABLE t (a INTEGER); CREATE TRIGGER no_sevens BEFORE INSERT ON t WHEN new.a = 7 BEGIN SELECT RAISE(ABORT, 'no sevens'); END")
    const trigger = provoke(() => db.prepare('INSERT INTO t VALUES (7)').run()).c
    expect(trigger.kind).toBe('target_rejected')
    expect(flags(trigger)).toEqual({ connectionLost: false, retryable: false })
    expect(trigger.driver).toEqual({ code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'no sevens' })
    const missing = provoke(() => db.prepare('INSERT INTO nowhere VALUES (1)')).c
    expect(missing.kind).toBe('target_rejected')
    expect(missing.driver).toEqual({ code: 'SQLITE_ERROR', message: 'no such table: nowhere' })
    db.close()
  })

  it('leaves errors that are not the driver\'s unclassified', () => {
    expect(sqlite.errors.classify(new Error('SQLITE_BUSY'))).toBeUndefined()
    expect(sqlite.errors.classify(new RangeError('Too few parameter values were provided'))).toBeUndefined()
    expect(sqlite.errors.classify({ code: 'SQLITE_BUSY', message: 'not an Error' })).toBeUndefined()
    expect(sqlite.errors.classify(undefined)).toBeUndefined()
  })
})

describe('errors built from classify', () => {
  const table: TableSchema = {
    name: 'person',
    columns: [
      { name: 'id', type: { kind: 'int64' }, nativeType: 'INTEGER', nullable: false },
      { name: 'email', type: { kind: 'text' }, nativeType: 'TEXT', nullable: false },
      { name: 'n', type: { kind: 'int64' }, nativeType: 'INTEGER', nullable: true },
    ],
    primaryKey: { columns: ['id'] },
    uniques: [{ columns: ['email'] }],
    indexes: [],
    foreignKeys: [],
  }

  it('rows the target rejects carry the driver\'s fields, and the rest of the batch is written', async () => {
    const conn = await sqlite.connect(`sqlite:${tmp.path('rejects.db')}`, { create: true })
    try {
      await conn.prepareTarget({ dialect: 'sqlite', tables: [table], objects: [] }, { mode: 'create' })
      const w = await conn.openWriter(table)
      const res = await w.write([
        [1, 'a@x', 1],
        [2, 'a@x', 2],
        [3, null, 3],
        [4, 'd@x', 2n ** 64n],
        [5, 'e@x', 5],
      ])
      await w.close()
      expect(res.written).toBe(2)
      const byId = new Map(res.rejected.map((r) => [(r.key as Record<string, unknown>).id, r]))
      expect(res.rejected.every((r) => r instanceof RowError)).toBe(true)
      expect(byId.get(2)).toMatchObject({ code: 'duplicate_key', column: 'email', driver: { code: 'SQLITE_CONSTRAINT_UNIQUE', table: 'person', column: 'email' } })
      expect(byId.get(3)).toMatchObject({ code: 'not_null', column: 'email', driver: { code: 'SQLITE_CONSTRAINT_NOTNULL', table: 'person', column: 'email' } })
      expect(byId.get(4)).toMatchObject({ code: 'out_of_range', driver: { message: 'The bound string, buffer, or bigint is too big' } })
    } finally {
      await conn.close()
    }
  })

  it('a source that is not a database fails with a ConnectionError carrying the driver\'s code', async () => {
    const junk = tmp.path('junk-source.db')
    writeFileSync(junk, 'not a database at all, '.repeat(50))
    const err = await sqlite.connect(`sqlite:${junk}`).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).driver).toEqual({ code: 'SQLITE_NOTADB', message: 'file is not a database' })
  })
})
