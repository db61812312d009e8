import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import type { Report } from '../../src/report.js'
import { harnesses } from '../cross/harness.js'
import { eventIds, eventsTable } from '../support/events-table.js'

// a --jobs 4 copy whose chunks run in worker threads, killed with SIGKILL at a random point (the threads die with
// the process, mid-batch or mid-checkpoint), then resumed with threads again: each trial must end with every source
// row on the target exactly once and the report's sums exact
const ROWS = 12_000
const BATCH = 300
const CHUNK_ROWS = 1_200
const JOBS = 4
const JUNK = new Set(Array.from({ length: ROWS / 3_000 }, (_, i) => (i + 1) * 3_000 - 3))
const dir = mkdtempSync(join(tmpdir(), 'dbferry-kill-threads-'))
// bundled with the chunk thread's entry beside it, where thread-lanes.ts looks for it (as in dist/)
const outdir = join(__dirname, '../../node_modules/.cache', `dbferry-thread-child-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(outdir, { recursive: true, force: true })
})

beforeAll(async () => {
  await build({
    entryPoints: { 'thread-copy-child': join(__dirname, 'thread-copy-child.ts'), 'chunk-thread': join(__dirname, '../../src/pipeline/chunk-thread.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir,
    logLevel: 'warning',
  })
})

/** Runs the child; once it printed `killAfter` batch lines, kills it with SIGKILL after up to `jitterMs` ms. */
function run(args: readonly string[], killAfter?: number, jitterMs = 0): Promise<{ killed: boolean; report?: Report; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(outdir, 'thread-copy-child.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (killAfter !== undefined && !killed && out.split('\n').filter((l) => l.startsWith('batch ')).length >= killAfter) {
        killed = true
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * jitterMs))
      }
    })
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('REPORT '))
      resolve({ killed: killed && !line, report: line ? (JSON.parse(line.slice(7)) as Report) : undefined, stderr })
    })
  })
}

const all = await harnesses()
const by = (name: string) => all.find((h) => h.name === name)
const PAIRS = [
  { from: 'sqlite', to: 'postgres', trials: 3 },
  { from: 'postgres', to: 'mysql', trials: 2 },
].filter((p) => by(p.from) && by(p.to))

describe.skipIf(PAIRS.length === 0)('kill -9 during a --jobs 4 copy in worker threads, then --resume', () => {
  for (const pair of PAIRS) {
    it(`${pair.from} → ${pair.to}: ${pair.trials} trials, each exactly equal to the source`, async () => {
      const junk = pair.from === 'sqlite'
      const src = await by(pair.from)!.create()
      try {
        await buildFixture({ name: 'jobs', tables: [eventsTable(ROWS, junk ? JUNK : new Set())] }, src.url)
        const expected = Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => !junk || !JUNK.has(id))
        const args = (dst: string, journal: string) => [src.url, dst, journal, String(BATCH), String(JOBS), String(CHUNK_ROWS)]
        let kills = 0
        for (let trial = 0; trial < pair.trials; trial++) {
          const dst = await by(pair.to)!.create()
          const journal = join(dir, `journal-${pair.from}-${pair.to}-${trial}.sqlite`)
          try {
            // 40 batches in all: a kill after 2 to 26 of them, plus up to 15 ms, lands anywhere in the chunks
            const first = await run(args(dst.url, journal), 2 + Math.floor(Math.random() * 25), 15)
            if (first.killed) kills++
            else if (!first.report) throw new Error(`child failed: ${first.stderr}`)
            const final = await run([...args(dst.url, journal), '--resume'])
            expect(final.stderr).toBe('')
            const report = final.report!
            expect(report.error).toBeUndefined()
            expect(report.ok).toBe(true)
            // the resumed run copied its chunks in threads too
            expect(report.snapshot?.notes?.some((n) => /^--jobs 4: \d+ chunk\(s\) copied in worker threads/.test(n))).toBe(true)
            const t = report.tables[0]!
            expect(t.chunks).toBe(ROWS / CHUNK_ROWS)
            expect(t.read).toBe(ROWS)
            expect(t.written).toBe(expected.length)
            expect(t.rejected).toBe(ROWS - expected.length)
            expect(await eventIds(dst.url)).toEqual(expected)
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
