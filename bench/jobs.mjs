// --jobs scaling: SQLite → PostgreSQL and SQLite → MariaDB (and PostgreSQL → MariaDB from the PostgreSQL copy),
// the `people` table of BENCH_ROWS rows (default 1 000 000), copied with each setting of BENCH_JOBS in rotating
// order, BENCH_RUNS times each (default 3). A setting is a job count, in the main thread (`2`), or with `t` in
// worker threads (`2t`: FerryOptions.threads, given through a config file); default 1,2,2t,4,4t. Prints per
// setting the median wall seconds, CPU seconds (user + system of dbferry's process, all its threads) per million
// rows — what a machine with more cores divides — and the peak RSS, all from /usr/bin/time -v. BENCH_JOURNAL=1
// copies with a journal (checkpoints before and after every batch, as the CLI does by default), else --no-journal.
//
//   npm run build && node bench/jobs.mjs
//   BENCH_JOBS=1,2,2t BENCH_PAIRS=sqlite-postgres BENCH_ROWS=200000 node bench/jobs.mjs
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { PG_URL, ROWS, RUNS, TABLE, buildPeople, builtCli, median, pgAdmin } from './lib.mjs'

const CLI = builtCli()
const MYSQL_URL = process.env.DBFERRY_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const JOBS = (process.env.BENCH_JOBS ?? '1,2,2t,4,4t').split(',')
const JOURNAL = process.env.BENCH_JOURNAL === '1'
const PAIRS = (process.env.BENCH_PAIRS ?? 'sqlite-postgres,sqlite-mysql,postgres-mysql').split(',')
const withDb = (url, name) => Object.assign(new URL(url), { pathname: `/${name}` }).toString()

async function myAdmin(sql, db) {
  const c = await mysql.createConnection(db ? withDb(MYSQL_URL, db) : MYSQL_URL)
  try {
    return (await c.query(sql))[0]
  } finally {
    await c.end()
  }
}
const servers = {
  postgres: { create: (n) => pgAdmin(`CREATE DATABASE "${n}"`), drop: (n) => pgAdmin(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`), url: (n) => withDb(PG_URL, n) },
  mysql: {
    create: (n) => myAdmin(`CREATE DATABASE \`${n}\` CHARACTER SET utf8mb4`),
    drop: (n) => myAdmin(`DROP DATABASE IF EXISTS \`${n}\``),
    url: (n) => withDb(MYSQL_URL, n),
    count: async (n) => Number((await myAdmin(`SELECT count(*) AS n FROM ${TABLE}`, n))[0].n),
  },
}
const label = (setting) => `--jobs ${parseInt(setting, 10)}${setting.endsWith('t') ? ' threads' : ''}`
const newName = () => `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`

/** The command line of a setting: `2` is --jobs 2 in the main thread, `2t` in worker threads. */
function jobsArgs(setting) {
  const threads = setting.endsWith('t')
  return ['--jobs', String(parseInt(setting, 10)), '--config', threads ? threadsOn : threadsOff]
}

/** One copy: wall seconds, CPU seconds and peak RSS (MB) from /usr/bin/time -v. */
function copy(from, to, setting) {
  const started = process.hrtime.bigint()
  const journal = JOURNAL ? ['--journal', join(dir, `journal-${Math.random().toString(36).slice(2)}.sqlite`)] : ['--no-journal']
  const res = spawnSync('/usr/bin/time', ['-v', process.execPath, CLI, 'copy', from, to, ...journal, '--quiet', ...jobsArgs(setting)], { maxBuffer: 64 << 20 })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  if (res.status !== 0) throw new Error(`exited ${res.status}: ${res.stderr}`)
  const err = res.stderr.toString()
  const field = (label) => Number(new RegExp(`${label}: ([\\d.]+)`).exec(err)?.[1] ?? NaN)
  return { seconds, cpu: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'), rssMb: field('Maximum resident set size \\(kbytes\\)') / 1024 }
}

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-jobs-'))
const file = join(dir, 'bench.db')
const threadsOn = join(dir, 'threads.json')
const threadsOff = join(dir, 'no-threads.json')
writeFileSync(threadsOn, JSON.stringify({ threads: true }))
writeFileSync(threadsOff, JSON.stringify({ threads: false }))
// the PostgreSQL source of postgres-mysql: the same rows, loaded once by dbferry itself
const pgSource = newName()
try {
  console.log(`building ${ROWS.toLocaleString('en')} rows …`)
  buildPeople(file)
  if (PAIRS.includes('postgres-mysql')) {
    await servers.postgres.create(pgSource)
    copy(`sqlite:${file}`, servers.postgres.url(pgSource), '1')
  }
  for (const pair of PAIRS) {
    const [fromEngine, toEngine] = pair.split('-')
    const from = fromEngine === 'sqlite' ? `sqlite:${file}` : servers.postgres.url(pgSource)
    const results = new Map(JOBS.map((j) => [j, []]))
    for (let i = 0; i < RUNS; i++) {
      // rotate the order so that no setting always runs first (or last) in a round
      const order = JOBS.map((_, k) => JOBS[(k + i) % JOBS.length])
      for (const jobs of order) {
        const name = newName()
        await servers[toEngine].create(name)
        try {
          const r = copy(from, servers[toEngine].url(name), jobs)
          results.get(jobs).push(r)
          console.log(`  ${pair} run ${i + 1} ${label(jobs)}: ${r.seconds.toFixed(2)} s wall, ${r.cpu.toFixed(2)} s CPU, ${r.rssMb.toFixed(0)} MB`)
        } finally {
          await servers[toEngine].drop(name)
        }
      }
    }
    const base = median(results.get(JOBS[0]).map((r) => r.seconds))
    for (const jobs of JOBS) {
      const rs = results.get(jobs)
      const wall = median(rs.map((r) => r.seconds))
      console.log(
        `${pair} ${label(jobs)}: ${wall.toFixed(2)} s wall (×${(wall / base).toFixed(2)} of ${label(JOBS[0])}), ` +
          `${(median(rs.map((r) => r.cpu)) / (ROWS / 1e6)).toFixed(2)} CPU s per million rows, peak RSS ${Math.max(...rs.map((r) => r.rssMb)).toFixed(0)} MB`,
      )
    }
  }
} finally {
  if (PAIRS.includes('postgres-mysql')) await servers.postgres.drop(pgSource).catch(() => {})
  rmSync(dir, { recursive: true, force: true })
}
