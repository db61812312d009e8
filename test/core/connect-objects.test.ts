import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { UsageError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { ENGINES } from '../../src/engines.js'

describe('connection specs that are not URLs', () => {
  it('a Kysely instance is refused with a usage error naming the driver objects dbferry takes', async () => {
    // no query runs: Kysely connects lazily, so no server is needed
    const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' })
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) })
    try {
      for (const e of ENGINES) expect((await e.load()).accepts(db), e.name).toBe(false)
      await expect(connect(db)).rejects.toThrow(UsageError)
      await expect(ferry({ from: db, to: 'sqlite::memory:' })).rejects.toThrow(/pg Pool or Client, a mysql2 pool or connection, a better-sqlite3 Database, an mssql ConnectionPool/)
    } finally {
      await db.destroy()
    }
  })

  it('an object of no driver is refused the same way', async () => {
    await expect(connect({ host: 'x' })).rejects.toThrow(UsageError)
  })
})
