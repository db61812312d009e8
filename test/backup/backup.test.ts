import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { backup, restore } from '../../src/backup.js'
import { UsageError } from '../../src/errors.js'
import { verify } from '../../src/verify/verify.js'
import { runCli } from '../cli/run-cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-backup-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

/** A WAL-mode database with `rows` rows; the connection is returned open so its WAL is not checkpointed. */
function liveDatabase(rows: number): { file: string; db: Database.Database } {
  const file = join(dir, `live${++n}.db`)
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('wal_autocheckpoint = 0')
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, data BLOB)')
  const ins = db.prepare('INSERT INTO items VALUES (?, ?, ?)')
  db.transaction(() => {
    for (let i = 1; i <= rows; i++) ins.run(i, `item ${i}`, Buffer.from([i & 255, 0, 255]))
  })()
  return { file, db }
}

function count(file: string): number {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n
  } finally {
    db.close()
  }
}

describe('SQLite backup and restore', () => {
  it('backs up a live WAL database, rows still in the WAL included', async () => {
    const { file, db } = liveDatabase(2000)
    try {
      expect(existsSync(`${file}-wal`)).toBe(true)
      const dest = join(dir, 'live.bak')
      const r = await backup(file, dest)
      expect(r).toMatchObject({ file: dest, gzip: false })
      expect(r.bytes).toBeGreaterThan(0)
      expect(readFileSync(dest).subarray(0, 15).toString()).toBe('SQLite format 3')
      expect(count(dest)).toBe(2000)
      expect((await verify({ a: `sqlite:${file}`, b: `sqlite:${dest}` })).equal).toBe(true)
      // no temporary files left beside the backup
      expect(readdirSync(dir).filter((f) => f.startsWith('.live.bak'))).toEqual([])
    } finally {
      db.close()
    }
  })

  it('gzips when asked or when the name ends in .gz, and restores either form over changed data', async () => {
    const { file, db } = liveDatabase(500)
    const gz = join(dir, 'snap.db.gz')
    const r = await backup(`sqlite:${file}`, gz)
    expect(r.gzip).toBe(true)
    const head = readFileSync(gz).subarray(0, 2)
    expect([head[0], head[1]]).toEqual([0x1f, 0x8b])
    const forced = await backup(file, join(dir, 'snap.forced'), { gzip: true })
    expect(forced.gzip).toBe(true)
    expect(forced.bytes).toBeLessThan((await backup(file, join(dir, 'snap.plain'))).bytes)

    // the database moves on, then is restored to the snapshot
    db.prepare('DELETE FROM items WHERE id > 100').run()
    db.prepare("UPDATE items SET name = 'changed' WHERE id = 1").run()
    db.close()
    expect(count(file)).toBe(100)
    const back = await restore(gz, file)
    expect(back.gzip).toBe(true)
    expect(count(file)).toBe(500)
    const check = new Database(file, { readonly: true })
    expect(check.prepare('SELECT name FROM items WHERE id = 1').pluck().get()).toBe('item 1')
    check.close()
    expect((await verify({ a: `sqlite:${file}`, b: `sqlite:${join(dir, 'snap.plain')}` })).equal).toBe(true)

    // restoring into a file that does not exist yet creates it
    const fresh = join(dir, 'fresh.db')
    await restore(join(dir, 'snap.forced'), fresh)
    expect(count(fresh)).toBe(500)
  })

  it('refuses clearly: missing source, missing folder, a backup that is not a database', async () => {
    await expect(backup(join(dir, 'nope.db'), join(dir, 'x.bak'))).rejects.toThrow(UsageError)
    await expect(backup(join(dir, 'nope.db'), join(dir, 'x.bak'))).rejects.toThrow(/no SQLite file/)
    const { file, db } = liveDatabase(10)
    db.close()
    await expect(backup(file, join(dir, 'no', 'such', 'dir.bak'))).rejects.toThrow(/folder .* does not exist/)
    const junk = join(dir, 'junk.bak')
    writeFileSync(junk, 'this is not a database at all, not even close: '.repeat(100))
    await expect(restore(junk, file)).rejects.toThrow(/not a readable SQLite database/)
    const badGz = join(dir, 'junk.gz')
    writeFileSync(badGz, Buffer.from([0x1f, 0x8b, 1, 2, 3]))
    await expect(restore(badGz, file)).rejects.toThrow(/not a valid gzip file/)
    // the target was not touched by the failed restores
    expect(count(file)).toBe(10)
  })

  it('dbferry backup / restore: output and exit codes', async () => {
    const { file, db } = liveDatabase(50)
    db.close()
    const dest = join(dir, 'cli.bak')
    const b = await runCli(['backup', file, dest, '--gzip'])
    expect(b.stderr).toBe('')
    expect(b.code).toBe(0)
    expect(b.stdout).toMatch(/backed up .* gzip/)
    const w = new Database(file)
    w.exec('DELETE FROM items')
    w.close()
    expect(count(file)).toBe(0)
    const r = await runCli(['restore', dest, file])
    expect(r.code).toBe(0)
    expect(count(file)).toBe(50)
    expect((await runCli(['backup', file])).code).toBe(2)
    expect((await runCli(['restore', dest, file, '--gzip'])).code).toBe(2)
    const missing = await runCli(['backup', join(dir, 'missing.db'), dest])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no SQLite file/)
    expect((await runCli(['backup', '--help'])).stdout).toContain('online backup API')
  })
})
