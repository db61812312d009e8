import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { plan } from '../../src/plan/plan.js'
import { verify } from '../../src/verify/verify.js'
import { createPostgresDatabase, serverUp } from '../support/servers.js'

// SQLite text keeps every digit it is given; a timestamp column of SQLite declares no precision
const dir = mkdtempSync(join(tmpdir(), 'dbferry-fraction-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const NANOS = '2024-01-02 03:04:05.123456789'

function eventsFile(name: string): string {
  const file = join(dir, `${name}.db`)
  const db = new Database(file)
  db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, at TIMESTAMP)')
  db.prepare('INSERT INTO events VALUES (?, ?)').run(1, NANOS)
  db.prepare('INSERT INTO events VALUES (?, ?)').run(2, '2024-01-02 03:04:05.5')
  db.close()
  return `sqlite:${file}`
}

describe('fractional seconds past what the target keeps', async () => {
  it('sqlite → sqlite: nine digits kept whole, no fix, verify equal, plan finds nothing', async () => {
    const src = eventsFile('src-sqlite')
    const dst = join(dir, 'dst.db')
    const report = await ferry({ from: src, to: `sqlite:${dst}`, verify: true })
    expect(report.totals).toMatchObject({ written: 2, fixed: 0 })
    expect(report.verify?.equal).toBe(true)
    const db = new Database(dst, { readonly: true })
    expect(db.prepare('SELECT at FROM events ORDER BY id').pluck().all()).toEqual([NANOS, '2024-01-02 03:04:05.5'])
    db.close()
    const p = await plan({ from: src, to: `sqlite:${dst}-plan` })
    expect(p.preflight).toEqual([])
  })

  it.skipIf(!(await serverUp('postgres')))('sqlite → postgres: cut to 6 digits, one fraction_cut fix journaled with the value, verify sees the cut, plan lists it', async () => {
    const src = eventsFile('src-pg')
    const db = await createPostgresDatabase('fraction')
    const journal = new MemoryJournal()
    try {
      const report = await ferry({ from: src, to: db.url, journal, verify: true })
      const t = report.tables.find((x) => x.name === 'events')!
      expect(t).toMatchObject({ status: 'done', written: 2, rejected: 0, fixed: { at: 1 } })
      const fixes = journal.entries.filter((e) => e.action === 'fixed')
      expect(fixes).toHaveLength(1)
      expect(fixes[0]).toMatchObject({ table: 'events', key: '{"id":1}', column: 'at', row: JSON.stringify({ at: NANOS }) })
      expect(fixes[0]!.message).toMatch(/^fraction_cut: events\.at: "2024-01-02 03:04:05\.123456789" → "2024-01-02 03:04:05\.123456"/)
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      try {
        const { rows } = await client.query("SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM events ORDER BY id")
        expect(rows.map((r) => r.at)).toEqual(['2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.500000'])
      } finally {
        await client.end()
      }
      // the cut is journaled: the run's verify expects it (the source holds nine digits, the target six)
      expect(report.verify).toMatchObject({ equal: true, expected: { changed: 1 } })
      expect(report.verify?.tables.find((x) => x.name === 'events')).toMatchObject({ equal: true, changed: 0, missing: 0 })
      // verify on its own, without the journal, sees the cut
      expect((await verify({ a: src, b: db.url })).tables.find((x) => x.name === 'events')).toMatchObject({ equal: false, changed: [{ key: { id: 1 }, columns: ['at'] }] })

      const p = await plan({ from: src, to: db.url })
      const issue = p.preflight.find((i) => i.kind === 'fraction_cut')
      expect(issue).toMatchObject({ table: 'events', column: 'at', count: 1, examples: [{ key: '{"id":1}', value: NANOS }] })
    } finally {
      await db.drop()
    }
  })
})
