import type { ColumnSchema, ForeignKeySchema, IndexSchema, KeySchema, LogicalType, TableSchema, Value } from '../../src/schema/types.js'
import { bulkColumnType, mssqlNativeType } from './mssql-types.js'

/**
 * SQL Server SQL text generation: quoting, DDL, default literals, and the value encodings of the two write
 * paths. Pure (no driver), so every piece is tested offline.
 */

/** SQL Server's identifier limit, in characters. */
export const MSSQL_MAX_IDENTIFIER = 128

/** Quotes an identifier in brackets, doubling `]`: `a]b` → `[a]]b]`. */
export function quoteId(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`
}

/** `[schema].[table]`; the schema defaults to `dbo`. */
export function qualified(table: { name: string; schema?: string }, defaultSchema = 'dbo'): string {
  return `${quoteId(table.schema ?? defaultSchema)}.${quoteId(table.name)}`
}

/** An N'…' literal (single quotes doubled). */
export function nstring(text: string): string {
  return `N'${text.replace(/'/g, "''")}'`
}

/** Lowercase hex of bytes, as a `0x…` literal. */
export function hexLiteral(bytes: Uint8Array): string {
  return bytes.length === 0 ? '0x' : `0x${Buffer.from(bytes).toString('hex').toUpperCase()}`
}

function isoWithT(ts: string): string {
  return ts.replace(' ', 'T')
}

/**
 * A T-SQL literal for a canonical value of a logical type. Used only where SQL Server takes no parameter
 * (column DEFAULT clauses in DDL); rows always go through the bulk protocol or parameters. Temporal values
 * use ISO 8601 with `T`, which SQL Server reads the same whatever the session's DATEFORMAT or language.
 */
export function mssqlLiteral(value: Value, type: LogicalType): string {
  if (value === null) return 'NULL'
  switch (type.kind) {
    case 'boolean':
      return value === true || value === 1 || value === '1' ? '1' : '0'
    case 'int16':
    case 'int32':
    case 'int64':
    case 'decimal':
      if (typeof value === 'number' || typeof value === 'bigint') return String(value)
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return value
      throw new TypeError(`${String(value)} is not a number literal`)
    case 'float32':
    case 'float64':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${String(value)} cannot be a SQL Server float`)
      return String(value)
    case 'bytes':
      if (!(value instanceof Uint8Array)) throw new TypeError('bytes literal needs bytes')
      return hexLiteral(value)
    case 'date':
      return `CONVERT(date, ${nstring(String(value))}, 23)`
    case 'time':
      return `CAST(${nstring(String(value))} AS ${mssqlNativeType(type)})`
    case 'timestamp':
      return `CONVERT(${mssqlNativeType(type)}, ${nstring(isoWithT(String(value)))}, 126)`
    case 'timestamptz':
      return `CONVERT(${mssqlNativeType(type)}, ${nstring(isoWithT(String(value)))}, 127)`
    case 'uuid':
      return `CONVERT(uniqueidentifier, ${nstring(String(value))})`
    default:
      return nstring(value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value))
  }
}

function columnDdl(c: ColumnSchema, sourceDialect: string | undefined): string {
  let ddl = `${quoteId(c.name)} ${sourceDialect === 'mssql' && c.nativeType && !c.generated && sameEngineType(c) ? c.nativeType : mssqlNativeType(c.type)}`
  if (c.autoIncrement && (c.type.kind === 'int16' || c.type.kind === 'int32' || c.type.kind === 'int64' || c.type.kind === 'decimal')) ddl += ' IDENTITY(1,1)'
  ddl += c.nullable ? ' NULL' : ' NOT NULL'
  if (c.default) {
    if (c.default.kind === 'now') ddl += ' DEFAULT SYSDATETIME()'
    else if (c.default.kind === 'value') ddl += ` DEFAULT ${mssqlLiteral(c.default.value, c.type)}`
    else if (c.default.dialect === 'mssql') ddl += ` DEFAULT ${c.default.sql}`
  }
  return ddl
}

// native types a same-engine copy may reproduce as they were (rowversion cannot take inserted values)
function sameEngineType(c: ColumnSchema): boolean {
  return !/^(rowversion|timestamp|hierarchyid|geography|geometry|sql_variant|xml)$/i.test(c.nativeType)
}

function keyName(table: TableSchema, prefix: string, cols: readonly string[], given?: string): string {
  if (given) return given
  const raw = `${prefix}_${table.name}_${cols.join('_')}`
  return raw.length <= MSSQL_MAX_IDENTIFIER ? raw : raw.slice(0, MSSQL_MAX_IDENTIFIER)
}

/**
 * `CREATE TABLE` with the primary key and unique constraints; no foreign keys and no secondary indexes
 * (those come after the data). Text columns are nvarchar.
 *
 * @param sourceDialect when `mssql`, columns keep their native declarations (a same-engine copy).
 */
export function createTableSql(table: TableSchema, defaultSchema = 'dbo', sourceDialect?: string): string {
  const parts = table.columns.map((c) => columnDdl(c, sourceDialect))
  if (table.primaryKey && table.primaryKey.columns.length > 0) {
    parts.push(`CONSTRAINT ${quoteId(keyName(table, 'PK', table.primaryKey.columns, table.primaryKey.name))} PRIMARY KEY (${table.primaryKey.columns.map(quoteId).join(', ')})`)
  }
  for (const u of table.uniques) parts.push(uniqueClause(table, u))
  return `CREATE TABLE ${qualified(table, defaultSchema)} (\n  ${parts.join(',\n  ')}\n)`
}

function uniqueClause(table: TableSchema, u: KeySchema): string {
  return `CONSTRAINT ${quoteId(keyName(table, 'UQ', u.columns, u.name))} UNIQUE (${u.columns.map(quoteId).join(', ')})`
}

/** `CREATE [UNIQUE] INDEX` for a secondary index (expression indexes only when they came from SQL Server). */
export function createIndexSql(table: TableSchema, index: IndexSchema, defaultSchema = 'dbo'): string | undefined {
  if (index.expression && index.dialect !== 'mssql') return undefined
  const where = index.where && index.dialect === 'mssql' ? ` WHERE ${index.where}` : ''
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteId(index.name)} ON ${qualified(table, defaultSchema)} (${index.columns.map(quoteId).join(', ')})${where}`
}

const REFERENTIAL = /^(NO ACTION|CASCADE|SET NULL|SET DEFAULT)$/i

/**
 * `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY`. With `check: false` the key is created `WITH NOCHECK`
 * (existing orphans are not validated; the key is marked untrusted).
 */
export function foreignKeySql(table: TableSchema, fk: ForeignKeySchema, options: { check: boolean; defaultSchema?: string; refSchema?: string }): string {
  const schema = options.defaultSchema ?? 'dbo'
  const name = keyName(table, 'FK', fk.columns, fk.name)
  const ref = qualified({ name: fk.refTable, schema: options.refSchema ?? table.schema ?? schema }, schema)
  let sql = `ALTER TABLE ${qualified(table, schema)} WITH ${options.check ? 'CHECK' : 'NOCHECK'} ADD CONSTRAINT ${quoteId(name)} FOREIGN KEY (${fk.columns.map(quoteId).join(', ')}) REFERENCES ${ref} (${fk.refColumns.map(quoteId).join(', ')})`
  if (fk.onDelete && REFERENTIAL.test(fk.onDelete)) sql += ` ON DELETE ${fk.onDelete.toUpperCase()}`
  if (fk.onUpdate && REFERENTIAL.test(fk.onUpdate)) sql += ` ON UPDATE ${fk.onUpdate.toUpperCase()}`
  return sql
}

/** The query for a table's largest primary key (resume's source check); undefined without a primary key. */
export function maxKeySql(table: TableSchema, defaultSchema = 'dbo'): string | undefined {
  const keys = (table.primaryKey?.columns ?? []).map(quoteId)
  if (keys.length === 0) return undefined
  return `SELECT TOP (1) ${keys.map((k, i) => `${k} AS ${quoteId(`k${i}`)}`).join(', ')} FROM ${qualified(table, defaultSchema)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')}`
}

/** Moves an identity column's next value past the largest one loaded. */
export function reseedSql(table: TableSchema, defaultSchema = 'dbo'): string {
  // DBCC CHECKIDENT with RESEED and no value sets the seed to the column's current maximum
  const name = qualified(table, defaultSchema).replace(/'/g, "''")
  return `DBCC CHECKIDENT (N'${name}', RESEED) WITH NO_INFOMSGS`
}

/** `SET IDENTITY_INSERT [s].[t] ON|OFF`. */
export function identityInsertSql(table: TableSchema, on: boolean, defaultSchema = 'dbo'): string {
  return `SET IDENTITY_INSERT ${qualified(table, defaultSchema)} ${on ? 'ON' : 'OFF'}`
}

/** Splits a canonical temporal string into a UTC `Date` (milliseconds) and the rest, in seconds. */
function utcParts(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  frac: string | undefined,
): Date & { nanosecondDelta?: number } {
  const digits = (frac ?? '').padEnd(7, '0').slice(0, 7)
  const ms = Number(digits.slice(0, 3))
  const rest = Number(digits.slice(3)) // units of 100 ns beyond the millisecond
  const date = new Date(0) as Date & { nanosecondDelta?: number }
  // setUTCFullYear keeps years below 100 (Date.UTC would map them to 19xx)
  date.setUTCFullYear(y, mo - 1, d)
  date.setUTCHours(h, mi, s, ms)
  if (rest !== 0) date.nanosecondDelta = rest / 1e7
  return date
}

const TS = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?$/
const TM = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/
const TZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([+-])(\d{2}):(\d{2})$/

/**
 * The value tedious's bulk load takes for a canonical value. Dates and times become UTC `Date`s carrying
 * tedious's `nanosecondDelta` for digits past the millisecond (the connection runs with `useUTC: true`), so
 * the seventh fractional digit survives; int64 stays a string or bigint; decimals become numbers (only for
 * columns {@link bulkExact} accepts); bytes become Buffers.
 */
export function bulkValue(value: Value, type: LogicalType): unknown {
  if (value === null) return null
  switch (type.kind) {
    case 'boolean':
      return value === true || value === 1
    case 'int64':
      return typeof value === 'bigint' ? value.toString() : value
    case 'decimal':
      return typeof value === 'string' ? Number(value) : Number(value)
    case 'bytes':
      return Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array)
    case 'date':
    case 'timestamp': {
      const m = TS.exec(String(value))
      if (!m) throw new TypeError(`${String(value)} is not a canonical ${type.kind}`)
      return utcParts(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7])
    }
    case 'time': {
      const m = TM.exec(String(value))
      if (!m) throw new TypeError(`${String(value)} is not a canonical time`)
      return utcParts(1970, 1, 1, +m[1]!, +m[2]!, +m[3]!, m[4])
    }
    case 'timestamptz': {
      const m = TZ.exec(String(value))
      if (!m) throw new TypeError(`${String(value)} is not a canonical timestamp with offset`)
      const local = utcParts(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7])
      const offsetMs = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) * 60_000
      const utc = new Date(local.getTime() - offsetMs) as Date & { nanosecondDelta?: number }
      if (local.nanosecondDelta !== undefined) utc.nanosecondDelta = local.nanosecondDelta
      return utc
    }
    default:
      return value
  }
}

/** How one value goes into a parameterised INSERT: the parameter's type, its value and the SQL around it. */
export interface InsertParameter {
  /** An `mssql` type name with arguments, as for bulk columns. */
  type: { name: string; length?: number | 'max'; precision?: number; scale?: number }
  value: unknown
  /** The expression placed in VALUES, `@p` standing for the parameter's name. */
  sql: string
}

/**
 * Encodes a value for the INSERT path. Exact types that the driver would pass through a JS number or a
 * `Date` are sent as text and converted by the server with a fixed style (121/126/127 are independent of
 * DATEFORMAT and language), so decimals keep every digit and times all seven fractional digits.
 */
export function insertParameter(value: Value, type: LogicalType): InsertParameter {
  const native = mssqlNativeType(type)
  const text = (sql: string): InsertParameter => ({ type: { name: 'NVarChar', length: 100 }, value: value === null ? null : String(value), sql })
  switch (type.kind) {
    case 'decimal':
      return text(`CAST(@p AS ${native})`)
    case 'int64':
      return type.unsigned ? text(`CAST(@p AS ${native})`) : { type: { name: 'BigInt' }, value: typeof value === 'bigint' ? value.toString() : value, sql: '@p' }
    case 'date':
      return text('CONVERT(date, @p, 23)')
    case 'time':
      return text(`CAST(@p AS ${native})`)
    case 'timestamp':
      return { ...text(`CONVERT(${native}, @p, 126)`), value: value === null ? null : isoWithT(String(value)) }
    case 'timestamptz':
      return { ...text(`CONVERT(${native}, @p, 127)`), value: value === null ? null : isoWithT(String(value)) }
    case 'uuid':
      return { type: { name: 'UniqueIdentifier' }, value, sql: '@p' }
    case 'boolean':
      return { type: { name: 'Bit' }, value: value === null ? null : value === true || value === 1, sql: '@p' }
    default: {
      const t = bulkColumnType(type)
      return { type: t, value: bulkValue(value, type), sql: '@p' }
    }
  }
}

/** Rows per INSERT statement: SQL Server takes at most 2 100 parameters and 1 000 rows per VALUES list. */
export function rowsPerInsert(columnCount: number): number {
  return Math.max(1, Math.min(1000, Math.floor(2000 / Math.max(1, columnCount))))
}
