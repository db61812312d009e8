import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlDialect, mysqlSql, mysqlTypes } from '../../dialects/mysql/index.js'
import type { DatabaseSchema, TableSchema } from '../../src/schema/types.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

describe.skipIf(!(await serverUp('mysql')))('mysql introspection', () => {
  let db: TestDatabase
  let schema: DatabaseSchema
  beforeAll(async () => {
    db = await createMysqlDatabase('dbferry_intro')
    const c = await mysql2.createConnection(db.url)
    try {
      await c.query('CREATE TABLE parent (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, code CHAR(3) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL, PRIMARY KEY (id), UNIQUE KEY code_u (code)) ENGINE=InnoDB')
      await c.query(`CREATE TABLE child (
        id INT NOT NULL,
        parent_id BIGINT UNSIGNED,
        title VARCHAR(200) NOT NULL DEFAULT 'it''s \\\\ here',
        body TEXT,
        price DECIMAL(10,2) DEFAULT 1.50,
        created DATETIME(3) DEFAULT CURRENT_TIMESTAMP(3),
        flag TINYINT(1) NOT NULL DEFAULT 1,
        doubled INT AS (id * 2) VIRTUAL,
        doc JSON,
        PRIMARY KEY (id),
        KEY title_prefix (title(20), body(30)),
        UNIQUE KEY title_prefix_u (title(50)),
        FULLTEXT KEY body_ft (body),
        CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`)
      await c.query('CREATE TABLE legacy (id INT PRIMARY KEY, name VARCHAR(20)) ENGINE=MyISAM DEFAULT CHARSET=utf8mb3')
      await c.query('CREATE VIEW child_titles AS SELECT id, title FROM child')
    } finally {
      await c.end()
    }
    const conn = await mysqlDialect.connect(db.url)
    try {
      schema = await conn.introspect()
    } finally {
      await conn.close()
    }
  })
  afterAll(async () => {
    await db?.drop()
  })

  const table = (name: string): TableSchema => schema.tables.find((t) => t.name === name)!

  it('reads engines, charsets, collations and exact types', () => {
    expect(schema.tables.map((t) => [t.name, t.engine, t.charset, t.collation])).toEqual([
      ['child', 'InnoDB', 'utf8mb4', 'utf8mb4_unicode_ci'],
      ['legacy', 'MyISAM', 'utf8mb3', 'utf8mb3_general_ci'],
      ['parent', 'InnoDB', 'utf8mb4', 'utf8mb4_general_ci'],
    ])
    const p = table('parent')
    expect(p.columns.map((c) => [c.name, c.type, c.charset ?? null, c.collation ?? null, c.autoIncrement ?? false])).toEqual([
      ['id', { kind: 'int64', unsigned: true }, null, null, true],
      ['code', { kind: 'text', length: 3, fixed: true }, 'latin1', 'latin1_swedish_ci', false],
    ])
    const ch = table('child')
    expect(Object.fromEntries(ch.columns.map((c) => [c.name, c.type]))).toEqual({
      id: { kind: 'int32' },
      parent_id: { kind: 'int64', unsigned: true },
      title: { kind: 'text', length: 200 },
      body: { kind: 'text' },
      price: { kind: 'decimal', precision: 10, scale: 2 },
      created: { kind: 'timestamp', precision: 3 },
      flag: { kind: 'boolean' },
      doubled: { kind: 'int32' },
      doc: { kind: 'json' },
    })
    expect(ch.columns.find((c) => c.name === 'doubled')!.generated).toBe(true)
  })

  it('reads defaults as values, now() and expressions', () => {
    const d = Object.fromEntries(table('child').columns.map((c) => [c.name, c.default]))
    expect(d.title).toEqual({ kind: 'value', value: "it's \\ here" })
    expect(d.price).toEqual({ kind: 'value', value: '1.50' })
    expect(d.created).toEqual({ kind: 'now' })
    expect(d.flag).toEqual({ kind: 'value', value: true })
    expect(d.body).toBeUndefined()
  })

  it('reads keys, prefix indexes, full-text indexes and foreign keys', () => {
    const ch = table('child')
    expect(ch.primaryKey).toEqual({ name: 'PRIMARY', columns: ['id'] })
    expect(table('parent').uniques).toEqual([{ name: 'code_u', columns: ['code'] }])
    expect(ch.indexes).toEqual(
      expect.arrayContaining([
        { name: 'title_prefix', columns: ['title', 'body'], unique: false, lengths: [20, 30] },
        { name: 'title_prefix_u', columns: ['title'], unique: true, lengths: [50] },
        { name: 'body_ft', columns: ['body'], unique: false, expression: 'FULLTEXT', dialect: 'mysql' },
      ]),
    )
    expect(ch.foreignKeys).toEqual([{ name: 'child_parent', columns: ['parent_id'], refTable: 'parent', refColumns: ['id'], onDelete: 'CASCADE', origin: 'source' }])
    // MyISAM keeps no foreign keys: they are declared with the foreignKeys option
    expect(table('legacy').foreignKeys).toEqual([])
    expect(schema.objects).toEqual([expect.objectContaining({ name: 'child_titles', type: 'view', dependsOn: ['child'] })])
  })

  it('maps logical types to DDL: text keys fit the index, fixed text is varchar, timestamptz is UTC datetime', () => {
    expect(mysqlTypes.toNative({ kind: 'text', length: 3, fixed: true })).toBe('varchar(3)')
    expect(mysqlTypes.toNative({ kind: 'decimal' })).toBe('decimal(65,30)')
    expect(mysqlTypes.toNative({ kind: 'int64', unsigned: true })).toBe('bigint unsigned')
    const sql = mysqlSql.createTable(
      {
        name: 'k',
        columns: [
          { name: 'a', type: { kind: 'text' }, nativeType: '', nullable: false },
          { name: 'b', type: { kind: 'text' }, nativeType: '', nullable: false },
          { name: 'when', type: { kind: 'timestamptz', precision: 6 }, nativeType: '', nullable: true },
        ],
        primaryKey: { columns: ['a', 'b'] },
        uniques: [],
        indexes: [],
        foreignKeys: [],
      },
    )
    expect(sql).toContain('`a` varchar(384) NOT NULL')
    expect(sql).toContain('`b` varchar(384) NOT NULL')
    expect(sql).toContain("`when` datetime(6) NULL COMMENT 'dbferry: timestamptz in UTC'")
    expect(sql).toContain('ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci')
  })
})
