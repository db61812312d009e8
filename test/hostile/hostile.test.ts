import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { verify } from '../../src/verify/verify.js'
import { buildHostileSqlite, HOSTILE_CASES } from '../../fixtures/hostile.js'
import { targetKinds, type TargetDb } from './targets.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-hostile-'))
const source = `sqlite:${join(dir, 'hostile.db')}`
buildHostileSqlite(join(dir, 'hostile.db'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Cases whose run may stop with a clear error (a value past what the target accepts at all). */
const MAY_FAIL = new Set(['big_blob'])

for (const kind of await targetKinds()) {
  describe.skipIf(!kind.available)(`hostile corpus: sqlite → ${kind.name}`, () => {
    let target: TargetDb
    beforeAll(async () => {
      target = await kind.create()
    })
    afterAll(async () => {
      await target?.drop()
    })

    for (const c of HOSTILE_CASES) {
      it(`${c.table}: ${c.probes}`, { timeout: 120_000 }, async () => {
        const journal = new MemoryJournal()
        const report = await ferry({ from: source, to: target.url, tables: { include: [c.table] }, types: c.types, journal })
        if (!report.ok) {
          // a clear error: named failure kind, a message naming the table; never a silent partial load
          expect(MAY_FAIL.has(c.table), `${c.table} failed on ${kind.name}: ${report.error?.message}`).toBe(true)
          expect(report.error?.message).toContain(c.table)
          expect(report.error?.code).toMatch(/^[a-z_]+$/)
          return
        }
        const t = report.tables.find((x) => (x.source ?? x.name) === c.table)!
        expect(t.read, 'every source row is read').toBe(c.rows)
        expect(t.written + t.rejected + t.dropped).toBe(t.read)

        const entries = journal.entries.filter((e) => e.table === t.name || e.table === c.table)
        const journaled = new Map<number, string>()
        for (const e of entries) {
          expect(e.action).toBe('rejected')
          const key = e.key === undefined ? undefined : (JSON.parse(e.key) as { id?: number })
          expect(key?.id, `journal entry without a key: ${e.message}`).toBeTypeOf('number')
          journaled.set(key!.id!, e.kind)
        }
        expect(entries.length).toBe(t.rejected)
        for (const x of c.expect) {
          if (x.id === undefined) continue
          const kindOf = journaled.get(x.id)
          const what = `${c.table} id ${x.id} (${x.note}) on ${kind.name}`
          if (x.outcome === 'load') expect(kindOf, `${what} should load`).toBeUndefined()
          else if (x.outcome === 'reject') expect(x.kinds, `${what} should be rejected, was ${kindOf ?? 'loaded'}`).toContain(kindOf)
          else if (kindOf !== undefined) expect(x.kinds, `${what} rejected as ${kindOf}`).toContain(kindOf)
        }

        // every row not journaled is on the target with the same value: nothing changed silently
        const v = await verify({
          a: source,
          b: target.url,
          tables: [c.table],
          renames: report.renames,
          expectDropped: { [c.table]: entries.map((e) => e.key!) },
        })
        expect(v.tables).toHaveLength(1)
        const tv = v.tables[0]!
        expect(tv.problems, JSON.stringify(tv)).toEqual([])
        expect({ missing: tv.missing, extra: tv.extra, changed: tv.changed }).toEqual({ missing: [], extra: [], changed: [] })
        expect(tv.expectedDropped).toBe(t.rejected)
        expect(tv.rowsB).toBe(t.written)
        expect(tv.equal).toBe(true)
      })
    }
  })
}
