import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresDatabase, type TestDatabase } from '../support/servers.js'
import { pgUp } from './helpers.js'

const MB = 1024 * 1024
const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex')

/** A text of `length` characters repeating `unit` (every character COPY escapes, so its COPY text is longer). */
const textOf = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
/** `length` bytes of every value, in an order that is not a run. */
const blobOf = (length: number, seed: number) => {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = (i * 7919 + seed) & 255
  return b
}

describe.skipIf(!pgUp)('large values into PostgreSQL', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-pg-large-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('two rows of a 50 MB text and a 50 MB blob copy under 450 MB peak RSS, byte for byte', async () => {
    const file = join(dir, 'big.db')
    const db = new Database(file)
    db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT, data BLOB)')
    const sums = new Map<number, { note: string; data: string }>()
    for (const id of [1, 2]) {
      const note = textOf(`row ${id}: line\twith\\slash and \r\n`, 50 * MB)
      const data = blobOf(50 * MB, id)
      db.prepare('INSERT INTO big VALUES (?, ?, ?)').run(id, note, data)
      sums.set(id, { note: md5(note), data: md5(data) })
    }
    db.close()
    const target: TestDatabase = await createPostgresDatabase('dbferry_pg_large')
    try {
      const jiti = createRequire(import.meta.url).resolve('jiti/package.json').replace(/package\.json$/, 'lib/jiti-cli.mjs')
      const script = fileURLToPath(new URL('./large-values-memory.script.ts', import.meta.url))
      const out = execFileSync(process.execPath, [jiti, script, file, target.url], { encoding: 'utf8', timeout: 300_000 })
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; written: number; rejected: number; maxRssMB: number }
      console.log(`2 × (50 MB text + 50 MB blob) SQLite → PostgreSQL: peak RSS ${result.maxRssMB} MB`)
      expect(result).toMatchObject({ ok: true, written: 2, rejected: 0 })
      // the two rows (200 MB, both in the reader's first batch), SQLite's own copy of the row it is reading
      // (100 MB) and the process itself (about 100 MB with jiti): the COPY text must add no copy of the values
      expect(result.maxRssMB).toBeLessThan(450)
      const c = new pg.Client({ connectionString: target.url })
      await c.connect()
      try {
        const back = await c.query<{ id: number; note: string; data: string }>('SELECT id, md5(note) AS note, md5(data) AS data FROM big ORDER BY id')
        expect(back.rows).toEqual([1, 2].map((id) => ({ id, ...sums.get(id) })))
      } finally {
        await c.end()
      }
    } finally {
      await target.drop()
    }
  }, 300_000)
})
