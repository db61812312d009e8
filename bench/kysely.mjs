// SQLite → PostgreSQL through a `pg` Pool against the same through a Kysely instance over that pool.
//
// Writes a SQLite file of BENCH_ROWS rows (default 100 000; 7 columns: integer key, bigint, decimal(12,2),
// timestamp with microseconds, two texts, boolean) once, then copies it into a fresh PostgreSQL database with
// `ferry({ to })` where `to` is the pool (COPY) or `new Kysely({ dialect: new PostgresDialect({ pool }) })`
// (multi-row INSERT statements on one of its connections), and prints the seconds of the copy. Runs dbferry
// from its sources (jiti), so no build is needed; run each side under `/usr/bin/time -v` for its peak RSS:
//
//   /usr/bin/time -v node bench/kysely.mjs pool
//   /usr/bin/time -v node bench/kysely.mjs kysely
//
// PostgreSQL comes from DBFERRY_PG_URL (default postgres://postgres@127.0.0.1:5432/test); each run gets a
// fresh database, dropped afterwards.
import { existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createJiti } from 'jiti'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

const mode = process.argv[2]
if (mode !== 'pool' && mode !== 'kysely') throw new Error('usage: node bench/kysely.mjs pool|kysely')
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000)
const PG_URL = process.env.DBFERRY_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const dir = join(tmpdir(), 'dbferry-bench-kysely')
mkdirSync(dir, { recursive: true })
const file = join(dir, `events-${ROWS}.db`)
if (!existsSync(file)) {
  const db = new Database(file)
  db.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, account BIGINT, amount DECIMAL(12,2), at TIMESTAMP, kind TEXT, note TEXT, ok BOOLEAN)')
  const insert = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= ROWS; i++) {
      const at = `2024-01-${String((i % 28) + 1).padStart(2, '0')} 12:34:56.${String(i % 1_000_000).padStart(6, '0')}`
      insert.run(i, i * 7919, `${(i % 100_000) / 100}`, at, `kind${i % 13}`, `note for event ${i} with some text`, i % 2)
    }
  })()
  db.close()
}

const { ferry } = await createJiti(import.meta.url).import('../src/index.ts')
const name = `dbferry_bench_kysely_${process.pid}`
const admin = new pg.Client({ connectionString: PG_URL })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const url = new URL(PG_URL)
url.pathname = `/${name}`
const pool = new pg.Pool({ connectionString: url.toString() })
pool.on('error', () => {}) // DROP DATABASE … WITH (FORCE) ends what is left
const db = mode === 'kysely' ? new Kysely({ dialect: new PostgresDialect({ pool }) }) : undefined
try {
  const started = performance.now()
  const report = await ferry({ from: `sqlite:${file}`, to: db ?? pool })
  const seconds = (performance.now() - started) / 1000
  if (!report.clean || report.totals.written !== ROWS) throw new Error(`run not clean: ${JSON.stringify(report.totals)}`)
  console.log(`${mode}: ${ROWS} rows in ${seconds.toFixed(2)} s (${Math.round(ROWS / seconds)} rows/s)${report.snapshot?.notes?.length ? ` — ${report.snapshot.notes.join('; ')}` : ''}`)
} finally {
  if (db) await db.destroy()
  else await pool.end()
  await admin.query(`DROP DATABASE ${name} WITH (FORCE)`)
  await admin.end()
}
