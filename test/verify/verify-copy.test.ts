import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { transforms as t } from '../../src/transforms/index.js'
import { verify } from '../../src/verify/verify.js'

/**
 * `ferry({ verify: true })` expects what the run did on purpose — a drop, a key set to NULL, a stub parent —
 * through renamed tables, with a journal (by key) or without one (by count).
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-verify-copy-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function source(): string {
  const file = join(dir, 'source.db')
  const db = new Database(file)
  db.pragma('foreign_keys = OFF')
  db.exec(`
    CREATE TABLE Sectors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    CREATE TABLE Orgs (id INTEGER PRIMARY KEY, name TEXT, sector_id INTEGER REFERENCES Sectors (id), parent_id INTEGER REFERENCES Orgs (id));
    INSERT INTO Sectors VALUES (1, 'health');
    INSERT INTO Orgs VALUES (1, 'Clinic', 1, NULL), (2, 'Well', 14, 1), (3, 'Branch', 1, 99), (4, 'drop me', 1, NULL);
  `)
  db.close()
  return `sqlite:${file}`
}

const from = source()
const transforms = [
  t.filterRows({ table: 'Orgs', where: (r) => r.name !== 'drop me' }),
  // Orgs 2 points at the missing sector 14 (a stub is inserted), Orgs 3 at the missing parent 99 (set to NULL)
  t.fixDanglingForeignKeys({ strategy: 'stub', foreignKeys: { 'Orgs.parent_id': 'null' } }),
]

describe('ferry({ verify: true }) with what the run changed on purpose', () => {
  it('is equal with a journal, counting the drop, the fix and the stub, on tables the target renamed', async () => {
    const journal = new MemoryJournal()
    const to = `sqlite:${join(dir, 'memory-journal.db')}`
    const report = await ferry({ from, to, verify: true, journal, transforms, identifiers: { case: 'lower' } })
    expect(report.ok).toBe(true)
    expect(report.tables.map((x) => [x.name, x.dropped, x.inserted, x.fixed])).toEqual([
      ['sectors', 0, 1, {}],
      ['orgs', 1, 0, { parent_id: 1 }],
    ])
    expect(report.verify).toMatchObject({ equal: true, expected: { dropped: 1, changed: 1, inserted: 1 } })
    // without the run's expectations the same two databases differ in exactly those rows
    const plain = await verify({ a: from, b: to, renames: report.renames })
    expect(plain.equal).toBe(false)
    expect(plain.tables.map((x) => [x.name, x.missingCount, x.changedCount, x.extraCount])).toEqual([
      ['Sectors', 0, 0, 1],
      ['Orgs', 1, 1, 0],
    ])
  })

  it('is equal with a journal file, and without a journal by count', async () => {
    const withFile = await ferry({ from, to: `sqlite:${join(dir, 'file-journal.db')}`, verify: true, journal: join(dir, 'journal.sqlite'), transforms, identifiers: { case: 'lower' } })
    expect(withFile.verify).toMatchObject({ equal: true, expected: { dropped: 1, changed: 1, inserted: 1 } })
    const without = await ferry({ from, to: `sqlite:${join(dir, 'no-journal.db')}`, verify: true, transforms, identifiers: { case: 'lower' } })
    expect(without.verify).toMatchObject({ equal: true, expected: { dropped: 1, changed: 1, inserted: 1 } })
  })

  it('still finds a row the expectations do not account for', async () => {
    const to = join(dir, 'changed.db')
    const journal = new MemoryJournal()
    const report = await ferry({ from, to: `sqlite:${to}`, verify: true, journal, transforms, identifiers: { case: 'lower' } })
    expect(report.verify?.equal).toBe(true)
    const db = new Database(to)
    db.prepare("UPDATE orgs SET name = 'Branch office' WHERE id = 3").run()
    db.close()
    const { buildExpectations } = await import('../../src/verify/expectations.js')
    const expect2 = buildExpectations({ origin: 'test', entries: journal.entries, report })
    const again = await verify({ a: from, b: `sqlite:${to}`, expect: expect2 })
    expect(again.equal).toBe(false)
    expect(again.tables.find((x) => x.name === 'Orgs')).toMatchObject({ changedCount: 1, expectedChanged: 0, changed: [{ key: { id: 3 }, columns: ['name', 'parent_id'] }] })
  })
})
