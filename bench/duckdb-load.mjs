// Bench of DuckDB's two fast load paths, 1M rows of a 6-column table (ints, text, decimal, timestamp):
//   /usr/bin/time -v node bench/duckdb-load.mjs appender|appender-typed|csv [rows]
// `appender`: the Appender, every value as the driver's JS value or text that DuckDB casts (exact);
// `appender-typed`: the Appender with decimals and timestamps converted to DuckDB values in JS;
// `csv`: each batch staged as a CSV file, then INSERT … SELECT FROM read_csv(…) with the column types.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance, DuckDBDecimalValue, DuckDBTimestampValue } from '@duckdb/node-api'

const mode = process.argv[2] ?? 'appender'
const total = Number(process.argv[3] ?? 1_000_000)
const BATCH = 10_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-duckbench-'))
const inst = await DuckDBInstance.create(join(dir, 'bench.duckdb'))
const c = await inst.connect()
await c.run('CREATE TABLE people (id BIGINT PRIMARY KEY, age INTEGER, name VARCHAR, city VARCHAR, balance DECIMAL(12,2), created TIMESTAMP)')

function batch(from) {
  const rows = []
  for (let i = from; i < Math.min(from + BATCH, total); i++) {
    const s = String(i % 60).padStart(2, '0')
    rows.push([i, 18 + (i % 70), `name ${i} "q", é`, `city-${i % 977}`, `${(i * 37) % 1000000}.${String(i % 100).padStart(2, '0')}`, `2020-01-0${1 + (i % 9)} 12:${s}:${s}.${String(i % 1000000).padStart(6, '0')}`])
  }
  return rows
}

const t0 = performance.now()
const csvField = (v) => (v === null ? '' : /[",\n\r]/.test(v) || v === '' ? `"${v.replaceAll('"', '""')}"` : v)
for (let from = 0; from < total; from += BATCH) {
  const rows = batch(from)
  if (mode === 'csv') {
    const file = join(dir, 'batch.csv')
    writeFileSync(file, rows.map((r) => r.map((v) => csvField(String(v))).join(',')).join('\n') + '\n')
    await c.run('BEGIN')
    await c.run(`INSERT INTO people SELECT * FROM read_csv('${file}', header = false, allow_quoted_nulls = false, columns = {'id': 'BIGINT', 'age': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'balance': 'DECIMAL(12,2)', 'created': 'TIMESTAMP'})`)
    await c.run('COMMIT')
  } else {
    await c.run('BEGIN')
    const ap = await c.createAppender('people')
    for (const r of rows) {
      ap.appendBigInt(BigInt(r[0]))
      ap.appendInteger(r[1])
      ap.appendVarchar(r[2])
      ap.appendVarchar(r[3])
      if (mode === 'appender-typed') {
        const [ip, fp = ''] = r[4].split('.')
        ap.appendDecimal(new DuckDBDecimalValue(BigInt(ip + fp.padEnd(2, '0')), 12, 2))
        const t = r[5]
        const days = Date.UTC(+t.slice(0, 4), +t.slice(5, 7) - 1, +t.slice(8, 10)) / 86400000
        const micros = BigInt(days * 86400 + +t.slice(11, 13) * 3600 + +t.slice(14, 16) * 60 + +t.slice(17, 19)) * 1000000n + BigInt((t.slice(20) || '0').padEnd(6, '0'))
        ap.appendTimestamp(new DuckDBTimestampValue(micros))
      } else {
        ap.appendVarchar(r[4])
        ap.appendVarchar(r[5])
      }
      ap.endRow()
    }
    ap.closeSync()
    await c.run('COMMIT')
  }
}
const ms = performance.now() - t0
const check = (await c.runAndReadAll("SELECT count(*), sum(balance)::VARCHAR, max(created)::VARCHAR, sum(length(name)) FROM people")).getRows()[0]
console.log(JSON.stringify({ mode, rows: total, seconds: +(ms / 1000).toFixed(2), check: check.map(String) }))
c.closeSync()
inst.closeSync()
rmSync(dir, { recursive: true, force: true })
