import iconv from 'iconv-lite'
import type { DialectTypes, TypeRejection } from '../../src/dialect.js'
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
   * converted to text on the server so no `Date` (and no time zone) is ever involved; that text is nvarchar,
   * which tedious reads as UTF-16 where varchar goes through iconv-lite per value (the same characters: the
   * styles used write ASCII only).
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

const TEMPORAL_SCALE = (s: number) => Math.max(0, Math.min(7, s))

function lengthOf(bytes: number, perChar: number): number | undefined {
  return bytes < 0 ? undefined : Math.floor(bytes / perChar)
}

/**
 * Types a live source reads through a conversion of its own (`.ToString()`, `.STAsText()`, `CONVERT`): there is
 * a text form on the server, but no logical type that means the same, so a declared type alone is rejected.
 */
const CONVERTED_ONLY: Readonly<Record<string, string>> = {
  hierarchyid: 'hierarchyid has no logical type (a live SQL Server source reads it as its path text)',
  geography: 'geography has no logical type (a live SQL Server source reads it as WKT text)',
  geometry: 'geometry has no logical type (a live SQL Server source reads it as WKT text)',
  sql_variant: 'sql_variant has no logical type: each value has its own base type',
}

/**
 * Maps a SQL Server column to the logical model with how to read it. Types with no faithful logical form are
 * mapped explicitly (with a `note` and a server-side conversion) or rejected — never silently.
 */
function columnMapping(col: MssqlColumnInfo): MssqlColumnMapping | MssqlRejectedType {
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
      return { ...plain({ kind: 'decimal', precision: col.precision, scale: col.scale }, `${t}(${col.precision},${col.scale})`), select: `CAST({col} AS nvarchar(48))` }
    case 'money':
      // through decimal(19,4): every digit on SQL Server and Babelfish alike (Babelfish ignores CONVERT's style 2)
      return { ...plain({ kind: 'decimal', precision: 19, scale: 4 }, 'money'), select: 'CAST(CAST({col} AS decimal(19,4)) AS nvarchar(32))' }
    case 'smallmoney':
      return { ...plain({ kind: 'decimal', precision: 10, scale: 4 }, 'smallmoney'), select: 'CAST(CAST({col} AS decimal(10,4)) AS nvarchar(32))' }
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
      return { ...plain({ kind: 'date' }, 'date'), select: 'CONVERT(nchar(10), {col}, 23)' }
    case 'time': {
      const p = TEMPORAL_SCALE(col.scale)
      return { ...plain({ kind: 'time', precision: p }, `time(${p})`), select: 'CAST({col} AS nvarchar(16))' }
    }
    case 'datetime':
      return { ...plain({ kind: 'timestamp', precision: 3 }, 'datetime', 'datetime is accurate to 1/300 s'), select: 'CONVERT(nvarchar(23), {col}, 121)' }
    case 'smalldatetime':
      return { ...plain({ kind: 'timestamp', precision: 0 }, 'smalldatetime'), select: 'CONVERT(nvarchar(19), {col}, 120)' }
    case 'datetime2': {
      const p = TEMPORAL_SCALE(col.scale)
      return { ...plain({ kind: 'timestamp', precision: p }, `datetime2(${p})`), select: 'CONVERT(nvarchar(27), {col}, 121)' }
    }
    case 'datetimeoffset': {
      const p = TEMPORAL_SCALE(col.scale)
      // style 121 on datetimeoffset: 'yyyy-mm-dd hh:mi:ss.fffffff +hh:mm'
      return { ...plain({ kind: 'timestamptz', precision: p }, `datetimeoffset(${p})`), select: 'CONVERT(nvarchar(34), {col}, 121)' }
    }
    case 'uniqueidentifier':
      return { ...plain({ kind: 'uuid' }, 'uniqueidentifier'), select: 'CONVERT(nchar(36), {col})' }
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

/** Spellings T-SQL accepts for a type, as the system type they name. `sysname` is nvarchar(128). */
const SYNONYMS: Readonly<Record<string, string>> = {
  integer: 'int',
  dec: 'decimal',
  'double precision': 'float',
  character: 'char',
  'char varying': 'varchar',
  'character varying': 'varchar',
  'national char': 'nchar',
  'national character': 'nchar',
  'national char varying': 'nvarchar',
  'national character varying': 'nvarchar',
  'national text': 'ntext',
  'binary varying': 'varbinary',
}

const DECLARED = /^\[?([a-z_][a-z0-9_ ]*?)\]?\s*(?:\(\s*(max|-?\d+)\s*(?:,\s*(\d+)\s*)?\))?$/

/**
 * A type as T-SQL declares it (`nvarchar(50)`, `decimal(18,2)`, `datetime2`, `float(24)`, `sysname`) as the
 * column facts `sys.columns` would show for it, with T-SQL's defaults for omitted arguments: length 1 for
 * char/binary types, `decimal` (18,0), `float` 53, 7 fractional digits for datetime2/time/datetimeoffset.
 */
function declaredInfo(declared: string): MssqlColumnInfo | undefined {
  const m = DECLARED.exec(declared.trim().toLowerCase().replace(/\s+/g, ' '))
  if (!m) return undefined
  const word = m[1]!.trim()
  if (word === 'sysname') return { typeName: 'nvarchar', maxLength: 256, precision: 0, scale: 0 }
  const t = SYNONYMS[word] ?? word
  const a = m[2] === undefined ? undefined : m[2] === 'max' ? -1 : Number(m[2])
  const b = m[3] === undefined ? undefined : Number(m[3])
  if (/^(n?char|n?varchar|binary|varbinary)$/.test(t)) {
    const perChar = t.startsWith('n') ? 2 : 1
    return { typeName: t, maxLength: a === undefined ? perChar : a < 0 ? -1 : a * perChar, precision: 0, scale: 0 }
  }
  if (t === 'datetime2' || t === 'time' || t === 'datetimeoffset') return { typeName: t, maxLength: 8, precision: 0, scale: a ?? 7 }
  if (t === 'float') return { typeName: t, maxLength: 8, precision: a ?? 53, scale: 0 }
  if (t === 'decimal' || t === 'numeric') return { typeName: t, maxLength: 17, precision: a ?? 18, scale: b ?? 0 }
  return { typeName: t, maxLength: -1, precision: 0, scale: 0 }
}

/** The SQL Server DDL type for a logical type (DESIGN §3). Text is always Unicode (nvarchar). */
function toNative(type: LogicalType): string {
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

/** The bulk (`sql.Table`) column type for a logical type. */
function bulkColumnType(type: LogicalType): BulkColumnType {
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
      const native = /^decimal\((\d+),(\d+)\)$/.exec(toNative(type))!
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

/** The SQL Server type map with what the SQL Server connection needs beyond the interface. */
export interface MssqlTypes extends DialectTypes {
  /**
   * A live column (its `sys.columns` facts) → its logical type, native declaration and how the reader selects
   * it. Unlike {@link DialectTypes.toLogical}, hierarchyid, geography/geometry and sql_variant map to text
   * through a server-side conversion (with a note); unknown types are rejected.
   */
  columnMapping(col: MssqlColumnInfo): MssqlColumnMapping | MssqlRejectedType
  /** The bulk-load column declaration for a logical type, always with an explicit temporal scale. */
  bulkColumnType(type: LogicalType): BulkColumnType
  /**
   * Whether tedious can bulk-load a column's values exactly. tedious encodes decimals through a JS number, so
   * a decimal with more than 15 significant digits goes through the INSERT path (sent as text, converted by
   * the server); so does an unsigned 64-bit integer.
   */
  bulkExact(type: LogicalType): boolean
  /** Decodes char/varchar bytes from a Windows code page (`1256` Arabic, `1252` Western); throws for an unknown one. */
  decodeCodePage(bytes: Uint8Array, codePage: number): string
}

/**
 * SQL Server's type map. `toNative`: text is always nvarchar, timestamps datetime2 (7 digits unless the type
 * says fewer), decimals without precision decimal(38,10). `toLogical` takes a declaration as T-SQL writes it
 * and rejects hierarchyid, geography, geometry and sql_variant, which have no logical type.
 */
export const mssqlTypes: MssqlTypes = Object.freeze({
  toNative,
  toLogical(declared: string): LogicalType | TypeRejection {
    const info = declaredInfo(declared)
    if (!info) return { reject: `${JSON.stringify(declared)} is not a SQL Server type declaration` }
    const converted = CONVERTED_ONLY[info.typeName]
    if (converted) return { reject: converted }
    const m = columnMapping(info)
    return 'rejected' in m ? { reject: m.rejected } : m.type
  },
  columnMapping,
  bulkColumnType,
  bulkExact(type: LogicalType): boolean {
    if (type.kind === 'decimal') return (type.precision ?? 38) <= 15
    if (type.kind === 'int64' && type.unsigned) return false
    return true
  },
  decodeCodePage(bytes: Uint8Array, codePage: number): string {
    const name = `cp${codePage}`
    if (!iconv.encodingExists(name)) throw new Error(`code page ${codePage} is not supported`)
    return iconv.decode(Buffer.from(bytes), name)
  },
})
