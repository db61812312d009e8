import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers.js'

// building and copying a million rows takes a while on a shared machine: opt in with DBFERRY_PERF=1
const enabled = process.env.DBFERRY_PERF === '1'
const ROWS = 1_000_000
const tmp = tempDir()
afterAll(() => tmp.cleanup())

describe.skipIf(!enabled)('a 1M-row, 7-column SQLite → SQLite copy', () => {
  it('keeps peak RSS under 200 MB and every row arrives', () => {
    const from = tmp.path('big.db')
    const to = tmp.path('big-copy.db')
    const db = new Database(from)
    db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email varchar(100), amount decimal(10,2), score REAL, created datetime, flag boolean)')
    const ins = db.prepare('INSERT INTO big VALUES (?, ?, ?, ?, ?, ?, ?)')
    db.transaction(() => {
      for (let i = 1; i <= ROWS; i++) {
        ins.run(i, `name ${i}`, `user${i}@example.org`, (i % 100000) / 100, i * 0.5, `2024-01-${String(1 + (i % 28)).padStart(2, '0')} 12:34:56`, i % 2)
      }
    })()
    db.close()
    const jiti = createRequire(import.meta.url).resolve('jiti/package.json').replace(/package\.json$/, 'lib/jiti-cli.mjs')
    const script = fileURLToPath(new URL('./copy-rss.script.ts', import.meta.url))
    const out = execFileSync(process.execPath, [jiti, script, from, to], { encoding: 'utf8', timeout: 600_000 })
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; written: number; rejected: number; ms: number; cpuMs: number; maxRssMB: number }
    console.log(`1M-row copy: ${result.ms} ms wall, ${result.cpuMs} ms CPU, peak RSS ${result.maxRssMB} MB`)
    expect(result).toMatchObject({ ok: true, written: ROWS, rejected: 0 })
    expect(result.maxRssMB).toBeLessThan(200)
    const digest = (path: string) => {
      const d = new Database(path, { readonly: true })
      const r = d
        .prepare('SELECT count(*), sum(id), sum(flag), max(email), sum(length(name)), total(amount), total(score), max(created), min(created) FROM big')
        .raw(true)
        .get()
      d.close()
      return r
    }
    expect(digest(to)).toEqual(digest(from))
    expect((digest(to) as unknown[])[0]).toBe(ROWS)
  }, 900_000)
})
