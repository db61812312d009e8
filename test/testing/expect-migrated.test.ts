import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { buildFixture, defineFixture, expectMigrated, MigrationMismatchError } from '../../src/testing/index.js'
import { createPostgresDatabase, serverUp } from '../support/servers.js'

const pgUp = await serverUp('postgres')
const dir = mkdtempSync(join(tmpdir(), 'dbferry-testing-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fixture = defineFixture({
  name: 'accounts',
  tables: [
    {
      name: 'accounts',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false },
        { name: 'owner', type: { kind: 'text' } },
        { name: 'balance', type: { kind: 'decimal', precision: 12, scale: 2 } },
        { name: 'rate', type: { kind: 'float64' } },
        { name: 'opened', type: { kind: 'timestamptz', precision: 6 } },
        { name: 'meta', type: { kind: 'json' } },
      ],
      primaryKey: ['id'],
      rows: Array.from({ length: 300 }, (_, i) => [
        i + 1,
        `owner ${i + 1}`,
        `${i * 3}.${String(i % 100).padStart(2, '0')}`,
        i / 3,
        `2024-05-0${(i % 9) + 1} 10:00:00.${String(i).padStart(6, '0')}+02:00`,
        JSON.stringify({ tier: i % 3, tags: ['a', 'b'] }),
      ]),
    },
  ],
})

async function copied(name: string): Promise<{ from: string; to: string; file: string }> {
  const from = `sqlite:${join(dir, `${name}-a.db`)}`
  const file = join(dir, `${name}-b.db`)
  await buildFixture(fixture, from)
  const r = await ferry({ from, to: `sqlite:${file}` })
  expect(r.ok).toBe(true)
  return { from, to: `sqlite:${file}`, file }
}

describe('expectMigrated', () => {
  it('resolves to the report when the target matches', async () => {
    const { from, to } = await copied('same')
    const report = await expectMigrated({ from, to })
    expect(report.equal).toBe(true)
    expect(report.tables[0]!.rowsB).toBe(300)
  })

  it('throws an Error whose message names the table, the keys and the columns that differ', async () => {
    const { from, to, file } = await copied('differs')
    const db = new Database(file)
    db.prepare('UPDATE accounts SET owner = ?, balance = ? WHERE id = 42').run('mallory', '0.00')
    db.prepare('DELETE FROM accounts WHERE id = 7').run()
    db.close()
    const error = await expectMigrated({ from, to }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(MigrationMismatchError)
    expect(error).toBeInstanceOf(Error)
    const message = (error as Error).message
    expect(message).toContain('accounts')
    expect(message).toMatch(/missing on b \(1\):\s+- id=7/)
    expect(message).toMatch(/changed \(1\):\s+~ id=42: owner, balance/)
    expect((error as MigrationMismatchError).report.tables[0]!.changed).toEqual([{ key: { id: 42 }, columns: ['owner', 'balance'] }])
    // narrowing to tables and tolerances: a float drift within epsilon passes
    const db2 = new Database(file)
    db2.prepare('UPDATE accounts SET rate = rate + 1e-12').run()
    db2.close()
    await expect(expectMigrated({ from, to, tables: ['accounts'] })).rejects.toThrow(/rate/)
  })

  it.skipIf(!pgUp)('matches across engines: SQLite → PostgreSQL', async () => {
    const pg = await createPostgresDatabase('testing')
    try {
      const from = `sqlite:${join(dir, 'cross-a.db')}`
      await buildFixture(fixture, from)
      const r = await ferry({ from, to: pg.url })
      expect(r.ok, r.error?.message).toBe(true)
      await expectMigrated({ from, to: pg.url, renames: r.renames })
      // a changed value on the server is found and named
      const pgm = (await import('pg')).default
      const c = new pgm.Client({ connectionString: pg.url })
      await c.connect()
      await c.query(`UPDATE accounts SET opened = opened + interval '1 second' WHERE id = 123`)
      await c.end()
      await expect(expectMigrated({ from, to: pg.url })).rejects.toThrow(/id=123: opened/)
    } finally {
      await pg.drop()
    }
  })

  it('works under node:test (no vitest in dbferry/testing)', async () => {
    const { from, to, file } = await copied('nodetest')
    const script = join(dir, 'migration.test.mts')
    const testing = new URL('../../src/testing/index.ts', import.meta.url).href
    writeFileSync(
      script,
      `import { test } from 'node:test'
import assert from 'node:assert/strict'
import { expectMigrated } from ${JSON.stringify(testing)}
test('matches', async () => { await expectMigrated({ from: ${JSON.stringify(from)}, to: ${JSON.stringify(to)} }) })
test('differs', async () => {
  await assert.rejects(expectMigrated({ from: ${JSON.stringify(from)}, to: ${JSON.stringify(`sqlite:${file}.other`)} }), /accounts/)
})
`,
    )
    // a second target missing a table
    new Database(`${file}.other`).exec('CREATE TABLE unrelated (id INTEGER PRIMARY KEY)')
    const run = spawnSync(process.execPath, ['--import', 'jiti/register', '--test', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 60_000 })
    expect(run.stdout + run.stderr).toMatch(/# pass 2/)
    expect(run.status).toBe(0)
  })
})
