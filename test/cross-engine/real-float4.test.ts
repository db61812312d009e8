import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysql } from '../../dialects/mysql/index.js'
import { ferry } from '../../src/ferry.js'
import type { Row } from '../../src/schema/types.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * PostgreSQL `real` (float4) values carried as the shortest decimal that names each float32: `9.8` reads back
 * as 9.8 from a SQLite REAL (a float64), a MariaDB FLOAT and a CSV file, not as 9.800000190734863. Neither
 * SQLite nor MariaDB keeps a negative zero: -0 arrives as 0 there.
 */

const VALUES = ['9.8', '0.1', '1e-7', '3.4028235e38', '-3.4028235e38', '1.17549435e-38', '16777217', '-0']

describe.skipIf(!(await serverUp('postgres')) || !(await serverUp('mysql')))('PostgreSQL real into SQLite, MariaDB and CSV, live', () => {
  let dir: string
  let source: TestDatabase
  /** id → the text PostgreSQL prints for the stored value. */
  let printed: Map<number, string>
  const dbs: TestDatabase[] = []
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-real-'))
    source = await createPostgresDatabase('dbferry_real')
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    try {
      await c.query('CREATE TABLE f4 (id int PRIMARY KEY, f real)')
      for (const [i, v] of VALUES.entries()) await c.query('INSERT INTO f4 VALUES ($1, $2::real)', [i + 1, v])
      const r = await c.query<{ id: number; f: string }>('SELECT id, f::text AS f FROM f4 ORDER BY id')
      printed = new Map(r.rows.map((x) => [x.id, x.f]))
    } finally {
      await c.end()
    }
  })
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    await source?.drop()
    for (const d of dbs) await d.drop()
  })

  /** What a float64 target holds for PostgreSQL's text: that decimal, and 0 for -0 (not kept by these targets). */
  const expected = () => [...printed].map(([id, text]) => [id, text === '-0' ? 0 : Number(text)])

  it('into SQLite: the REAL column holds the decimal PostgreSQL prints', async () => {
    expect(printed.get(1)).toBe('9.8')
    const file = join(dir, 'f.db')
    const report = await ferry({ from: source.url, to: `sqlite:${file}` })
    expect(report.error).toBeUndefined()
    expect(report.tables[0]).toMatchObject({ read: VALUES.length, written: VALUES.length, rejected: 0 })
    const db = new Database(file, { readonly: true })
    try {
      const rows = db.prepare('SELECT id, f FROM f4 ORDER BY id').raw().all() as [number, number][]
      expect(rows).toEqual(expected())
    } finally {
      db.close()
    }
  })

  it('into MariaDB: the FLOAT column holds the same float32, read back as the decimal PostgreSQL prints', async () => {
    const target = await createMysqlDatabase('dbferry_real')
    dbs.push(target)
    const report = await ferry({ from: source.url, to: target.url })
    expect(report.error).toBeUndefined()
    // 3.4028235e38 (the largest float32) is past the largest float32 as a double: the server would refuse it
    expect(report.tables[0]).toMatchObject({ read: VALUES.length, written: VALUES.length, rejected: 0 })
    const conn = await mysql.connect(target.url)
    try {
      const table = (await conn.introspect()).tables[0]!
      expect(table.columns[1]!.type).toEqual({ kind: 'float32' })
      const rows: Row[] = []
      for await (const b of conn.read(table, { batchRows: 100, batchBytes: 1 << 20 })) rows.push(...b.rows)
      expect(rows).toEqual(expected())
    } finally {
      await conn.close()
    }
  })

  it('into CSV: the file prints the decimal PostgreSQL prints', async () => {
    const out = join(dir, 'csv')
    const report = await ferry({ from: source.url, to: `csv:${out}` })
    expect(report.error).toBeUndefined()
    const lines = readFileSync(join(out, 'f4.csv'), 'utf8').trim().split(/\r?\n/).slice(1)
    expect(lines.map((l) => l.split(',')).map(([id, f]) => [Number(id), Number(f)])).toEqual(expected())
    expect(lines[0]).toBe('1,9.8')
  })
})
