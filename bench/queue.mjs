#!/usr/bin/env node
// A queue run at scale: a PostgreSQL table of BENCH_ROWS rows (default 5 000 000) copied to another PostgreSQL
// database by a coordinator and three worker processes, while the source keeps changing; one worker is killed
// with SIGKILL in the middle of a chunk. Then catch-up and verify. Once with the queue database on the target's
// server, once on a PostgreSQL server of its own (initdb in a temp dir, port 5499).
//
//   npm run build && node bench/queue.mjs                 # both placements
//   BENCH_ROWS=1000000 BENCH_QUEUE_AT=target node bench/queue.mjs
//
// Prints one line per step and a summary per placement; exits 1 when an outcome is wrong (the report does not
// balance, the killed worker's chunk was not redone exactly once, verify is not equal).
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import pg from 'pg'
import { builtCli, PG_URL, pgAdmin } from './lib.mjs'

const ROWS = Number(process.env.BENCH_ROWS ?? 5_000_000)
const AT = (process.env.BENCH_QUEUE_AT ?? 'both').split(',').flatMap((a) => (a === 'both' ? ['target', 'separate'] : [a]))
const WORKERS = 3
const CLI = builtCli()
const stamp = Date.now().toString(36)
const url = (db, base = PG_URL) => Object.assign(new URL(base), { pathname: `/${db}` }).toString()
let failed = false

function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`)
  if (!ok) failed = true
}

/** Runs the CLI to its end: exit code, stdout, stderr, and (with `time`) /usr/bin/time's wall seconds and peak RSS. */
function cli(args, { time = false } = {}) {
  return new Promise((resolve) => {
    const cmd = time ? '/usr/bin/time' : process.execPath
    const argv = time ? ['-v', process.execPath, CLI, ...args] : [CLI, ...args]
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr, ...timing(stderr) }))
  })
}

function timing(stderr) {
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(stderr)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)
  return {
    wall: wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : undefined,
    rssMb: rss ? Math.round(Number(rss[1]) / 1024) : undefined,
  }
}

/** The source: `people` with an integer key, filled by the server itself. */
async function buildSource(db) {
  const c = new pg.Client({ connectionString: url(db) })
  await c.connect()
  try {
    await c.query(`CREATE TABLE people (id bigint PRIMARY KEY, age integer NOT NULL, email text NOT NULL, score double precision,
      bio text, created_at timestamp(6) NOT NULL, active boolean NOT NULL)`)
    await c.query(`INSERT INTO people SELECT g, g % 90, 'user' || g || '@example.org', CASE WHEN g % 7 = 0 THEN NULL ELSE g / 3.0 END,
      'line one ' || g || E'\\nline two', timestamp '2020-01-01' + g * interval '1 second' + (g % 1000) * interval '1 microsecond', g % 2 = 0
      FROM generate_series(1, ${ROWS}) AS g`)
    await c.query('ANALYZE people')
  } finally {
    await c.end()
  }
}

/** Writes to the source until stopped: updates, inserts past the end, deletes; returns the counts. */
function sourceWriter(db) {
  let stop = false
  const counts = { updated: 0, inserted: 0, deleted: 0 }
  const done = (async () => {
    const c = new pg.Client({ connectionString: url(db) })
    await c.connect()
    let next = ROWS + 1
    try {
      while (!stop) {
        const id = 1 + Math.floor(Math.random() * ROWS)
        const r = Math.random()
        if (r < 0.5) counts.updated += (await c.query(`UPDATE people SET age = age + 1, bio = 'changed during the copy' WHERE id = $1`, [id])).rowCount
        else if (r < 0.8) {
          const id = next++
          await c.query(`INSERT INTO people VALUES ($1, 33, $2, 1.5, 'inserted during the copy', now()::timestamp(6), true)`, [id, `new${id}@example.org`])
          counts.inserted++
        } else counts.deleted += (await c.query(`DELETE FROM people WHERE id = $1`, [id])).rowCount
        await new Promise((res) => setTimeout(res, 20))
      }
    } finally {
      await c.end()
    }
  })()
  return { counts, stop: async () => ((stop = true), await done) }
}

/** A PostgreSQL server of the bench's own, for the queue on a separate server. */
function privateServer() {
  const bin = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`).find((d) => existsSync(join(d, 'initdb')))
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-queue-pg-'))
  const asPostgres = process.getuid?.() === 0 ? (cmd) => ['su', 'postgres', '-c', cmd] : (cmd) => ['sh', '-c', cmd]
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir])
  const run = (cmd) => {
    const [c, ...a] = asPostgres(cmd)
    execFileSync(c, a, { stdio: 'ignore' })
  }
  run(`${bin}/initdb -D ${dir}/data -A trust -U postgres`)
  run(`${bin}/pg_ctl -D ${dir}/data -o "-p 5499 -k ${dir} -c listen_addresses=127.0.0.1" -w start -l ${dir}/log`)
  return { url: 'postgres://postgres@127.0.0.1:5499/postgres', stop: () => (run(`${bin}/pg_ctl -D ${dir}/data -m immediate stop`), rmSync(dir, { recursive: true, force: true })) }
}

async function placement(at) {
  console.log(`\n== queue database on ${at === 'target' ? "the target's server" : 'a server of its own'}, ${ROWS} rows ==`)
  const src = `bench_q_src_${stamp}_${at}`
  const dst = `bench_q_dst_${stamp}_${at}`
  const server = at === 'separate' ? privateServer() : undefined
  const queue = at === 'target' ? url(`bench_q_queue_${stamp}`) : server.url
  await pgAdmin(`CREATE DATABASE ${src}`)
  await pgAdmin(`CREATE DATABASE ${dst}`)
  if (at === 'target') await pgAdmin(`CREATE DATABASE bench_q_queue_${stamp}`)
  try {
    let t = Date.now()
    await buildSource(src)
    console.log(`source built in ${((Date.now() - t) / 1000).toFixed(1)} s`)
    const capture = await cli(['capture', url(src)])
    check(capture.code === 0, `capture: exit ${capture.code} ${capture.stderr.trim().split('\n').at(-1) ?? ''}`)

    const writer = sourceWriter(src)
    const coordinator = spawn('/usr/bin/time', ['-v', process.execPath, CLI, 'copy', url(src), url(dst), '--queue', queue, '--no-journal', '--json', '--queue-stale', '5'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    coordinator.stdout.on('data', (d) => (stdout += d))
    const workers = []
    let victim
    createInterface({ input: coordinator.stderr }).on('line', (line) => {
      stderr += `${line}\n`
      const m = /queue run ([0-9a-f]{16})/.exec(line)
      if (!m || workers.length > 0) return
      for (let i = 0; i < WORKERS; i++) workers.push(startWorker(queue, m[1], i === 0))
      victim = workers[0]
    })
    const ended = new Promise((res) => coordinator.on('exit', (code) => res(code)))
    const code = await ended
    const copyTiming = timing(stderr)
    await writer.stop()
    const outcomes = await Promise.all(workers.map((w) => w.ended))
    const report = JSON.parse(stdout)
    console.log(`copy: exit ${code}, ${copyTiming.wall} s wall, coordinator peak RSS ${copyTiming.rssMb} MB; workers' peak RSS ${outcomes.filter((o) => o.rssMb).map((o) => `${o.rssMb} MB`).join(', ')}`)
    console.log(`source writes during the copy: ${JSON.stringify(writer.counts)}`)
    const people = report.tables.find((x) => x.name === 'people')
    check(report.ok === true, `report ok (${report.error?.message ?? 'no error'})`)
    check(people && people.read === people.written + people.rejected + people.dropped, `people: read ${people?.read} = written ${people?.written} + rejected ${people?.rejected} + dropped ${people?.dropped}; ${people?.chunks} chunks`)
    const handed = report.snapshot?.notes?.find((n) => /handed to another worker/.test(n))
    check(victim.killedAt !== undefined && /^1 chunk\(s\)/.test(handed ?? ''), `killed worker's chunk (${victim.killedAt}) handed on once: ${handed ?? 'no note'}`)
    const redone = outcomes.flatMap((o) => o.done).filter((d) => d === victim.killedAt)
    check(redone.length === 1, `the killed chunk was finished once by another worker (${redone.length})`)

    t = Date.now()
    const catchUp = await cli(['catch-up', url(src), url(dst)], { time: true })
    check(catchUp.code === 0, `catch-up: exit ${catchUp.code} in ${catchUp.wall} s: ${catchUp.stdout.trim().split('\n').slice(0, 3).join(' | ')}`)
    const verify = await cli(['verify', url(src), url(dst)], { time: true })
    check(verify.code === 0, `verify: exit ${verify.code} in ${verify.wall} s: ${verify.stdout.trim().split('\n').slice(-2).join(' | ')}`)
    await cli(['capture', '--remove', url(src)])
  } finally {
    for (const db of [src, dst, ...(at === 'target' ? [`bench_q_queue_${stamp}`] : [])]) await pgAdmin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {})
    server?.stop()
  }
}

/** A worker process; the victim is killed with SIGKILL a second into its first chunk. */
function startWorker(queue, run, victim) {
  const child = victim ? spawn(process.execPath, [CLI, 'worker', '--queue', queue, '--run', run], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('/usr/bin/time', ['-v', process.execPath, CLI, 'worker', '--queue', queue, '--run', run], { stdio: ['ignore', 'ignore', 'pipe'] })
  const w = { killedAt: undefined, ended: undefined }
  const done = []
  let starts = 0
  let stderr = ''
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr += `${line}\n`
    const start = /: (\S+) chunk (\d+): start$/.exec(line)
    const finished = /: (\S+) chunk (\d+): done/.exec(line)
    if (finished) done.push(`${finished[1]} ${finished[2]}`)
    if (victim && start && ++starts === 1) {
      setTimeout(() => {
        w.killedAt = `${start[1]} ${start[2]}`
        child.kill('SIGKILL')
      }, 1_000)
    }
  })
  w.ended = new Promise((res) => child.on('exit', () => res({ done, ...timing(stderr) })))
  return w
}

for (const at of AT) await placement(at)
process.exit(failed ? 1 : 0)
