import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { exitCodeOf } from '../../src/report.js'

// views are part of the database: a copy that leaves one behind is not clean
describe('views', () => {
  let dir: string
  let source: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-views-'))
    source = join(dir, 'source.db')
    const db = new Database(source)
    db.exec(`CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);
      INSERT INTO person VALUES (1, 'ann', 30), (2, 'bob', 17);
      CREATE VIEW adult AS SELECT id, name FROM person WHERE age >= 18;
      CREATE VIEW adult_names AS SELECT name FROM adult;`)
    db.close()
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('same engine: creates them from their own definitions, in dependency order, and the run is clean', async () => {
    const target = join(dir, 'target.db')
    const report = await ferry({ from: `sqlite:${source}`, to: `sqlite:${target}` })
    expect(report.objects).toEqual([
      { name: 'adult', ok: true },
      { name: 'adult_names', ok: true },
    ])
    expect(report.clean).toBe(true)
    const db = new Database(target, { readonly: true })
    expect(db.prepare('SELECT name FROM adult_names').all()).toEqual([{ name: 'ann' }])
    db.close()
  })

  it('a view that is not created makes the run not clean (exit code 3), with the reason', async () => {
    // a file target cannot run SQL: the views are listed as not created
    const report = await ferry({ from: `sqlite:${source}`, to: `csv:${join(dir, 'out')}` })
    expect(report.ok).toBe(true)
    expect(report.totals.rejected).toBe(0)
    expect(report.objects.map((o) => o.ok)).toEqual([false, false])
    expect(report.objects[0]!.error).toMatch(/not translated|cannot run SQL/)
    expect(report.clean).toBe(false)
    expect(exitCodeOf(report)).toBe(3)
  })
})
