// MariaDB pairs: SQLite → MariaDB, PostgreSQL → MariaDB and MariaDB → PostgreSQL, each beside its practical limit
// measured in the same run: export to a file with the engines' own tools, then bulk-load that file into the
// same table (MariaDB: LOAD DATA LOCAL INFILE; PostgreSQL: \copy). BENCH_PAIRS also takes the other pairs among
// SQLite, PostgreSQL and MariaDB: postgres-sqlite and mysql-sqlite (export, then sqlite3's .import), sqlite-sqlite
// (sqlite3's ATTACH and INSERT … SELECT), postgres-postgres (psql \copy piped into psql \copy) and mysql-mysql
// (mysqldump piped into mysql).
//
// Builds a SQLite table of BENCH_ROWS rows (default 1 000 000; 7 columns: integer key, integer, text email,
// real, text with embedded newlines and accents, timestamp, boolean), copies it once into a PostgreSQL and a
// MariaDB source database (untimed), then for each pair, BENCH_RUNS times (default 3): dbferry into a fresh
// database (timed, under /usr/bin/time -v for its peak RSS), then the same table truncated and loaded by the
// limit path (timed: export + load). Prints medians and ratios. MariaDB → PostgreSQL also times pgloader
// (into a fresh database; it makes the table itself) where it is installed.
//
//   node bench/mysql.mjs
//   BENCH_ROWS=100000 BENCH_RUNS=1 node bench/mysql.mjs
//   BENCH_CLIS=/tmp/before/cli/main.js,/tmp/after/cli/main.js node bench/mysql.mjs   # builds side by side
//
// dbferry runs as its CLI, bundled from the sources into bench/data/cli/ with esbuild (no `npm run build`
// needed), split like the package's build, so an engine's module and driver load only when a run uses them (one
// file loads every driver at start: about 47 MB more peak RSS). BENCH_CLIS names built CLIs instead, run one
// after the other in each run, so that a slow spell of a shared machine weighs on all of them alike. Each run's
// line has the wall time, the peak RSS and the CPU time (user + system) of the dbferry process. Servers:
// DBFERRY_MYSQL_URL (default mysql://root@127.0.0.1:3306/test) and DBFERRY_PG_URL (default
// postgres://postgres@127.0.0.1:5432/test); every database made here is dropped afterwards.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { PG_URL, ROOT, ROWS, RUNS, TABLE, buildPeople, median, pgAdmin } from './lib.mjs'
import mysql from 'mysql2/promise'
import pg from 'pg'

const MYSQL_URL = process.env.DBFERRY_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const COLUMNS = 'id, age, email, score, bio, created_at, active'
const PAIRS = (process.env.BENCH_PAIRS ?? 'sqlite-mysql,postgres-mysql,mysql-postgres').split(',')

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-my-'))
const file = join(dir, 'bench.db')
const CLI = join(ROOT, 'bench/data/cli/main.js')
const CLIS = process.env.BENCH_CLIS ? process.env.BENCH_CLIS.split(',') : [CLI]

function check(res, what) {
  if (res.status !== 0) {
    console.error(res.stdout?.toString(), res.stderr?.toString())
    throw new Error(`${what} exited with ${res.status}`)
  }
}

function bundle() {
  mkdirSync(join(ROOT, 'bench/data'), { recursive: true })
  const external = ['better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', 'mssql', 'tedious', 'csv-parse', 'csv-stringify', 'iconv-lite', 'cli-progress', 'jiti', 'kysely', '@duckdb/node-api']
  const res = spawnSync(
    join(ROOT, 'node_modules/.bin/esbuild'),
    ['src/cli/main.ts', '--bundle', '--splitting', '--platform=node', '--format=esm', '--target=node20', `--outdir=${dirname(CLI)}`, ...external.map((e) => `--external:${e}`)],
    { cwd: ROOT },
  )
  check(res, 'esbuild')
}


const unique = (p) => `${p}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
function withDb(url, name) {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

/** An SQLite target: a file in the bench's folder. */
let sqliteTargets = 0

const server = {
  async mysqlAdmin(sql) {
    const c = await mysql.createConnection(MYSQL_URL)
    try {
      await c.query(sql)
    } finally {
      await c.end()
    }
  },
  pgAdmin,
  async create(kind) {
    if (kind === 'sqlite') {
      const path = join(dir, `target-${++sqliteTargets}.db`)
      return { kind, name: path, path, url: `sqlite:${path}` }
    }
    const name = unique('bench')
    if (kind === 'mysql') await this.mysqlAdmin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
    else await this.pgAdmin(`CREATE DATABASE "${name}"`)
    return { kind, name, url: withDb(kind === 'mysql' ? MYSQL_URL : PG_URL, name) }
  },
  async drop(db) {
    if (db.kind === 'sqlite') return rmSync(db.path, { force: true })
    if (db.kind === 'mysql') await this.mysqlAdmin(`DROP DATABASE IF EXISTS \`${db.name}\``)
    else await this.pgAdmin(`DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`)
  },
  async query(db, sql) {
    if (db.kind === 'sqlite') {
      const d = new Database(db.path)
      try {
        // TRUNCATE is spelled DELETE in SQLite
        const text = sql.replace(/^TRUNCATE TABLE/, 'DELETE FROM')
        return /^\s*SELECT/i.test(text) ? d.prepare(text).all() : (d.exec(text), [])
      } finally {
        d.close()
      }
    }
    if (db.kind === 'mysql') {
      const c = await mysql.createConnection(db.url)
      try {
        return (await c.query(sql))[0]
      } finally {
        await c.end()
      }
    }
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    try {
      return (await c.query(sql)).rows
    } finally {
      await c.end()
    }
  },
  async count(db) {
    const [r] = await this.query(db, `SELECT COUNT(*) AS n FROM ${TABLE}`)
    return Number(r.n)
  },
}

function mysqlArgs(url) {
  const u = new URL(url)
  const args = ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username || 'root')]
  if (u.password) args.push(`-p${decodeURIComponent(u.password)}`)
  args.push(u.pathname.slice(1))
  return args
}

function timed(fn) {
  const started = process.hrtime.bigint()
  const res = fn()
  return { res, seconds: Number(process.hrtime.bigint() - started) / 1e9 }
}

function dbferry(from, to, cli = CLIS[0]) {
  const { res, seconds } = timed(() =>
    spawnSync('/usr/bin/time', ['-v', process.execPath, cli, 'copy', from, to, '--no-journal', '--quiet'], { maxBuffer: 64 << 20 }),
  )
  check(res, 'dbferry')
  const err = res.stderr.toString()
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err)
  const cpu = ['User', 'System'].reduce((n, k) => n + Number(new RegExp(`${k} time \\(seconds\\): ([\\d.]+)`).exec(err)?.[1] ?? NaN), 0)
  return { seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN, cpu }
}

const csv = join(dir, 'export.csv')
const LOAD_CSV = (lineEnd) =>
  `SET SESSION sql_mode = ''; LOAD DATA LOCAL INFILE '${csv}' INTO TABLE ${TABLE} CHARACTER SET utf8mb4 ` +
  `FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '${lineEnd}' (${COLUMNS})`

/** The limits: export with the source's own tool to a file, then bulk-load that file into the same table. */
const limitPaths = {
  'sqlite-mysql'(target) {
    return timed(() => {
      check(spawnSync('bash', ['-o', 'pipefail', '-c', `sqlite3 -csv "$DB" "SELECT ${COLUMNS} FROM ${TABLE}" > "$OUT"`], { env: { ...process.env, DB: file, OUT: csv } }), 'sqlite3 export')
      check(spawnSync('mysql', ['--local-infile=1', ...mysqlArgs(target.url), '-e', LOAD_CSV('\\n')]), 'LOAD DATA')
    }).seconds
  },
  'postgres-mysql'(target, source) {
    return timed(() => {
      const select = `SELECT id, age, email, score, bio, created_at, CASE WHEN active THEN 1 ELSE 0 END FROM ${TABLE}`
      check(spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', source.url, '-c', `\\copy (${select}) TO '${csv}' CSV`]), 'psql export')
      check(spawnSync('mysql', ['--local-infile=1', ...mysqlArgs(target.url), '-e', LOAD_CSV('\\n')]), 'LOAD DATA')
    }).seconds
  },
  'mysql-postgres'(target, source) {
    return timed(() => {
      // mysql --batch writes tab-separated text with \n, \t, \\ escaped and NULL as NULL (PostgreSQL's text
      // format) but leaves carriage returns raw, which perl escapes
      check(
        spawnSync('bash', ['-o', 'pipefail', '-c', `mysql --batch --skip-column-names ${mysqlArgs(source.url).join(' ')} -e "SELECT ${COLUMNS} FROM ${TABLE}" | perl -pe 's/\\r/\\\\r/g' > "$OUT"`], {
          env: { ...process.env, OUT: csv },
          maxBuffer: 64 << 20,
        }),
        'mysql export',
      )
      check(spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', target.url, '-c', `\\copy ${TABLE} (${COLUMNS}) FROM '${csv}' WITH (FORMAT text, NULL 'NULL')`]), 'psql \\copy')
    }).seconds
  },
}

/** The limit into SQLite: a file (made by `exportFile`, CSV or tab-separated) read by sqlite3's `.import` into the table dbferry made. */
function sqliteImport(target, exportFile, mode = 'csv') {
  return timed(() => {
    exportFile()
    check(spawnSync('sqlite3', [target.path, `.mode ${mode}`, `.import ${csv} ${TABLE}`]), 'sqlite3 .import')
  }).seconds
}

Object.assign(limitPaths, {
  'postgres-sqlite': (target, source) => sqliteImport(target, () => check(spawnSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', source.url, '-c', `\\copy (SELECT ${COLUMNS} FROM ${TABLE}) TO '${csv}' CSV`]), 'psql export')),
  // mysql --batch escapes line breaks, which sqlite3 imports as they are: the same bytes to move, not the same values
  'mysql-sqlite': (target, source) =>
    sqliteImport(target, () => check(spawnSync('bash', ['-o', 'pipefail', '-c', `mysql --batch --skip-column-names ${mysqlArgs(source.url).join(' ')} -e "SELECT ${COLUMNS} FROM ${TABLE}" > "$OUT"`], { env: { ...process.env, OUT: csv } }), 'mysql export'), 'tabs'),
  'sqlite-sqlite': (target) => timed(() => check(spawnSync('sqlite3', [target.path, `ATTACH '${file}' AS s`, `INSERT INTO ${TABLE} SELECT * FROM s.${TABLE}`]), 'sqlite3 INSERT … SELECT')).seconds,
  'postgres-postgres': (target, source) =>
    timed(() => check(spawnSync('bash', ['-o', 'pipefail', '-c', `psql -q "$SRC" -c "\\copy ${TABLE} TO STDOUT" | psql -q -v ON_ERROR_STOP=1 "$DST" -c "\\copy ${TABLE} FROM STDIN"`], { env: { ...process.env, SRC: source.url, DST: target.url } }), 'psql | psql')).seconds,
  'mysql-mysql': (target, source) =>
    timed(() => check(spawnSync('bash', ['-o', 'pipefail', '-c', `mysqldump --no-create-info --skip-triggers ${mysqlArgs(source.url).join(' ')} ${TABLE} | mysql ${mysqlArgs(target.url).join(' ')}`]), 'mysqldump | mysql')).seconds,
})

const hasPgloader = spawnSync('sh', ['-c', 'command -v pgloader']).status === 0

/**
 * pgloader's MariaDB → PostgreSQL of the same table into a fresh database (pgloader makes the table itself),
 * where pgloader is installed: its wall seconds.
 */
async function pgloaderRun(source) {
  const target = await server.create('postgres')
  try {
    const { res, seconds } = timed(() => spawnSync('pgloader', ['--quiet', source.url, target.url.replace(/^postgres:/, 'postgresql:')], { maxBuffer: 64 << 20 }))
    check(res, 'pgloader')
    const [r] = await server.query(target, `SELECT COUNT(*) AS n FROM ${source.name}.${TABLE}`).catch(() => server.query(target, `SELECT COUNT(*) AS n FROM ${TABLE}`))
    if (Number(r.n) !== ROWS) throw new Error(`pgloader loaded ${r.n} rows, expected ${ROWS}`)
    return seconds
  } finally {
    await server.drop(target)
  }
}

console.log(`${process.env.BENCH_CLIS ? 'using the CLIs of BENCH_CLIS' : 'bundling the CLI'}, building ${ROWS.toLocaleString('en')} rows in ${file} …`)
if (!process.env.BENCH_CLIS) bundle()
buildPeople(file, ROWS, { backslash: true })
const sources = { sqlite: { kind: 'sqlite', url: `sqlite:${file}` } }
const made = []
try {
  for (const kind of ['postgres', 'mysql']) {
    if (!PAIRS.some((p) => p.startsWith(`${kind}-`))) continue
    const db = await server.create(kind)
    made.push(db)
    dbferry(sources.sqlite.url, db.url)
    if ((await server.count(db)) !== ROWS) throw new Error(`source ${kind} has the wrong row count`)
    sources[kind] = db
  }
  const label = (cli) => (CLIS.length > 1 ? ` ${cli}` : '')
  const summary = []
  for (const pair of PAIRS) {
    const [from, to] = pair.split('-')
    const results = CLIS.map(() => ({ seconds: [], cpu: [], paired: [], rss: 0 }))
    const pgloaderSeconds = []
    const limits = []
    for (let run = 1; run <= RUNS; run++) {
      const runs = []
      for (const [i, cli] of CLIS.entries()) {
        const target = await server.create(to)
        try {
          const d = dbferry(sources[from].url, target.url, cli)
          const n = await server.count(target)
          if (n !== ROWS) throw new Error(`dbferry loaded ${n} rows, expected ${ROWS}`)
          runs.push(d)
          results[i].seconds.push(d.seconds)
          results[i].cpu.push(d.cpu)
          results[i].rss = Math.max(results[i].rss, d.rssMb)
          if (i === CLIS.length - 1) {
            // the limit loads the table dbferry just made, emptied
            await server.query(target, `TRUNCATE TABLE ${TABLE}`)
            const limit = limitPaths[pair](target, sources[from])
            const m = await server.count(target)
            if (m !== ROWS) throw new Error(`the limit path loaded ${m} rows, expected ${ROWS}`)
            limits.push(limit)
          }
        } finally {
          await server.drop(target)
        }
      }
      const limit = limits[limits.length - 1]
      if (pair === 'mysql-postgres' && hasPgloader) {
        const t = await pgloaderRun(sources[from])
        pgloaderSeconds.push(t)
        console.log(`${pair} run ${run}: pgloader ${t.toFixed(2)} s`)
      }
      runs.forEach((d, i) => {
        results[i].paired.push(d.seconds / limit)
        console.log(`${pair} run ${run}${label(CLIS[i])}: dbferry ${d.seconds.toFixed(2)} s (peak RSS ${d.rssMb.toFixed(0)} MB, CPU ${d.cpu.toFixed(2)} s)`)
      })
      console.log(`${pair} run ${run}: limit ${limit.toFixed(2)} s`)
    }
    const ml = median(limits)
    if (pgloaderSeconds.length > 0) summary.push(`  ${pair.padEnd(16)} pgloader ${median(pgloaderSeconds).toFixed(2)} s   ${(median(pgloaderSeconds) / ml).toFixed(2)}× limit`)
    for (const [i, r] of results.entries()) {
      const md = median(r.seconds)
      summary.push(
        `  ${pair.padEnd(16)}${label(CLIS[i])} dbferry ${md.toFixed(2)} s   limit ${ml.toFixed(2)} s   ${(md / ml).toFixed(2)}× limit (paired ${median(r.paired).toFixed(2)}×)   ` +
          `CPU ${median(r.cpu).toFixed(2)} s   peak RSS ${r.rss.toFixed(0)} MB`,
      )
    }
  }
  console.log(`\nmedian of ${RUNS} run(s), ${ROWS.toLocaleString('en')} rows:`)
  for (const line of summary) console.log(line)
} finally {
  for (const db of made) await server.drop(db).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
