import mysql2 from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

/**
 * A foreign key `ON DELETE SET NULL` on a NOT NULL column: PostgreSQL accepts it (deleting a referenced parent
 * then fails on the NOT NULL), MariaDB refuses it. The key is created with `ON DELETE RESTRICT`, which refuses
 * the same deletes, and the change is listed in the report's constraints, so the run is not clean.
 */

describe.skipIf(!(await serverUp('postgres')) || !(await serverUp('mysql')))('ON DELETE SET NULL on a NOT NULL column, PostgreSQL → MariaDB, live', () => {
  let source: TestDatabase
  let target: TestDatabase
  beforeAll(async () => {
    source = await createPostgresDatabase('dbferry_setnull')
    target = await createMysqlDatabase('dbferry_setnull')
    const c = new pg.Client({ connectionString: source.url })
    await c.connect()
    try {
      await c.query(`CREATE TABLE parent (id int PRIMARY KEY)`)
      await c.query(`CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL,
        CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE SET NULL ON UPDATE CASCADE)`)
      await c.query(`CREATE TABLE other (id int PRIMARY KEY, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE SET NULL)`)
      await c.query(`INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (10, 1), (11, 2); INSERT INTO other VALUES (20, 1)`)
      // what the key means in PostgreSQL: a referenced parent cannot be deleted
      await expect(c.query('DELETE FROM parent WHERE id = 1')).rejects.toThrow(/null value in column "parent_id"/)
    } finally {
      await c.end()
    }
  })
  afterAll(async () => {
    await source?.drop()
    await target?.drop()
  })

  it('creates the key with ON DELETE RESTRICT and reports the change', async () => {
    const report = await ferry({ from: source.url, to: target.url })
    expect(report.error).toBeUndefined()
    expect(report.totals).toMatchObject({ read: 5, written: 5, rejected: 0 })
    expect(report.constraints).toEqual([
      {
        table: 'child',
        name: 'child_parent_fk',
        kind: 'foreign_key',
        outcome: 'changed',
        message: expect.stringMatching(/^ON DELETE SET NULL became ON DELETE RESTRICT \(parent_id is NOT NULL\)/),
      },
    ])
    expect(report.clean).toBe(false)
    const m = await mysql2.createConnection(target.url)
    try {
      const [rules] = await m.query(
        'SELECT TABLE_NAME AS t, DELETE_RULE AS d, UPDATE_RULE AS u FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME',
      )
      // the nullable column keeps SET NULL; the NOT NULL one refuses the delete, as in PostgreSQL
      expect(rules).toEqual([
        { t: 'child', d: 'RESTRICT', u: 'CASCADE' },
        { t: 'other', d: 'SET NULL', u: 'RESTRICT' },
      ])
      await m.query('DELETE FROM other')
      await expect(m.query('DELETE FROM parent WHERE id = 1')).rejects.toThrow(/foreign key constraint fails/)
    } finally {
      await m.end()
    }
  })
})
