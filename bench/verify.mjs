// Verify vs copy: builds a 1M-row SQLite table (DBFERRY_BENCH_ROWS to change it), then per pair of engines
// copies it with ferry(), verifies the copy, changes one value and verifies again. Same-engine server pairs
// verify twice each time: hashing in the engine and hashing in Node. Runs the TypeScript sources through jiti:
// no build.
//   node bench/verify.mjs                                            # sqlite-sqlite
//   DBFERRY_BENCH_PAIRS=sqlite-sqlite,sqlite-postgres,postgres-postgres,mysql-mysql node bench/verify.mjs
//   DBFERRY_BENCH_PG=1 node bench/verify.mjs                         # also sqlite-postgres (as before)
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createJiti } from 'jiti'
import Database from 'better-sqlite3'

const jiti = createJiti(import.meta.url)
const { ferry } = await jiti.import('../src/ferry.ts')
const { verify } = await jiti.import('../src/verify/verify.ts')
const { connect } = await jiti.import('../src/connect.ts')

const ROWS = Number(process.env.DBFERRY_BENCH_ROWS ?? 1_000_000)
const PAIRS = (process.env.DBFERRY_BENCH_PAIRS ?? (process.env.DBFERRY_BENCH_PG ? 'sqlite-sqlite,sqlite-postgres' : 'sqlite-sqlite'))
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean)
const KNOWN = new Set(['sqlite-sqlite', 'sqlite-postgres', 'sqlite-mysql', 'postgres-postgres', 'mysql-mysql'])
for (const p of PAIRS) if (!KNOWN.has(p)) throw new Error(`unknown pair ${p}: one of ${[...KNOWN].join(', ')}`)
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

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ')

// wall time, and this process's CPU time: on a shared machine the CPU time is the steadier measure of cost
async function time(label, fn) {
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const out = await fn()
  const ms = Number(process.hrtime.bigint() - t) / 1e6
  const used = process.cpuUsage(c)
  const cpu = (used.user + used.system) / 1000
  console.log(`${label.padEnd(58)} ${(ms / 1000).toFixed(2)} s wall, ${(cpu / 1000).toFixed(2)} s cpu`)
  return { out, ms, cpu }
}

/** A fresh database of an engine: its URL and how to drop it. */
async function database(engine, name) {
  if (engine === 'sqlite') {
    const file = join(dir, `${name}.db`)
    return { url: `sqlite:${file}`, drop: async () => rmSync(file, { force: true }) }
  }
  const servers = await jiti.import('../test/support/servers.ts')
  const db = engine === 'postgres' ? await servers.createPostgresDatabase(`bench_verify_${name}`) : await servers.createMysqlDatabase(`bench_verify_${name}`)
  return { url: db.url, drop: () => db.drop() }
}

async function run(url, sql) {
  // as a target: SQLite files open read-only otherwise
  const { connection, owned } = await connect(url, { create: true })
  try {
    await connection.execute(sql(connection.dialect.quoteIdentifier))
  } finally {
    if (owned) await connection.close()
  }
}

async function pair(name) {
  const [from, to] = name.split('-')
  const dbs = []
  try {
    let source = `sqlite:${a}`
    if (from !== 'sqlite') {
      // the source server's table is loaded from the SQLite file first, untimed
      const s = await database(from, 'source')
      dbs.push(s)
      const r = await ferry({ from: source, to: s.url })
      if (!r.ok) throw new Error(`loading the source failed: ${r.error?.message}`)
      source = s.url
    }
    const target = await database(to, 'target')
    dbs.push(target)
    console.log(`-- ${from} → ${to} (load average ${load()})`)
    const copy = await time(`copy  ${from} → ${to}`, () => ferry({ from: source, to: target.url }))
    if (!copy.out.ok) throw new Error(`copy failed: ${copy.out.error?.message}`)
    const modes = from === to && from !== 'sqlite' ? ['engine', 'node'] : ['auto']
    const results = []
    for (const hashing of modes) {
      const equal = await time(`verify ${from} ↔ ${to} (equal, hashing: ${hashing})`, () => verify({ a: source, b: target.url, hashing }))
      if (!equal.out.equal) throw new Error(`verify found differences: ${JSON.stringify(equal.out.tables[0]).slice(0, 500)}`)
      results.push({ hashing: equal.out.tables[0].hashing, kind: 'equal', ...equal })
    }
    const id = Math.floor(ROWS * 0.73)
    await run(target.url, (q) => `UPDATE ${q('orders')} SET ${q('note')} = 'tampered' WHERE ${q('id')} = ${id}`)
    for (const hashing of modes) {
      const diff = await time(`verify ${from} ↔ ${to} (one value changed, hashing: ${hashing})`, () => verify({ a: source, b: target.url, hashing }))
      const t = diff.out.tables[0]
      console.log(`  found (${t.hashing}): changed ${JSON.stringify(t.changed)}, missing ${t.missingCount}, extra ${t.extraCount}`)
      results.push({ hashing: t.hashing, kind: 'one change', ...diff })
    }
    for (const r of results) {
      console.log(`  verify/copy (${r.kind}, ${r.hashing}): wall ${(r.ms / copy.ms).toFixed(2)}, cpu ${(r.cpu / copy.cpu).toFixed(2)}`)
    }
  } finally {
    for (const d of dbs.reverse()) await d.drop()
  }
}

try {
  console.log(`rows: ${ROWS}, node ${process.version}, pairs: ${PAIRS.join(', ')}, load average ${load()}`)
  await time('build source (better-sqlite3 directly)', async () => build())
  for (const p of PAIRS) await pair(p)
  console.log(`load average at the end: ${load()}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
