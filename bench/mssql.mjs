// SQL Server pairs: SQLite → SQL Server and SQL Server → PostgreSQL, each beside its limit measured in the same
// run on the same server:
//   - SQL Server as target: a tedious bulk load (mssql `Table` + `request.bulk`) of the same rows, pre-encoded
//     in memory (the cost of reading SQLite and converting values is left out), into the same table;
//   - SQL Server as source: a plain streamed `SELECT` of the table to nothing, plus `psql \copy` of the same
//     rows from a CSV file into the same PostgreSQL table (the limit is the sum: read + load).
//
// Builds the `people` table of BENCH_ROWS rows (default 1 000 000; bench/lib.mjs's buildPeople) in SQLite,
// copies it once into a SQL Server source database (untimed), then per pair BENCH_RUNS times (default 3):
// dbferry into a fresh database (timed, under /usr/bin/time -v for its peak RSS), then the same table truncated
// and loaded by the limit path (timed). Prints medians, ratios and peak RSS.
//
//   DBFERRY_MSSQL_URL=mssql://user:pass@127.0.0.1:1433/master node bench/mssql.mjs
//   BENCH_ROWS=100000 BENCH_RUNS=1 BENCH_PAIRS=sqlite-mssql node bench/mssql.mjs
//   BENCH_PROFILE=1 …   also writes a CPU profile of each pair's last dbferry run to bench/data/*.cpuprofile
//   BENCH_CLI_BASE=/tmp/old/dist/cli/main.js …   also runs that build in every run (before or after this one,
//                       alternately) and prints its median and ratio beside this build's
//
// The machine may be loaded by other work: every ratio is also taken per run (dbferry / the limit measured
// next to it) and the median of those printed, which moves less than the ratio of the two medians.
//
// dbferry runs as the built CLI (dist/cli/main.js, or BENCH_CLI): `npm run build` first. Servers:
// DBFERRY_MSSQL_URL (required) and DBFERRY_PG_URL (default postgres://postgres@127.0.0.1:5432/test); every
// database made here is dropped afterwards.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import sql from 'mssql'
import pg from 'pg'
import { PG_URL, ROOT, ROWS, RUNS, TABLE, buildPeople, builtCli } from './lib.mjs'

const MSSQL_URL = process.env.DBFERRY_MSSQL_URL
if (!MSSQL_URL) {
  console.error('set DBFERRY_MSSQL_URL (e.g. mssql://sa:pass@127.0.0.1:1433/master?encrypt=false)')
  process.exit(2)
}
const COLUMNS = ['id', 'age', 'email', 'score', 'bio', 'created_at', 'active']
const PAIRS = (process.env.BENCH_PAIRS ?? 'sqlite-mssql,mssql-postgres').split(',')
const PROFILE = process.env.BENCH_PROFILE === '1'
const CLI = builtCli()
const BASE_CLI = process.env.BENCH_CLI_BASE

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-ms-'))
const file = join(dir, 'bench.db')
const csv = join(dir, 'people.csv')

function check(res, what) {
  if (res.status !== 0) {
    console.error(res.stdout?.toString(), res.stderr?.toString())
    throw new Error(`${what} exited with ${res.status}`)
  }
}

const unique = (p) => `${p}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
function withDb(url, name) {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** mssql settings from a URL, as dbferry reads them (encrypt off unless asked: the stand-in has no TLS). */
function mssqlConfig(url) {
  const u = new URL(url)
  return {
    server: u.hostname,
    port: Number(u.port || 1433),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1) || 'master',
    requestTimeout: 0,
    options: { encrypt: u.searchParams.get('encrypt') === 'true', trustServerCertificate: true, useUTC: true },
  }
}

async function withMssql(url, fn) {
  const pool = await new sql.ConnectionPool(mssqlConfig(url)).connect()
  try {
    return await fn(pool)
  } finally {
    await pool.close()
  }
}

async function withPg(url, fn) {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

const server = {
  async create(kind) {
    const name = unique('bench')
    if (kind === 'mssql') {
      await withMssql(MSSQL_URL, async (p) => {
        await p.request().batch(`CREATE DATABASE [${name}]`)
        const s = await p.request().input('n', name).query('SELECT snapshot_isolation_state AS s FROM sys.databases WHERE name = @n')
        if (Number(s.recordset[0]?.s) !== 1) await p.request().batch(`ALTER DATABASE [${name}] SET ALLOW_SNAPSHOT_ISOLATION ON`)
      })
      const u = new URL(MSSQL_URL)
      if (!u.searchParams.has('encrypt')) u.searchParams.set('encrypt', 'false')
      return { kind, name, url: withDb(u.toString(), name) }
    }
    await withPg(PG_URL, (c) => c.query(`CREATE DATABASE "${name}"`))
    return { kind, name, url: withDb(PG_URL, name) }
  },
  async drop(db) {
    if (db.kind === 'mssql') await withMssql(MSSQL_URL, (p) => p.request().batch(`DROP DATABASE IF EXISTS [${db.name}]`))
    else await withPg(PG_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`))
  },
  async count(db) {
    if (db.kind === 'mssql') return withMssql(db.url, async (p) => Number((await p.request().query(`SELECT COUNT_BIG(*) AS n FROM dbo.${TABLE}`)).recordset[0].n))
    return withPg(db.url, async (c) => Number((await c.query(`SELECT COUNT(*) AS n FROM ${TABLE}`)).rows[0].n))
  },
  async truncate(db) {
    if (db.kind === 'mssql') await withMssql(db.url, (p) => p.request().batch(`TRUNCATE TABLE dbo.${TABLE}`))
    else await withPg(db.url, (c) => c.query(`TRUNCATE TABLE ${TABLE}`))
  },
}

function timed(fn) {
  const started = process.hrtime.bigint()
  const res = fn()
  return { res, seconds: Number(process.hrtime.bigint() - started) / 1e9 }
}

async function timedAsync(fn) {
  const started = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - started) / 1e9
}

function dbferry(from, to, profileName, cli = CLI) {
  const prof = profileName ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/data')}`, `--cpu-prof-name=${profileName}.cpuprofile`] : []
  const { res, seconds } = timed(() =>
    spawnSync('/usr/bin/time', ['-v', process.execPath, ...prof, cli, 'copy', from, to, '--no-journal', '--quiet'], { maxBuffer: 64 << 20 }),
  )
  check(res, 'dbferry')
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr.toString())
  return { seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN }
}

/** mssql bulk column types for the columns dbferry created (INFORMATION_SCHEMA's facts). */
function bulkType(c) {
  switch (c.DATA_TYPE) {
    case 'bigint':
      return sql.BigInt
    case 'int':
      return sql.Int
    case 'float':
      return sql.Float
    case 'bit':
      return sql.Bit
    case 'nvarchar':
      return sql.NVarChar(c.CHARACTER_MAXIMUM_LENGTH === -1 ? sql.MAX : c.CHARACTER_MAXIMUM_LENGTH)
    case 'datetime2':
      return sql.DateTime2(c.DATETIME_PRECISION)
    default:
      throw new Error(`bench: no bulk type for ${c.DATA_TYPE}`)
  }
}

/** A canonical timestamp as tedious takes it: a UTC Date plus nanosecondDelta for the digits past the ms. */
function tediousTimestamp(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text)
  const digits = (m[7] ?? '').padEnd(7, '0')
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], Number(digits.slice(0, 3))))
  const rest = Number(digits.slice(3))
  if (rest) d.nanosecondDelta = rest / 1e7
  return d
}

/** The SQLite rows as the bulk load takes them, encoded before the clock starts. */
function preEncoded() {
  const db = new Database(file, { readonly: true })
  try {
    return db
      .prepare(`SELECT ${COLUMNS.join(', ')} FROM ${TABLE} ORDER BY id`)
      .raw()
      .all()
      .map((r) => [r[0], r[1], r[2], r[3], r[4], tediousTimestamp(r[5]), r[6] === 1])
  } finally {
    db.close()
  }
}

/** Bulk-loads the pre-encoded rows into the existing `people` table of a SQL Server database; returns seconds. */
async function bulkPeople(url, rows) {
  return withMssql(url, async (pool) => {
    const cols = (await pool.request().input('t', TABLE).query('SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, DATETIME_PRECISION FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = @t ORDER BY ORDINAL_POSITION')).recordset
    const table = new sql.Table(`[dbo].[${TABLE}]`)
    table.create = false
    for (const c of cols) table.columns.add(c.COLUMN_NAME, bulkType(c), { nullable: true })
    for (const r of rows) table.rows.add(...r)
    return timedAsync(() => pool.request().bulk(table))
  })
}

// the table dbferry creates from the SQLite `people` table, without the IDENTITY (the SQL Server source is
// loaded untimed by the plain bulk path, which is the limit of the other pair)
const SOURCE_DDL = `CREATE TABLE dbo.${TABLE} (id bigint NOT NULL PRIMARY KEY, age bigint NOT NULL, email nvarchar(max) NOT NULL,
  score float NULL, bio nvarchar(max) NULL, created_at datetime2(6) NOT NULL, active bit NOT NULL)`

/** The limits, each timed around the work alone. */
const limits = {
  async 'sqlite-mssql'(target) {
    return bulkPeople(target.url, preEncoded())
  },
  async 'mssql-postgres'(target, source) {
    // read: every row streamed to nothing
    const read = await withMssql(source.url, (pool) =>
      timedAsync(
        () =>
          new Promise((resolve, reject) => {
            const r = pool.request()
            r.stream = true
            r.arrayRowMode = true
            let n = 0
            r.on('row', () => n++)
            r.on('error', reject)
            r.on('done', () => (n === ROWS ? resolve() : reject(new Error(`streamed ${n} rows, expected ${ROWS}`))))
            r.query(`SELECT ${COLUMNS.join(', ')} FROM dbo.${TABLE}`)
          }),
      ),
    )
    // load: the same rows from a CSV file
    const load = timed(() => check(spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', target.url, '-c', `\\copy ${TABLE} (${COLUMNS.join(', ')}) FROM '${csv}' CSV`]), 'psql \\copy')).seconds
    return read + load
  },
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

console.log(`building ${ROWS.toLocaleString('en')} rows in ${file} …`)
buildPeople(file, ROWS)
check(spawnSync('bash', ['-o', 'pipefail', '-c', `sqlite3 -csv "$DB" "SELECT ${COLUMNS.join(', ')} FROM ${TABLE}" > "$OUT"`], { env: { ...process.env, DB: file, OUT: csv } }), 'sqlite3 export')
if (PROFILE) mkdirSync(join(ROOT, 'bench/data'), { recursive: true })
const sources = { sqlite: { kind: 'sqlite', url: `sqlite:${file}` } }
const made = []
try {
  if (PAIRS.some((p) => p.startsWith('mssql-'))) {
    const db = await server.create('mssql')
    made.push(db)
    await withMssql(db.url, (p) => p.request().batch(SOURCE_DDL))
    await bulkPeople(db.url, preEncoded())
    if ((await server.count(db)) !== ROWS) throw new Error('the SQL Server source has the wrong row count')
    sources.mssql = db
  }
  const summary = []
  /** dbferry (this build or the base) into a fresh target, checked and timed; the target is kept for the limit. */
  async function copyOnce(pair, cli, profileName) {
    const [from, to] = pair.split('-')
    const target = await server.create(to)
    try {
      const d = dbferry(sources[from].url, target.url, profileName, cli)
      const n = await server.count(target)
      if (n !== ROWS) throw new Error(`dbferry loaded ${n} rows, expected ${ROWS}`)
      return { ...d, target }
    } catch (error) {
      await server.drop(target)
      throw error
    }
  }
  for (const pair of PAIRS) {
    const results = { dbferry: [], limit: [], ratio: [], base: [], baseRatio: [] }
    let rss = 0
    let baseRss = 0
    for (let run = 1; run <= RUNS; run++) {
      // the base build runs first in odd runs and last in even ones, so that a trend in the load falls on both
      const base = async () => {
        if (!BASE_CLI) return undefined
        const b = await copyOnce(pair, BASE_CLI)
        await server.drop(b.target)
        return b
      }
      const before = run % 2 === 1 ? await base() : undefined
      const d = await copyOnce(pair, CLI, PROFILE && run === RUNS ? pair : undefined)
      let limit
      try {
        await server.truncate(d.target)
        limit = await limits[pair](d.target, sources[pair.split('-')[0]])
        const m = await server.count(d.target)
        if (m !== ROWS) throw new Error(`the limit path loaded ${m} rows, expected ${ROWS}`)
      } finally {
        await server.drop(d.target)
      }
      const b = before ?? (await base())
      results.dbferry.push(d.seconds)
      results.limit.push(limit)
      results.ratio.push(d.seconds / limit)
      rss = Math.max(rss, d.rssMb)
      let line = `${pair} run ${run}: dbferry ${d.seconds.toFixed(2)} s (peak RSS ${d.rssMb.toFixed(0)} MB), limit ${limit.toFixed(2)} s, ${(d.seconds / limit).toFixed(2)}×`
      if (b) {
        results.base.push(b.seconds)
        results.baseRatio.push(b.seconds / limit)
        baseRss = Math.max(baseRss, b.rssMb)
        line += `; base ${b.seconds.toFixed(2)} s (peak RSS ${b.rssMb.toFixed(0)} MB), ${(b.seconds / limit).toFixed(2)}×`
      }
      console.log(line)
    }
    const md = median(results.dbferry)
    const ml = median(results.limit)
    let line = `  ${pair.padEnd(16)} dbferry ${md.toFixed(2)} s   limit ${ml.toFixed(2)} s   ${(md / ml).toFixed(2)}× limit (per-run median ${median(results.ratio).toFixed(2)}×)   peak RSS ${rss.toFixed(0)} MB`
    if (BASE_CLI) line += `\n  ${''.padEnd(16)} base    ${median(results.base).toFixed(2)} s   ${(median(results.base) / ml).toFixed(2)}× limit (per-run median ${median(results.baseRatio).toFixed(2)}×)   peak RSS ${baseRss.toFixed(0)} MB`
    summary.push(line)
  }
  console.log(`\nmedian of ${RUNS} run(s), ${ROWS.toLocaleString('en')} rows:`)
  for (const line of summary) console.log(line)
  if (PROFILE) console.log(`CPU profiles: ${readdirSync(join(ROOT, 'bench/data')).filter((f) => f.endsWith('.cpuprofile')).join(', ')}`)
} finally {
  for (const db of made) await server.drop(db).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
