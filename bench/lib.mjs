// Shared by the benchmark scripts: settings from the environment, the built CLI, and the `people` table.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Rows per benchmark table (BENCH_ROWS, default 1 000 000). */
export const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000)
/** Runs per measurement, of which the median is reported (BENCH_RUNS, default 3). */
export const RUNS = Number(process.env.BENCH_RUNS ?? 3)
export const PG_URL = process.env.DBFERRY_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const TABLE = 'people'

/** The median of some numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Runs one statement on the PostgreSQL server of PG_URL (CREATE/DROP DATABASE). */
export async function pgAdmin(sql) {
  const c = new pg.Client({ connectionString: PG_URL })
  await c.connect()
  try {
    await c.query(sql)
  } finally {
    await c.end()
  }
}

/** The built CLI (BENCH_CLI runs another build); exits with a hint when it is missing. */
export function builtCli() {
  const cli = process.env.BENCH_CLI ?? join(ROOT, 'dist/cli/main.js')
  if (!existsSync(cli)) {
    console.error(`${cli} is missing: run \`npm run build\` first`)
    process.exit(2)
  }
  return cli
}

/**
 * Builds the `people` table in a SQLite file: integer key, integer, text email, real, text with embedded LF
 * and CRLF line breaks, quotes and accents (and a backslash with `backslash: true`), timestamp with
 * microseconds, boolean; some NULLs.
 */
export function buildPeople(file, rows = ROWS, { backslash = false } = {}) {
  const db = new Database(file)
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.exec(`CREATE TABLE ${TABLE} (
    id INTEGER PRIMARY KEY,
    age INTEGER NOT NULL,
    email TEXT NOT NULL,
    score REAL,
    bio TEXT,
    created_at TIMESTAMP NOT NULL,
    active BOOLEAN NOT NULL)`)
  const ins = db.prepare(`INSERT INTO ${TABLE} VALUES (?, ?, ?, ?, ?, ?, ?)`)
  const names = ['Zoë', 'Médecins', 'Ørsted', 'Łukasz', 'Ana', 'François', 'Nguyễn', 'Søren']
  const quoted = backslash ? '"quoted" back\\slash' : '"quoted"'
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) {
      const name = names[i % names.length]
      const month = String((i % 12) + 1).padStart(2, '0')
      const day = String((i % 28) + 1).padStart(2, '0')
      const sec = String(i % 60).padStart(2, '0')
      ins.run(
        i,
        18 + (i % 80),
        `user${i}@example.org`,
        i % 13 === 0 ? null : (i * 7919) / 101,
        i % 5 === 0 ? null : `${name} n°${i}\nline two, ${quoted}\r\nthird line — été ${i % 1000}`,
        `2024-${month}-${day} 12:34:${sec}.${String(i % 1_000_000).padStart(6, '0')}`,
        i % 3 === 0 ? 1 : 0,
      )
    }
  })()
  db.close()
}
