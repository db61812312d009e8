import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { rewriteDump } from '../../src/formats/mysqldump/index.js'
import type { Row } from '../../src/schema/types.js'
import { rewriteCharset, rewriteEngine } from '../../src/transforms/rewrite-engine.js'
import { createMysqlDatabase, MYSQL_URL, serverUp, type TestDatabase } from '../support/servers.js'

const up = await serverUp('mysql')
if (!up) console.warn('!! MariaDB is not reachable: the live mysqldump suite is skipped')

function clientArgs(db: string): string[] {
  const u = new URL(MYSQL_URL)
  const args = [`-h${u.hostname}`, `-P${u.port || '3306'}`, `-u${decodeURIComponent(u.username || 'root')}`]
  if (u.password) args.push(`-p${decodeURIComponent(u.password)}`)
  return [...args, db]
}

const NASTY = [
  'back\\slash',
  "it's \"quoted\"",
  'semi; colon, comma',
  'line\nbreak\r\nand\ttab',
  'Médecins — “Zürich” €',
  '\\N is not null',
  '100% \\% \\_ _',
  'ctrl-Z \x1a here',
]

describe.skipIf(!up)('mysqldump from a real MariaDB (MyISAM, latin1) into MariaDB as InnoDB', () => {
  const dbs: TestDatabase[] = []
  let source: TestDatabase
  let dump: string
  let dir: string

  beforeAll(async () => {
    source = await createMysqlDatabase('dump_src')
    dbs.push(source)
    const mysql = await import('mysql2/promise')
    const c = await mysql.createConnection({ uri: source.url, multipleStatements: true })
    try {
      await c.query(`
        CREATE TABLE or_sector (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(128) NOT NULL, active TINYINT(1) DEFAULT 1)
          ENGINE=MyISAM DEFAULT CHARSET=latin1;
        CREATE TABLE or_organisation (
          id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, sector_id INT NULL, name VARCHAR(200) CHARACTER SET utf8mb4 NOT NULL,
          note TEXT CHARACTER SET utf8mb4, logo BLOB, budget DECIMAL(12,2), founded DATE, updated DATETIME(3),
          KEY sector_idx (sector_id)
        ) ENGINE=MyISAM DEFAULT CHARSET=latin1;`)
      await c.query('INSERT INTO or_sector (id, name, active) VALUES (1, ?, 1), (2, ?, 0), (3, ?, NULL)', ['Health', 'Shelter\\Camp', "Water 'n' sanitation"])
      let id = 0
      for (const n of NASTY) {
        id++
        await c.query('INSERT INTO or_organisation VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
          id,
          (id % 3) + 1,
          `org ${id}`,
          n,
          Buffer.from([0, 39, 92, 255, id]),
          `${id}.50`,
          '2010-01-14',
          '2010-01-14 10:11:12.345',
        ])
      }
      await c.query('INSERT INTO or_organisation (id, name) VALUES (99, ?)', ['nulls'])
      await c.query('CREATE VIEW v_org AS SELECT o.id, o.name, s.name AS sector FROM or_organisation o JOIN or_sector s ON s.id = o.sector_id')
    } finally {
      await c.end()
    }
    dir = mkdtempSync(join(tmpdir(), 'dbferry-dump-live-'))
    dump = join(dir, 'dump.sql')
    writeFileSync(dump, execFileSync('mariadb-dump', ['--skip-extended-insert=false', ...clientArgs(source.name)], { maxBuffer: 1 << 28 }))
  })

  afterAll(async () => {
    for (const d of dbs) await d.drop().catch(() => {})
  })

  const expectedOrgs = (): Row[] => [
    ...NASTY.map((n, i): Row => [i + 1, ((i + 1) % 3) + 1, `org ${i + 1}`, n, Buffer.from([0, 39, 92, 255, i + 1]), `${i + 1}.50`, '2010-01-14', '2010-01-14 10:11:12.345']),
    [99, null, 'nulls', null, null, null, null, null],
  ]

  it('reads the dump as a source: engines, charsets and every value, backslashes included', async () => {
    expect(readFileSync(dump, 'latin1')).toContain('ENGINE=MyISAM')
    const { connection } = await connect(`mysqldump:${dump}`)
    const schema = await connection.introspect()
    expect(schema.tables.map((t) => [t.name, t.engine, t.charset])).toEqual([
      ['or_organisation', 'MyISAM', 'latin1'],
      ['or_sector', 'MyISAM', 'latin1'],
    ])
    expect(schema.objects.map((o) => [o.name, o.type, o.dependsOn])).toEqual([['v_org', 'view', ['or_organisation', 'or_sector']]])
    expect(schema.objects[0]!.definition).toMatch(/^select .* from .*`or_organisation`/i)
    const org = schema.tables[0]!
    const rows: Row[] = []
    for await (const b of connection.read(org, { batchRows: 3, batchBytes: 1 << 30 })) {
      expect(b.rejected).toEqual([])
      rows.push(...b.rows)
    }
    expect(rows).toEqual(expectedOrgs())
  })

  it('loads into MariaDB as InnoDB through ferry with rewriteEngine', async () => {
    const target = await createMysqlDatabase('dump_ferry')
    dbs.push(target)
    const report = await ferry({ from: `mysqldump:${dump}`, to: target.url, transforms: [rewriteEngine({ from: 'MyISAM', to: 'InnoDB' })], journal: false })
    expect(report.error).toBeUndefined()
    expect(report.totals).toMatchObject({ read: 12, written: 12, rejected: 0 })
    const mysql = await import('mysql2/promise')
    const c = await mysql.createConnection(target.url)
    try {
      const [engines] = await c.query("SELECT table_name AS t, engine AS e FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1")
      expect(engines).toEqual([
        { t: 'or_organisation', e: 'InnoDB' },
        { t: 'or_sector', e: 'InnoDB' },
      ])
      const [notes] = await c.query('SELECT note FROM or_organisation WHERE id <= 8 ORDER BY id')
      expect((notes as { note: string }[]).map((r) => r.note)).toEqual(NASTY)
      const [sectors] = await c.query('SELECT name FROM or_sector ORDER BY id')
      expect((sectors as { name: string }[]).map((r) => r.name)).toEqual(['Health', 'Shelter\\Camp', "Water 'n' sanitation"])
    } finally {
      await c.end()
    }
  })

  it('rewrite-dump output loads with the mariadb client as InnoDB/utf8mb4 with the same data', async () => {
    const out = join(dir, 'innodb.sql')
    const res = await rewriteDump(dump, out, { transforms: [rewriteEngine(), rewriteCharset({ from: 'latin1', to: 'utf8mb4' })] })
    expect(res.tables.map((t) => t.table).sort()).toEqual(['or_organisation', 'or_sector'])
    const target = await createMysqlDatabase('dump_rewritten')
    dbs.push(target)
    execFileSync('mariadb', clientArgs(target.name), { input: readFileSync(out) })
    const mysql = await import('mysql2/promise')
    const c = await mysql.createConnection(target.url)
    try {
      const [tables] = await c.query(
        "SELECT table_name AS t, engine AS e, table_collation AS c FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
      )
      expect((tables as { t: string; e: string; c: string }[]).map((r) => [r.t, r.e, r.c.split('_')[0]])).toEqual([
        ['or_organisation', 'InnoDB', 'utf8mb4'],
        ['or_sector', 'InnoDB', 'utf8mb4'],
      ])
      const [rows] = await c.query('SELECT id, note, logo FROM or_organisation WHERE id <= 8 ORDER BY id')
      expect((rows as { note: string }[]).map((r) => r.note)).toEqual(NASTY)
      expect((rows as { logo: Buffer }[])[0]!.logo).toEqual(Buffer.from([0, 39, 92, 255, 1]))
      const [sectors] = await c.query('SELECT name FROM or_sector ORDER BY id')
      expect((sectors as { name: string }[]).map((r) => r.name)).toEqual(['Health', 'Shelter\\Camp', "Water 'n' sanitation"])
    } finally {
      await c.end()
    }
  })
})
