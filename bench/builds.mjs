// Two builds of dbferry side by side: SQLite → PostgreSQL and SQLite → MariaDB, 1M rows, the two CLIs run
// alternately (A, B, A, B, …) so that the machine's load falls on both alike, and the median of each and the
// median of the per-pair ratios B/A are printed. For "did this change cost speed": A the old build, B the new.
//
//   BENCH_CLI_A=/path/old/dist/cli/main.js BENCH_CLI_B=dist/cli/main.js node bench/builds.mjs
//   BENCH_ROWS (1 000 000), BENCH_RUNS (5), BENCH_TARGETS (postgres,mysql)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { PG_URL, ROWS, TABLE, buildPeople, median, pgAdmin } from './lib.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const MYSQL_URL = process.env.DBFERRY_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const CLIS = { A: process.env.BENCH_CLI_A, B: process.env.BENCH_CLI_B }
const TARGETS = (process.env.BENCH_TARGETS ?? 'postgres,mysql').split(',')
if (!CLIS.A || !CLIS.B) {
  console.error('set BENCH_CLI_A and BENCH_CLI_B to the two builds\' dist/cli/main.js')
  process.exit(2)
}

const withDb = (url, name) => Object.assign(new URL(url), { pathname: `/${name}` }).toString()

const servers = {
  postgres: {
    admin: pgAdmin,
    create: (n) => servers.postgres.admin(`CREATE DATABASE "${n}"`),
    drop: (n) => servers.postgres.admin(`DROP DATABASE IF EXISTS "${n}" WITH (FORCE)`),
    url: (n) => withDb(PG_URL, n),
    async count(n) {
      const c = new pg.Client({ connectionString: withDb(PG_URL, n) })
      await c.connect()
      try {
        return Number((await c.query(`SELECT count(*) AS n FROM ${TABLE}`)).rows[0].n)
      } finally {
        await c.end()
      }
    },
  },
  mysql: {
    async admin(sql, db) {
      const c = await mysql.createConnection(db ? withDb(MYSQL_URL, db) : MYSQL_URL)
      try {
        return (await c.query(sql))[0]
      } finally {
        await c.end()
      }
    },
    create: (n) => servers.mysql.admin(`CREATE DATABASE \`${n}\` CHARACTER SET utf8mb4`),
    drop: (n) => servers.mysql.admin(`DROP DATABASE IF EXISTS \`${n}\``),
    url: (n) => withDb(MYSQL_URL, n),
    count: async (n) => Number((await servers.mysql.admin(`SELECT count(*) AS n FROM ${TABLE}`, n))[0].n),
  },
}

/** One copy by one build into a fresh database: wall seconds and peak RSS (MB) from /usr/bin/time -v. */
async function copy(cli, target, file) {
  const s = servers[target]
  const name = `bench_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
  await s.create(name)
  try {
    const started = process.hrtime.bigint()
    const res = spawnSync('/usr/bin/time', ['-v', process.execPath, cli, 'copy', `sqlite:${file}`, s.url(name), '--no-journal', '--quiet'], { maxBuffer: 64 << 20 })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (res.status !== 0) throw new Error(`${cli} exited ${res.status}: ${res.stderr}`)
    const n = await s.count(name)
    if (n !== ROWS) throw new Error(`${cli} loaded ${n} rows into ${target}, expected ${ROWS}`)
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr.toString())
    return { seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN }
  } finally {
    await s.drop(name)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-builds-'))
const file = join(dir, 'bench.db')
try {
  console.log(`building ${ROWS.toLocaleString('en')} rows …`)
  buildPeople(file)
  for (const target of TARGETS) {
    const runs = { A: [], B: [] }
    const ratios = []
    for (let i = 0; i < RUNS; i++) {
      // alternate which build goes first, so neither always runs on a warmer (or busier) machine
      const order = i % 2 === 0 ? ['A', 'B'] : ['B', 'A']
      const got = {}
      for (const k of order) got[k] = await copy(CLIS[k], target, file)
      runs.A.push(got.A)
      runs.B.push(got.B)
      ratios.push(got.B.seconds / got.A.seconds)
      console.log(`  ${target} run ${i + 1}: A ${got.A.seconds.toFixed(2)} s, B ${got.B.seconds.toFixed(2)} s (B/A ${(got.B.seconds / got.A.seconds).toFixed(3)})`)
    }
    const a = median(runs.A.map((r) => r.seconds))
    const b = median(runs.B.map((r) => r.seconds))
    console.log(
      `sqlite → ${target}: A ${a.toFixed(2)} s, B ${b.toFixed(2)} s; B/A of medians ${(b / a).toFixed(3)}, median of paired B/A ${median(ratios).toFixed(3)};` +
        ` peak RSS A ${Math.max(...runs.A.map((r) => r.rssMb)).toFixed(0)} MB, B ${Math.max(...runs.B.map((r) => r.rssMb)).toFixed(0)} MB`,
    )
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
