// CSV → PostgreSQL: dbferry against `psql \copy` of the same file.
//
// Writes a CSV file of BENCH_ROWS rows (default 1 000 000; 7 columns: integer key, integer, email, float,
// text with embedded newlines, quotes, commas and accents, timestamp, boolean — NULLs as unquoted empty
// fields), then loads it into PostgreSQL three ways, BENCH_RUNS times each (default 3), and prints the median
// seconds, the ratios and dbferry's peak RSS:
// - dbferry: `dbferry copy csv:people.csv <url>` (the built CLI: `npm run build` first), which samples the file
//   to infer column types, creates the table and — the pass-through path — streams the file's bytes into
//   `COPY … (FORMAT csv)`, checking every record and typed field on the way and the row count at the end;
// - dbferry --no-pass-through: the row path, which parses and converts every value in Node and writes
//   COPY text batch by batch (BENCH_ROW_PATH=0 skips it);
// - psql: `\copy people FROM people.csv CSV HEADER` into a table created beforehand with the same types.
//
//   npm run build && node bench/csv-to-postgres.mjs
//   BENCH_ROWS=200000 BENCH_RUNS=1 node bench/csv-to-postgres.mjs
//
// PostgreSQL comes from DBFERRY_PG_URL (default postgres://postgres@127.0.0.1:5432/test); each run gets a
// fresh database, dropped afterwards.
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { PG_URL, ROWS, RUNS, TABLE, builtCli } from './lib.mjs'

// BENCH_CLI runs another build of the CLI (default: dist/cli/main.js)
const CLI = builtCli()

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-csv-'))
const file = join(dir, `${TABLE}.csv`)

function q(s) {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

async function build() {
  const out = createWriteStream(file)
  const names = ['Zoë', 'Médecins', 'Ørsted', 'Łukasz', 'Ana', 'François', 'Nguyễn', 'Søren']
  let buf = 'id,age,email,score,bio,created_at,active\n'
  for (let i = 1; i <= ROWS; i++) {
    const name = names[i % names.length]
    const month = String((i % 12) + 1).padStart(2, '0')
    const day = String((i % 28) + 1).padStart(2, '0')
    const sec = String(i % 60).padStart(2, '0')
    const score = i % 13 === 0 ? '' : String((i * 7919) / 101)
    const bio = i % 5 === 0 ? '' : q(`${name} n°${i}\nline two, "quoted"\r\nthird line — été ${i % 1000}`)
    buf += `${i},${18 + (i % 80)},user${i}@example.org,${score},${bio},2024-${month}-${day} 12:34:${sec}.${String(i % 1_000_000).padStart(6, '0')},${i % 3 === 0 ? 'true' : 'false'}\n`
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain')
      buf = ''
    }
  }
  out.end(buf)
  await once(out, 'finish')
}

function dbUrl(name) {
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

async function query(url, sql) {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await c.query(sql)
  } finally {
    await c.end()
  }
}

async function withDatabase(fn) {
  const name = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
  await query(PG_URL, `CREATE DATABASE "${name}"`)
  try {
    return await fn(dbUrl(name))
  } finally {
    await query(PG_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  }
}

async function count(url) {
  return Number((await query(url, `SELECT count(*) AS n FROM ${TABLE}`)).rows[0].n)
}

function check(res, what) {
  if (res.status !== 0) {
    console.error(res.stdout?.toString(), res.stderr?.toString())
    throw new Error(`${what} exited with ${res.status}`)
  }
}

async function runDbferry(extra = []) {
  return withDatabase(async (url) => {
    const started = process.hrtime.bigint()
    const res = spawnSync('/usr/bin/time', ['-v', process.execPath, CLI, 'copy', `csv:${file}`, url, '--no-journal', '--json', ...extra], { maxBuffer: 64 << 20 })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    check(res, 'dbferry')
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr.toString())
    const n = await count(url)
    if (n !== ROWS) throw new Error(`dbferry loaded ${n} rows, expected ${ROWS}`)
    // which path the table took, from the report (--json)
    const path = JSON.parse(res.stdout.toString()).tables[0]?.path ?? '?'
    const types = (await query(url, `SELECT column_name AS c, data_type AS t FROM information_schema.columns WHERE table_name = '${TABLE}' ORDER BY ordinal_position`)).rows
    return { seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN, types, path }
  })
}

// the types dbferry infers for this file, so both loads build the same table
const PG_DDL = `CREATE TABLE ${TABLE} (id integer, age integer, email text, score numeric(25,14), bio text,
  created_at timestamp(6), active boolean)`

async function runPsql() {
  return withDatabase(async (url) => {
    const started = process.hrtime.bigint()
    const res = spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', url, '-c', PG_DDL, '-c', `\\copy ${TABLE} FROM '${file}' WITH (FORMAT csv, HEADER true)`], {
      maxBuffer: 64 << 20,
    })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    check(res, 'psql')
    const n = await count(url)
    if (n !== ROWS) throw new Error(`psql loaded ${n} rows, expected ${ROWS}`)
    return { seconds }
  })
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

console.log(`writing ${ROWS.toLocaleString('en')} rows to ${file} …`)
await build()
const ROW_PATH = process.env.BENCH_ROW_PATH !== '0'
const results = { dbferry: [], rows: [], psql: [] }
let rss = 0
let rowsRss = 0
let types
for (let run = 1; run <= RUNS; run++) {
  const d = await runDbferry()
  results.dbferry.push(d.seconds)
  rss = Math.max(rss, d.rssMb)
  types = d.types
  let line = `run ${run}: dbferry ${d.seconds.toFixed(2)} s (${d.path}, peak RSS ${d.rssMb.toFixed(0)} MB)`
  if (ROW_PATH) {
    const r = await runDbferry(['--no-pass-through'])
    results.rows.push(r.seconds)
    rowsRss = Math.max(rowsRss, r.rssMb)
    line += `, --no-pass-through ${r.seconds.toFixed(2)} s (${r.path})`
  }
  const p = await runPsql()
  results.psql.push(p.seconds)
  console.log(`${line}, psql \\copy ${p.seconds.toFixed(2)} s`)
}
const md = median(results.dbferry)
const mp = median(results.psql)
console.log(`\ndbferry's inferred table: ${types.map((r) => `${r.c} ${r.t}`).join(', ')}`)
console.log(`median of ${RUNS} run(s), ${ROWS.toLocaleString('en')} rows:`)
console.log(`  dbferry                     ${md.toFixed(2)} s   ${(md / mp).toFixed(2)}× psql \\copy   peak RSS ${rss.toFixed(0)} MB`)
if (ROW_PATH) {
  const mr = median(results.rows)
  console.log(`  dbferry --no-pass-through   ${mr.toFixed(2)} s   ${(mr / mp).toFixed(2)}× psql \\copy   peak RSS ${rowsRss.toFixed(0)} MB`)
}
console.log(`  psql \\copy                  ${mp.toFixed(2)} s   1.00×`)
rmSync(dir, { recursive: true, force: true })
