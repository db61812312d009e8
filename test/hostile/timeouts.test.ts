import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { MysqlConnectOptions } from '../../dialects/mysql/mysql-connection.js'
import { mysqlDialect } from '../../dialects/mysql/mysql-dialect.js'
import type { PostgresConnectOptions } from '../../dialects/postgres/postgres-connection.js'
import { postgresDialect } from '../../dialects/postgres/postgres-dialect.js'
import { buildFixture } from '../../src/testing/fixture.js'
import { ConnectionError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { readingIds, readingsFixture } from '../resume/readings.js'
import { createMysqlDatabase, createPostgresDatabase, MYSQL_URL, PG_URL, serverUp, type TestDatabase } from '../support/servers.js'
import { freezingProxy, silentServer, within } from '../support/tcp.js'

/**
 * A server that never answers, and one that freezes mid-copy (as under SIGSTOP: the socket stays open, no byte
 * moves either way), must end the run with a ConnectionError within the timeouts — never hang it. Everything
 * listens on 127.0.0.1 and stops by itself.
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-timeouts-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** `url` with another port. */
function atPort(url: string, port: number): string {
  const u = new URL(url)
  u.port = String(port)
  return u.toString()
}

const engines = [
  { name: 'postgres', up: await serverUp('postgres'), base: PG_URL, create: createPostgresDatabase },
  { name: 'mysql', up: await serverUp('mysql'), base: MYSQL_URL, create: createMysqlDatabase },
] as const

describe('connect timeout: a port that accepts and never answers', () => {
  for (const engine of engines) {
    it(`${engine.name}: ferry() fails with a ConnectionError within connect_timeout`, async () => {
      const silent = await silentServer()
      try {
        const url = `${engine.name}://app:Secr3tPw@127.0.0.1:${silent.port}/db?connect_timeout=2`
        const started = Date.now()
        const error = await within(10_000, ferry({ from: url, to: `sqlite:${join(dir, `never-${engine.name}.db`)}` }).then(() => undefined, (e: unknown) => e))
        const ms = Date.now() - started
        expect(error).toBeInstanceOf(ConnectionError)
        expect((error as Error).message).toMatch(/connect timeout/)
        expect((error as Error).message).toContain(`127.0.0.1:${silent.port}`)
        expect((error as Error).message).not.toContain('Secr3tPw')
        expect(ms).toBeGreaterThanOrEqual(1_900)
        expect(ms).toBeLessThan(6_000)
      } finally {
        await silent.close()
      }
    }, 20_000)

    it(`${engine.name}: the connectTimeoutMs option of connect() does the same`, async () => {
      const silent = await silentServer()
      try {
        const dialect = engine.name === 'postgres' ? postgresDialect : mysqlDialect
        const options: PostgresConnectOptions & MysqlConnectOptions = { connectTimeoutMs: 1_500 }
        const started = Date.now()
        const error = await within(10_000, dialect.connect(`${engine.name}://app@127.0.0.1:${silent.port}/db`, options).then(() => undefined, (e: unknown) => e))
        expect(error).toBeInstanceOf(ConnectionError)
        expect(Date.now() - started).toBeLessThan(5_000)
      } finally {
        await silent.close()
      }
    }, 20_000)
  }
})

const ROWS = 60_000

/** `readings` with ~200 bytes a row: 12 MB, more than the sockets' buffers hold, so a frozen reader waits. */
function wideReadings(rows: number) {
  const fixture = readingsFixture(rows)
  for (const row of fixture.tables[0]!.rows) row[1] = `${String(row[1])} ${'x'.repeat(190)}`
  return fixture
}

describe('stall timeout: a server that freezes mid-copy', () => {
  for (const engine of engines) {
    for (const side of ['target', 'source'] as const) {
      it.skipIf(!engine.up)(`${engine.name} as the ${side}: a ConnectionError naming the server and the table within stallTimeoutMs, then resume completes exactly`, async () => {
        const db: TestDatabase = await engine.create(`stall_${side}`)
        const proxy = await freezingProxy(Number(new URL(engine.base).port))
        const password = engine.name === 'postgres' ? 'Secr3tPw' : '' // trust authentication ignores it
        const proxied = new URL(atPort(db.url, proxy.port))
        if (password) proxied.password = password
        proxied.searchParams.set('stallTimeoutMs', '2000')
        const server = proxied.toString()
        const file = `sqlite:${join(dir, `${engine.name}-${side}.db`)}`
        const journal = join(dir, `journal-${engine.name}-${side}.sqlite`)
        try {
          // the source holds the rows; for a server source they are loaded directly, not through the proxy
          await buildFixture(wideReadings(ROWS), side === 'source' ? db.url : file)
          const [from, to] = side === 'source' ? [server, `sqlite:${join(dir, `${engine.name}-copy.db`)}`] : [file, server]
          let batches = 0
          let frozenAt = 0
          const first = await within(
            30_000,
            ferry({
              from,
              to,
              journal,
              batchRows: 2_000,
              onProgress(e) {
                // a target freezes in its fourth batch; a source 300 kB into the table (a driver may read ahead)
                const now = side === 'target' ? e.type === 'batch' && ++batches === 3 : e.type === 'table-start'
                if (now && frozenAt === 0) {
                  frozenAt = Date.now()
                  proxy.freezeAfter(side === 'target' ? 20_000 : 300_000)
                }
              },
            }),
          )
          expect(frozenAt).toBeGreaterThan(0)
          expect(proxy.frozen).toBe(true)
          expect(first.ok).toBe(false)
          expect(first.error?.message, JSON.stringify(first.error)).toMatch(/stall timeout/)
          expect(first.error?.message).toContain('readings')
          expect(first.error?.message).toContain(`127.0.0.1:${proxy.port}`)
          expect(first.error?.message).not.toContain('Secr3tPw')
          expect(first.tables[0]).toMatchObject({ name: 'readings', status: 'failed' })
          // the stall is noticed after 2 s of silence, not minutes later
          expect(Date.now() - frozenAt).toBeLessThan(15_000)

          // the frozen sessions end (as when the server is restarted); the same command resumes
          proxy.cutAll()
          proxy.thaw()
          const second = await within(60_000, ferry({ from, to, journal, batchRows: 2_000, resume: true }))
          expect(second.error).toBeUndefined()
          expect(second.ok).toBe(true)
          expect(second.tables[0]).toMatchObject({ read: ROWS, written: ROWS, rejected: 0 })

          const ids = await readingIds(side === 'source' ? to : db.url)
          expect(ids.length).toBe(ROWS)
          expect(new Set(ids).size).toBe(ROWS)
        } finally {
          await proxy.close()
          await db.drop()
        }
      }, 120_000)
    }
  }
})
