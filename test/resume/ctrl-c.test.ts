import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const ROWS = 400_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-ctrl-c-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The CLI from the sources, in its own process; resolves with its exit code and output. */
function cli(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; out: string }> {
  // from the project's folder, where `jiti/register` resolves; every path in args is absolute
  const child = spawn(process.execPath, ['--import', 'jiti/register', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  onStart?.(child)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })))
}

/** The journal's checkpoint of `people`, or undefined before the first one. */
function checkpoint(journal: string): { read: number; done: number } | undefined {
  if (!existsSync(journal)) return undefined
  try {
    const db = new Database(journal, { readonly: true, fileMustExist: true })
    try {
      return db.prepare("SELECT read, done FROM checkpoint WHERE table_name = 'people' ORDER BY run_id DESC LIMIT 1").get() as { read: number; done: number } | undefined
    } finally {
      db.close()
    }
  } catch {
    return undefined // the schema is not there yet
  }
}

describe('Ctrl-C', () => {
  it('stops an SQLite → SQLite copy mid-table with exit code 130 and a checkpoint; --resume completes it exactly', async () => {
    const source = join(dir, 'people.db')
    const db = new Database(source)
    db.exec('CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT NOT NULL, score REAL)')
    const insert = db.prepare('INSERT INTO people VALUES (?, ?, ?)')
    db.transaction(() => {
      for (let i = 1; i <= ROWS; i++) insert.run(i, `user${i}@example.org`, i / 7)
    })()
    db.close()
    const target = join(dir, 'copy.db')
    const journal = join(dir, 'journal.sqlite')
    // batch by batch: a table handed over whole (the pass-through) commits once, with no checkpoint mid-table
    const args = ['copy', `sqlite:${source}`, `sqlite:${target}`, '--journal', journal, '--batch-rows', '500', '--no-pass-through', '--quiet']

    let sentAt: { read: number } | undefined
    const first = await cli(args, (child) => {
      const poll = setInterval(() => {
        const cp = checkpoint(journal)
        if (cp && cp.read > 0 && !sentAt) {
          sentAt = cp
          child.kill('SIGINT')
          clearInterval(poll)
        }
      }, 10)
      child.on('close', () => clearInterval(poll))
    })
    expect(sentAt, first.out).toBeDefined()
    expect(first.code, first.out).toBe(130)
    expect(first.out).toContain('aborted')
    const stopped = checkpoint(journal)!
    expect(stopped.done).toBe(0)
    expect(stopped.read).toBeLessThan(ROWS)

    const second = await cli([...args, '--resume'])
    expect(second.code).toBe(0)
    const copy = new Database(target, { readonly: true })
    try {
      expect(copy.prepare('SELECT count(*) AS n, count(DISTINCT id) AS d, max(id) AS m FROM people').get()).toEqual({ n: ROWS, d: ROWS, m: ROWS })
    } finally {
      copy.close()
    }
  }, 120_000)
})
