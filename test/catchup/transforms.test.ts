import { describe, expect, it } from 'vitest'
import { captureChanges, catchUp, ferry, transforms as t } from '../../src/index.js'
import { ENGINES, buildFixture, open } from './engines.js'

/** Catch-up passes changed rows through the copy's row transforms (SQLite to SQLite, no server needed). */
describe('catch-up with transforms', () => {
  it('applies the row transforms to the changed rows, and says what it cannot redo', async () => {
    const engine = ENGINES.sqlite
    const src = await engine.create()
    const dst = await engine.create()
    const source = await open(engine, src)
    const target = await open(engine, dst)
    try {
      await buildFixture(engine, source)
      await captureChanges(src.url, { tables: ['parent'] })
      const options = { transforms: [t.collapseMultiline({ tables: ['parent'], replacement: ' / ' })] }
      const copied = await ferry({ from: src.url, to: dst.url, journal: false, ...options })
      expect(copied.ok).toBe(true)
      await source.query!("INSERT INTO parent (name) VALUES ('two' || char(10) || 'lines')")
      await source.query!("UPDATE parent SET name = 'a' || char(13, 10) || 'b' WHERE id = 7")

      const r = await catchUp({ from: src.url, to: dst.url, ...options })
      expect(r.clean).toBe(true)
      expect(r.tables).toEqual([{ name: 'parent', upserted: 2, deleted: 0, rejected: 0, dropped: 0 }])
      expect(r.notes.join(' ')).toMatch(/dedupe/)
      expect(await target.query!('SELECT id, name FROM parent WHERE id IN (7, 201) ORDER BY id')).toEqual([
        { id: 7, name: 'a / b' },
        { id: 201, name: 'two / lines' },
      ])
      // without the transforms the same changes would have gone in as they are
      expect(await source.query!('SELECT name FROM parent WHERE id = 201')).toEqual([{ name: 'two\nlines' }])
    } finally {
      await source.close()
      await target.close()
      await src.drop()
      await dst.drop()
    }
  })
})
