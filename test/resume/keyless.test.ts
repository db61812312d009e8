import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import type { ResumedInfo } from '../../src/pipeline/resume.js'
import type { Row } from '../../src/schema/types.js'
import { harnesses } from '../cross/harness.js'
import type { TestDatabase } from '../support/servers.js'
import { bundleChild, type KillableChild } from './kill-child.js'

// A table without a primary key, read from a server (no rowid to order it): killed after some batches have
// committed on the target, then resumed. Before, the resume read the table from the start and appended it
// again (every committed row twice); now the table starts over from empty, so the target holds exactly the
// source's rows — the same multiset, duplicates included.
const ROWS = 20_000
const BATCH = 1_000
const DELAY_MS = 200
/** Batches before the kill: past 2 s, so a target that commits every 2 s (MySQL) has committed some. */
const KILL_AT = 14
const dir = mkdtempSync(join(tmpdir(), 'dbferry-keyless-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const keyless: Fixture = {
  name: 'keyless',
  tables: [
    {
      name: 'readings',
      columns: [
        { name: 'sensor', type: { kind: 'int32' }, nullable: false },
        { name: 'label', type: { kind: 'text', length: 20 } },
        { name: 'value', type: { kind: 'decimal', precision: 8, scale: 2 } },
      ],
      // identical rows on purpose (each distinct row about 1.4 times), so a count per distinct row is checked
      rows: Array.from({ length: ROWS }, (_, i): Row => [i % 4000, i % 7 === 0 ? null : `l${i % 3}`, `${i % 12_000 % 500}.25`]),
    },
  ],
}

/** How many times each distinct row occurs. */
function multiset(rows: readonly Row[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of rows) {
    const k = JSON.stringify([Number(r[0]), r[1], r[2] === null ? null : Number(r[2]).toFixed(2)])
    m.set(k, (m.get(k) ?? 0) + 1)
  }
  return m
}

async function readAll(url: string): Promise<Row[]> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const table = (await connection.introspect()).tables.find((t) => t.name === 'readings')
    if (!table) return []
    const rows: Row[] = []
    for await (const b of connection.read(table, { batchRows: 10_000, batchBytes: 1 << 26 })) rows.push(...b.rows)
    return rows
  } finally {
    await connection.close()
  }
}

let child: KillableChild
beforeAll(async () => {
  child = await bundleChild('slow-copy-child')
})
afterAll(() => child?.remove())
const runChild = (args: string[], killAfterBatches?: number) => child.run(args, killAfterBatches)

const all = await harnesses()
const sources = all.filter((h) => h.name === 'postgres' || h.name === 'mysql')
const targets = all.filter((h) => h.name === 'sqlite' || h.name === 'postgres' || h.name === 'mysql')

// the pairs run side by side: each has its own target database and journal and only reads its source, and most
// of a pair's time is the child's deliberate delay per batch, so one after the other they left the cores idle
describe.concurrent('kill -9 and resume of a table without a primary key', () => {
  for (const source of sources) {
    describe(`from ${source.name}`, () => {
      // one source per engine, built once: the copies only read it
      let src: TestDatabase
      let expected: Map<string, number>
      beforeAll(async () => {
        src = await source.create()
        await buildFixture(keyless, src.url)
        expected = multiset(await readAll(src.url))
        expect(expected.size).toBeLessThan(ROWS) // identical rows are there
      }, 60_000)
      afterAll(async () => {
        await src?.drop()
      })

      for (const target of targets) {
        it(`${source.name} → ${target.name}: the table starts over, every row exactly as often as in the source`, async ({ expect }) => {
          const dst = await target.create()
          const journal = join(dir, `journal-${source.name}-${target.name}.sqlite`)
          try {
            const killed = await runChild([src.url, dst.url, journal, String(BATCH), String(DELAY_MS)], KILL_AT)
            expect(killed.killed, killed.stderr).toBe(true)
            // the kill left a partial table on the target: the case where appending would duplicate rows
            const partial = (await readAll(dst.url)).length
            expect(partial).toBeGreaterThan(0)
            expect(partial).toBeLessThan(ROWS)

            const final = await runChild([src.url, dst.url, journal, String(BATCH), '0', '--resume'])
            expect(final.stderr).toBe('')
            const report = final.report!
            expect(report.error).toBeUndefined()
            expect(report.ok).toBe(true)
            const t = report.tables.find((x) => x.name === 'readings')!
            expect([t.read, t.written, t.rejected]).toEqual([ROWS, ROWS, 0])
            const resumed = t.resumed as ResumedInfo
            expect(resumed.carried.written).toBe(0)
            expect(resumed.restarted).toContain(`the ${partial} row(s) on the target were removed`)

            const got = await readAll(dst.url)
            expect(got.length).toBe(ROWS)
            expect(multiset(got)).toEqual(expected)
          } finally {
            await dst.drop()
          }
        }, 120_000)
      }
    })
  }
})
