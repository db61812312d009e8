import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dialectFor } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import type { Report } from '../../src/report.js'
import { transforms as t } from '../../src/transforms/index.js'
import { createMysqlDatabase, selectedDialects, serverUp, type TestDatabase } from '../support/servers.js'
import { readTable } from './helpers.js'

async function mysqlReady(): Promise<boolean> {
  if (!selectedDialects().has('mysql')) return false
  try {
    ;(await dialectFor('mysql://x')).sql!.quoteIdentifier('x')
  } catch {
    return false
  }
  return serverUp('mysql')
}
const ready = await mysqlReady()
if (!ready) console.warn('!! MySQL/MariaDB not available: the MyISAM → InnoDB copy test is skipped')

describe.skipIf(!ready)('MySQL → MySQL: MyISAM/latin1 to InnoDB/utf8mb4, keys the source never enforced', () => {
  let source: TestDatabase
  let target: TestDatabase
  let report: Report
  beforeAll(async () => {
    source = await createMysqlDatabase()
    target = await createMysqlDatabase()
    const c = await mysql.createConnection({ uri: source.url, charset: 'utf8mb4' })
    try {
      await c.query('CREATE TABLE or_sector (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=MyISAM DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci')
      await c.query('CREATE TABLE or_organisation (id INT PRIMARY KEY, name VARCHAR(60) NOT NULL, sector_id INT NULL) ENGINE=MyISAM DEFAULT CHARSET=latin1')
      await c.query("INSERT INTO or_sector VALUES (1, 'Santé'), (2, 'Food')")
      await c.query("INSERT INTO or_organisation VALUES (1, 'Médecins du Monde France', 1), (2, 'Oxfam', 14), (3, 'WFP', 2)")
    } finally {
      await c.end()
    }
    report = await ferry({
      from: source.url,
      to: target.url,
      foreignKeys: [{ from: 'or_organisation.sector_id', to: 'or_sector.id' }],
      transforms: [
        t.fixDanglingForeignKeys({ strategy: 'null' }),
        t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }),
        t.rewriteCharset({ from: 'latin1', to: 'utf8mb4' }),
      ],
    })
  })
  afterAll(async () => {
    await source?.drop()
    await target?.drop()
  })

  it('creates InnoDB utf8mb4 tables with the declared foreign key, and repairs its orphan', async () => {
    expect(report.error).toBeUndefined()
    expect(report.ok).toBe(true)
    const c = await mysql.createConnection({ uri: target.url })
    try {
      const [tables] = await c.query('SELECT TABLE_NAME AS t, ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1')
      expect((tables as { t: string; e: string; c: string }[]).map((r) => [r.t, r.e, r.c.split('_')[0]])).toEqual([
        ['or_organisation', 'InnoDB', 'utf8mb4'],
        ['or_sector', 'InnoDB', 'utf8mb4'],
      ])
      const [sectorCollation] = await c.query("SELECT TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'or_sector'")
      expect((sectorCollation as { c: string }[])[0]!.c).toBe('utf8mb4_general_ci') // latin1_general_ci's twin
      const [cols] = await c.query("SELECT CHARACTER_SET_NAME AS cs FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE = 'varchar'")
      expect(new Set((cols as { cs: string }[]).map((r) => r.cs))).toEqual(new Set(['utf8mb4']))
      const [fks] = await c.query('SELECT TABLE_NAME AS t, REFERENCED_TABLE_NAME AS p FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()')
      expect(fks).toEqual([{ t: 'or_organisation', p: 'or_sector' }])
    } finally {
      await c.end()
    }
    expect((await readTable(target.url, 'or_organisation')).map((o) => [o.id, o.name, o.sector_id])).toEqual([
      [1, 'Médecins du Monde France', 1],
      [2, 'Oxfam', null],
      [3, 'WFP', 2],
    ])
    expect((await readTable(target.url, 'or_sector')).map((s) => s.name)).toEqual(['Santé', 'Food'])
    expect(report.constraints).toEqual([])
  })
})
