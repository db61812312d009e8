import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import type { Report } from '../../src/report.js'
import type { Row } from '../../src/schema/types.js'
import { harnesses, type Harness } from '../cross/harness.js'
import type { TestDatabase } from '../support/servers.js'
import { bundleChild, type KillableChild } from './kill-child.js'

// Kill -9 and --resume from every source engine into every target engine, each with a table that has a primary
// key (resumed after its last committed key) and one without (started over from empty): after the kills and a
// final resume, the target holds exactly the source's rows, each as often as in the source.
const ROWS = 1_200
const BATCH = 150
/** Per batch, so a kill lands on a batch boundary rarely and the target has committed some rows before it. */
const DELAY_MS = 10
const KILLS = 2
/**
 * Pairs with SQL Server are killed once: against the stand-in (Babelfish) every run spends seconds reading the
 * catalog, so a pair costs 30–60 s where the others take a few.
 */
const MSSQL_KILLS = 1
const dir = mkdtempSync(join(tmpdir(), 'dbferry-kill-every-'))

const fixture: Fixture = {
  name: 'kill-every-source',
  tables: [
    {
      name: 'items',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false },
        { name: 'n', type: { kind: 'int32' } },
        { name: 'label', type: { kind: 'text', length: 40 } },
      ],
      primaryKey: ['id'],
      rows: Array.from({ length: ROWS }, (_, i): Row => [i + 1, i % 97, i % 11 === 0 ? null : `item ${i + 1}\nline é`]),
    },
    {
      name: 'readings',
      columns: [
        { name: 'sensor', type: { kind: 'int32' }, nullable: false },
        { name: 'label', type: { kind: 'text', length: 20 } },
        { name: 'value', type: { kind: 'decimal', precision: 8, scale: 2 } },
      ],
      // identical rows on purpose, so the count of each distinct row is what is compared
      rows: Array.from({ length: ROWS }, (_, i): Row => (i %= 400, [i, i % 7 === 0 ? null : `l${i % 3}`, `${i % 250}.25`])),
    },
  ],
}

/** Each table's rows as a multiset of canonical JSON (numbers as numbers, decimals with two places). */
async function contents(url: string): Promise<Record<string, Map<string, number>>> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const out: Record<string, Map<string, number>> = {}
    for (const table of (await connection.introspect()).tables) {
      const m = new Map<string, number>()
      for await (const b of connection.read(table, { batchRows: 10_000, batchBytes: 1 << 26 })) {
        for (const r of b.rows) {
          const k = JSON.stringify(table.name === 'items' ? [Number(r[0]), Number(r[1]), r[2]] : [Number(r[0]), r[1], r[2] === null ? null : Number(r[2]).toFixed(2)])
          m.set(k, (m.get(k) ?? 0) + 1)
        }
      }
      out[table.name.toLowerCase()] = m
    }
    return out
  } finally {
    await connection.close()
  }
}

let child: KillableChild
beforeAll(async () => {
  child = await bundleChild('slow-copy-child')
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  child?.remove()
})
const runChild = (args: string[], killAfterBatches?: number) => child.run(args, killAfterBatches)

const all = await harnesses()
const BATCHES = (2 * ROWS) / BATCH

// the pairs run side by side (up to vitest's maxConcurrency): each has its own target database and journal and
// only reads its source, and most of a pair's time is spent waiting on a server (the stand-in's catalog above
// all), so running them one after the other left both cores idle most of the time
describe.concurrent('kill -9 and resume from every source into every target, keyed and keyless', () => {
  all.forEach((source, s) => {
    describe(`from ${source.name}`, () => {
      let src: TestDatabase
      let expected: Record<string, Map<string, number>>
      beforeAll(async () => {
        src = await source.create()
        await buildFixture(fixture, src.url)
        expected = await contents(src.url)
        expect(Object.keys(expected).sort()).toEqual(['items', 'readings'])
        expect(expected.readings!.size).toBeLessThan(ROWS) // identical rows are there
      }, 60_000)
      afterAll(async () => {
        await src?.drop()
      })

      all.forEach((target: Harness, t) => {
        const mssql = source.name === 'mssql' || target.name === 'mssql'
        const kills = mssql ? MSSQL_KILLS : KILLS
        it(`${source.name} → ${target.name}: ${kills} kill(s), then resume: every row exactly as often as in the source`, async ({ expect }) => {
          const dst = await target.create()
          const journal = join(dir, `journal-${source.name}-${target.name}.sqlite`)
          try {
            // kill points spread over both tables and differ from pair to pair: the first run is killed in its
            // first half, the resumed one anywhere in what is left
            const points = [2 + ((s * 5 + t * 3) % (BATCHES / 2 - 2)), 1 + ((s * 7 + t * 11) % (BATCHES / 2))].slice(0, kills)
            let killed = 0
            let finished: Report | undefined
            for (const [i, at] of points.entries()) {
              const r = await runChild([src.url, dst.url, journal, String(BATCH), String(DELAY_MS), ...(i > 0 ? ['--resume'] : [])], at)
              if (!r.killed && !r.report) throw new Error(`child failed: ${r.stderr}`)
              if (r.report) expect(r.report.error, r.stderr).toBeUndefined()
              if (r.killed) killed++
              else {
                // the kill came after the run's end (a loaded machine, a resumed run with few batches left): this
                // run finished the copy, and a further --resume would rightly refuse a finished one
                finished = r.report
                break
              }
            }
            // each kill point leaves batches to go, so a first run finishing means the kill came late: rare
            expect(killed).toBeGreaterThanOrEqual(1)
            let report = finished
            if (!report) {
              const final = await runChild([src.url, dst.url, journal, String(BATCH), '0', '--resume'])
              expect(final.stderr).toBe('')
              report = final.report!
            }
            expect(report.error).toBeUndefined()
            expect(report.ok).toBe(true)
            for (const name of ['items', 'readings']) {
              const tr = report.tables.find((x) => x.name.toLowerCase() === name)!
              expect([name, tr.read, tr.written, tr.rejected]).toEqual([name, ROWS, ROWS, 0])
            }
            const got = await contents(dst.url)
            expect(got.items).toEqual(expected.items)
            expect(got.readings).toEqual(expected.readings)
          } finally {
            await dst.drop()
          }
          // the SQL Server stand-in (Babelfish) takes seconds per catalog read and about 0.2 s per batch; and the
          // pairs share the cores with each other, so a pair that takes 15 s alone can take a minute here
        }, mssql ? 240_000 : 150_000)
      })
    })
  })
})
