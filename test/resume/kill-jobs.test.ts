import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { harnesses } from '../cross/harness.js'
import { eventIds, eventsTable } from '../support/events-table.js'
import { bundleChild, type KillableChild } from './kill-child.js'

// a --jobs 4 copy killed with SIGKILL at a random point, then resumed (with --jobs 4 again): 20 trials over three
// pairs, each must end with every source row on the target exactly once and the report's sums exact
const ROWS = 12_000
const BATCH = 300
const CHUNK_ROWS = 1_200
const JOBS = ['--jobs=4', `--chunk-rows=${CHUNK_ROWS}`]
const dir = mkdtempSync(join(tmpdir(), 'dbferry-kill-jobs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// on the SQLite source every 3 000th row holds junk in an integer column: its reject must be counted once too
const JUNK = new Set(Array.from({ length: ROWS / 3_000 }, (_, i) => (i + 1) * 3_000 - 3))

function fixture(junk: boolean): Fixture {
  const skipped = junk ? JUNK : new Set<number>()
  return {
    name: 'jobs',
    tables: [
      eventsTable(ROWS, skipped),
    ],
  }
}

let child: KillableChild
beforeAll(async () => {
  child = await bundleChild('copy-child')
})
afterAll(() => child?.remove())

const all = await harnesses()
const by = (name: string) => all.find((h) => h.name === name)
const PAIRS = [
  { from: 'sqlite', to: 'postgres', trials: 7 },
  { from: 'sqlite', to: 'mysql', trials: 7 },
  { from: 'postgres', to: 'mysql', trials: 6 },
].filter((p) => by(p.from) && by(p.to))

describe.skipIf(PAIRS.length === 0)('kill -9 during a --jobs 4 copy, then --resume', () => {
  for (const pair of PAIRS) {
    it(`${pair.from} → ${pair.to}: ${pair.trials} trials, each exactly equal to the source`, async () => {
      const junk = pair.from === 'sqlite'
      const src = await by(pair.from)!.create()
      try {
        await buildFixture(fixture(junk), src.url)
        const expected = Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => !junk || !JUNK.has(id))
        let kills = 0
        for (let trial = 0; trial < pair.trials; trial++) {
          const dst = await by(pair.to)!.create()
          const journal = join(dir, `journal-${pair.from}-${pair.to}-${trial}.sqlite`)
          try {
            // 40 batches in all: a kill after 2 to 26 of them, plus up to 15 ms, lands anywhere in the chunks
            const at = 2 + Math.floor(Math.random() * 25)
            const first = await child.run([src.url, dst.url, journal, String(BATCH), ...JOBS], at, 15)
            if (first.killed) kills++
            else if (!first.report) throw new Error(`child failed: ${first.stderr}`)
            const final = await child.run([src.url, dst.url, journal, String(BATCH), '--resume', ...JOBS])
            expect(final.stderr).toBe('')
            const report = final.report!
            expect(report.error).toBeUndefined()
            expect(report.ok).toBe(true)
            const t = report.tables[0]!
            expect(t.chunks).toBe(ROWS / CHUNK_ROWS)
            expect(t.read).toBe(ROWS)
            expect(t.written).toBe(expected.length)
            expect(t.rejected).toBe(ROWS - expected.length)
            const ids = await eventIds(dst.url)
            expect(ids).toEqual(expected)
          } finally {
            await dst.drop()
          }
        }
        expect(kills).toBeGreaterThanOrEqual(pair.trials - 1)
      } finally {
        await src.drop()
      }
    }, 300_000)
  }
})
