import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { FIT_FIX_KINDS } from '../../src/pipeline/fit-rows.js'
import { plan } from '../../src/plan/plan.js'
import { createPostgresDatabase, serverUp } from '../support/servers.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-plan-classes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// one row per class a copy into PostgreSQL rejects or changes: decimal places past the scale, fractional seconds
// past 6 digits, U+0000 in text, text in an integer column
function oneOfEach(): string {
  const file = join(dir, 'src.db')
  const db = new Database(file)
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, amount NUMERIC(10,2), at TIMESTAMP, note TEXT, n INTEGER)')
  const insert = db.prepare('INSERT INTO items VALUES (?, ?, ?, ?, ?)')
  insert.run(1, 12.345, '2024-01-02 03:04:05', 'fine', 1)
  insert.run(2, 1.5, '2024-01-02 03:04:05.123456789', 'fine', 2)
  insert.run(3, 1.5, '2024-01-02 03:04:05', 'nul\0inside', 3)
  insert.run(4, 1.5, '2024-01-02 03:04:05', 'fine', 'junk')
  insert.run(5, 1.5, '2024-01-02 03:04:05', 'fine', 5)
  db.close()
  return `sqlite:${file}`
}

describe.skipIf(!(await serverUp('postgres')))('plan lists every class the copy journals', () => {
  it('sqlite → postgres: each rejected kind and each fix kind of the copy is a plan issue of that kind, on the same row', async () => {
    const src = oneOfEach()
    const db = await createPostgresDatabase('plan_classes')
    try {
      const p = await plan({ from: src, to: db.url })
      const journal = new MemoryJournal()
      const report = await ferry({ from: src, to: db.url, journal })
      expect(report.tables[0]).toMatchObject({ written: 2, rejected: 3 })
      // what the copy journaled, as (class, key): a fix's class leads its message (FIT_FIX_KINDS)
      const copied = journal.entries
        .filter((e) => e.action === 'rejected' || e.action === 'fixed')
        .map((e) => `${e.action === 'fixed' ? e.message.slice(0, e.message.indexOf(':')) : e.kind} ${e.key}`)
        .sort()
      expect(copied).toEqual(['fraction_cut {"id":2}', 'nul_in_text {"id":3}', 'truncation {"id":1}', 'type_conversion {"id":4}'])
      expect(FIT_FIX_KINDS).toContain('fraction_cut')
      const planned = p.preflight.flatMap((i) => i.examples.map((e) => `${i.kind} ${e.key}`)).sort()
      expect(planned).toEqual(copied)
    } finally {
      await db.drop()
    }
  })
})
