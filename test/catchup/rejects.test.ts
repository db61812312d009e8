import { describe, expect, it } from 'vitest'
import { captureChanges, catchUp, ferry } from '../../src/index.js'
import { serverUp } from '../support/servers.js'
import { ENGINES, buildFixture, open } from './engines.js'

const hasPostgres = process.env.CI === 'true' || (await serverUp('postgres'))

/** A changed row that cannot be applied is named, and its change stays for the next catch-up (SQLite to SQLite). */
describe('catch-up rejects', () => {
  it('names the table, key, column and value, keeps the entry, and applies it once the row is fixed', async () => {
    const engine = ENGINES.sqlite
    const src = await engine.create()
    const dst = await engine.create()
    const source = await open(engine, src)
    const target = await open(engine, dst)
    try {
      await buildFixture(engine, source)
      await captureChanges(src.url)
      const copied = await ferry({ from: src.url, to: dst.url, journal: false })
      expect(copied.ok).toBe(true)
      // SQLite keeps any value: text in a NUMERIC(10,2) column, which no target column of the copy takes
      await source.query!("UPDATE child SET amount = 'not a number' WHERE id = 42")
      await source.query!("UPDATE child SET note = 'fine' WHERE id = 43")

      const first = await catchUp({ from: src.url, to: dst.url })
      expect(first.clean).toBe(false)
      expect(first.tables).toEqual([{ name: 'child', upserted: 1, deleted: 0, rejected: 1, dropped: 0 }])
      expect(first.rejects).toEqual([expect.objectContaining({ table: 'child', key: { id: 42 }, column: 'amount', value: 'not a number', kind: 'type_conversion' })])
      expect(first).toMatchObject({ removed: 1, kept: 1 })
      expect(await source.query!('SELECT table_name, key_json FROM dbferry_changes')).toEqual([{ table_name: 'child', key_json: '[42]' }])
      // the row the target has is still the copy's, not deleted
      expect(await target.query!('SELECT amount FROM child WHERE id = 42')).toEqual([{ amount: 42.25 }])
      expect(await target.query!('SELECT note FROM child WHERE id = 43')).toEqual([{ note: 'fine' }])

      await source.query!('UPDATE child SET amount = 1.5 WHERE id = 42')
      const second = await catchUp({ from: src.url, to: dst.url })
      expect(second).toMatchObject({ clean: true, removed: 2, kept: 0 })
      expect(await target.query!('SELECT amount FROM child WHERE id = 42')).toEqual([{ amount: 1.5 }])
      expect(await source.query!('SELECT id FROM dbferry_changes')).toEqual([])
    } finally {
      await source.close()
      await target.close()
      await src.drop()
      await dst.drop()
    }
  })

  it.skipIf(!hasPostgres)('names the column of a value the target refuses (SQLite → PostgreSQL, a key longer than varchar(20))', async () => {
    const src = await ENGINES.sqlite.create()
    const dst = await ENGINES.postgres.create()
    const source = await open(ENGINES.sqlite, src)
    try {
      await buildFixture(ENGINES.sqlite, source)
      await captureChanges(src.url, { tables: ['tag'] })
      expect((await ferry({ from: src.url, to: dst.url, journal: false })).ok).toBe(true)
      const long = 'k'.repeat(30)
      await source.query!(`INSERT INTO tag (code, label) VALUES ('${long}', 'too long for the target')`)
      const r = await catchUp({ from: src.url, to: dst.url })
      expect(r.rejects).toEqual([expect.objectContaining({ table: 'tag', key: { code: long }, column: 'code', value: long, kind: 'truncation' })])
      expect(r.kept).toBe(1)
    } finally {
      await source.close()
      await src.drop()
      await dst.drop()
    }
  })
})
