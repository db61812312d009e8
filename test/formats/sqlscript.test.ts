import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { csv } from '../../src/formats/csv/index.js'
import { recordFormatter } from '../../src/formats/csv/csv-format.js'
import { CSV_DEFAULTS } from '../../src/formats/csv/csv-options.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

const pgUp = await serverUp('postgres')
const myUp = await serverUp('mysql')

const NASTY = ["it's", 'back\\slash \\n not a newline', 'line\nbreak\r\n\ttab', 'Médecins “Zürich” € 😀', '', '\x1a ctrl-Z', "'; DROP TABLE x; --"]

const TABLES: TableSchema[] = [
  {
    name: 'sector',
    columns: [
      { name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false, autoIncrement: true },
      { name: 'name', type: { kind: 'text', length: 100 }, nativeType: '', nullable: false },
    ],
    primaryKey: { columns: ['id'] },
    uniques: [{ columns: ['name'] }],
    indexes: [],
    foreignKeys: [],
  },
  {
    name: 'org',
    columns: [
      { name: 'id', type: { kind: 'int64' }, nativeType: '', nullable: false, autoIncrement: true },
      { name: 'sector_id', type: { kind: 'int32' }, nativeType: '', nullable: true },
      { name: 'note', type: { kind: 'text' }, nativeType: '', nullable: true },
      { name: 'logo', type: { kind: 'bytes' }, nativeType: '', nullable: true },
      { name: 'active', type: { kind: 'boolean' }, nativeType: '', nullable: true },
      { name: 'budget', type: { kind: 'decimal', precision: 12, scale: 2 }, nativeType: '', nullable: true },
      { name: 'ratio', type: { kind: 'float64' }, nativeType: '', nullable: true },
      { name: 'founded', type: { kind: 'date' }, nativeType: '', nullable: true },
      { name: 'updated', type: { kind: 'timestamp', precision: 3 }, nativeType: '', nullable: true },
    ],
    primaryKey: { columns: ['id'] },
    uniques: [],
    indexes: [{ name: 'org_sector_idx', columns: ['sector_id'], unique: false }],
    foreignKeys: [{ name: 'org_sector_fk', columns: ['sector_id'], refTable: 'sector', refColumns: ['id'], origin: 'source' }],
  },
]

const SECTORS: Row[] = [
  [1, 'Health'],
  [2, "Shelter 'n' \\camp"],
]
const ORGS: Row[] = NASTY.map((n, i): Row => [i + 1, (i % 2) + 1, n, Buffer.from([0, 39, 92, 255, i]), i % 2 === 0, `${i}.25`, i + 0.5, '2010-01-14', '2010-01-14 10:11:12.345'])
ORGS.push([100, null, null, null, null, null, null, null, null])

function sourceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-script-'))
  const f = recordFormatter(CSV_DEFAULTS)
  writeFileSync(join(dir, 'sector.csv'), f(['id', 'name']) + SECTORS.map(f).join(''))
  writeFileSync(join(dir, 'org.csv'), f(TABLES[1]!.columns.map((c) => c.name)) + ORGS.map(f).join(''))
  return dir
}

async function script(engine: string): Promise<string> {
  const dir = sourceDir()
  const out = join(dir, `out.${engine}.sql`)
  const report = await ferry({ from: await csv.connect({ path: dir, tables: TABLES }), to: `sqlscript:${out}?dialect=${engine}`, journal: false })
  expect(report.error).toBeUndefined()
  expect(report.totals).toMatchObject({ read: 10, written: 10, rejected: 0 })
  return readFileSync(out, 'utf8')
}

/** Rows read back, normalised to canonical forms so every engine compares the same. */
function normal(rows: Record<string, unknown>[]): unknown[][] {
  return rows.map((r) => [
    Number(r.id),
    r.sector_id === null ? null : Number(r.sector_id),
    r.note,
    r.logo === null ? null : Buffer.from(r.logo as Uint8Array),
    r.active === null ? null : Boolean(Number(r.active)),
    r.budget === null ? null : Number(r.budget).toFixed(2),
    r.ratio === null ? null : Number(r.ratio),
  ])
}

const expected = ORGS.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5] === null ? null : Number(r[5]).toFixed(2), r[6]])

describe('sqlscript target', () => {
  const dbs: TestDatabase[] = []
  afterAll(async () => {
    for (const d of dbs) await d.drop().catch(() => {})
  })

  it('writes a SQLite script that loads every value exactly', async () => {
    const sql = await script('sqlite')
    expect(sql).toContain('"id" INTEGER PRIMARY KEY')
    const db = new Database(':memory:')
    db.exec(sql)
    expect(normal(db.prepare('SELECT * FROM org ORDER BY id').all() as Record<string, unknown>[])).toEqual(expected)
    expect(db.prepare('SELECT name FROM sector ORDER BY id').pluck().all()).toEqual(SECTORS.map((r) => r[1]))
    expect(db.prepare("SELECT count(*) FROM pragma_foreign_key_list('org')").pluck().get()).toBe(1)
    db.close()
  })

  it.skipIf(!pgUp)('writes a PostgreSQL script that loads with standard strings, bytea and identity', async () => {
    const sql = await script('postgres')
    const target = await createPostgresDatabase('script_pg')
    dbs.push(target)
    const pg = (await import('pg')).default
    const c = new pg.Client({ connectionString: target.url })
    await c.connect()
    try {
      await c.query(sql)
      const r = await c.query('SELECT * FROM org ORDER BY id')
      expect(normal(r.rows)).toEqual(expected)
      expect((await c.query('SELECT founded::text AS f, updated::text AS u FROM org WHERE id = 1')).rows).toEqual([{ f: '2010-01-14', u: '2010-01-14 10:11:12.345' }])
      // identity moved past the loaded keys
      expect((await c.query("INSERT INTO org (note) VALUES ('new') RETURNING id")).rows[0].id).toBe('101')
      expect((await c.query("SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f'")).rows[0].n).toBe(1)
    } finally {
      await c.end()
    }
  })

  it.skipIf(!myUp)('writes a MySQL script whose backslashes and quotes survive loading into MariaDB', async () => {
    const sql = await script('mysql')
    expect(sql).toContain("'back\\\\slash \\\\n not a newline'")
    const target = await createMysqlDatabase('script_my')
    dbs.push(target)
    const mysql = await import('mysql2/promise')
    const c = await mysql.createConnection({ uri: target.url, multipleStatements: true })
    try {
      await c.query(sql)
      const [rows] = await c.query('SELECT * FROM org ORDER BY id')
      expect(normal(rows as Record<string, unknown>[])).toEqual(expected)
      const [eng] = await c.query('SELECT engine AS e FROM information_schema.tables WHERE table_schema = DATABASE() GROUP BY engine')
      expect(eng).toEqual([{ e: 'InnoDB' }])
    } finally {
      await c.end()
    }
  })

  it('writes a SQL Server script with N strings, 0x bytes and IDENTITY_INSERT', async () => {
    const sql = await script('mssql')
    expect(sql).toContain("N'it''s'")
    expect(sql).toContain('0x00275CFF00')
    expect(sql).toContain('SET IDENTITY_INSERT [dbo].[org] ON')
    expect(sql).toMatch(/ALTER TABLE \[dbo\]\.\[org\] WITH CHECK ADD CONSTRAINT \[org_sector_fk\] FOREIGN KEY/)
  })

  it('refuses a script without a dialect', async () => {
    await expect(csv.connect(sourceDir()).then(() => ferry({ from: `csv:${sourceDir()}`, to: 'sqlscript:./x.sql' }))).rejects.toThrow(/dialect=postgres/)
  })
})
