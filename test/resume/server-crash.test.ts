import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { PostgresConnection } from '../../dialects/postgres/postgres-connection.js'
import { postgresDialect } from '../../dialects/postgres/postgres-dialect.js'
import { ferry, MemoryJournal } from '../../src/ferry.js'
import { buildFixture } from '../../src/testing/fixture.js'
import { createPostgresDatabase, serverUp } from '../support/servers.js'
import { readingsFixture } from './readings.js'

/**
 * After a PostgreSQL crash the target must still hold every batch a checkpoint confirmed, or `--resume` finds it
 * short and refuses. A commit acknowledged with `synchronous_commit = off` may not survive a crash, so every
 * commit of the load must run with the WAL flushed. Crashing the shared server is out of reach here: this test
 * watches the setting in force inside each committing transaction instead (it proves the commits are
 * durable as PostgreSQL defines it; it does not crash a server).
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(!(await serverUp('postgres')))('PostgreSQL target: commits that checkpoints confirm are durable', () => {
  it('every COMMIT of the load flushes its WAL (synchronous_commit not off), even where the database default is off', async () => {
    const db = await createPostgresDatabase('durable')
    const src = `sqlite:${join(dir, 'src.db')}`
    try {
      await buildFixture(readingsFixture(10_000), src)
      const pgModule = (await import('pg')).default
      const admin = new pgModule.Client({ connectionString: db.url })
      await admin.connect()
      // a server, database or role configured for speed must not make dbferry's checkpoints unsafe
      await admin.query(`ALTER DATABASE "${db.name}" SET synchronous_commit = off`)
      await admin.end()

      const target = (await postgresDialect.connect(db.url, { create: true })) as PostgresConnection
      const client = target.client as pg.Client
      const seen: string[] = []
      const query = client.query.bind(client) as (...args: unknown[]) => unknown
      // the test hook: just before each COMMIT, ask the same transaction which setting the commit will use
      ;(client as { query: unknown }).query = (...args: unknown[]) => {
        if (typeof args[0] === 'string' && /^\s*COMMIT\b/i.test(args[0]) && args.length === 1) {
          return (async () => {
            const r = (await query('SHOW synchronous_commit')) as { rows: { synchronous_commit: string }[] }
            seen.push(r.rows[0]!.synchronous_commit)
            return query(args[0])
          })()
        }
        return query(...args)
      }
      const journal = new MemoryJournal()
      try {
        const report = await ferry({ from: src, to: target, journal, batchRows: 1_000 })
        expect(report.error).toBeUndefined()
        expect(report.tables[0]).toMatchObject({ written: 10_000 })
      } finally {
        await target.close()
      }
      // one commit per batch at least, each confirmed by a checkpoint
      const confirmed = journal.checkpoints.filter((c) => c.written > 0)
      expect(confirmed.length).toBeGreaterThanOrEqual(10)
      expect(seen.length).toBeGreaterThanOrEqual(10)
      expect(seen.filter((v) => v === 'off')).toEqual([])
    } finally {
      await db.drop()
    }
  }, 60_000)
})
