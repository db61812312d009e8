import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { harnesses } from '../cross/harness.js'
import { readingsFixture } from './readings.js'
import { MYSQL_URL, PG_URL } from '../support/servers.js'

const ROWS = 60_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-drop-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fixture = readingsFixture(ROWS)

/** Kills every other session on the target database, as an operator or a failover would. */
async function dropConnections(kind: string, database: string): Promise<void> {
  if (kind === 'postgres') {
    const pg = (await import('pg')).default
    const c = new pg.Client({ connectionString: PG_URL })
    await c.connect()
    await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])
    await c.end()
  } else {
    const mysql = await import('mysql2/promise')
    const c = await mysql.createConnection(MYSQL_URL)
    const [rows] = (await c.query('SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()', [database])) as unknown as [{ id: number }[]]
    for (const r of rows) await c.query(`KILL ${Number(r.id)}`).catch(() => {})
    await c.end()
  }
}

const all = await harnesses()
const servers = all.filter((h) => h.name === 'postgres' || h.name === 'mysql')

describe.skipIf(servers.length === 0)('a connection dropped mid-table', () => {
  for (const target of servers) {
    it(`sqlite → ${target.name}: a clear error naming the table, then resume completes exactly`, async () => {
      const src = `sqlite:${join(dir, `src-${target.name}.db`)}`
      await buildFixture(fixture, src)
      const dst = await target.create()
      const journal = join(dir, `journal-${target.name}.sqlite`)
      try {
        let batches = 0
        let dropped = false
        const first = await ferry({
          from: src,
          to: dst.url,
          journal,
          batchRows: 2_000,
          async onProgress(e) {
            if (e.type === 'batch' && ++batches === 3 && !dropped) {
              dropped = true
              await dropConnections(target.name, dst.name)
            }
          },
        })
        expect(dropped).toBe(true)
        expect(first.ok).toBe(false)
        expect(first.error?.message).toContain('readings')
        expect(first.tables[0]).toMatchObject({ name: 'readings', status: 'failed' })

        const second = await ferry({ from: src, to: dst.url, journal, batchRows: 2_000, resume: true })
        expect(second.error).toBeUndefined()
        expect(second.ok).toBe(true)
        expect(second.tables[0]).toMatchObject({ read: ROWS, written: ROWS, rejected: 0 })

        const { connection } = await connect(dst.url)
        try {
          await connection.snapshot()
          const schema = await connection.introspect()
          const ids: number[] = []
          for await (const b of connection.read(schema.tables[0]!, { batchRows: 20_000, batchBytes: 1 << 26 })) for (const r of b.rows) ids.push(Number(r[0]))
          expect(ids.length).toBe(ROWS)
          expect(new Set(ids).size).toBe(ROWS)
        } finally {
          await connection.close()
        }
      } finally {
        await dst.drop()
      }
    }, 120_000)
  }
})
