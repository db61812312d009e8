// SQLite → PostgreSQL: dbferry against the raw pipe (sqlite3 -csv | psql \copy) and pgloader.
//
// Builds a SQLite table of BENCH_ROWS rows (default 1 000 000; 7 columns: integer key, integer, text email,
// real, text with embedded newlines and accents, timestamp, boolean), then moves it into PostgreSQL three
// ways, BENCH_RUNS times each (default 3), and prints the median seconds, the ratios to the raw pipe and
// dbferry's peak RSS. dbferry runs as the built CLI (`npm run build` first) under /usr/bin/time -v.
//
//   npm run build && node bench/sqlite-to-postgres.mjs
//   BENCH_ROWS=5000000 BENCH_RUNS=1 node bench/sqlite-to-postgres.mjs
//
// PostgreSQL comes from DBFERRY_PG_URL (default postgres://postgres@127.0.0.1:5432/test); each run gets a
// fresh database, dropped afterwards.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PG_URL, ROWS, RUNS, TABLE, buildPeople, builtCli, pgAdmin } from './lib.mjs'
import pg from 'pg'

const CLI = builtCli()

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-pg-'))
const file = join(dir, 'bench.db')


function dbUrl(name) {
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const admin = pgAdmin

async function withDatabase(fn) {
  const name = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
  await admin(`CREATE DATABASE "${name}"`)
  try {
    return await fn(dbUrl(name))
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }
}

async function count(url) {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return Number((await c.query(`SELECT count(*) AS n FROM ${TABLE}`)).rows[0].n)
  } finally {
    await c.end()
  }
}

function check(res, what) {
  if (res.status !== 0) {
    console.error(res.stdout?.toString(), res.stderr?.toString())
    throw new Error(`${what} exited with ${res.status}`)
  }
}

/** dbferry: the built CLI under /usr/bin/time -v, for its wall time and peak RSS. */
async function runDbferry() {
  return withDatabase(async (url) => {
    const started = process.hrtime.bigint()
    const res = spawnSync('/usr/bin/time', ['-v', process.execPath, CLI, 'copy', `sqlite:${file}`, url, '--no-journal', '--quiet'], {
      maxBuffer: 64 << 20,
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    check(res, 'dbferry')
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr.toString())
    const n = await count(url)
    if (n !== ROWS) throw new Error(`dbferry loaded ${n} rows, expected ${ROWS}`)
    return { seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN }
  })
}

const PG_DDL = `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, age bigint NOT NULL, email text NOT NULL, score double precision,
  bio text, created_at timestamp NOT NULL, active boolean NOT NULL)`

/** The raw pipe into the same pre-created table: the practical limit of a shell pipeline. */
async function runPipe() {
  return withDatabase(async (url) => {
    await (async () => {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(PG_DDL)
      await c.end()
    })()
    const select = `SELECT id, age, email, score, bio, created_at, CASE active WHEN 1 THEN 't' ELSE 'f' END FROM ${TABLE}`
    const started = process.hrtime.bigint()
    const res = spawnSync('bash', ['-o', 'pipefail', '-c', `sqlite3 -csv "$DB" "$SQL" | psql -q -v ON_ERROR_STOP=1 "$URL" -c "\\copy ${TABLE} FROM STDIN CSV"`], {
      env: { ...process.env, DB: file, SQL: select, URL: url },
      maxBuffer: 64 << 20,
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    check(res, 'raw pipe')
    const n = await count(url)
    if (n !== ROWS) throw new Error(`the raw pipe loaded ${n} rows, expected ${ROWS}`)
    return { seconds }
  })
}

const hasPgloader = spawnSync('sh', ['-c', 'command -v pgloader']).status === 0

async function runPgloader() {
  return withDatabase(async (url) => {
    const load = join(dir, 'bench.load')
    writeFileSync(load, `LOAD DATABASE FROM sqlite://${file} INTO ${url} WITH include drop, create tables, create indexes, reset sequences;\n`)
    const started = process.hrtime.bigint()
    const res = spawnSync('pgloader', ['--quiet', load], { maxBuffer: 64 << 20 })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    check(res, 'pgloader')
    const n = await count(url)
    return { seconds, rows: n }
  })
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

console.log(`building ${ROWS.toLocaleString('en')} rows in ${file} …`)
buildPeople(file)
const results = { dbferry: [], pipe: [], pgloader: [] }
let rss = 0
let pgloaderRows
for (let run = 1; run <= RUNS; run++) {
  const d = await runDbferry()
  results.dbferry.push(d.seconds)
  rss = Math.max(rss, d.rssMb)
  const p = await runPipe()
  results.pipe.push(p.seconds)
  let line = `run ${run}: dbferry ${d.seconds.toFixed(2)} s (peak RSS ${d.rssMb.toFixed(0)} MB), raw pipe ${p.seconds.toFixed(2)} s`
  if (hasPgloader) {
    const l = await runPgloader()
    results.pgloader.push(l.seconds)
    pgloaderRows = l.rows
    line += `, pgloader ${l.seconds.toFixed(2)} s`
  }
  console.log(line)
}
const md = median(results.dbferry)
const mp = median(results.pipe)
console.log(`\nmedian of ${RUNS} run(s), ${ROWS.toLocaleString('en')} rows:`)
console.log(`  dbferry   ${md.toFixed(2)} s   ${(md / mp).toFixed(2)}× raw pipe   peak RSS ${rss.toFixed(0)} MB`)
console.log(`  raw pipe  ${mp.toFixed(2)} s   1.00×`)
if (hasPgloader) {
  const ml = median(results.pgloader)
  console.log(`  pgloader  ${ml.toFixed(2)} s   ${(ml / mp).toFixed(2)}× raw pipe   (${(ml / md).toFixed(2)}× dbferry; loaded ${pgloaderRows} rows)`)
} else console.log('  pgloader  not installed (apt-get install -y pgloader)')
rmSync(dir, { recursive: true, force: true })
