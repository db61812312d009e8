import Database from 'better-sqlite3'
import { Kysely, MssqlDialect, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { ENGINES } from '../../src/engines.js'

describe('connection specs that are not URLs', () => {
  it('a Kysely instance over PostgreSQL is taken by the postgres engine alone', async () => {
    // no query runs: Kysely connects lazily, so no server is needed
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    try {
      const taking = []
      for (const e of ENGINES) if ((await e.load()).accepts(db)) taking.push(e.name)
      expect(taking).toEqual(['postgres'])
      // it connects through the instance (and fails as its pool does), instead of being refused
      await expect(connect(db)).rejects.toThrow(/could not get a connection from the Kysely instance/)
    } finally {
      await db.destroy()
    }
  })

  it('a Kysely instance over SQLite is taken by the sqlite engine alone', async () => {
    const sqlite = new Database(':memory:')
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) })
    try {
      const taking = []
      for (const e of ENGINES) if ((await e.load()).accepts(db)) taking.push(e.name)
      expect(taking).toEqual(['sqlite'])
    } finally {
      await db.destroy()
    }
  })

  it('a Kysely instance over an adapter no engine takes is refused with a usage error naming what to pass instead', async () => {
    // a tarn pool that never connects: dbferry must refuse the instance before asking it for a connection
    const tarn = { options: { min: 0, max: 1 }, Pool: class { acquire() { throw new Error('no connection expected') } async destroy() {} } }
    const db = new Kysely<unknown>({ dialect: new MssqlDialect({ tarn: tarn as never, tedious: {} as never }) })
    try {
      for (const e of ENGINES) expect((await e.load()).accepts(db), e.name).toBe(false)
      await expect(connect(db)).rejects.toThrow(UsageError)
      await expect(ferry({ from: db, to: 'sqlite::memory:' })).rejects.toThrow(/Kysely instance over MssqlAdapter is not taken: dbferry takes Kysely instances over .*PostgresAdapter.*an mssql ConnectionPool/)
    } finally {
      await db.destroy()
    }
  })

  it('an object of no driver is refused the same way', async () => {
    await expect(connect({ host: 'x' })).rejects.toThrow(UsageError)
  })
})
