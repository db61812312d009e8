import { describe, expect, it } from 'vitest'
import { mysqlSql, mysqlTypes } from '../../dialects/mysql/index.js'
import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'

describe('mysqlTypes.toLogical: types as information_schema.COLUMN_TYPE and mysqldump print them', () => {
  const cases: [string, LogicalType | { reject: string }][] = [
    ['int(11)', { kind: 'int32' }],
    ['int', { kind: 'int32' }],
    ['int(10) unsigned', { kind: 'int64' }],
    ['INT(10) UNSIGNED ZEROFILL', { kind: 'int64' }],
    ['tinyint(1)', { kind: 'boolean' }],
    ['tinyint(4)', { kind: 'int16' }],
    ['smallint(5) unsigned', { kind: 'int32' }],
    ['mediumint', { kind: 'int32' }],
    ['bigint', { kind: 'int64' }],
    ['bigint unsigned', { kind: 'int64', unsigned: true }],
    ['bigint(20) unsigned', { kind: 'int64', unsigned: true }],
    ['decimal(10,2)', { kind: 'decimal', precision: 10, scale: 2 }],
    ['decimal', { kind: 'decimal', precision: 10, scale: 0 }],
    ['dec(12,4)', { kind: 'decimal', precision: 12, scale: 4 }],
    ['fixed(5)', { kind: 'decimal', precision: 5, scale: 0 }],
    ['numeric(7, 3)', { kind: 'decimal', precision: 7, scale: 3 }],
    ['float', { kind: 'float32' }],
    ['double', { kind: 'float64' }],
    ['double precision', { kind: 'float64' }],
    ['varchar(255)', { kind: 'text', length: 255 }],
    ['char(3)', { kind: 'text', length: 3, fixed: true }],
    ['char', { kind: 'text', length: 1, fixed: true }],
    ['longtext', { kind: 'text' }],
    ["enum('a','b')", { kind: 'text', values: ['a', 'b'] }],
    ["enum('it''s','x,y','(z)')", { kind: 'text', values: ["it's", 'x,y', '(z)'] }],
    ["set('a','b')", { kind: 'text' }],
    ['binary(16)', { kind: 'bytes', length: 16, fixed: true }],
    ['varbinary(200)', { kind: 'bytes', length: 200 }],
    ['blob', { kind: 'bytes' }],
    ['date', { kind: 'date' }],
    ['datetime', { kind: 'timestamp', precision: 0 }],
    ['datetime(6)', { kind: 'timestamp', precision: 6 }],
    ['timestamp', { kind: 'timestamptz', precision: 0 }],
    ['timestamp(3)', { kind: 'timestamptz', precision: 3 }],
    ['time(3)', { kind: 'time', precision: 3 }],
    ['year', { kind: 'int16' }],
    ['year(4)', { kind: 'int16' }],
    ['bool', { kind: 'boolean' }],
    ['boolean', { kind: 'boolean' }],
    ['json', { kind: 'json' }],
    ['bit(1)', { kind: 'boolean' }],
    ['bit(10)', { kind: 'int64' }],
    ['bit(64)', { kind: 'int64', unsigned: true }],
    ['uuid', { kind: 'uuid' }],
    // spatial types are read as the server sends them (WKB)
    ['point', { kind: 'bytes' }],
    ['', { reject: '"" is not a MySQL type' }],
  ]
  for (const [declared, logical] of cases) {
    it(`${JSON.stringify(declared)}`, () => {
      expect(mysqlTypes.toLogical(declared)).toEqual(logical)
    })
  }

  it('gives back the logical type of every DDL type it writes', () => {
    const written: LogicalType[] = [
      { kind: 'boolean' },
      { kind: 'int16' },
      { kind: 'int32' },
      { kind: 'int64' },
      { kind: 'int64', unsigned: true },
      { kind: 'decimal', precision: 12, scale: 3 },
      { kind: 'float32' },
      { kind: 'float64' },
      { kind: 'text', length: 40 },
      { kind: 'text', values: ['small', "it's"] },
      { kind: 'bytes', length: 16 },
      { kind: 'date' },
      { kind: 'time', precision: 3 },
      { kind: 'timestamp', precision: 6 },
      { kind: 'json' },
    ]
    for (const t of written) expect(mysqlTypes.toLogical(mysqlTypes.toNative(t))).toEqual(t)
  })
})

describe('mysqlSql: script statements', () => {
  const col = (type: LogicalType): ColumnSchema => ({ name: 'c', type, nativeType: '', nullable: true })
  it('literals escape with backslashes, write bytes as hex and timestamps with offset in UTC', () => {
    expect(mysqlSql.literal("it's \\ \n\0", col({ kind: 'text' }))).toBe("'it\\'s \\\\ \\n\\0'")
    expect(mysqlSql.literal(Buffer.from([0, 255]), col({ kind: 'bytes' }))).toBe("X'00ff'")
    expect(mysqlSql.literal(new Uint8Array(0), col({ kind: 'bytes' }))).toBe("''")
    expect(mysqlSql.literal('2024-01-01 01:30:00+02:00', col({ kind: 'timestamptz' }))).toBe("'2023-12-31 23:30:00'")
    expect(mysqlSql.literal(-0, col({ kind: 'float64' }))).toBe('0')
    expect(mysqlSql.literal(18446744073709551615n, col({ kind: 'int64', unsigned: true }))).toBe('18446744073709551615')
    expect(mysqlSql.literal(true, col({ kind: 'boolean' }))).toBe('1')
  })

  it('keys and foreign keys: quoted, prefix lengths kept, expression indexes left out, foreign keys added after the data', () => {
    const t = { name: 'o`rder', columns: [col({ kind: 'text' })], uniques: [], indexes: [], foreignKeys: [] }
    expect(mysqlSql.createIndex(t, { name: 'ix', columns: ['a', 'b'], unique: true, lengths: [undefined, 10] })).toBe('CREATE UNIQUE INDEX `ix` ON `o``rder` (`a`, `b`(10))')
    expect(mysqlSql.createIndex(t, { name: 'fx', columns: [], unique: false, expression: 'lower(a)' })).toBeUndefined()
    expect(mysqlSql.foreignKeysInCreate).toBe(false)
    expect(mysqlSql.addForeignKey(t, { columns: ['p'], refTable: 'parent', refColumns: ['id'], onDelete: 'cascade', origin: 'source' })).toBe(
      'ALTER TABLE `o``rder` ADD CONSTRAINT `o``rder_p_fkey` FOREIGN KEY (`p`) REFERENCES `parent` (`id`) ON DELETE CASCADE',
    )
    expect(mysqlSql.resetIdentity(t)).toEqual([])
    expect(mysqlSql.script.header).toContain("SET TIME_ZONE = '+00:00'")
  })
})
