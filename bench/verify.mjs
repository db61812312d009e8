// Verify vs copy: builds a 1M-row SQLite table (DBFERRY_BENCH_ROWS to change it), copies it with ferry(),
// verifies the copy, changes one value and verifies again. With DBFERRY_BENCH_PG=1 (and the PostgreSQL
// dialect available) it does the same into PostgreSQL. Runs the TypeScript sources through jiti: no build.
//   node bench/verify.mjs
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createJiti } from 'jiti'
import Database from 'better-sqlite3'

const jiti = createJiti(import.meta.url)
const { ferry } = await jiti.import('../src/ferry.ts')
const { verify } = await jiti.import('../src/verify/verify.ts')

const ROWS = Number(process.env.DBFERRY_BENCH_ROWS ?? 1_000_000)
const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-verify-'))
const a = join(dir, 'a.db')

function build() {
  const db = new Database(a)
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.exec(`CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer TEXT NOT NULL, qty INTEGER, price DECIMAL TEXT(12,2),
    placed_at TIMESTAMP, paid BOOLEAN, score REAL, note TEXT)`)
  const ins = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) {
      const day = String((i % 28) + 1).padStart(2, '0')
      ins.run(i, `customer ${i % 5000}`, i % 97, `${i % 10000}.${String(i % 100).padStart(2, '0')}`, `2024-02-${day} 12:${String(i % 60).padStart(2, '0')}:00.${String(i % 1000000).padStart(6, '0')}`, i % 2, i / 7, i % 10 === 0 ? null : `note for order ${i}`)
    }
  })()
  db.close()
}

// wall time, and this process's CPU time: on a shared machine the CPU time is the steadier measure of cost
async function time(label, fn) {
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const out = await fn()
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  const used = process.cpuUsage(c)
  const cpu = (used.user + used.system) / 1000
  console.log(`${label.padEnd(46)} ${(ms / 1000).toFixed(2)} s wall, ${(cpu / 1000).toFixed(2)} s cpu`)
  return { out, ms, cpu }
}

async function pair(label, target, change) {
  const copy = await time(`copy  sqlite → ${label}`, () => ferry({ from: `sqlite:${a}`, to: target }))
  if (!copy.out.ok) throw new Error(`copy failed: ${copy.out.error?.message}`)
  const equal = await time(`verify sqlite ↔ ${label} (equal)`, () => verify({ a: `sqlite:${a}`, b: target }))
  if (!equal.out.equal) throw new Error(`verify found differences: ${JSON.stringify(equal.out.tables[0]).slice(0, 500)}`)
  await change()
  const diff = await time(`verify sqlite ↔ ${label} (one value changed)`, () => verify({ a: `sqlite:${a}`, b: target }))
  const t = diff.out.tables[0]
  console.log(`  found: changed ${JSON.stringify(t.changed)}, missing ${t.missingCount}, extra ${t.extraCount}`)
  console.log(`  verify/copy wall: ${(equal.ms / copy.ms).toFixed(2)} (equal), ${(diff.ms / copy.ms).toFixed(2)} (one change)`)
  console.log(`  verify/copy cpu:  ${(equal.cpu / copy.cpu).toFixed(2)} (equal), ${(diff.cpu / copy.cpu).toFixed(2)} (one change)`)
}

try {
  console.log(`rows: ${ROWS}, node ${process.version}`)
  await time('build source (better-sqlite3 directly)', async () => build())
  const b = join(dir, 'b.db')
  await pair('sqlite', `sqlite:${b}`, async () => {
    const db = new Database(b)
    db.prepare('UPDATE orders SET note = ? WHERE id = ?').run('tampered', Math.floor(ROWS * 0.73))
    db.close()
  })
  if (process.env.DBFERRY_BENCH_PG) {
    const { createPostgresDatabase } = await jiti.import('../test/support/servers.ts')
    const pgdb = await createPostgresDatabase('bench_verify')
    try {
      await pair('postgres', pgdb.url, async () => {
        const pg = (await import('pg')).default
        const c = new pg.Client({ connectionString: pgdb.url })
        await c.connect()
        await c.query('UPDATE orders SET note = $1 WHERE id = $2', ['tampered', Math.floor(ROWS * 0.73)])
        await c.end()
      })
    } finally {
      await pgdb.drop()
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
