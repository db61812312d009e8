import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import type { Fixture } from '../../src/testing/fixture.js'
import { buildFixture } from '../../src/testing/fixture.js'
import { runCli } from '../cli/run-cli.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp } from '../support/servers.js'

/**
 * A run whose source and target are one database, spelled two ways, must stop before it writes: with mode
 * `recreate` it would otherwise drop every table it is about to read and report success.
 */

const dir = mkdtempSync(join(tmpdir(), 'dbferry-same-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** One table with three rows: what the refused run must leave as it was. */
const threeRows: Fixture = {
  name: 'three_rows',
  tables: [
    {
      name: 'items',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false },
        { name: 'label', type: { kind: 'text', length: 20 } },
      ],
      primaryKey: ['id'],
      rows: [
        [1, 'one'],
        [2, 'two'],
        [3, 'three'],
      ],
    },
  ],
}

/** The same URL with `localhost` where it says `127.0.0.1`. */
function viaLocalhost(url: string): string {
  const u = new URL(url)
  expect(u.hostname).toBe('127.0.0.1')
  u.hostname = 'localhost'
  return u.toString()
}

async function rowsOf(url: string): Promise<number> {
  const { connection } = await connect(url)
  try {
    const schema = await connection.introspect()
    const items = schema.tables.find((t) => t.name === 'items')
    return items ? await connection.count(items) : -1
  } finally {
    await connection.close()
  }
}

const pgUp = await serverUp('postgres')
const mysqlUp = await serverUp('mysql')

describe.skipIf(!pgUp)('PostgreSQL: one database spelled two ways', () => {
  it('127.0.0.1 and localhost with mode recreate: a UsageError before anything changes, exit 2 in the CLI', async () => {
    const db = await createPostgresDatabase('same_pg')
    try {
      await buildFixture(threeRows, db.url)
      await expect(ferry({ from: db.url, to: viaLocalhost(db.url), mode: 'recreate' })).rejects.toThrow(UsageError)
      await expect(ferry({ from: db.url, to: viaLocalhost(db.url), mode: 'truncate' })).rejects.toThrow(/same database/)
      expect(await rowsOf(db.url)).toBe(3)

      const cli = await runCli(['copy', db.url, viaLocalhost(db.url), '--mode', 'recreate', '--no-journal'])
      expect(cli.code).toBe(2)
      expect(cli.stderr).toMatch(/same database/)
      expect(await rowsOf(db.url)).toBe(3)
    } finally {
      await db.drop()
    }
  }, 60_000)

  it('a different schema of the same database is allowed: its tables do not overlap', async () => {
    const db = await createPostgresDatabase('same_pg_schema')
    try {
      await buildFixture(threeRows, db.url)
      const other = `${viaLocalhost(db.url)}?schema=copy_here`
      const report = await ferry({ from: db.url, to: other, mode: 'recreate' })
      expect(report.error).toBeUndefined()
      expect(report.tables[0]).toMatchObject({ name: 'items', written: 3 })
      expect(await rowsOf(db.url)).toBe(3)
      expect(await rowsOf(other)).toBe(3)
    } finally {
      await db.drop()
    }
  }, 60_000)

  it('the schema identity() reports is the one the connection reads and writes', async () => {
    const db = await createPostgresDatabase('same_pg_ident')
    const pg = (await import('pg')).default
    const admin = new pg.Client({ connectionString: db.url })
    await admin.connect()
    try {
      // the server's search path, not the URL, picks the default schema: identity must follow the server
      await admin.query('CREATE SCHEMA first_on_path')
      await admin.query(`ALTER DATABASE "${db.name}" SET search_path = first_on_path, public`)
      const byDefault = await connect(db.url)
      const named = await connect(`${db.url}?schema=public`)
      try {
        const [a, b] = [await byDefault.connection.identity!(), await named.connection.identity!()]
        expect(a.schema).toBe('first_on_path')
        expect(b.schema).toBe('public')
        expect(a.server).toBe(b.server)
        expect(a.database).toBe(db.name)
        // and it is where the connection really writes
        await byDefault.connection.execute!('CREATE TABLE probe (x int)')
        const where = await admin.query<{ s: string }>("SELECT table_schema AS s FROM information_schema.tables WHERE table_name = 'probe'")
        expect(where.rows.map((r) => r.s)).toEqual([a.schema])
      } finally {
        await byDefault.connection.close()
        await named.connection.close()
      }
    } finally {
      await admin.end()
      await db.drop()
    }
  }, 60_000)
})

describe.skipIf(!mysqlUp)('MariaDB/MySQL: one database spelled two ways', () => {
  it('127.0.0.1 and localhost with mode recreate: a UsageError before anything changes, exit 2 in the CLI', async () => {
    const db = await createMysqlDatabase('same_my')
    try {
      await buildFixture(threeRows, db.url)
      await expect(ferry({ from: db.url, to: viaLocalhost(db.url), mode: 'recreate' })).rejects.toThrow(UsageError)
      expect(await rowsOf(db.url)).toBe(3)
      const cli = await runCli(['copy', db.url, viaLocalhost(db.url), '--mode', 'truncate', '--no-journal'])
      expect(cli.code).toBe(2)
      expect(cli.stderr).toMatch(/same database/)
      expect(await rowsOf(db.url)).toBe(3)
    } finally {
      await db.drop()
    }
  }, 60_000)

  it('another database of the same server is allowed', async () => {
    const [a, b] = [await createMysqlDatabase('same_my_a'), await createMysqlDatabase('same_my_b')]
    try {
      await buildFixture(threeRows, a.url)
      const report = await ferry({ from: a.url, to: viaLocalhost(b.url), mode: 'recreate' })
      expect(report.error).toBeUndefined()
      expect(await rowsOf(b.url)).toBe(3)
    } finally {
      await a.drop()
      await b.drop()
    }
  }, 60_000)
})

describe('DuckDB: one file through a symlink', () => {
  it('is refused before anything changes; another file is not', async () => {
    const file = join(dir, 'real.duckdb')
    const link = join(dir, 'link.duckdb')
    await buildFixture(threeRows, `duckdb:${file}`)
    symlinkSync(file, link)
    await expect(ferry({ from: `duckdb:${file}`, to: `duckdb:${link}`, mode: 'recreate' })).rejects.toThrow(/same database/)
    expect(await rowsOf(`duckdb:${file}`)).toBe(3)

    const report = await ferry({ from: `duckdb:${link}`, to: `duckdb:${join(dir, 'other.duckdb')}`, mode: 'recreate' })
    expect(report.error).toBeUndefined()
    expect(await rowsOf(`duckdb:${join(dir, 'other.duckdb')}`)).toBe(3)
  }, 60_000)
})

describe('SQLite: one file by two paths', () => {
  it('a relative path and a symlink to the same file are refused before anything changes; another file is not', async () => {
    const file = join(dir, 'real.db')
    const link = join(dir, 'link.db')
    await buildFixture(threeRows, `sqlite:${file}`)
    symlinkSync(file, link)
    for (const mode of ['recreate', 'truncate', 'append'] as const) {
      await expect(ferry({ from: `sqlite:${file}`, to: `sqlite:${link}`, mode })).rejects.toThrow(UsageError)
      await expect(ferry({ from: `sqlite:${link}`, to: `sqlite:${join(dir, '.', 'real.db')}`, mode })).rejects.toThrow(/same database/)
    }
    expect(await rowsOf(`sqlite:${file}`)).toBe(3)

    const report = await ferry({ from: `sqlite:${link}`, to: `sqlite:${join(dir, 'other.db')}` })
    expect(report.error).toBeUndefined()
    expect(await rowsOf(`sqlite:${join(dir, 'other.db')}`)).toBe(3)
  })
})

const MSSQL = process.env.DBFERRY_MSSQL_URL
describe.skipIf(!MSSQL)('SQL Server: one database spelled two ways', () => {
  it('127.0.0.1 and localhost with mode recreate: a UsageError before anything changes; another database is allowed', async () => {
    const { createMssqlDatabase } = await import('../support/servers.js')
    const db = await createMssqlDatabase('dbferry_same')
    const other = await createMssqlDatabase('dbferry_other')
    try {
      await buildFixture(threeRows, db.url)
      const spelled = db.url.replace('127.0.0.1', 'localhost')
      expect(spelled).not.toBe(db.url)
      await expect(ferry({ from: db.url, to: spelled, mode: 'recreate' })).rejects.toThrow(/same database/)
      expect(await rowsOf(db.url)).toBe(3)
      const report = await ferry({ from: db.url, to: other.url, mode: 'recreate' })
      expect(report.error).toBeUndefined()
      expect(await rowsOf(other.url)).toBe(3)
    } finally {
      await db.drop()
      await other.drop()
    }
  }, 60_000)
})
