import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verify } from '../../src/verify/verify.js'
import { harnesses } from '../cross/harness.js'
import { ROWS, splitSource } from '../support/split-fixture.js'
import { bundleChild, type KillableChild } from './kill-child.js'

// a --jobs 3 copy of tables split at sampled text keys, at composite keys, by rowid and by ctid page ranges,
// killed with SIGKILL at a random point and resumed: the target must equal the source, every row once. The
// PostgreSQL source orders its text key byte by byte (C collation) and the MariaDB target case-insensitively:
// a chunk's rows counted on the target by its key range would be wrong there.

const BATCH = 150
const JOBS = ['--jobs=3', '--chunk-rows=400']
const dir = mkdtempSync(join(tmpdir(), 'dbferry-kill-split-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let child: KillableChild
beforeAll(async () => {
  child = await bundleChild('copy-child')
})
afterAll(() => child?.remove())

const all = await harnesses()
const by = (name: string) => all.find((h) => h.name === name)
const PAIRS = [
  { from: 'postgres', to: 'mysql', trials: 4 },
  { from: 'sqlite', to: 'postgres', trials: 3 },
].filter((p) => by(p.from) && by(p.to))

describe.skipIf(PAIRS.length === 0)('kill -9 during a --jobs 3 copy of text-key, composite-key and keyless tables, then --resume', () => {
  for (const pair of PAIRS) {
    it(`${pair.from} → ${pair.to}: ${pair.trials} trials, each exactly equal to the source`, async () => {
      const src = await splitSource(by(pair.from)!)
      try {
        let kills = 0
        // how each resumed table went on: by chunk (placed from the target's count) or started over
        const ways = { chunks: 0, restarted: 0 }
        for (let trial = 0; trial < pair.trials; trial++) {
          const dst = await by(pair.to)!.create()
          const journal = join(dir, `journal-${pair.from}-${pair.to}-${trial}.sqlite`)
          try {
            // 60 batches in all: a kill after 2 to 41 of them, plus up to 15 ms
            const at = 2 + Math.floor(Math.random() * 40)
            const first = await child.run([src.url, dst.url, journal, String(BATCH), ...JOBS], at, 15)
            if (first.killed) kills++
            else if (!first.report) throw new Error(`child failed: ${first.stderr}`)
            const final = await child.run([src.url, dst.url, journal, String(BATCH), '--resume', ...JOBS])
            expect(final.stderr).toBe('')
            const report = final.report!
            expect(report.error).toBeUndefined()
            expect(report.ok).toBe(true)
            for (const t of report.tables) {
              expect([t.name, t.read, t.written]).toEqual([t.name, ROWS, ROWS])
              if (t.resumed?.restarted) ways.restarted++
              else if (t.resumed && !t.resumed.skipped && t.chunks) ways.chunks++
            }
            const v = await verify({ a: src.url, b: dst.url })
            expect(v.tables.map((t) => [t.name, t.equal])).toEqual(v.tables.map((t) => [t.name, true]))
            expect(v.equal).toBe(true)
          } finally {
            await dst.drop()
          }
        }
        expect(kills).toBeGreaterThanOrEqual(pair.trials - 1)
        console.log(`${pair.from} → ${pair.to}: ${kills} kill(s); tables resumed by chunk ${ways.chunks}, started over ${ways.restarted}`)
      } finally {
        await src.drop()
      }
    }, 600_000)
  }
})
