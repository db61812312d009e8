import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { openJournal } from '../../src/journal/open.js'
import { transforms as t } from '../../src/index.js'
import { verify } from '../../src/verify/verify.js'
import { buildDb, tempDir } from './helpers.js'

// SQLite → SQLite: a table that needs no change is copied by the target itself, attaching the source file and
// running INSERT … SELECT in its write transaction; no value is decoded in Node
const tmp = tempDir()
let n = 0
const target = () => tmp.path(`target-${++n}.db`)

/** `SELECT … ORDER BY 1` of a file, as plain rows. */
function rows(file: string, sql: string): unknown[][] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).raw(true).all() as unknown[][]
  } finally {
    db.close()
  }
}

const ITEMS = 3000
const items = tmp.path('items.db')

beforeAll(async () => {
  await buildFixture(typesFixture, `sqlite:${tmp.path('types.db')}`)
  buildDb(items, 'CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, note TEXT)', (db) => {
    const ins = db.prepare('INSERT INTO items VALUES (?, ?, ?)')
    for (let i = 1; i <= ITEMS; i++) ins.run(i, i, `note ${i} é`)
  })
})
afterAll(() => tmp.cleanup())

describe('SQLite → SQLite pass-through', () => {
  it('copies the types fixture without decoding it, every value equal to the source', async () => {
    const from = `sqlite:${tmp.path('types.db')}`
    const to = `sqlite:${target()}`
    const report = await ferry({ from, to, journal: false })
    expect(report.ok).toBe(true)
    const types = report.tables.find((x) => x.name === 'types_all')!
    expect(types).toMatchObject({ path: 'pass-through', read: 7, written: 7, rejected: 0 })
    expect(types.pathNote).toBeUndefined()
    const v = await verify({ a: from, b: to })
    expect(v.tables.filter((x) => !x.equal).map((x) => x.name)).toEqual([])
    expect(v.equal).toBe(true)
  })

  it('gives the same target as the row path, value for value', async () => {
    const from = `sqlite:${tmp.path('types.db')}`
    const fast = target()
    const slow = target()
    await ferry({ from, to: `sqlite:${fast}`, journal: false })
    const rowPath = await ferry({ from, to: `sqlite:${slow}`, journal: false, passThrough: false })
    expect(rowPath.tables.find((x) => x.name === 'types_all')!.path).toBe('rows')
    const v = await verify({ a: `sqlite:${fast}`, b: `sqlite:${slow}` })
    expect(v.equal).toBe(true)
  })

  it('falls back to the row path when the target refuses a row, which is then rejected alone', async () => {
    const to = target()
    buildDb(to, 'CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v <> 500), note TEXT)')
    const journal = new MemoryJournal()
    const report = await ferry({ from: `sqlite:${items}`, to: `sqlite:${to}`, journal, mode: 'append' })
    const r = report.tables[0]!
    expect(r).toMatchObject({ name: 'items', path: 'rows', read: ITEMS, written: ITEMS - 1, rejected: 1 })
    expect(r.pathNote).toMatch(/^fell back to the row path: the target refused a row \(CHECK constraint failed/)
    expect(journal.entries.map((e) => [e.kind, e.key])).toEqual([['check_violation', '{"id":500}']])
    expect(rows(to, 'SELECT count(*) FROM items')).toEqual([[ITEMS - 1]])
  })

  it('falls back to the row path for a value the row path rejects, which is then rejected alone', async () => {
    const from = tmp.path('junk.db')
    buildDb(from, 'CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, at TIMESTAMP)', (db) => {
      const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?)')
      for (let i = 1; i <= 100; i++) ins.run(i, i === 42 ? 'forty-two' : i, '2024-01-02 03:04:05.5')
    })
    const journal = new MemoryJournal()
    const report = await ferry({ from: `sqlite:${from}`, to: `sqlite:${target()}`, journal })
    expect(report.tables[0]).toMatchObject({ path: 'rows', read: 100, written: 99, rejected: 1 })
    expect(report.tables[0]!.pathNote).toBe('fell back to the row path: 1 row(s) hold values the row path converts, repairs or rejects')
    expect(journal.entries.map((e) => [e.kind, e.key])).toEqual([['type_conversion', '{"id":42}']])
  })

  it('a table with a transform takes the row path, and says why', async () => {
    const report = await ferry({ from: `sqlite:${items}`, to: `sqlite:${target()}`, journal: false, transforms: [t.collapseMultiline({ tables: ['items'] })] })
    expect(report.tables[0]).toMatchObject({ path: 'rows', written: ITEMS })
    expect(report.tables[0]!.pathNote).toMatch(/^transforms process its rows/)
  })

  it('passThrough: false takes the row path, with nothing to explain', async () => {
    const report = await ferry({ from: `sqlite:${items}`, to: `sqlite:${target()}`, journal: false, passThrough: false })
    expect(report.tables[0]).toMatchObject({ path: 'rows', written: ITEMS })
    expect(report.tables[0]!.pathNote).toBeUndefined()
  })

  it('a caller-held source handle takes the row path: dbferry cannot tell what it writes meanwhile', async () => {
    const db = new Database(items, { readonly: true })
    try {
      const report = await ferry({ from: db, to: `sqlite:${target()}`, journal: false })
      expect(report.tables[0]).toMatchObject({ path: 'rows', written: ITEMS })
      expect(report.tables[0]!.pathNote).toBe('the source is not a file dbferry opened and reads in a transaction of its own')
    } finally {
      db.close()
    }
  })

  it('resumes exactly after an interruption in the row path, the rest of the table handed over', async () => {
    const to = target()
    const journal = tmp.path('resume-journal.sqlite')
    const stop = new AbortController()
    let batches = 0
    // the first run loads the table row by row and stops after two batches
    const first = await ferry({
      from: `sqlite:${items}`,
      to: `sqlite:${to}`,
      journal,
      batchRows: 500,
      passThrough: false,
      signal: stop.signal,
      onProgress: (e) => {
        if (e.type === 'batch' && ++batches === 2) stop.abort()
      },
    })
    expect(first.error?.code).toBe('aborted')
    const loaded = rows(to, 'SELECT count(*) FROM items')[0]![0] as number
    expect(loaded).toBeGreaterThan(0)
    expect(loaded).toBeLessThan(ITEMS)
    const resumed = await ferry({ from: `sqlite:${items}`, to: `sqlite:${to}`, journal, resume: true })
    expect(resumed).toMatchObject({ ok: true, clean: true })
    const r = resumed.tables[0]!
    expect(r).toMatchObject({ path: 'pass-through', read: ITEMS, written: ITEMS, rejected: 0 })
    expect(r.resumed?.after).toBeDefined()
    expect(rows(to, 'SELECT id FROM items ORDER BY id').map((x) => x[0])).toEqual(Array.from({ length: ITEMS }, (_, i) => i + 1))
  })

  it('resumes exactly after a crash between the commit and its confirmation', async () => {
    const to = target()
    const journal = tmp.path('crash-journal.sqlite')
    // the confirmation of the handed-over table fails: its rows are committed, the intent checkpoint stands
    const failing = await openJournal(journal)
    const checkpoint = failing.checkpoint.bind(failing)
    failing.checkpoint = async (run, cp) => {
      if (cp.done) throw new Error('crash before the confirmation')
      return checkpoint(run, cp)
    }
    const first = await ferry({ from: `sqlite:${items}`, to: `sqlite:${to}`, journal: failing })
    expect(first.ok).toBe(false)
    expect(rows(to, 'SELECT count(*) FROM items')).toEqual([[ITEMS]])
    await failing.close()
    const resumed = await ferry({ from: `sqlite:${items}`, to: `sqlite:${to}`, journal, resume: true })
    expect(resumed).toMatchObject({ ok: true, clean: true })
    expect(resumed.tables[0]).toMatchObject({ read: ITEMS, written: ITEMS, rejected: 0 })
    expect(rows(to, 'SELECT count(*), min(id), max(id) FROM items')).toEqual([[ITEMS, 1, ITEMS]])
  })

  it('an abort between the pieces of a large table rolls it back whole, and --resume hands it over again', async () => {
    const from = tmp.path('large.db')
    const LARGE = 250_000
    buildDb(from, 'CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER)', (db) => {
      const ins = db.prepare('INSERT INTO big VALUES (?, ?)')
      for (let i = 1; i <= LARGE; i++) ins.run(i, i)
    })
    const to = target()
    const journal = tmp.path('large-journal.sqlite')
    const stop = new AbortController()
    const first = await ferry({
      from: `sqlite:${from}`,
      to: `sqlite:${to}`,
      journal,
      signal: stop.signal,
      // the first piece is copied, not committed: Ctrl-C here stops the table
      onProgress: (e) => {
        if (e.type === 'batch' && e.read > 0) stop.abort()
      },
    })
    expect(first.error?.code).toBe('aborted')
    expect(rows(to, 'SELECT count(*) FROM big')).toEqual([[0]])
    const resumed = await ferry({ from: `sqlite:${from}`, to: `sqlite:${to}`, journal, resume: true })
    expect(resumed).toMatchObject({ ok: true, clean: true })
    expect(resumed.tables[0]).toMatchObject({ path: 'pass-through', read: LARGE, written: LARGE })
    expect(rows(to, 'SELECT count(*), count(DISTINCT id), max(id) FROM big')).toEqual([[LARGE, LARGE, LARGE]])
  })

  it('copies nothing when the source file changed after its snapshot, and the row path loads the snapshot', async () => {
    const from = tmp.path('changing.db')
    buildDb(from, 'CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT)', (db) => {
      for (let i = 1; i <= 100; i++) db.prepare('INSERT INTO a VALUES (?, ?), (?, ?)').run(i, 'x', i + 1000, 'y')
      for (let i = 1; i <= 100; i++) db.prepare('INSERT INTO b VALUES (?, ?)').run(i, 'z')
    })
    const writer = new Database(from)
    writer.pragma('journal_mode = WAL')
    try {
      let wrote = false
      const report = await ferry({
        from: `sqlite:${from}`,
        to: `sqlite:${target()}`,
        journal: false,
        // table a is copied first; once it starts, another connection commits rows to b
        onProgress: (e) => {
          if (e.type === 'table-start' && e.table === 'a' && !wrote) {
            wrote = true
            writer.prepare('INSERT INTO b VALUES (101, ?)').run('late')
          }
        },
      })
      expect(wrote).toBe(true)
      const b = report.tables.find((x) => x.name === 'b')!
      // the snapshot has 100 rows of b: the hand-over would have read 101
      expect(b).toMatchObject({ path: 'rows', read: 100, written: 100 })
      expect(b.pathNote).toBe('fell back to the row path: the source file changed since the copy began reading it')
    } finally {
      writer.close()
    }
  })
})
