import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import { harnesses } from '../cross/harness.js'
import { bundleChild, type KillableChild } from './kill-child.js'

const ROWS = 100_000
const BATCH = 5_000
const KILLS = 6
const dir = mkdtempSync(join(tmpdir(), 'dbferry-kill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// every 20 000th row holds junk in an integer column, so rejects must also survive the crashes exactly once
const JUNK = new Set(Array.from({ length: ROWS / 20_000 }, (_, i) => (i + 1) * 20_000 - 7))
const bigFixture: Fixture = {
  name: 'big',
  tables: [
    {
      name: 'events',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false },
        { name: 'n', type: { kind: 'int32' } },
        { name: 'label', type: { kind: 'text' } },
        { name: 'at', type: { kind: 'timestamp' } },
      ],
      primaryKey: ['id'],
      rows: Array.from({ length: ROWS }, (_, i) => (JUNK.has(i + 1) ? null : [i + 1, i % 1000, `row ${i + 1}\nline two é`, `2020-01-01 00:00:${String(i % 60).padStart(2, '0')}.${String(i % 1e6).padStart(6, '0')}`]))
        .filter((r) => r !== null),
      looseRows: [...JUNK].map((id) => [id, 'not-a-number', `junk ${id}`, '2020-01-01 00:00:00']),
    },
  ],
}

let child: KillableChild
beforeAll(async () => {
  child = await bundleChild('copy-child')
})
afterAll(() => child?.remove())
const runChild = (args: string[], killAfterBatches?: number) => child.run(args, killAfterBatches, 15)

const all = await harnesses()
const source = all.find((h) => h.name === 'sqlite')

// the targets run side by side: each has its own database and journal, and the one source file, built once,
// is only read; one after the other, most of the time went to waiting on the servers and on child start-up
describe.skipIf(!source).concurrent('kill -9 and resume', () => {
  const src = `sqlite:${join(dir, 'src.db')}`
  beforeAll(async () => {
    await buildFixture(bigFixture, src)
  }, 60_000)

  for (const target of all.filter((h) => h.name !== 'mssql')) {
    it(`sqlite → ${target.name}: ${KILLS} kills at random points, then resume: every row exactly once`, async ({ expect }) => {
      const dst = await target.create()
      const journal = join(dir, `journal-${target.name}.sqlite`)
      try {
        let kills = 0
        for (let i = 0; i < KILLS; i++) {
          // 1 to 3 batches into each run (plus a few random ms), so the kills land at different points of the table
          const at = 1 + Math.floor(Math.random() * 3)
          const r = await runChild([src, dst.url, journal, String(BATCH), ...(i > 0 ? ['--resume'] : [])], at)
          if (r.killed) kills++
          else if (!r.report) throw new Error(`child failed: ${r.stderr}`)
        }
        expect(kills).toBeGreaterThanOrEqual(KILLS - 2)
        const final = await runChild([src, dst.url, journal, String(BATCH), '--resume'])
        expect(final.stderr).toBe('')
        const report = final.report!
        expect(report.error).toBeUndefined()
        expect(report.ok).toBe(true)
        const t = report.tables[0]!
        expect(t.read).toBe(ROWS)
        expect(t.written).toBe(ROWS - JUNK.size)
        expect(t.rejected).toBe(JUNK.size)

        const { connection } = await connect(dst.url)
        try {
          await connection.snapshot()
          const schema = await connection.introspect()
          const ids: number[] = []
          for await (const b of connection.read(schema.tables.find((x) => x.name === 'events')!, { batchRows: 20_000, batchBytes: 1 << 26 })) {
            for (const r of b.rows) ids.push(Number(r[0]))
          }
          expect(ids.length).toBe(ROWS - JUNK.size)
          const seen = new Set(ids)
          expect(seen.size).toBe(ids.length) // zero duplicates
          // looked up in the set: ids.includes made this check alone O(rows²), seconds of CPU per target
          const missing = []
          for (let id = 1; id <= ROWS; id++) if (!JUNK.has(id) && !seen.has(id)) missing.push(id)
          expect(missing).toEqual([])
        } finally {
          await connection.close()
        }
      } finally {
        await dst.drop()
      }
    }, 300_000)
  }
})
