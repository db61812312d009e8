import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { verify } from '../../src/verify/verify.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

// PostgreSQL → PostgreSQL: a table goes as the source's own COPY text straight into the target's COPY
const pgUp = await serverUp('postgres')
const myUp = await serverUp('mysql')

async function sql(url: string, ...statements: string[]): Promise<void> {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    for (const s of statements) await c.query(s)
  } finally {
    await c.end()
  }
}

describe.skipIf(!pgUp)('PostgreSQL → PostgreSQL pass-through', () => {
  let src: TestDatabase
  beforeAll(async () => {
    src = await createPostgresDatabase()
    await buildFixture(typesFixture, src.url)
    await sql(src.url, 'CREATE TABLE checked (id integer PRIMARY KEY, v integer NOT NULL)', 'INSERT INTO checked SELECT g, g FROM generate_series(1, 1000) AS g')
  })
  afterAll(async () => {
    await src?.drop()
  })

  it('copies the types fixture as COPY text, every value equal to the source', async () => {
    const dst = await createPostgresDatabase()
    try {
      const report = await ferry({ from: src.url, to: dst.url, journal: false })
      expect(report.ok).toBe(true)
      const types = report.tables.find((t) => t.name === 'types_all')!
      expect(types).toMatchObject({ path: 'pass-through', read: types.written, rejected: 0 })
      expect(types.written).toBeGreaterThan(0)
      const v = await verify({ a: src.url, b: dst.url })
      expect(v.tables.filter((t) => !t.equal).map((t) => t.name)).toEqual([])
      expect(v.equal).toBe(true)
    } finally {
      await dst.drop()
    }
  })

  it('falls back to the row path when the target refuses a value, which is then rejected alone; the source session stays usable', async () => {
    const dst = await createPostgresDatabase()
    try {
      await sql(dst.url, 'CREATE TABLE checked (id integer PRIMARY KEY, v integer NOT NULL CHECK (v <> 500))')
      const journal = new MemoryJournal()
      const report = await ferry({ from: src.url, to: dst.url, journal, mode: 'append', tables: { include: ['checked'] } })
      const t = report.tables[0]!
      expect(t).toMatchObject({ name: 'checked', path: 'rows', read: 1000, written: 999, rejected: 1 })
      expect(t.pathNote).toMatch(/^fell back to the row path/)
      expect(journal.entries.map((e) => [e.kind, e.key])).toEqual([['check_violation', '{"id":500}']])
    } finally {
      await dst.drop()
    }
  })

  it('a split table (--jobs) is never handed over whole by one of its chunks', async () => {
    const dst = await createPostgresDatabase()
    try {
      const report = await ferry({ from: src.url, to: dst.url, journal: false, jobs: 2, chunkRows: 200, tables: { include: ['checked'] } })
      // a first chunk that took the whole table would leave the other chunks' rows refused as duplicates
      expect(report.tables[0]).toMatchObject({ read: 1000, written: 1000, rejected: 0, chunks: 5 })
    } finally {
      await dst.drop()
    }
  })

  it.skipIf(!myUp)('another engine as the target takes the row path, with nothing to explain', async () => {
    const dst = await createMysqlDatabase()
    try {
      const report = await ferry({ from: src.url, to: dst.url, journal: false, tables: { include: ['checked'] } })
      expect(report.tables[0]).toMatchObject({ path: 'rows', written: 1000 })
      expect(report.tables[0]!.pathNote).toBeUndefined()
    } finally {
      await dst.drop()
    }
  })
})
