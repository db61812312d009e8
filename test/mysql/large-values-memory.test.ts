import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, MYSQL_URL, serverUp, type TestDatabase } from '../support/servers.js'

const MB = 1024 * 1024
const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex')

/** A text of `length` characters repeating `unit`. */
const textOf = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
/** `length` bytes of every value, in an order that is not a run. */
const blobOf = (length: number, seed: number) => {
  const b = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) b[i] = (i * 7919 + seed) & 255
  return b
}

// a row of a 20 MB text and a 20 MB blob goes to the server as about 60 MB of LOAD DATA text (the blob as hex):
// the server's max_allowed_packet must hold it, or the writer rejects the row before sending it
const PACKET = 256 * MB
// MariaDB parses a LOAD DATA line of tens of MB slowly, and more than linearly (a 10 MB line took 1.6 s, a 50 MB one
// 16 s): the two rows of 50 MB values took 85 s to load, so the test uses 20 MB values. Those 50 MB
// rows, measured the same way (the child below on a file of them): peak RSS 1229 MB before, 370–428 MB now
const SIZE = 20 * MB

describe.skipIf(!(await serverUp('mysql')))('large values into MariaDB: memory', () => {
  let dir: string
  let admin: mysql2.Connection
  let packet: number
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-my-large-'))
    admin = await mysql2.createConnection(MYSQL_URL)
    const [r] = await admin.query('SELECT @@GLOBAL.max_allowed_packet AS v')
    packet = Number((r as { v: number }[])[0]!.v)
    await admin.query(`SET GLOBAL max_allowed_packet = ${PACKET}`)
  })
  afterAll(async () => {
    if (packet !== undefined) await admin.query(`SET GLOBAL max_allowed_packet = ${packet}`)
    await admin?.end()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a large text arrives exact across its pieces: 4-byte characters and escapes at the cuts', async () => {
    const file = join(dir, 'cuts.db')
    const db = new Database(file)
    db.exec('CREATE TABLE cuts (id INTEGER PRIMARY KEY, note TEXT, data BLOB)')
    // a surrogate pair across the first 32 Ki-unit cut, an escape right after the second, text past 64 Ki units
    const note = `${'a'.repeat(32 * 1024 - 1)}😀${'b'.repeat(32 * 1024 - 1)}\t${textOf('\0\x1a\\\n\r\té€😀 ', 100_000)}`
    const data = blobOf(70_001, 3)
    db.prepare('INSERT INTO cuts VALUES (?, ?, ?)').run(1, note, data)
    db.close()
    const target = await createMysqlDatabase('dbferry_my_cuts')
    try {
      const report = await ferry({ from: `sqlite:${file}`, to: target.url })
      expect(report.totals).toMatchObject({ read: 1, written: 1, rejected: 0 })
      const c = await mysql2.createConnection(target.url)
      try {
        const [rows] = await c.query('SELECT note, data FROM cuts')
        const [r] = rows as { note: string; data: Buffer }[]
        expect(r!.note === note).toBe(true)
        expect(Buffer.compare(r!.data, data)).toBe(0)
      } finally {
        await c.end()
      }
    } finally {
      await target.drop()
    }
  })

  it('two rows of a 20 MB text and a 20 MB blob copy under 400 MB peak RSS (each value held once), byte for byte', async () => {
    const file = join(dir, 'big.db')
    const db = new Database(file)
    db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT, data BLOB)')
    const sums = new Map<number, { note: string; data: string }>()
    for (const id of [1, 2]) {
      // every character LOAD DATA escapes: tab, newline, CR, backslash, NUL, Ctrl-Z
      const note = textOf(`row ${id}: line\twith\\slash, \0, \x1a and \r\n`, SIZE)
      const data = blobOf(SIZE, id)
      db.prepare('INSERT INTO big VALUES (?, ?, ?)').run(id, note, data)
      sums.set(id, { note: md5(Buffer.from(note, 'utf8')), data: md5(data) })
    }
    db.close()
    const target: TestDatabase = await createMysqlDatabase('dbferry_my_large')
    try {
      const jiti = createRequire(import.meta.url).resolve('jiti/package.json').replace(/package\.json$/, 'lib/jiti-cli.mjs')
      // the same child as the PostgreSQL test: a ferry() from the SQLite file, printing the totals and peak RSS
      const script = fileURLToPath(new URL('../postgres/large-values-memory.script.ts', import.meta.url))
      const out = execFileSync(process.execPath, [jiti, script, file, target.url], { encoding: 'utf8', timeout: 300_000 })
      const result = JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean; written: number; rejected: number; maxRssMB: number }
      console.log(`2 × (20 MB text + 20 MB blob) SQLite → MariaDB: peak RSS ${result.maxRssMB} MB`)
      expect(result).toMatchObject({ ok: true, written: 2, rejected: 0 })
      // the two rows (80 MB, both in the reader's first batch), SQLite's own copy of the row it is reading (40 MB)
      // and the process itself (about 100 MB with jiti): measured 248 MB. When the LOAD DATA text held the escaped
      // text, the hex and the driver's queued copies of them it peaked at 622 MB
      expect(result.maxRssMB).toBeLessThan(400)
      const c = await mysql2.createConnection(target.url)
      try {
        const [rows] = await c.query('SELECT id, MD5(note) AS note, MD5(data) AS data FROM big ORDER BY id')
        expect(rows).toEqual([1, 2].map((id) => ({ id, ...sums.get(id) })))
      } finally {
        await c.end()
      }
    } finally {
      await target.drop()
    }
  }, 300_000)
})
