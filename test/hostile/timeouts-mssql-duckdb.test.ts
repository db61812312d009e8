import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { MssqlConnection } from '../../dialects/mssql/mssql-connection.js'
import { mssqlDialect } from '../../dialects/mssql/mssql-dialect.js'
import { ConnectionError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { buildFixture } from '../../src/testing/fixture.js'
import { readingIds, readingsFixture } from '../resume/readings.js'
import { createMssqlDatabase, MSSQL_URL, mssqlUp, type TestDatabase } from '../support/servers.js'
import { freezingProxy, silentServer, within } from '../support/tcp.js'

/**
 * SQL Server honours the servers' timeouts (src/timeouts.ts): a port that accepts and never answers fails the
 * connect within `connect_timeout`, and a server that freezes mid-copy ends the run with a resumable
 * ConnectionError within `stallTimeoutMs`. DuckDB, a file in this process, has neither to wait for: a file
 * another process holds fails at once.
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-timeouts-mssql-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('SQL Server connect timeout: a port that accepts and never answers', () => {
  it('ferry() fails with a ConnectionError within connect_timeout, naming the limit and not the password', async () => {
    const silent = await silentServer()
    try {
      const url = `mssql://app:Secr3tPw@127.0.0.1:${silent.port}/db?connect_timeout=2&encrypt=false`
      const started = Date.now()
      const error = await within(10_000, ferry({ from: url, to: `sqlite:${join(dir, 'never.db')}` }).then(() => undefined, (e: unknown) => e))
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

  it('the connectTimeoutMs option of connect() and the URL parameter in milliseconds do the same', async () => {
    const silent = await silentServer()
    try {
      for (const [url, options] of [
        [`mssql://app@127.0.0.1:${silent.port}/db?encrypt=false`, { connectTimeoutMs: 1_500 }],
        [`mssql://app@127.0.0.1:${silent.port}/db?encrypt=false&connectTimeoutMs=1500`, {}],
      ] as const) {
        const started = Date.now()
        const error = await within(10_000, mssqlDialect.connect(url, options).then(() => undefined, (e: unknown) => e))
        expect(error).toBeInstanceOf(ConnectionError)
        expect((error as Error).message).toMatch(/no answer within 1.5 s \(connect timeout/)
        expect(Date.now() - started).toBeLessThan(5_000)
      }
    } finally {
      await silent.close()
    }
  }, 20_000)

  it('defaults to 30 s like the other servers; 0 is no limit; a bad value is a usage error', () => {
    expect(MssqlConnection.parseUrl('mssql://u@h/db').config.connectionTimeout).toBe(30_000)
    expect(MssqlConnection.parseUrl('mssql://u@h/db?connect_timeout=5').config.connectionTimeout).toBe(5_000)
    expect(MssqlConnection.parseUrl('mssql://u@h/db?connect_timeout=0').config.connectionTimeout).toBe(2 ** 31 - 1)
    expect(MssqlConnection.parseUrl('mssql://u@h/db?stallTimeoutMs=2000').timeouts).toEqual({ stallMs: 2_000 })
    expect(() => MssqlConnection.parseUrl('mssql://u:pw@h/db?connect_timeout=soon')).toThrow(/connect_timeout must be a number/)
  })
})

const mssql = MSSQL_URL !== undefined && (await mssqlUp())
/** Rows of the copy that freezes: the proxy stops forwarding after a set number of bytes, whatever the size. */
const ROWS = 20_000

/** `readings` with ~200 bytes a row (4 MB). */
function wideReadings(rows: number) {
  const fixture = readingsFixture(rows)
  for (const row of fixture.tables[0]!.rows) row[1] = `${String(row[1])} ${'x'.repeat(190)}`
  return fixture
}

describe.skipIf(!mssql)('SQL Server stall timeout: a server that freezes mid-copy', () => {
  for (const side of ['target', 'source'] as const) {
    it(`as the ${side}: a ConnectionError naming the server and the table within stallTimeoutMs, then resume completes exactly`, async () => {
      const db: TestDatabase = await createMssqlDatabase(`stall_${side}`)
      const proxy = await freezingProxy(Number(new URL(db.url).port || 1433), new URL(db.url).hostname)
      const proxied = new URL(db.url)
      proxied.port = String(proxy.port)
      proxied.searchParams.set('stallTimeoutMs', '2000')
      const server = proxied.toString()
      const file = `sqlite:${join(dir, `mssql-${side}.db`)}`
      const journal = join(dir, `journal-mssql-${side}.sqlite`)
      try {
        // the source holds the rows; a server source is loaded directly, not through the proxy
        await buildFixture(wideReadings(ROWS), side === 'source' ? db.url : file)
        const [from, to] = side === 'source' ? [server, `sqlite:${join(dir, 'mssql-copy.db')}`] : [file, server]
        let batches = 0
        let frozenAt = 0
        const first = await within(
          60_000,
          ferry({
            from,
            to,
            journal,
            batchRows: 2_000,
            onProgress(e) {
              // a target freezes in its fourth batch; a source 300 kB into the table (the driver reads ahead)
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
        expect(first.error?.message).not.toContain(decodeURIComponent(new URL(db.url).password) || 'no password')
        expect(first.tables[0]).toMatchObject({ name: 'readings', status: 'failed' })
        // the stall is noticed after 2 s of silence, not minutes later
        expect(Date.now() - frozenAt).toBeLessThan(20_000)

        // the frozen sessions end (as when the server is restarted); the same command resumes
        proxy.cutAll()
        proxy.thaw()
        const second = await within(120_000, ferry({ from, to, journal, batchRows: 2_000, resume: true }))
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
    }, 240_000)
  }
})

describe('DuckDB: a file another process holds', () => {
  it('fails at once with a ConnectionError that says so, as a source and as a target (DuckDB does not wait for the lock)', async () => {
    const file = join(dir, 'held.duckdb')
    await buildFixture(readingsFixture(10), `duckdb:${file}`)
    // another process opens the file for writing and keeps it open
    const holder: ChildProcess = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { DuckDBInstance } from '@duckdb/node-api'; const i = await DuckDBInstance.create(${JSON.stringify(file)}); await i.connect(); console.log('held'); setInterval(() => {}, 1000)`],
      { stdio: ['ignore', 'pipe', 'inherit'], cwd: join(__dirname, '../..') },
    )
    try {
      await within(20_000, new Promise<void>((resolve) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve())))
      for (const [from, to] of [
        [`duckdb:${file}`, `sqlite:${join(dir, 'from-held.db')}`],
        [`sqlite:${join(dir, 'from-held-src.db')}`, `duckdb:${file}`],
      ] as const) {
        if (from.startsWith('sqlite:')) await buildFixture(readingsFixture(10), from)
        const started = Date.now()
        const error = await within(10_000, ferry({ from, to, mode: 'append' }).then((r) => r.error, (e: unknown) => e))
        expect(error).toBeInstanceOf(ConnectionError)
        expect((error as Error).message).toMatch(/Could not set lock.*another process has the file open/s)
        expect(Date.now() - started).toBeLessThan(5_000)
      }
    } finally {
      holder.kill('SIGKILL')
    }
  }, 60_000)
})
