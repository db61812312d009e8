import type { LogicalType } from '../../src/schema/types.js'

/**
 * SQL Server's type map, both ways, as data. Imports no driver: the writer turns a {@link BulkColumnType} into
 * an `mssql` type, so the declarations (and their scales) are testable offline.
 *
 * Notes that matter for exactness:
 * - `datetime` is accurate to 1/300 s (values end in .000, .003 or .007): it is read with 3 digits and, as a
 *   target type, never chosen (`datetime2(7)` is).
 * - `smalldatetime` has minute precision; `money`/`smallmoney` are exact decimals with 4 digits.
 * - `datetime2`, `time` and `datetimeoffset` go up to 7 fractional digits; bulk columns declare the scale,
 *   because tedious sends an undeclared scale as 0 and rounds the fraction away.
 */

/** What introspection knows about one SQL Server column (from `sys.columns` / `sys.types`). */
export interface MssqlColumnInfo {
  /** The system type name, e.g. `nvarchar`, `datetime2`, `geography`. */
  typeName: string
  /** `sys.columns.max_length` in bytes; -1 for `(max)`. */
  maxLength: number
  precision: number
  scale: number
  /** The collation's code page (`COLLATIONPROPERTY(collation, 'CodePage')`), for char/varchar/text. */
  codePage?: number
}

/** How a source column is read: its logical type, its native declaration and the select expression. */
export interface MssqlColumnMapping {
  type: LogicalType
  nativeType: string
  /**
   * How the reader selects the column, `{col}` standing for the quoted column name. Temporal values are
   * converted to text on the server so no `Date` (and no time zone) is ever involved.
   */
  select: string
  /** The value arrives as bytes to decode from this code page (char/varchar in a non-UTF-8 collation). */
  decodeCodePage?: number
  /** A lossy or explicit mapping the report should mention. */
  note?: string
}

/** A column of a type dbferry refuses to copy, with why. */
export interface MssqlRejectedType {
  rejected: string
}

const TEMPORAL_SCALE = (s: number) => Math.max(0, Math.min(7, s))

function lengthOf(bytes: number, perChar: number): number | undefined {
  return bytes < 0 ? undefined : Math.floor(bytes / perChar)
}

/**
 * Maps a SQL Server column to the logical model. Types with no faithful logical form are mapped explicitly
 * (with a `note`) or rejected — never silently.
 */
export function mssqlToLogical(col: MssqlColumnInfo): MssqlColumnMapping | MssqlRejectedType {
  const t = col.typeName.toLowerCase()
  const plain = (type: LogicalType, nativeType: string, note?: string): MssqlColumnMapping => ({
    type,
    nativeType,
    select: '{col}',
    ...(note ? { note } : {}),
  })
  switch (t) {
    case 'bit':
      return plain({ kind: 'boolean' }, 'bit')
    case 'tinyint':
      return plain({ kind: 'int16' }, 'tinyint')
    case 'smallint':
      return plain({ kind: 'int16' }, 'smallint')
    case 'int':
      return plain({ kind: 'int32' }, 'int')
    case 'bigint':
      return plain({ kind: 'int64' }, 'bigint')
    case 'decimal':
    case 'numeric':
      // tedious hands decimals over as JS numbers; text keeps every digit
      return { ...plain({ kind: 'decimal', precision: col.precision, scale: col.scale }, `${t}(${col.precision},${col.scale})`), select: `CAST({col} AS varchar(48))` }
    case 'money':
      return { ...plain({ kind: 'decimal', precision: 19, scale: 4 }, 'money'), select: 'CONVERT(varchar(32), {col}, 2)' }
    case 'smallmoney':
      return { ...plain({ kind: 'decimal', precision: 10, scale: 4 }, 'smallmoney'), select: 'CONVERT(varchar(32), {col}, 2)' }
    case 'real':
      return plain({ kind: 'float32' }, 'real')
    case 'float':
      return col.precision > 0 && col.precision <= 24 ? plain({ kind: 'float32' }, 'real') : plain({ kind: 'float64' }, 'float')
    case 'char':
    case 'varchar':
    case 'text': {
      const length = t === 'text' ? undefined : lengthOf(col.maxLength, 1)
      const native = t === 'text' ? 'text' : `${t}(${length ?? 'max'})`
      const type: LogicalType = { kind: 'text', ...(length !== undefined ? { length } : {}), ...(t === 'char' ? { fixed: true } : {}) }
      if (col.codePage !== undefined && col.codePage !== 65001 && col.codePage !== 0) {
        // bytes in the collation's code page, decoded by dbferry (the seeds' Arabic and Danish text)
        return { type, nativeType: native, select: t === 'text' ? 'CAST(CAST({col} AS varchar(max)) AS varbinary(max))' : 'CAST({col} AS varbinary(max))', decodeCodePage: col.codePage }
      }
      return plain(type, native)
    }
    case 'nchar':
    case 'nvarchar':
    case 'ntext': {
      const length = t === 'ntext' ? undefined : lengthOf(col.maxLength, 2)
      const native = t === 'ntext' ? 'ntext' : `${t}(${length ?? 'max'})`
      return { ...plain({ kind: 'text', ...(length !== undefined ? { length } : {}), ...(t === 'nchar' ? { fixed: true } : {}) }, native), ...(t === 'ntext' ? { select: 'CAST({col} AS nvarchar(max))' } : {}) }
    }
    case 'binary':
    case 'varbinary':
    case 'image': {
      const length = t === 'image' ? undefined : lengthOf(col.maxLength, 1)
      return plain({ kind: 'bytes', ...(length !== undefined ? { length } : {}), ...(t === 'binary' ? { fixed: true } : {}) }, t === 'image' ? 'image' : `${t}(${length ?? 'max'})`)
    }
    case 'date':
      return { ...plain({ kind: 'date' }, 'date'), select: 'CONVERT(char(10), {col}, 23)' }
    case 'time': {
      const p = TEMPORAL_SCALE(col.scale)
      return { ...plain({ kind: 'time', precision: p }, `time(${p})`), select: 'CAST({col} AS varchar(16))' }
    }
    case 'datetime':
      return { ...plain({ kind: 'timestamp', precision: 3 }, 'datetime', 'datetime is accurate to 1/300 s'), select: 'CONVERT(varchar(23), {col}, 121)' }
    case 'smalldatetime':
      return { ...plain({ kind: 'timestamp', precision: 0 }, 'smalldatetime'), select: 'CONVERT(varchar(19), {col}, 120)' }
    case 'datetime2': {
      const p = TEMPORAL_SCALE(col.scale)
      return { ...plain({ kind: 'timestamp', precision: p }, `datetime2(${p})`), select: 'CONVERT(varchar(27), {col}, 121)' }
    }
    case 'datetimeoffset': {
      const p = TEMPORAL_SCALE(col.scale)
      // style 121 on datetimeoffset: 'yyyy-mm-dd hh:mi:ss.fffffff +hh:mm'
      return { ...plain({ kind: 'timestamptz', precision: p }, `datetimeoffset(${p})`), select: 'CONVERT(varchar(34), {col}, 121)' }
    }
    case 'uniqueidentifier':
      return { ...plain({ kind: 'uuid' }, 'uniqueidentifier'), select: 'CONVERT(char(36), {col})' }
    case 'xml':
      return { ...plain({ kind: 'text' }, 'xml', 'xml copied as text'), select: 'CAST({col} AS nvarchar(max))' }
    case 'timestamp':
    case 'rowversion':
      return plain({ kind: 'bytes', length: 8, fixed: true }, 'rowversion', 'rowversion copied as binary(8); the target generates no new versions')
    case 'sql_variant':
      return { ...plain({ kind: 'text' }, 'sql_variant', 'sql_variant copied as its text form (the base type is lost)'), select: 'CONVERT(nvarchar(4000), {col})' }
    case 'hierarchyid':
      return { ...plain({ kind: 'text', length: 4000 }, 'hierarchyid', 'hierarchyid copied as its path text (e.g. /1/3/)'), select: '{col}.ToString()' }
    case 'geography':
    case 'geometry':
      return { ...plain({ kind: 'text' }, t, `${t} copied as WKT text; the SRID is not kept`), select: '{col}.STAsText()' }
    default:
      return { rejected: `SQL Server type ${col.typeName} has no mapping in dbferry; exclude the column's table or override its type` }
  }
}

/** The SQL Server DDL type for a logical type (DESIGN §3). Text is always Unicode (nvarchar). */
export function mssqlNativeType(type: LogicalType): string {
  switch (type.kind) {
    case 'boolean':
      return 'bit'
    case 'int16':
      return type.unsigned ? 'int' : 'smallint'
    case 'int32':
      return type.unsigned ? 'bigint' : 'int'
    case 'int64':
      return type.unsigned ? 'decimal(20,0)' : 'bigint'
    case 'decimal': {
      if (type.precision === undefined) return 'decimal(38,10)'
      const p = Math.min(Math.max(type.precision, 1), 38)
      const s = Math.min(type.scale ?? 0, p)
      return `decimal(${p},${s})`
    }
    case 'float32':
      return 'real'
    case 'float64':
      return 'float'
    case 'text':
      if (type.length !== undefined && type.length > 0 && type.length <= 4000) return `${type.fixed ? 'nchar' : 'nvarchar'}(${type.length})`
      return 'nvarchar(max)'
    case 'bytes':
      if (type.length !== undefined && type.length > 0 && type.length <= 8000) return `${type.fixed ? 'binary' : 'varbinary'}(${type.length})`
      return 'varbinary(max)'
    case 'date':
      return 'date'
    case 'time':
      return `time(${TEMPORAL_SCALE(type.precision ?? 7)})`
    case 'timestamp':
      return `datetime2(${TEMPORAL_SCALE(type.precision ?? 7)})`
    case 'timestamptz':
      return `datetimeoffset(${TEMPORAL_SCALE(type.precision ?? 7)})`
    case 'uuid':
      return 'uniqueidentifier'
    case 'json':
      return 'nvarchar(max)'
  }
}

/**
 * One bulk-load column declaration: the `mssql` type constructor's name and its arguments. Temporal types
 * always carry an explicit scale (DESIGN §6).
 */
export interface BulkColumnType {
  /** A key of the `mssql` module's type table: `NVarChar`, `DateTime2`, `Decimal`, … */
  name: string
  length?: number | 'max'
  precision?: number
  scale?: number
}

/** The bulk (`sql.Table`) column type for a logical type. */
export function bulkColumnType(type: LogicalType): BulkColumnType {
  switch (type.kind) {
    case 'boolean':
      return { name: 'Bit' }
    case 'int16':
      return type.unsigned ? { name: 'Int' } : { name: 'SmallInt' }
    case 'int32':
      return type.unsigned ? { name: 'BigInt' } : { name: 'Int' }
    case 'int64':
      return type.unsigned ? { name: 'Decimal', precision: 20, scale: 0 } : { name: 'BigInt' }
    case 'decimal': {
      const native = /^decimal\((\d+),(\d+)\)$/.exec(mssqlNativeType(type))!
      return { name: 'Decimal', precision: Number(native[1]), scale: Number(native[2]) }
    }
    case 'float32':
      return { name: 'Real' }
    case 'float64':
      return { name: 'Float' }
    case 'text':
      if (type.length !== undefined && type.length > 0 && type.length <= 4000) return { name: type.fixed ? 'NChar' : 'NVarChar', length: type.length }
      return { name: 'NVarChar', length: 'max' }
    case 'json':
      return { name: 'NVarChar', length: 'max' }
    case 'bytes':
      if (type.length !== undefined && type.length > 0 && type.length <= 8000) return { name: type.fixed ? 'Binary' : 'VarBinary', length: type.length }
      return { name: 'VarBinary', length: 'max' }
    case 'date':
      return { name: 'Date' }
    case 'time':
      return { name: 'Time', scale: TEMPORAL_SCALE(type.precision ?? 7) }
    case 'timestamp':
      return { name: 'DateTime2', scale: TEMPORAL_SCALE(type.precision ?? 7) }
    case 'timestamptz':
      return { name: 'DateTimeOffset', scale: TEMPORAL_SCALE(type.precision ?? 7) }
    case 'uuid':
      return { name: 'UniqueIdentifier' }
  }
}

/**
 * Whether tedious can bulk-load a column's values exactly. tedious encodes decimals through a JS number, so
 * a decimal with more than 15 significant digits goes through the INSERT path (where it is sent as text and
 * converted by the server).
 */
export function bulkExact(type: LogicalType): boolean {
  if (type.kind === 'decimal') return (type.precision ?? 38) <= 15
  if (type.kind === 'int64' && type.unsigned) return false
  return true
}
