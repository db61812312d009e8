// PostgreSQL COPY binary against COPY text, per column type: what the writer's encoders cost in Node and what
// the server's ingest costs, for BENCH_VALUES values (default 500 000) of one type in a one-column table.
//
// For each type, BENCH_RUNS times (default 3, alternating the formats): encode the values into a batch buffer
// (the writer's CopyTextBuffer / CopyBinaryBuffer, bundled from the sources with esbuild), then COPY the
// encoded bytes into a fresh table in 64 KiB chunks, as the writer sends them. Prints the medians in ns per
// value and the gain of binary (text − binary, encode + ingest), which is what `postgresTypes`' table holds.
//
//   node bench/pg-copy-format.mjs
//   BENCH_TYPES=int4,timestamp BENCH_VALUES=1000000 node bench/pg-copy-format.mjs
//
// PostgreSQL comes from DBFERRY_PG_URL (default postgres://postgres@127.0.0.1:5432/test); a fresh database is
// made and dropped.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import { PG_URL, ROOT } from './lib.mjs'

const VALUES = Number(process.env.BENCH_VALUES ?? 500_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const CHUNK = 64 * 1024

const dir = mkdtempSync(join(tmpdir(), 'dbferry-bench-copy-format-'))
const bundle = join(dir, 'postgres-sql.mjs')
const built = spawnSync(
  join(ROOT, 'node_modules/.bin/esbuild'),
  ['dialects/postgres/postgres-sql.ts', '--bundle', '--platform=node', '--format=esm', '--target=node20', `--outfile=${bundle}`],
  { cwd: ROOT, encoding: 'utf8' },
)
if (built.status !== 0) {
  console.error(built.stderr)
  process.exit(1)
}
const { postgresSql } = await import(bundle)
const { copyText, copyBinary } = postgresSql

// a small deterministic generator, so every run and every format sees the same values
let seed = 42
const rand = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}
const int = (n) => Math.floor(rand() * n)
const pad = (n, w = 2) => String(n).padStart(w, '0')
const stamp = () =>
  `${1970 + int(60)}-${pad(1 + int(12))}-${pad(1 + int(28))} ${pad(int(24))}:${pad(int(60))}:${pad(int(60))}.${pad(int(1_000_000), 6)}`
const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'Zoë', 'été', 'line\nbreak', 'tab\there']

/** Per type: its SQL type and a generator of canonical values as the readers make them. */
const TYPES = {
  bool: ['boolean', () => rand() < 0.5],
  int2: ['smallint', () => int(65536) - 32768],
  int4: ['integer', () => int(2 ** 31) - 2 ** 30],
  int8: ['bigint', () => int(2 ** 31) * 100_000 + int(100_000)],
  float4: ['real', () => Math.fround(rand() * 1000)],
  float8: ['double precision', () => rand() * 1e6],
  numeric: ['numeric(12,2)', () => `${int(10_000_000_000) - 5_000_000_000 < 0 ? '-' : ''}${int(100_000_000)}.${pad(int(100))}`],
  text: ['text', () => `${words[int(10)]}.${int(1e6)}@example.com`],
  'text 200': ['text', () => `${words[int(10)]} `.repeat(30).slice(0, 200)],
  varchar: ['varchar(100)', () => `user${int(1e7)}`],
  bytea: ['bytea', () => Buffer.from(Array.from({ length: 32 }, () => int(256)))],
  uuid: ['uuid', () => [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('')).join('-')],
  json: ['json', () => `{"id": ${int(1e6)}, "name": "${words[int(6)]}", "tags": [1, 2, 3]}`],
  jsonb: ['jsonb', () => `{"id": ${int(1e6)}, "name": "${words[int(6)]}", "tags": [1, 2, 3]}`],
  date: ['date', () => stamp().slice(0, 10)],
  time: ['time', () => stamp().slice(11)],
  timestamp: ['timestamp', stamp],
  timestamptz: ['timestamptz', () => `${stamp()}+00:00`],
}
const wanted = process.env.BENCH_TYPES?.split(',') ?? Object.keys(TYPES)

function encodeText(values) {
  const b = new copyText.RowBuffer(Buffer.allocUnsafe(1 << 20))
  for (const v of values) {
    b.beginRow()
    b.value(v)
    b.endRow()
  }
  return [...b.pieces(0, b.len)]
}

function encodeBinary(values, encoder) {
  const b = new copyBinary.RowBuffer(Buffer.allocUnsafe(1 << 20), [encoder])
  const row = [null]
  for (const v of values) {
    row[0] = v
    b.row(row, [0])
  }
  return [copyBinary.header, ...b.pieces(0, b.len), copyBinary.trailer]
}

/** The encoded bytes as the writer sends them: 64 KiB chunks. */
function chunks(pieces) {
  const all = Buffer.concat(pieces)
  const out = []
  for (let i = 0; i < all.length; i += CHUNK) out.push(all.subarray(i, i + CHUNK))
  return out
}

async function copyIn(client, sql, parts) {
  const stream = client.query(copyStreams.from(sql))
  const done = new Promise((resolve, reject) => {
    stream.on('finish', resolve)
    stream.on('error', reject)
  })
  for (const p of parts) {
    if (!stream.write(p)) await new Promise((r) => stream.once('drain', r))
  }
  stream.end()
  await done
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const ns = (ms) => (ms * 1e6) / VALUES

const admin = new pg.Client({ connectionString: PG_URL })
await admin.connect()
const dbName = `bench_copyfmt_${Date.now().toString(36)}`
await admin.query(`CREATE DATABASE "${dbName}"`)
const url = Object.assign(new URL(PG_URL), { pathname: `/${dbName}` }).toString()
const client = new pg.Client({ connectionString: url })
await client.connect()
await client.query("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET extra_float_digits = 1")

const results = []
try {
  for (const name of wanted) {
    const [sqlType, make] = TYPES[name]
    const typname = name.split(' ')[0]
    const encoder = copyBinary.encoders[typname]
    seed = 42
    const values = Array.from({ length: VALUES }, make)
    const t = { text: { enc: [], ingest: [], bytes: 0 }, binary: { enc: [], ingest: [], bytes: 0 } }
    for (let run = 0; run < RUNS; run++) {
      for (const format of run % 2 === 0 ? ['text', 'binary'] : ['binary', 'text']) {
        const t0 = performance.now()
        const pieces = format === 'text' ? encodeText(values) : encodeBinary(values, encoder)
        const t1 = performance.now()
        const parts = chunks(pieces)
        t[format].bytes = parts.reduce((n, p) => n + p.length, 0)
        await client.query(`DROP TABLE IF EXISTS f; CREATE TABLE f (v ${sqlType})`)
        const t2 = performance.now()
        await copyIn(client, `COPY f (v) FROM STDIN${format === 'binary' ? ' (FORMAT binary)' : ''}`, parts)
        const t3 = performance.now()
        t[format].enc.push(t1 - t0)
        t[format].ingest.push(t3 - t2)
      }
    }
    const r = {
      type: name,
      textEnc: ns(median(t.text.enc)),
      binEnc: ns(median(t.binary.enc)),
      textIngest: ns(median(t.text.ingest)),
      binIngest: ns(median(t.binary.ingest)),
      textBytes: t.text.bytes / VALUES,
      binBytes: t.binary.bytes / VALUES,
    }
    r.gain = r.textEnc + r.textIngest - r.binEnc - r.binIngest
    results.push(r)
    console.error(`${name}: done`)
  }
} finally {
  await client.end()
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
  await admin.end()
  rmSync(dir, { recursive: true, force: true })
}

const f = (x) => x.toFixed(0)
console.log(`${VALUES} values per type, median of ${RUNS} runs, ns per value`)
console.log('| type | encode text | encode binary | ingest text | ingest binary | bytes text / binary | gain of binary |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const r of results) {
  console.log(`| ${r.type} | ${f(r.textEnc)} | ${f(r.binEnc)} | ${f(r.textIngest)} | ${f(r.binIngest)} | ${r.textBytes.toFixed(1)} / ${r.binBytes.toFixed(1)} | **${f(r.gain)}** |`)
}
