import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { verify } from '../../src/verify/verify.js'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { targetKinds } from '../hostile/targets.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-verify-cross-'))
const source = `sqlite:${join(dir, 'types.db')}`
await buildFixture(typesFixture, source)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

for (const kind of await targetKinds()) {
  describe.skipIf(!kind.available)(`verify across engines: sqlite ↔ ${kind.name}`, () => {
    it('finds every logical type equal after a copy, and a single changed value when there is one', async () => {
      const target = await kind.create()
      try {
        const journal = new MemoryJournal()
        const report = await ferry({ from: source, to: target.url, journal })
        expect(report.ok, report.error?.message).toBe(true)
        // rows a target cannot hold (NUL in text, non-finite floats) are journaled: verify accepts exactly those
        const dropped = journal.entries.filter((e) => e.table === 'types_all').map((e) => e.key!)
        const r = await verify({ a: source, b: target.url, renames: report.renames, expectDropped: { types_all: dropped } })
        const t = r.tables.find((x) => x.name === 'types_all')!
        expect({ changed: t.changed, missing: t.missing, extra: t.extra, problems: t.problems }).toEqual({ changed: [], missing: [], extra: [], problems: [] })
        expect(t.expectedDropped).toBe(dropped.length)
        expect(r.equal).toBe(true)

        // the same check the other way round: b as the first database
        const back = await verify({ a: target.url, b: source, tables: ['types_all'] })
        expect(back.tables[0]!.changedCount).toBe(0)
        expect(back.tables[0]!.extraCount).toBe(dropped.length)

        // one value changed on the target, through the target's own SQL
        const { connection, owned } = await connect(target.url, { create: true })
        const q = (n: string) => connection.dialect.sql!.quoteIdentifier(n)
        await connection.execute!(`UPDATE ${q('types_all')} SET ${q('vc')} = 'tampered' WHERE ${q('id')} = 1`)
        if (owned) await connection.close()
        const after = await verify({ a: source, b: target.url, renames: report.renames, expectDropped: { types_all: dropped } })
        const ta = after.tables.find((x) => x.name === 'types_all')!
        expect(ta.changed).toEqual([{ key: { id: 1 }, columns: ['vc'] }])
        expect(after.equal).toBe(false)
      } finally {
        await target.drop()
      }
    })
  })
}
