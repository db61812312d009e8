import type { CreateTableOptions, DialectSql, ScriptFrame } from '../../src/dialect.js'
import type { ColumnDefault, ColumnSchema, ForeignKeySchema, IndexSchema, KeySchema, LogicalType, Row, TableSchema, Value } from '../../src/schema/types.js'
import type sql from 'mssql'
import { mssqlTypes, type BulkColumnType } from './mssql-types.js'

/**
 * What the reader, writer and introspector use of a connection: new requests (inside the snapshot's
 * transaction when one is open) and the driver's types, so that they never import the driver themselves.
 */
export interface MssqlSession {
  request(): sql.Request
  /** Adds a typed parameter to a request. */
  input(request: sql.Request, name: string, type: BulkColumnType, value: unknown): void
  /** An `mssql` Table for a bulk load into an existing table (`[schema].[table]`), columns declared exactly. */
  bulkTable(path: string, columns: readonly { name: string; type: BulkColumnType }[]): sql.Table
  /**
   * Runs `work` on one connection inside one transaction (the snapshot's, when one is open, else a new one,
   * committed when `work` resolves and rolled back when it throws): session temp tables live on a connection.
   */
  inTransaction<T>(work: (request: () => sql.Request) => Promise<T>): Promise<T>
  /**
   * Opens a transaction on one connection that the caller ends: the writer keeps one open across several
   * batches. With the snapshot's transaction open, its requests, and `commit`/`rollback` leave it to its owner.
   */
  begin(): Promise<MssqlTransaction>
}

/** A transaction {@link MssqlSession.begin} opened: requests on its connection, then one commit or rollback. */
export interface MssqlTransaction {
  /** A new request on the transaction's connection, inside it. */
  request(): sql.Request
  /** Commits and gives the connection back to the pool. */
  commit(): Promise<void>
  /** Rolls back and gives the connection back to the pool. */
  rollback(): Promise<void>
}

/**
 * SQL Server SQL text: quoting, DDL, literals, and the value encodings of the two write paths (bulk load and
 * parameterised INSERT). Pure (no driver), so every piece is tested offline; the writer and the reader bind
 * what it builds to the driver.
 */

/** SQL Server's identifier limit, in characters. */
const MAX_IDENTIFIER = 128

/** Quotes an identifier in brackets, doubling `]`: `a]b` → `[a]]b]`. */
function quoteId(name: string): string {
  return `[${name.replace(/]/g, ']]')}]`
}

/** `[schema].[table]`: the table's schema, else `defaultSchema`, else `dbo`. */
function qualified(table: { name: string; schema?: string }, defaultSchema = 'dbo'): string {
  return `${quoteId(table.schema ?? defaultSchema)}.${quoteId(table.name)}`
}

/** An N'…' literal (single quotes doubled). */
function nstring(text: string): string {
  return `N'${text.replace(/'/g, "''")}'`
}

/** Bytes as a `0x…` literal (upper-case hex). */
function hexLiteral(bytes: Uint8Array): string {
  return bytes.length === 0 ? '0x' : `0x${Buffer.from(bytes).toString('hex').toUpperCase()}`
}

function isoWithT(ts: string): string {
  return ts.replace(' ', 'T')
}

/**
 * A T-SQL literal for a canonical value of a logical type. Rows go through the bulk protocol or parameters;
 * literals serve DDL defaults and scripts. Temporal values use ISO 8601 with `T`, which SQL Server reads the
 * same whatever the session's DATEFORMAT or language.
 */
function literalOf(value: Value, type: LogicalType): string {
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
      return `CAST(${nstring(String(value))} AS ${mssqlTypes.toNative(type)})`
    case 'timestamp':
      return `CONVERT(${mssqlTypes.toNative(type)}, ${nstring(isoWithT(String(value)))}, 126)`
    case 'timestamptz':
      return `CONVERT(${mssqlTypes.toNative(type)}, ${nstring(isoWithT(String(value)))}, 127)`
    case 'uuid':
      return `CONVERT(uniqueidentifier, ${nstring(String(value))})`
    default:
      return nstring(value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value))
  }
}

/** Whether the table has a column SQL Server creates as IDENTITY (an auto-increment integer or decimal). */
function hasIdentity(table: TableSchema): boolean {
  return table.columns.some((c) => c.autoIncrement && !c.generated && /^(int16|int32|int64|decimal)$/.test(c.type.kind))
}

// native types a same-engine copy may reproduce as they were (rowversion cannot take inserted values)
function sameEngineType(c: ColumnSchema): boolean {
  return !/^(rowversion|timestamp|hierarchyid|geography|geometry|sql_variant|xml)$/i.test(c.nativeType)
}

function columnDdl(c: ColumnSchema, sourceDialect: string | undefined): string {
  let ddl = `${quoteId(c.name)} ${sourceDialect === 'mssql' && c.nativeType && !c.generated && sameEngineType(c) ? c.nativeType : mssqlTypes.toNative(c.type)}`
  if (c.autoIncrement && (c.type.kind === 'int16' || c.type.kind === 'int32' || c.type.kind === 'int64' || c.type.kind === 'decimal')) ddl += ' IDENTITY(1,1)'
  ddl += c.nullable ? ' NULL' : ' NOT NULL'
  // a computed column is created as a plain column without its expression (its data is not copied)
  if (c.default && !c.generated) {
    if (c.default.kind === 'now') ddl += ' DEFAULT SYSDATETIME()'
    else if (c.default.kind === 'value') ddl += ` DEFAULT ${literalOf(c.default.value, c.type)}`
    else if (c.default.dialect === 'mssql') ddl += ` DEFAULT ${c.default.sql}`
  }
  return ddl
}

function keyName(table: TableSchema, prefix: string, cols: readonly string[], given?: string): string {
  if (given) return given
  const raw = `${prefix}_${table.name}_${cols.join('_')}`
  return raw.length <= MAX_IDENTIFIER ? raw : raw.slice(0, MAX_IDENTIFIER)
}

function uniqueClause(table: TableSchema, u: KeySchema): string {
  return `CONSTRAINT ${quoteId(keyName(table, 'UQ', u.columns, u.name))} UNIQUE (${u.columns.map(quoteId).join(', ')})`
}

const REFERENTIAL = /^(NO ACTION|CASCADE|SET NULL|SET DEFAULT)$/i

/** `ALTER TABLE … [WITH CHECK|NOCHECK] ADD CONSTRAINT … FOREIGN KEY`. */
function foreignKey(table: TableSchema, fk: ForeignKeySchema, options: { check?: boolean; defaultSchema?: string; refSchema?: string }): string {
  const schema = options.defaultSchema ?? 'dbo'
  const name = keyName(table, 'FK', fk.columns, fk.name)
  const ref = qualified({ name: fk.refTable, schema: options.refSchema ?? table.schema ?? schema }, schema)
  // no WITH clause checks existing rows too (SQL Server's default for a new constraint), and servers that do
  // not take WITH [NO]CHECK at all (the Babelfish stand-in) accept it
  const check = options.check === undefined ? '' : ` WITH ${options.check ? 'CHECK' : 'NOCHECK'}`
  let sql = `ALTER TABLE ${qualified(table, schema)}${check} ADD CONSTRAINT ${quoteId(name)} FOREIGN KEY (${fk.columns.map(quoteId).join(', ')}) REFERENCES ${ref} (${fk.refColumns.map(quoteId).join(', ')})`
  if (fk.onDelete && REFERENTIAL.test(fk.onDelete)) sql += ` ON DELETE ${fk.onDelete.toUpperCase()}`
  if (fk.onUpdate && REFERENTIAL.test(fk.onUpdate)) sql += ` ON UPDATE ${fk.onUpdate.toUpperCase()}`
  return sql
}

/** `SET IDENTITY_INSERT [s].[t] ON|OFF`. */
function identityInsert(table: TableSchema, on: boolean, defaultSchema = 'dbo'): string {
  return `SET IDENTITY_INSERT ${qualified(table, defaultSchema)} ${on ? 'ON' : 'OFF'}`
}

/**
 * `DBCC CHECKIDENT (…, RESEED)`: with no value it moves the identity's next value past the column's largest.
 * The name is an N'…' literal unless `plainAscii` is set and the name is ASCII: the Babelfish stand-in reads
 * an N'…' table name in DBCC with its quote, and for ASCII text the two literals are the same to SQL Server.
 */
function reseed(table: TableSchema, defaultSchema = 'dbo', options: { plainAscii?: boolean } = {}): string {
  const name = qualified(table, defaultSchema).replace(/'/g, "''")
  // eslint-disable-next-line no-control-regex
  const literal = options.plainAscii && /^[\x20-\x7e]*$/.test(name) ? `'${name}'` : `N'${name}'`
  return `DBCC CHECKIDENT (${literal}, RESEED) WITH NO_INFOMSGS`
}

/**
 * {@link reseed}, then, should the identity still be behind the column's largest value, `DBCC CHECKIDENT (…,
 * RESEED, largest + increment)`: one batch, idempotent. The second step is for an identity never used although
 * rows are there (rows bulk-loaded with their IDENTITY values kept, as the Babelfish stand-in keeps them):
 * RESEED without a value leaves such an identity where it is on the stand-in, and by SQL Server's rule for a
 * never-used identity the next row takes the reseed value itself. SQL Server's plain RESEED never leaves the
 * identity behind, so there the second step does not run. A negative increment is left to the plain RESEED.
 */
function reseedPastKeys(table: TableSchema, defaultSchema = 'dbo', options: { plainAscii?: boolean } = {}): string {
  const column = table.columns.find((c) => c.autoIncrement && !c.generated)
  const plain = reseed(table, defaultSchema, options)
  if (!column) return plain
  const name = nstring(qualified(table, defaultSchema))
  // the same DBCC statement with a value, built as a string (DBCC takes no expression there)
  const quoted = plain.replace(/'/g, "''")
  const at = quoted.lastIndexOf(', RESEED)')
  const again = `N'${quoted.slice(0, at)}, RESEED, ' + CONVERT(nvarchar(40), @max + @inc) + N')${quoted.slice(at + ', RESEED)'.length)}'`
  return `${plain};
DECLARE @cur decimal(38,0) = IDENT_CURRENT(${name}), @inc decimal(38,0) = IDENT_INCR(${name}),
  @max decimal(38,0) = (SELECT MAX(${quoteId(column.name)}) FROM ${qualified(table, defaultSchema)});
IF @inc > 0 AND @max IS NOT NULL AND @cur < @max
BEGIN
  DECLARE @again nvarchar(max) = ${again};
  EXEC (@again);
END`
}

/** Splits a canonical temporal string into a UTC `Date` (milliseconds) and the rest, in seconds. */
function utcParts(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined): Date & { nanosecondDelta?: number } {
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
 * columns `bulkExact` accepts); bytes become Buffers.
 */
function bulkValue(value: Value, type: LogicalType): unknown {
  if (value === null) return null
  switch (type.kind) {
    case 'boolean':
      return value === true || value === 1
    case 'int64':
      return typeof value === 'bigint' ? value.toString() : value
    case 'decimal':
      return Number(value)
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

/** How one value goes into a parameterised statement: the parameter's type, its value and the SQL around it. */
export interface InsertParameter {
  /** An `mssql` type name with arguments, as for bulk columns. */
  type: BulkColumnType
  value: unknown
  /** The expression placed in VALUES, `@p` standing for the parameter's name. */
  sql: string
}

/**
 * Encodes a value for the INSERT path. Exact types that the driver would pass through a JS number or a
 * `Date` are sent as text and converted by the server with a fixed style (121/126/127 are independent of
 * DATEFORMAT and language), so decimals keep every digit and times all seven fractional digits.
 */
function insertParameter(value: Value, type: LogicalType): InsertParameter {
  const native = mssqlTypes.toNative(type)
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
    case 'bytes': {
      // always varbinary: SQL Server converts it to binary(n) by itself, and Babelfish fails on Binary parameters
      const t = mssqlTypes.bulkColumnType(type)
      return { type: { name: 'VarBinary', length: t.length ?? 'max' }, value: bulkValue(value, type), sql: '@p' }
    }
    default:
      return { type: mssqlTypes.bulkColumnType(type), value: bulkValue(value, type), sql: '@p' }
  }
}

/** Rows per INSERT statement: SQL Server takes at most 2 100 parameters and 1 000 rows per VALUES list. */
function rowsPerInsert(columnCount: number): number {
  return Math.max(1, Math.min(1000, Math.floor(2000 / Math.max(1, columnCount))))
}

/** Columns that receive data: computed columns are not written. */
function writtenColumns(table: TableSchema): { column: ColumnSchema; index: number }[] {
  return table.columns.map((column, index) => ({ column, index })).filter((c) => !c.column.generated)
}

/** One parameterised statement: its text and its parameters, named `p0`, `p1`, … in the text. */
export interface ParameterisedStatement {
  sql: string
  params: { name: string; type: BulkColumnType; value: unknown }[]
}

/** One multi-row INSERT for `rows`, with IDENTITY_INSERT around it when the table has an identity. */
function insertStatement(table: TableSchema, rows: readonly Row[], defaultSchema = 'dbo'): ParameterisedStatement {
  const cols = writtenColumns(table)
  const params: ParameterisedStatement['params'] = []
  const tuples = rows.map((r) => {
    const parts = cols.map(({ column, index }) => {
      const p = insertParameter(r[index] ?? null, column.type)
      const name = `p${params.length}`
      params.push({ name, type: p.type, value: p.value })
      return p.sql.replaceAll('@p', `@${name}`)
    })
    return `(${parts.join(', ')})`
  })
  const insert = `INSERT INTO ${qualified(table, defaultSchema)} (${cols.map(({ column }) => quoteId(column.name)).join(', ')}) VALUES ${tuples.join(', ')}`
  if (!hasIdentity(table)) return { sql: insert, params }
  return { sql: `${identityInsert(table, true, defaultSchema)};\n${insert};\n${identityInsert(table, false, defaultSchema)};`, params }
}

/**
 * Whether a table's batches go through TDS bulk load. tedious encodes decimals through JS numbers, and
 * `mssql`'s Table cannot name a table containing `]`; such tables use the parameterised multi-row INSERT path,
 * which is exact. A table with an IDENTITY column bulk-loads through {@link staging} (tedious has no
 * KEEP_IDENTITY, so a direct bulk load would let SQL Server renumber the keys).
 */
function usesBulk(table: TableSchema): boolean {
  if (/[\]\[.]/.test(table.name) || /[\]\[.]/.test(table.schema ?? '')) return false
  return writtenColumns(table).every(({ column }) => mssqlTypes.bulkExact(column.type))
}

/** A bulk column type as T-SQL declares it: `nvarchar(max)`, `datetime2(6)`, `decimal(20,0)`, `bigint`. */
function bulkTypeSql(t: BulkColumnType): string {
  const name = t.name.toLowerCase()
  if (t.length !== undefined) return `${name}(${t.length})`
  if (t.precision !== undefined) return `${name}(${t.precision},${t.scale ?? 0})`
  if (t.scale !== undefined) return `${name}(${t.scale})`
  return name
}

/** The session temp table a batch of an IDENTITY table is bulk-loaded into. */
const STAGE = '#dbferry_stage'

/** The savepoint that a transaction spanning several batches keeps just before the batch in flight. */
const SAVEPOINT = 'dbferry_batch'
const SAVE = `SAVE TRANSACTION ${SAVEPOINT}`

/**
 * Undoes the batch in flight when the transaction can still commit (`XACT_STATE()` 1), and says where it stands:
 * 1, the earlier batches can commit; 0 or -1, the server ended or doomed it (they are gone).
 */
const UNDO_BATCH = `IF XACT_STATE() = 1 ROLLBACK TRANSACTION ${SAVEPOINT};
SELECT XACT_STATE() AS state`

/** How a batch reaches an IDENTITY table exactly: bulk into a temp table, then one INSERT … SELECT. */
export interface Staging {
  /** The temp table's name (`#dbferry_stage`), as the bulk load addresses it. */
  name: string
  /** Drops a stage left on the connection, then creates it: columns `c0`, `c1`, … typed as the bulk path declares them, nullable, no IDENTITY. */
  create: string
  /** The bulk-load columns of the stage: {@link bulkColumns} named `c0`, `c1`, …. */
  columns: { name: string; index: number; type: BulkColumnType; logical: LogicalType }[]
  /** `INSERT … SELECT` from the stage under IDENTITY_INSERT (switched off again when the INSERT fails), then the stage dropped. */
  insert: string
  /**
   * The same `INSERT … SELECT`, then the stage emptied for the next batch and the savepoint {@link SAVEPOINT}
   * moved past it: the step of a transaction that spans several batches, one round trip per batch.
   */
  insertAndSave: string
}

/**
 * The staged write of an IDENTITY table. The stage has no IDENTITY, so the bulk load keeps every value on any
 * server; the INSERT under SET IDENTITY_INSERT then keeps them in the table, and SQL Server (not the stand-in)
 * moves the identity past the largest. IDENTITY_INSERT is per session and lasts past a failed statement, so
 * the CATCH block switches it off before passing the error on.
 */
function staging(table: TableSchema, defaultSchema = 'dbo'): Staging {
  const columns = bulkColumns(table).map((c, i) => ({ ...c, name: `c${i}` }))
  const target = qualified(table, defaultSchema)
  const names = writtenColumns(table).map(({ column }) => quoteId(column.name)).join(', ')
  const create = `IF OBJECT_ID(N'tempdb..${STAGE}') IS NOT NULL DROP TABLE ${STAGE};
CREATE TABLE ${STAGE} (${columns.map((c) => `${quoteId(c.name)} ${bulkTypeSql(c.type)} NULL`).join(', ')})`
  const insert = `${identityInsert(table, true, defaultSchema)};
BEGIN TRY
  INSERT INTO ${target} (${names}) SELECT ${columns.map((c) => quoteId(c.name)).join(', ')} FROM ${STAGE};
END TRY
BEGIN CATCH
  ${identityInsert(table, false, defaultSchema)};
  THROW;
END CATCH
${identityInsert(table, false, defaultSchema)};`
  return { name: STAGE, create, columns, insert: `${insert}\nDROP TABLE ${STAGE}`, insertAndSave: `${insert}\nTRUNCATE TABLE ${STAGE};\n${SAVE}` }
}


/** The probe of whether a bulk load keeps IDENTITY values: a temp table, one row with {@link IdentityProbe.value}. */
export interface IdentityProbe {
  /** The temp table's name, as the bulk load addresses it. */
  name: string
  /** Drops a probe table left on the connection, then creates it: one IDENTITY(1,1) column `id`. */
  create: string
  /** The bulk-load column: `id`, int. */
  columns: { name: string; type: BulkColumnType }[]
  /** The value the probe's one row supplies for `id` (not the seed, so keeping it tells). */
  value: number
  /** Selects the row's `id` as `id`, then drops the table. */
  read: string
}

const PROBE = '#dbferry_identity_probe'
const identityProbe: IdentityProbe = Object.freeze({
  name: PROBE,
  create: `IF OBJECT_ID(N'tempdb..${PROBE}') IS NOT NULL DROP TABLE ${PROBE};
CREATE TABLE ${PROBE} ([id] int IDENTITY(1,1) NOT NULL)`,
  columns: [{ name: 'id', type: { name: 'Int' } }],
  value: 7,
  read: `SELECT MAX([id]) AS id FROM ${PROBE};
DROP TABLE ${PROBE}`,
})

/** Data bytes in a TDS packet of tedious's default size (4 096, less the 8-byte header). */
const PACKET_DATA = 4096 - 8

/**
 * A bulk-load stream whose last packet holds fewer data bytes than this is refused by the Babelfish stand-in as
 * "protocol stream is incorrect" (its closing 13-byte DONE token split across packets: 7 and 11 bytes failed,
 * 23 went through), and the connection is closed at its next request.
 */
const SHORT_LAST_PACKET = 23

/** The bytes of a fixed-size value after its one-byte length, by tedious type name. */
const FIXED_BYTES: Record<string, number> = { Bit: 1, SmallInt: 2, Int: 4, BigInt: 8, Real: 4, Float: 8, Date: 3, UniqueIdentifier: 16 }

/** Time's bytes at a fractional-second scale. */
function timeBytes(scale: number | undefined): number {
  const s = scale ?? 7
  return s <= 2 ? 3 : s <= 4 ? 4 : 5
}

/**
 * The bytes one value takes in a bulk-load row as tedious encodes it (length prefix and data), from the value
 * `bulkValue` made; undefined for a type not sized here.
 */
function bulkValueBytes(type: BulkColumnType, value: unknown): number | undefined {
  const fixed = FIXED_BYTES[type.name]
  if (fixed !== undefined) return value == null ? 1 : 1 + fixed
  switch (type.name) {
    case 'Decimal': {
      const p = type.precision ?? 18
      return value == null ? 1 : 1 + (p <= 9 ? 5 : p <= 19 ? 9 : p <= 28 ? 13 : 17)
    }
    case 'Time':
      return value == null ? 1 : 1 + timeBytes(type.scale)
    case 'DateTime2':
      return value == null ? 1 : 1 + timeBytes(type.scale) + 3
    case 'DateTimeOffset':
      return value == null ? 1 : 1 + timeBytes(type.scale) + 5
    case 'NVarChar':
    case 'VarBinary': {
      const n = value == null ? 0 : Buffer.isBuffer(value) ? value.length : typeof value === 'string' ? 2 * value.length : undefined
      if (n === undefined) return undefined
      // max: an 8-byte total length, then one chunk (4-byte length, data) and a 4-byte terminator
      if (type.length === 'max') return value == null ? 8 : 8 + (n > 0 ? 4 + n : 0) + 4
      return 2 + n
    }
    default:
      return undefined
  }
}

/** TYPE_INFO bytes of a column in COLMETADATA, by tedious type name. */
const TYPE_INFO_BYTES: Record<string, number> = {
  Bit: 2,
  SmallInt: 2,
  Int: 2,
  BigInt: 2,
  Real: 2,
  Float: 2,
  Date: 1,
  UniqueIdentifier: 2,
  Decimal: 4,
  Time: 2,
  DateTime2: 2,
  DateTimeOffset: 2,
  NVarChar: 8,
  VarBinary: 3,
}

/**
 * The bytes of a bulk load's stream around its rows, as tedious sends it: COLMETADATA (token, count, then per
 * column user type, flags, TYPE_INFO and name) and the closing DONE token; undefined for a type not sized here.
 */
function bulkFrameBytes(columns: readonly { name: string; type: BulkColumnType }[]): number | undefined {
  let n = 3 + 13
  for (const c of columns) {
    const info = TYPE_INFO_BYTES[c.type.name]
    if (info === undefined) return undefined
    n += 4 + 2 + info + 1 + 2 * c.name.length
  }
  return n
}

/**
 * Splits a bulk load into consecutive parts (`[start, end)` row ranges) none of whose streams ends in a packet
 * the stand-in refuses (see {@link SHORT_LAST_PACKET}): the whole load when it is safe (nearly always), else
 * halves, split again as needed. `frame` is {@link bulkFrameBytes}, `rowBytes` each row's bytes (its ROW token
 * and values).
 */
function bulkParts(frame: number, rowBytes: readonly number[]): [number, number][] {
  const parts: [number, number][] = []
  const split = (start: number, end: number, bytes: number) => {
    const last = bytes % PACKET_DATA
    if (last === 0 || last >= SHORT_LAST_PACKET || end - start < 2) {
      parts.push([start, end])
      return
    }
    const mid = start + Math.floor((end - start) / 2)
    let first = frame
    for (let i = start; i < mid; i++) first += rowBytes[i]!
    split(start, mid, first)
    split(mid, end, bytes - first + frame)
  }
  let total = frame
  for (const b of rowBytes) total += b
  if (rowBytes.length > 0) split(0, rowBytes.length, total)
  return parts
}

/** The bulk-load columns of a table: written columns with `]` doubled (as `mssql` wants) and exact declarations. */
function bulkColumns(table: TableSchema): { name: string; index: number; type: BulkColumnType; logical: LogicalType }[] {
  return writtenColumns(table).map(({ column, index }) => ({ name: column.name.replace(/]/g, ']]'), index, type: mssqlTypes.bulkColumnType(column.type), logical: column.type }))
}

/** The query for a table's largest primary key (resume's source check); undefined without a primary key. */
function maxKey(table: TableSchema, defaultSchema = 'dbo'): string | undefined {
  const keys = (table.primaryKey?.columns ?? []).map(quoteId)
  if (keys.length === 0) return undefined
  return `SELECT TOP (1) ${keys.map((k, i) => `${k} AS ${quoteId(`k${i}`)}`).join(', ')} FROM ${qualified(table, defaultSchema)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')}`
}

/**
 * The SELECT a table is read with: a server-side conversion per column (`{col}` standing for the column),
 * key order, and `(k1, k2) > (a1, a2)` spelled out for a resume (SQL Server has no row-value comparison);
 * `untilParams` (a key range's end, default none) adds `(k1, k2) <= (u1, u2)`, spelled out the same way.
 */
function selectTable(table: TableSchema, selects: readonly string[], defaultSchema: string, afterParams: readonly string[] | undefined, untilParams?: readonly string[]): string {
  const cols = table.columns.map((c, i) => `${(selects[i] ?? '{col}').replaceAll('{col}', quoteId(c.name))} AS ${quoteId(`c${i}`)}`)
  const key = table.primaryKey?.columns ?? []
  const conditions: string[] = []
  if (afterParams && key.length > 0) {
    const ors = key.map((k, i) => [...key.slice(0, i).map((p, j) => `${quoteId(p)} = ${afterParams[j]}`), `${quoteId(k)} > ${afterParams[i]}`].join(' AND '))
    conditions.push(`(${ors.map((o) => `(${o})`).join(' OR ')})`)
  }
  if (untilParams && key.length > 0) {
    const last = key.length - 1
    const ors = key.map((k, i) => [...key.slice(0, i).map((p, j) => `${quoteId(p)} = ${untilParams[j]}`), `${quoteId(k)} ${i === last ? '<=' : '<'} ${untilParams[i]}`].join(' AND '))
    conditions.push(`(${ors.map((o) => `(${o})`).join(' OR ')})`)
  }
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''
  const order = key.length > 0 ? ` ORDER BY ${key.map(quoteId).join(', ')}` : ''
  return `SELECT ${cols.join(', ')} FROM ${qualified(table, defaultSchema)}${where}${order}`
}

/** A default's definition as SQL Server stores it, `((0))` or `(getdate())`, as a column default. */
function columnDefault(definition: string): ColumnDefault {
  const inner = definition.replace(/^\((.*)\)$/s, '$1').replace(/^\((.*)\)$/s, '$1').trim()
  if (/^(getdate|sysdatetime|current_timestamp|getutcdate|sysutcdatetime)(\(\))?$/i.test(inner)) return { kind: 'now' }
  if (/^-?\d+(\.\d+)?$/.test(inner)) return { kind: 'value', value: inner }
  const str = /^N?'((?:[^']|'')*)'$/s.exec(inner)
  if (str) return { kind: 'value', value: str[1]!.replace(/''/g, "'") }
  return { kind: 'expression', sql: definition, dialect: 'mssql' }
}

/**
 * A speller of catalog names: a name read from sys.* (lower-case on Babelfish) as the user wrote it, taken from
 * `spellings` (INFORMATION_SCHEMA's names, or a module's definition). An exact match wins; otherwise the one
 * spelling that matches ignoring case; two such spellings (a case-sensitive database) or none leave the name as
 * the catalog has it.
 */
function nameSpeller(spellings: Iterable<string>): (name: string) => string {
  const exact = new Set<string>()
  const folded = new Map<string, string | null>()
  for (const s of spellings) {
    if (exact.has(s)) continue
    exact.add(s)
    const k = s.toLowerCase()
    folded.set(k, folded.has(k) ? null : s)
  }
  return (name) => (exact.has(name) ? name : folded.get(name.toLowerCase()) ?? name)
}

const BABELFISH_INDEX = /^(.+?)([0-9a-f]{32})$/
/** The longest name PostgreSQL keeps (NAMEDATALEN - 1), which cuts Babelfish's index names. */
const PG_NAME_MAX = 63

/**
 * An index name as the user wrote it, where the catalog shows Babelfish's PostgreSQL index name: the
 * lower-cased name, then the table's, then 32 hex digits of a hash — the two names cut together to 31
 * characters when all would pass 63. The suffix is dropped (case is lost on that server); a name with a
 * capital letter, or without the table's name before the hash, is SQL Server's own and stays.
 */
function indexNameAsWritten(name: string, table: string): string {
  const m = BABELFISH_INDEX.exec(name)
  if (!m || name !== name.toLowerCase()) return name
  const rest = m[1]!
  const t = table.toLowerCase()
  if (rest.endsWith(t) && rest.length > t.length) return rest.slice(0, rest.length - t.length)
  if (name.length !== PG_NAME_MAX) return name
  // cut short: the longest start of the table's name that ends the rest, else the index name alone was cut
  for (let n = Math.min(t.length, rest.length - 1); n > 0; n--) if (rest.endsWith(t.slice(0, n))) return rest.slice(0, rest.length - n)
  return rest
}

/** One identifier token of T-SQL: `[bracketed]`, `"quoted"` or plain. */
const IDENT = /\[((?:[^\]]|\]\])+)\]|"((?:[^"]|"")+)"|([A-Za-z_@#][\w@#$]*)/g
const COMMENTS_AND_STRINGS = /--[^\n]*|\/\*[\s\S]*?\*\/|N?'(?:[^']|'')*'/g

function unquoted(m: RegExpExecArray): string {
  return m[1] !== undefined ? m[1].replace(/]]/g, ']') : m[2] !== undefined ? m[2].replace(/""/g, '"') : m[3]!
}

/** The name a module's definition creates (`CREATE [OR ALTER] VIEW|FUNCTION|PROC[EDURE]|TRIGGER [schema.]name`), unquoted. */
function definedName(definition: string): string | undefined {
  const text = definition.replace(COMMENTS_AND_STRINGS, (c) => (c.startsWith("'") || c.startsWith("N'") ? c : ' '))
  const head = /^\s*CREATE\s+(?:OR\s+ALTER\s+)?(?:VIEW|FUNCTION|PROCEDURE|PROC|TRIGGER)\s+/i.exec(text)
  if (!head) return undefined
  const tail = text.slice(head[0].length)
  const parts: string[] = []
  const re = new RegExp(IDENT.source, 'y')
  let at = 0
  for (;;) {
    re.lastIndex = at
    const m = re.exec(tail)
    if (!m) break
    parts.push(unquoted(m))
    const dot = /^\s*\.\s*/.exec(tail.slice(re.lastIndex))
    if (!dot) break
    at = re.lastIndex + dot[0].length
  }
  return parts.length > 0 ? parts[parts.length - 1] : undefined
}

/**
 * The names among `candidates` that a definition references (ignoring case, outside comments and string
 * literals), without `self`: the dependencies of a view, function or procedure where the server records none
 * (Babelfish's sys.sql_expression_dependencies is empty).
 */
function referencedNames(definition: string, candidates: readonly string[], self: string): string[] {
  const tokens = new Set<string>()
  const text = definition.replace(COMMENTS_AND_STRINGS, ' ')
  for (const m of text.matchAll(IDENT)) tokens.add(unquoted(m as RegExpExecArray).toLowerCase())
  const me = self.toLowerCase()
  return [...new Set(candidates.filter((c) => c.toLowerCase() !== me && tokens.has(c.toLowerCase())))]
}

/**
 * The statement that creates schema `@s` when it is missing. EXEC (…) takes only literals and variables, so the
 * statement is built into a variable first.
 */
const ENSURE_SCHEMA = `IF SCHEMA_ID(@s) IS NULL
BEGIN
  DECLARE @create nvarchar(300) = N'CREATE SCHEMA ' + QUOTENAME(@s);
  EXEC (@create);
END`

/** What SQL Server's connection, reader and writer use beyond {@link DialectSql}. */
export interface MssqlSql extends DialectSql {
  /** SQL Server's identifier limit: 128 characters. */
  readonly maxIdentifier: number
  /** `[schema].[table]`, the table's schema else `defaultSchema` (default `dbo`). */
  qualified(table: { name: string; schema?: string }, defaultSchema?: string): string
  /** ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY; `check` true/false writes WITH CHECK/NOCHECK, absent neither (existing rows are checked). */
  foreignKey(table: TableSchema, fk: ForeignKeySchema, options: { check?: boolean; defaultSchema?: string; refSchema?: string }): string
  /** DBCC CHECKIDENT RESEED for the table (see `resetIdentity`); `plainAscii` for servers that misread N'…' there. */
  reseed(table: TableSchema, defaultSchema?: string, options?: { plainAscii?: boolean }): string
  /** {@link reseed}, then RESEED to the largest value + increment should the identity still be behind it (see `reseedPastKeys`). */
  reseedPastKeys(table: TableSchema, defaultSchema?: string, options?: { plainAscii?: boolean }): string
  /** Whether the table has an IDENTITY column. */
  hasIdentity(table: TableSchema): boolean
  /** Whether the writer bulk-loads this table (else parameterised INSERTs); IDENTITY tables through {@link staging} where the server renumbers bulk-loaded IDENTITY values. */
  usesBulk(table: TableSchema): boolean
  /** The staged bulk write of an IDENTITY table (see `staging`). Default schema `dbo`. */
  staging(table: TableSchema, defaultSchema?: string): Staging
  /** Whether a bulk load keeps IDENTITY values: the temp table and row the writer loads once per session. */
  readonly identityProbe: IdentityProbe
  /** `SAVE TRANSACTION dbferry_batch`: the point a failed batch of a multi-batch transaction is undone to. */
  readonly saveBatch: string
  /** Undoes the batch in flight to that savepoint when the transaction can still commit; selects `XACT_STATE()` as `state`. */
  readonly undoBatch: string
  /** The bulk-load column declarations of a table, in write order, with each column's index in a row. */
  bulkColumns(table: TableSchema): { name: string; index: number; type: BulkColumnType; logical: LogicalType }[]
  /** A canonical value as tedious's bulk load takes it. */
  bulkValue(value: Value, type: LogicalType): unknown
  /** The bytes a `bulkValue` takes in a bulk-load row (length prefix and data); undefined for a type not sized. */
  bulkValueBytes(type: BulkColumnType, value: unknown): number | undefined
  /** The bytes of a bulk load's stream besides its rows (column metadata, DONE); undefined for a type not sized. */
  bulkFrameBytes(columns: readonly { name: string; type: BulkColumnType }[]): number | undefined
  /** A bulk load as row ranges whose streams the stand-in takes (see `bulkParts`); one range nearly always. */
  bulkParts(frame: number, rowBytes: readonly number[]): [number, number][]
  /** A canonical value as a typed parameter and the SQL that converts it. */
  insertParameter(value: Value, type: LogicalType): InsertParameter
  /** The parameterised multi-row INSERT of some rows (with IDENTITY_INSERT when needed). Default schema `dbo`. */
  insertStatement(table: TableSchema, rows: readonly Row[], defaultSchema?: string): ParameterisedStatement
  /** The largest-primary-key query of resume's source check; undefined without a primary key. */
  maxKey(table: TableSchema, defaultSchema?: string): string | undefined
  /** The reader's SELECT (see the reader). */
  selectTable(table: TableSchema, selects: readonly string[], defaultSchema: string, afterParams: readonly string[] | undefined, untilParams?: readonly string[]): string
  /** A stored default definition (`((0))`, `(getdate())`) as a column default. */
  columnDefault(definition: string): ColumnDefault
  /** A speller of sys.* names as `spellings` (INFORMATION_SCHEMA, definitions) write them; see `nameSpeller`. */
  nameSpeller(spellings: Iterable<string>): (name: string) => string
  /** An index name without Babelfish's `<table><md5>` suffix; SQL Server's names unchanged. */
  indexNameAsWritten(name: string, table: string): string
  /** The name a view/function/procedure definition creates, unquoted; undefined when it is not a CREATE. */
  definedName(definition: string): string | undefined
  /** The `candidates` a definition references outside comments and literals, ignoring case, without `self`. */
  referencedNames(definition: string, candidates: readonly string[], self: string): string[]
  /** Creates schema `@s` (an nvarchar parameter) when it is missing. */
  readonly ensureSchema: string
}

const script: ScriptFrame = Object.freeze({
  header: Object.freeze(['SET NOCOUNT ON', 'SET XACT_ABORT ON', 'BEGIN TRANSACTION']),
  footer: Object.freeze(['COMMIT']),
  aroundInserts: (t: TableSchema): [string[], string[]] => (hasIdentity(t) ? [[identityInsert(t, true)], [identityInsert(t, false)]] : [[], []]),
  rowsPerInsert,
})

/**
 * SQL Server statements: `[bracket]` quoting, tables in `dbo` unless they or the options name a schema, text
 * as nvarchar, identity as IDENTITY(1,1), foreign keys added after the data (validated), identities reseeded
 * with DBCC CHECKIDENT. Scripts run in one transaction with XACT_ABORT, inserting with IDENTITY_INSERT.
 */
export const mssqlSql: MssqlSql = Object.freeze({
  maxIdentifier: MAX_IDENTIFIER,
  quoteIdentifier: quoteId,
  tableName: (table: { name: string; schema?: string }, defaultSchema?: string) => qualified(table, defaultSchema),
  qualified,
  createTable(table: TableSchema, options: CreateTableOptions = {}): string {
    const schema = options.schema ?? table.schema ?? 'dbo'
    const parts = table.columns.map((c) => columnDdl(c, options.sourceDialect))
    if (table.primaryKey && table.primaryKey.columns.length > 0) {
      parts.push(`CONSTRAINT ${quoteId(keyName(table, 'PK', table.primaryKey.columns, table.primaryKey.name))} PRIMARY KEY (${table.primaryKey.columns.map(quoteId).join(', ')})`)
    }
    for (const u of table.uniques) parts.push(uniqueClause(table, u))
    return `CREATE TABLE ${qualified({ name: table.name, schema })} (\n  ${parts.join(',\n  ')}\n)`
  },
  dropTable(table: TableSchema): string {
    const name = qualified(table)
    return `IF OBJECT_ID(${nstring(name)}, N'U') IS NOT NULL DROP TABLE ${name}`
  },
  createIndex(table: TableSchema, index: IndexSchema): string | undefined {
    // expression and filtered indexes are recreated only from SQL Server itself
    if (index.expression && index.dialect !== 'mssql') return undefined
    const where = index.where && index.dialect === 'mssql' ? ` WHERE ${index.where}` : ''
    return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteId(index.name)} ON ${qualified(table)} (${index.columns.map(quoteId).join(', ')})${where}`
  },
  addForeignKey: (table: TableSchema, fk: ForeignKeySchema) => foreignKey(table, fk, { check: true }),
  foreignKeysInCreate: false,
  resetIdentity: (table: TableSchema) => (hasIdentity(table) ? [reseed(table)] : []),
  literal: (value: Value, column: ColumnSchema) => literalOf(value, column.type),
  script,
  foreignKey,
  reseed,
  reseedPastKeys,
  hasIdentity,
  usesBulk,
  staging,
  identityProbe,
  saveBatch: SAVE,
  undoBatch: UNDO_BATCH,
  bulkColumns,
  bulkValueBytes,
  bulkFrameBytes,
  bulkParts,
  bulkValue,
  insertParameter,
  insertStatement,
  maxKey,
  selectTable,
  columnDefault,
  ensureSchema: ENSURE_SCHEMA,
  nameSpeller,
  indexNameAsWritten,
  definedName,
  referencedNames,
})
