import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

// values past the writer's large-value size go to LOAD DATA as their own buffers: they must arrive byte for byte
describe.skipIf(!(await serverUp('mysql')))('large values into MariaDB', () => {
  let dir: string
  let target: TestDatabase
  const text = Array.from({ length: 30_000 }, (_, i) => `line ${i}\twith\\slash, é and \r\n`).join('')
  const blob = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256))
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-large-'))
    const db = new Database(join(dir, 'src.db'))
    db.exec('CREATE TABLE big (id INTEGER PRIMARY KEY, note TEXT, data BLOB, small TEXT)')
    const insert = db.prepare('INSERT INTO big VALUES (?, ?, ?, ?)')
    insert.run(1, text, blob, 'a\tb')
    insert.run(2, 'short', Buffer.from([0, 1, 2]), null)
    insert.run(3, text.slice(0, 70_000), blob.subarray(0, 70_000), 'c\\d')
    db.close()
    target = await createMysqlDatabase('dbferry_large')
  })
  afterAll(async () => {
    await target?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('arrive byte for byte, beside small values in the same batch', async () => {
    const report = await ferry({ from: `sqlite:${join(dir, 'src.db')}`, to: target.url })
    expect(report.totals).toMatchObject({ read: 3, written: 3, rejected: 0 })
    const c = await mysql2.createConnection(target.url)
    try {
      const [rows] = await c.query('SELECT id, note, data, small FROM big ORDER BY id')
      const r = rows as { id: number; note: string; data: Buffer; small: string | null }[]
      expect(r[0]!.note).toBe(text)
      expect(Buffer.compare(r[0]!.data, blob)).toBe(0)
      expect(r[0]!.small).toBe('a\tb')
      expect(r[1]).toMatchObject({ note: 'short', small: null })
      expect([...r[1]!.data]).toEqual([0, 1, 2])
      expect(r[2]!.note).toBe(text.slice(0, 70_000))
      expect(Buffer.compare(r[2]!.data, blob.subarray(0, 70_000))).toBe(0)
      expect(r[2]!.small).toBe('c\\d')
    } finally {
      await c.end()
    }
  })
})
