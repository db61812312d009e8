import { describe, expect, it } from 'vitest'
import { mssqlTypes, type MssqlColumnInfo } from '../../dialects/mssql/mssql-types.js'
import type { LogicalType } from '../../src/schema/types.js'

const mssqlToLogical = mssqlTypes.columnMapping
const mssqlNativeType = mssqlTypes.toNative
const bulkColumnType = mssqlTypes.bulkColumnType
const bulkExact = mssqlTypes.bulkExact

const col = (typeName: string, maxLength = 0, precision = 0, scale = 0, codePage?: number): MssqlColumnInfo => ({ typeName, maxLength, precision, scale, ...(codePage !== undefined ? { codePage } : {}) })

describe('SQL Server → logical type map', () => {
  it.each<[MssqlColumnInfo, LogicalType, string]>([
    [col('bit'), { kind: 'boolean' }, 'bit'],
    [col('tinyint'), { kind: 'int16' }, 'tinyint'],
    [col('smallint'), { kind: 'int16' }, 'smallint'],
    [col('int'), { kind: 'int32' }, 'int'],
    [col('bigint'), { kind: 'int64' }, 'bigint'],
    [col('decimal', 9, 18, 2), { kind: 'decimal', precision: 18, scale: 2 }, 'decimal(18,2)'],
    [col('numeric', 17, 38, 10), { kind: 'decimal', precision: 38, scale: 10 }, 'numeric(38,10)'],
    [col('money', 8, 19, 4), { kind: 'decimal', precision: 19, scale: 4 }, 'money'],
    [col('smallmoney', 4, 10, 4), { kind: 'decimal', precision: 10, scale: 4 }, 'smallmoney'],
    [col('real', 4, 24), { kind: 'float32' }, 'real'],
    [col('float', 8, 53), { kind: 'float64' }, 'float'],
    [col('nvarchar', 100), { kind: 'text', length: 50 }, 'nvarchar(50)'],
    [col('nvarchar', -1), { kind: 'text' }, 'nvarchar(max)'],
    [col('nchar', 20), { kind: 'text', length: 10, fixed: true }, 'nchar(10)'],
    [col('varchar', 40, 0, 0, 65001), { kind: 'text', length: 40 }, 'varchar(40)'],
    [col('ntext', 16), { kind: 'text' }, 'ntext'],
    [col('varbinary', -1), { kind: 'bytes' }, 'varbinary(max)'],
    [col('binary', 16), { kind: 'bytes', length: 16, fixed: true }, 'binary(16)'],
    [col('image', 16), { kind: 'bytes' }, 'image'],
    [col('date', 3), { kind: 'date' }, 'date'],
    [col('time', 5, 16, 7), { kind: 'time', precision: 7 }, 'time(7)'],
    [col('datetime', 8, 23, 3), { kind: 'timestamp', precision: 3 }, 'datetime'],
    [col('smalldatetime', 4, 16, 0), { kind: 'timestamp', precision: 0 }, 'smalldatetime'],
    [col('datetime2', 8, 27, 7), { kind: 'timestamp', precision: 7 }, 'datetime2(7)'],
    [col('datetime2', 6, 19, 0), { kind: 'timestamp', precision: 0 }, 'datetime2(0)'],
    [col('datetimeoffset', 10, 34, 7), { kind: 'timestamptz', precision: 7 }, 'datetimeoffset(7)'],
    [col('uniqueidentifier', 16), { kind: 'uuid' }, 'uniqueidentifier'],
    [col('xml', -1), { kind: 'text' }, 'xml'],
    [col('timestamp', 8), { kind: 'bytes', length: 8, fixed: true }, 'rowversion'],
    [col('sql_variant', 8016), { kind: 'text' }, 'sql_variant'],
    [col('hierarchyid', 892), { kind: 'text', length: 4000 }, 'hierarchyid'],
    [col('geography', -1), { kind: 'text' }, 'geography'],
  ])('%o', (info, type, native) => {
    const m = mssqlToLogical(info)
    expect('rejected' in m).toBe(false)
    if ('rejected' in m) return
    expect(m.type).toEqual(type)
    expect(m.nativeType).toBe(native)
  })

  it('reads temporal values as text on the server, never as a Date', () => {
    const sel = (t: MssqlColumnInfo) => (mssqlToLogical(t) as { select: string }).select
    expect(sel(col('datetime2', 8, 27, 7))).toBe('CONVERT(nvarchar(27), {col}, 121)')
    expect(sel(col('datetimeoffset', 10, 34, 7))).toBe('CONVERT(nvarchar(34), {col}, 121)')
    expect(sel(col('datetime', 8, 23, 3))).toBe('CONVERT(nvarchar(23), {col}, 121)')
    expect(sel(col('date', 3))).toBe('CONVERT(nchar(10), {col}, 23)')
    expect(sel(col('time', 5, 16, 7))).toBe('CAST({col} AS nvarchar(16))')
    expect(sel(col('decimal', 17, 38, 10))).toBe('CAST({col} AS nvarchar(48))')
    expect(sel(col('money', 8, 19, 4))).toBe('CAST(CAST({col} AS decimal(19,4)) AS nvarchar(32))')
  })

  it('reads varchar in a legacy code page as bytes to decode, and UTF-8 collations as text', () => {
    const arabic = mssqlToLogical(col('varchar', 50, 0, 0, 1256))
    expect(arabic).toMatchObject({ decodeCodePage: 1256, select: 'CAST({col} AS varbinary(max))' })
    const danish = mssqlToLogical(col('char', 10, 0, 0, 1252))
    expect(danish).toMatchObject({ decodeCodePage: 1252, type: { kind: 'text', length: 10, fixed: true } })
    expect(mssqlToLogical(col('varchar', 50, 0, 0, 65001))).not.toHaveProperty('decodeCodePage')
  })

  it('maps the special types explicitly, with a note, and rejects unknown ones by name', () => {
    expect(mssqlToLogical(col('geography', -1))).toMatchObject({ select: '{col}.STAsText()', note: expect.stringMatching(/WKT/) })
    expect(mssqlToLogical(col('hierarchyid', 892))).toMatchObject({ select: '{col}.ToString()' })
    expect(mssqlToLogical(col('sql_variant', 8016))).toMatchObject({ note: expect.stringMatching(/base type is lost/) })
    expect(mssqlToLogical(col('vector', 100))).toEqual({ rejected: expect.stringMatching(/vector has no mapping/) })
  })
})

describe('declared T-SQL types → logical types (toLogical)', () => {
  it.each<[string, LogicalType]>([
    ['int', { kind: 'int32' }],
    ['INT', { kind: 'int32' }],
    ['integer', { kind: 'int32' }],
    ['bigint', { kind: 'int64' }],
    ['smallint', { kind: 'int16' }],
    ['tinyint', { kind: 'int16' }],
    ['decimal(18,2)', { kind: 'decimal', precision: 18, scale: 2 }],
    ['decimal(18, 2)', { kind: 'decimal', precision: 18, scale: 2 }],
    ['decimal', { kind: 'decimal', precision: 18, scale: 0 }],
    ['numeric(38,0)', { kind: 'decimal', precision: 38, scale: 0 }],
    ['money', { kind: 'decimal', precision: 19, scale: 4 }],
    ['smallmoney', { kind: 'decimal', precision: 10, scale: 4 }],
    ['nvarchar(50)', { kind: 'text', length: 50 }],
    ['[nvarchar](50)', { kind: 'text', length: 50 }],
    ['nvarchar(max)', { kind: 'text' }],
    ['varchar(max)', { kind: 'text' }],
    ['varchar', { kind: 'text', length: 1 }],
    ['char(3)', { kind: 'text', length: 3, fixed: true }],
    ['nchar(10)', { kind: 'text', length: 10, fixed: true }],
    ['national character varying(20)', { kind: 'text', length: 20 }],
    ['ntext', { kind: 'text' }],
    ['sysname', { kind: 'text', length: 128 }],
    ['datetime', { kind: 'timestamp', precision: 3 }],
    ['smalldatetime', { kind: 'timestamp', precision: 0 }],
    ['datetime2(7)', { kind: 'timestamp', precision: 7 }],
    ['datetime2', { kind: 'timestamp', precision: 7 }],
    ['datetime2(3)', { kind: 'timestamp', precision: 3 }],
    ['datetimeoffset(3)', { kind: 'timestamptz', precision: 3 }],
    ['time(7)', { kind: 'time', precision: 7 }],
    ['time', { kind: 'time', precision: 7 }],
    ['date', { kind: 'date' }],
    ['uniqueidentifier', { kind: 'uuid' }],
    ['varbinary(max)', { kind: 'bytes' }],
    ['varbinary(16)', { kind: 'bytes', length: 16 }],
    ['binary(8)', { kind: 'bytes', length: 8, fixed: true }],
    ['image', { kind: 'bytes' }],
    ['bit', { kind: 'boolean' }],
    ['float', { kind: 'float64' }],
    ['float(53)', { kind: 'float64' }],
    ['float(24)', { kind: 'float32' }],
    ['double precision', { kind: 'float64' }],
    ['real', { kind: 'float32' }],
    ['xml', { kind: 'text' }],
    ['rowversion', { kind: 'bytes', length: 8, fixed: true }],
  ])('%s', (declared, type) => {
    expect(mssqlTypes.toLogical(declared)).toEqual(type)
  })

  it('rejects types with no logical form, with the reason, instead of guessing', () => {
    for (const t of ['hierarchyid', 'geography', 'geometry', 'sql_variant']) {
      expect(mssqlTypes.toLogical(t)).toEqual({ reject: expect.stringContaining(t) })
    }
    expect(mssqlTypes.toLogical('vector(3)')).toEqual({ reject: expect.stringMatching(/vector has no mapping/) })
    expect(mssqlTypes.toLogical('nvarchar(')).toEqual({ reject: expect.stringMatching(/not a SQL Server type/) })
  })

  it('gives a declared type the logical type of the same live column', () => {
    // what tsql scripts declare and what sys.columns shows for the same column must agree
    const pairs: [string, MssqlColumnInfo][] = [
      ['decimal(18,2)', col('decimal', 9, 18, 2)],
      ['nvarchar(50)', col('nvarchar', 100)],
      ['nvarchar(max)', col('nvarchar', -1)],
      ['char(3)', col('char', 3, 0, 0, 65001)],
      ['datetime2(7)', col('datetime2', 8, 27, 7)],
      ['datetimeoffset(3)', col('datetimeoffset', 10, 30, 3)],
      ['float', col('float', 8, 53)],
      ['real', col('real', 4, 24)],
    ]
    for (const [declared, info] of pairs) expect(mssqlTypes.toLogical(declared)).toEqual((mssqlToLogical(info) as { type: LogicalType }).type)
  })

  it('reads back every native type toNative produces as the same logical type', () => {
    const cases: LogicalType[] = [
      { kind: 'boolean' }, { kind: 'int16' }, { kind: 'int32' }, { kind: 'int64' }, { kind: 'decimal', precision: 12, scale: 3 },
      { kind: 'float32' }, { kind: 'float64' }, { kind: 'text', length: 40 }, { kind: 'text' }, { kind: 'text', length: 2, fixed: true },
      { kind: 'bytes' }, { kind: 'bytes', length: 16, fixed: true }, { kind: 'date' }, { kind: 'time', precision: 7 },
      { kind: 'timestamp', precision: 3 }, { kind: 'timestamptz', precision: 7 }, { kind: 'uuid' },
    ]
    for (const t of cases) expect(mssqlTypes.toLogical(mssqlTypes.toNative(t))).toEqual(t)
  })
})

describe('logical → SQL Server type map', () => {
  it.each<[LogicalType, string]>([
    [{ kind: 'boolean' }, 'bit'],
    [{ kind: 'int16' }, 'smallint'],
    [{ kind: 'int16', unsigned: true }, 'int'],
    [{ kind: 'int32' }, 'int'],
    [{ kind: 'int32', unsigned: true }, 'bigint'],
    [{ kind: 'int64' }, 'bigint'],
    [{ kind: 'int64', unsigned: true }, 'decimal(20,0)'],
    [{ kind: 'decimal', precision: 12, scale: 3 }, 'decimal(12,3)'],
    [{ kind: 'decimal', precision: 65, scale: 30 }, 'decimal(38,30)'],
    [{ kind: 'decimal' }, 'decimal(38,10)'],
    [{ kind: 'float32' }, 'real'],
    [{ kind: 'float64' }, 'float'],
    [{ kind: 'text', length: 40 }, 'nvarchar(40)'],
    [{ kind: 'text', length: 4000 }, 'nvarchar(4000)'],
    [{ kind: 'text', length: 4001 }, 'nvarchar(max)'],
    [{ kind: 'text', length: 2, fixed: true }, 'nchar(2)'],
    [{ kind: 'text' }, 'nvarchar(max)'],
    [{ kind: 'text', values: ['a', 'b'] }, 'nvarchar(max)'],
    [{ kind: 'bytes' }, 'varbinary(max)'],
    [{ kind: 'bytes', length: 16, fixed: true }, 'binary(16)'],
    [{ kind: 'date' }, 'date'],
    [{ kind: 'time' }, 'time(7)'],
    [{ kind: 'time', precision: 3 }, 'time(3)'],
    [{ kind: 'timestamp' }, 'datetime2(7)'],
    [{ kind: 'timestamp', precision: 6 }, 'datetime2(6)'],
    [{ kind: 'timestamptz', precision: 6 }, 'datetimeoffset(6)'],
    [{ kind: 'uuid' }, 'uniqueidentifier'],
    [{ kind: 'json' }, 'nvarchar(max)'],
  ])('%o → %s', (type, native) => {
    expect(mssqlNativeType(type)).toBe(native)
  })

  it('round-trips every native type it produces back to the same logical type', () => {
    const cases: LogicalType[] = [
      { kind: 'boolean' }, { kind: 'int32' }, { kind: 'int64' }, { kind: 'decimal', precision: 12, scale: 3 },
      { kind: 'float64' }, { kind: 'text', length: 40 }, { kind: 'bytes' }, { kind: 'date' },
      { kind: 'time', precision: 7 }, { kind: 'timestamp', precision: 7 }, { kind: 'timestamptz', precision: 7 }, { kind: 'uuid' },
    ]
    for (const t of cases) {
      const native = mssqlNativeType(t)
      const m = /^(\w+)(?:\((\w+)(?:,(\d+))?\))?$/.exec(native)!
      const name = m[1]!
      const a = m[2] === 'max' ? -1 : Number(m[2] ?? 0)
      const info: MssqlColumnInfo = /char/.test(name)
        ? col(name, a < 0 ? -1 : a * 2)
        : /binary/.test(name)
          ? col(name, a)
          : /^(datetime2|time|datetimeoffset)$/.test(name)
            ? col(name, 8, 0, a)
            : name === 'decimal'
              ? col(name, 9, a, Number(m[3]))
              : col(name, 8, name === 'float' ? 53 : 0)
      const back = mssqlToLogical(info)
      expect('type' in back ? back.type : back).toEqual(t)
    }
  })
})

describe('bulk column declarations', () => {
  it('always carry an explicit scale for datetime2, time and datetimeoffset (tedious would send 0)', () => {
    expect(bulkColumnType({ kind: 'timestamp' })).toEqual({ name: 'DateTime2', scale: 7 })
    expect(bulkColumnType({ kind: 'timestamp', precision: 3 })).toEqual({ name: 'DateTime2', scale: 3 })
    expect(bulkColumnType({ kind: 'time', precision: 6 })).toEqual({ name: 'Time', scale: 6 })
    expect(bulkColumnType({ kind: 'timestamptz' })).toEqual({ name: 'DateTimeOffset', scale: 7 })
    expect(bulkColumnType({ kind: 'decimal', precision: 10, scale: 2 })).toEqual({ name: 'Decimal', precision: 10, scale: 2 })
    expect(bulkColumnType({ kind: 'text', length: 40 })).toEqual({ name: 'NVarChar', length: 40 })
    expect(bulkColumnType({ kind: 'json' })).toEqual({ name: 'NVarChar', length: 'max' })
  })

  it('sends decimals over 15 digits and unsigned 64-bit integers through the exact INSERT path', () => {
    expect(bulkExact({ kind: 'decimal', precision: 15, scale: 2 })).toBe(true)
    expect(bulkExact({ kind: 'decimal', precision: 18, scale: 2 })).toBe(false)
    expect(bulkExact({ kind: 'decimal' })).toBe(false)
    expect(bulkExact({ kind: 'int64', unsigned: true })).toBe(false)
    expect(bulkExact({ kind: 'timestamp', precision: 7 })).toBe(true)
  })
})
