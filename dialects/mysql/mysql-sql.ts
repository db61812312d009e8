import type { CreateTableOptions, DialectSql, SegmentRequest } from '../../src/dialect.js'
import { civilFromDays, daysFromCivil } from '../../src/schema/civil-days.js'
import { shortenIdentifier } from '../../src/schema/identifiers.js'
import type { ColumnSchema, ForeignKeySchema, IndexSchema, LogicalType, TableSchema, Value } from '../../src/schema/types.js'
import { rejectedRowCondition, segmentLiterals } from '../../src/verify/engine-sql.js'
import { mysqlTypes, type ZeroDatePolicy } from './mysql-types.js'

/**
 * Statements as MySQL/MariaDB writes them: quoting, `CREATE TABLE` sized for InnoDB's limits, indexes, foreign
 * keys, literals with backslash escapes, the frame of a SQL script, and the queries of verify's engine-side
 * hashing. Loads no driver.
 */

/** The server's collations and character sets, so only names it knows reach DDL. Empty: the defaults only. */
export interface ServerCharsets {
  /** Collation name (lower case) → its character set. */
  collations: Map<string, string>
  charsets: Set<string>
}

const NO_CHARSETS: ServerCharsets = { collations: new Map(), charsets: new Set() }

/** The InnoDB row-size limit: the byte lengths of all varchar/varbinary columns of a row must fit in it. */
const ROW_SIZE_BUDGET = 65_000
/** InnoDB's longest index key (DYNAMIC row format), in bytes. */
const MAX_KEY_BYTES = 3072
const UTF8MB4_BYTES = mysqlTypes.bytesPerChar
const lit = mysqlTypes.stringLiteral

/** The quoted identifier of a column or table. */
const q = (name: string) => `\`${name.replace(/`/g, '``')}\``

const hex = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')

/** A timestamp with offset converted to UTC (`YYYY-MM-DD HH:MM:SS[.ffffff]`), by calendar arithmetic. */
function utcTimestamp(v: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?([+-])(\d{2}):(\d{2})$/.exec(v)
  if (!m) return v
  const [, y, mo, d, h, mi, se, frac = '', sign, oh, om] = m
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om))
  if (offset === 0) return `${y}-${mo}-${d} ${h}:${mi}:${se}${frac}`
  let minutes = daysFromCivil(Number(y), Number(mo), Number(d)) * 1440 + Number(h) * 60 + Number(mi) - offset
  const days = Math.floor(minutes / 1440)
  minutes -= days * 1440
  const [yy, mm, dd] = civilFromDays(days)
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `${String(yy).padStart(4, '0')}-${p2(mm)}-${p2(dd)} ${p2(Math.floor(minutes / 60))}:${p2(minutes % 60)}:${se}${frac}`
}

/**
 * The DDL type of a column. A table that came from MySQL keeps its native type as long as that type still
 * means the column's logical type (a type override or transform clears or changes it).
 */
function columnDdlType(column: ColumnSchema, keepNative: boolean, varcharAllowed: boolean): string {
  if (keepNative && column.nativeType) {
    const l = mysqlTypes.toLogical(column.nativeType)
    if (!('reject' in l) && JSON.stringify(l) === JSON.stringify(column.type)) return column.nativeType
  }
  return mysqlTypes.toNativeBudgeted(column.type, varcharAllowed)
}

function generatedClause(column: ColumnSchema): string | undefined {
  const d = column.default
  return column.generated && d?.kind === 'expression' && d.dialect === 'mysql' ? `GENERATED ALWAYS AS ${d.sql}` : undefined
}

function defaultSql(column: ColumnSchema, ddlType: string): string | undefined {
  const d = column.default
  // another engine's generation expression: the column is created plain and holds the values
  if (!d || column.generated) return undefined
  const blobLike = /^(tiny|medium|long)?(text|blob)$|^json$/i.test(ddlType)
  const wrap = (s: string) => (blobLike ? `(${s})` : s)
  if (d.kind === 'now') {
    if (column.type.kind !== 'timestamp' && column.type.kind !== 'timestamptz') return undefined
    const p = /\((\d)\)/.exec(ddlType)?.[1]
    return p && p !== '0' ? `CURRENT_TIMESTAMP(${p})` : 'CURRENT_TIMESTAMP'
  }
  if (d.kind === 'expression') return d.dialect === 'mysql' ? `(${d.sql})` : undefined
  const v = d.value
  if (v === null) return 'NULL'
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (typeof v === 'number') return Number.isFinite(v) ? wrap(String(v)) : undefined
  if (typeof v === 'bigint') return wrap(v.toString())
  if (v instanceof Uint8Array) return wrap(`X'${Buffer.from(v).toString('hex')}'`)
  if (column.type.kind === 'timestamptz') return wrap(lit(utcTimestamp(v)))
  return wrap(lit(v))
}

const TEXTUAL = new Set<LogicalType['kind']>(['text', 'json', 'uuid'])

function declaredBytes(type: string, unit: number): number {
  const m = /\((\d+)\)/.exec(type)
  return m ? Number(m[1]) * unit + 2 : 0
}

/** A key's name, at most 64 characters and unique among `used` (case-insensitively); `PRIMARY` is reserved. */
function keyName(table: TableSchema, name: string, used: Set<string>): string {
  let n = shortenIdentifier(name === 'PRIMARY' ? `${table.name}_pkey` : name, 64)
  let i = 2
  while (used.has(n.toLowerCase())) n = shortenIdentifier(`${name}_${i++}`, 64)
  used.add(n.toLowerCase())
  return n
}

/** Whether a column is text or bytes that a key must size (enums are fixed-width). */
const sizedInKey = (col: ColumnSchema | undefined): col is ColumnSchema =>
  col !== undefined && (col.type.kind === 'text' || col.type.kind === 'bytes') && !(col.type.kind === 'text' && col.type.values)

/**
 * The bytes each text or bytes key column may take so that every key fits InnoDB's 3072 bytes with its
 * fixed-width parts counted (`int` 4, `datetime(6)` 8, `char(36)` 144, …): what the fixed parts leave is
 * shared among the text and bytes parts, a part declared shorter than its share keeping its length and
 * leaving the rest to the others. A column in several keys gets the smallest of its shares.
 */
function keyByteLimits(table: TableSchema, columns: readonly ColumnSchema[], keepNative: boolean): Map<string, number> {
  const limits = new Map<string, number>()
  for (const key of [table.primaryKey, ...table.uniques]) {
    if (!key) continue
    const parts = key.columns.map((name) => columns.find((x) => x.name === name))
    const sized = parts.filter(sizedInKey)
    if (sized.length === 0) continue
    let room = MAX_KEY_BYTES
    for (const col of parts) if (col && !sizedInKey(col)) room -= mysqlTypes.keyBytes(columnDdlType(col, keepNative, true)) ?? 0
    // the shortest declared parts first: what they do not use goes to the longer ones
    const wanted = sized
      .map((col) => ({ col, bytes: col.type.kind === 'text' || col.type.kind === 'bytes' ? (col.type.length ?? Infinity) * (col.type.kind === 'text' ? UTF8MB4_BYTES : 1) : Infinity }))
      .sort((a, b) => a.bytes - b.bytes)
    wanted.forEach(({ col, bytes }, i) => {
      const share = Math.max(0, Math.floor(room / (wanted.length - i)))
      const given = Math.min(bytes, share)
      room -= given
      limits.set(col.name, Math.min(limits.get(col.name) ?? Infinity, given))
    })
  }
  return limits
}

/**
 * `CREATE TABLE` for one table: columns, primary key and unique keys (secondary indexes come later), with the
 * character sets and collations `server` knows. Text and bytes in keys are sized to InnoDB's 3072-byte key
 * (see {@link keyByteLimits}): a key part longer than its share (or unbounded) becomes a `varchar(n)` of the
 * characters that fit, never a prefix, so the key still compares whole values; the writer rejects a longer
 * value with the reason. The other varchar/varbinary columns are sized to the row-size budget, beyond which
 * they become text/blob.
 */
function createTableSql(table: TableSchema, server: ServerCharsets, options: CreateTableOptions = {}): string {
  // without a named source, a table that came from MySQL is known by its storage engine
  const keepNative = (options.sourceDialect ?? (table.engine !== undefined ? 'mysql' : undefined)) === 'mysql'
  const columns = table.columns
  const keyCols = new Set([...(table.primaryKey?.columns ?? []), ...table.uniques.flatMap((u) => u.columns)])
  const keyLimit = keyByteLimits(table, columns, keepNative)
  let budget = ROW_SIZE_BUDGET
  const typeOf = new Map<string, string>()
  for (const c of columns) {
    const limit = keyLimit.get(c.name)
    let type: string
    if (limit !== undefined && (c.type.kind === 'text' || c.type.kind === 'bytes')) {
      const unit = c.type.kind === 'text' ? UTF8MB4_BYTES : 1
      const native = columnDdlType(c, keepNative, true)
      const fitsNative = /^(var)?(char|binary)\((\d+)\)/i.exec(native)
      const maxLen = Math.floor(limit / unit)
      if (fitsNative && Number(fitsNative[3]) <= maxLen) type = native
      else {
        const n = Math.min(c.type.length ?? maxLen, maxLen)
        type = c.type.kind === 'text' ? `varchar(${n})` : `varbinary(${n})`
      }
      budget -= declaredBytes(type, unit)
    } else type = ''
    typeOf.set(c.name, type)
  }
  const defs: string[] = []
  for (const c of columns) {
    let type = typeOf.get(c.name)!
    if (type === '') {
      const need = mysqlTypes.varLengthBytes(c.type)
      const allowed = need > 0 && need <= budget && (keyCols.has(c.name) || need <= 16_383 * UTF8MB4_BYTES)
      type = columnDdlType(c, keepNative, allowed)
      if (/^var(char|binary)\(/i.test(type)) budget -= need
    }
    let def = `${q(c.name)} ${type}`
    if (TEXTUAL.has(c.type.kind) && c.type.kind !== 'json') {
      const coll = c.collation?.toLowerCase()
      const cs = coll ? server.collations.get(coll) : undefined
      if (coll && cs) def += ` CHARACTER SET ${cs} COLLATE ${coll}`
    }
    const generated = generatedClause(c)
    if (generated !== undefined) {
      // MariaDB refuses NULL/NOT NULL and DEFAULT on a generated column: the expression decides both
      defs.push(`${def} ${generated}`)
      continue
    }
    def += c.nullable && !table.primaryKey?.columns.includes(c.name) ? ' NULL' : ' NOT NULL'
    const d = defaultSql(c, type)
    if (d !== undefined) def += ` DEFAULT ${d}`
    if (c.type.kind === 'timestamptz' && /^datetime/i.test(type)) def += ` COMMENT ${lit(mysqlTypes.utcComment)}`
    if (c.autoIncrement && /int/i.test(type) && (table.primaryKey?.columns[0] === c.name || table.uniques.some((u) => u.columns[0] === c.name))) {
      def += ' AUTO_INCREMENT'
    }
    defs.push(def)
  }
  if (table.primaryKey && table.primaryKey.columns.length > 0) defs.push(`PRIMARY KEY (${table.primaryKey.columns.map(q).join(', ')})`)
  const used = new Set<string>()
  for (const u of table.uniques) {
    const name = keyName(table, u.name ?? `${table.name}_${u.columns.join('_')}_key`, used)
    defs.push(`UNIQUE KEY ${q(name)} (${u.columns.map(q).join(', ')})`)
  }
  const engine = table.engine && /^\w+$/.test(table.engine) ? table.engine : 'InnoDB'
  const coll = table.collation?.toLowerCase()
  const cs = coll ? server.collations.get(coll) : undefined
  const tableCharset = coll && cs ? `DEFAULT CHARSET=${cs} COLLATE=${coll}` : `DEFAULT CHARSET=utf8mb4 COLLATE=${mysqlTypes.defaultCollation}`
  return `CREATE TABLE ${q(table.name)} (\n  ${defs.join(',\n  ')}\n) ENGINE=${engine} ${tableCharset}`
}

const ACTIONS = /^(NO ACTION|CASCADE|SET NULL|SET DEFAULT|RESTRICT)$/i

function addForeignKey(table: TableSchema, fk: ForeignKeySchema): string {
  const name = fk.name ?? `${table.name}_${fk.columns.join('_')}_fkey`
  let sql = `ALTER TABLE ${q(table.name)} ADD CONSTRAINT ${q(name)} FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${q(fk.refTable)} (${fk.refColumns.map(q).join(', ')})`
  if (fk.onDelete && ACTIONS.test(fk.onDelete)) sql += ` ON DELETE ${fk.onDelete.toUpperCase()}`
  if (fk.onUpdate && ACTIONS.test(fk.onUpdate)) sql += ` ON UPDATE ${fk.onUpdate.toUpperCase()}`
  return sql
}

function createIndex(table: TableSchema, index: IndexSchema): string | undefined {
  if (index.expression) return undefined
  const cols = index.columns.map((c, k) => q(c) + (index.lengths?.[k] ? `(${index.lengths[k]})` : '')).join(', ')
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${q(index.name)} ON ${q(table.name)} (${cols})`
}

// MySQL reads backslash as an escape unless NO_BACKSLASH_ESCAPES: escape it and the bytes mysqldump escapes
const STRING_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' }
const stringLiteral = (s: string) => `'${s.replace(/[\\'\0\n\r\x1a]/g, (ch) => STRING_ESCAPES[ch]!)}'`

/** The largest float32, as a double. */
const FLOAT32_MAX = 3.4028234663852886e38

/**
 * A float32 value as the text a `FLOAT` column takes: its shortest decimal (`9.8`), except near the largest
 * float32, whose shortest decimal (`3.4028235e38`) lies past it and which MySQL/MariaDB refuse as out of
 * range: there the exact value goes, which the column stores as the same float32.
 */
function float32Text(v: number): string {
  const f = Math.fround(v)
  return Math.abs(v) > FLOAT32_MAX && Number.isFinite(f) ? String(f) : String(v)
}

/** A literal for a canonical value: backslash escapes, `X'…'` bytes, timestamps with offset in UTC. */
function literal(v: Value, column: ColumnSchema): string {
  if (v === null) return 'NULL'
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (v instanceof Uint8Array) return v.length === 0 ? "''" : `X'${hex(v)}'`
  if (typeof v === 'number' && Number.isFinite(v)) return Object.is(v, -0) ? '0' : column.type.kind === 'float32' ? float32Text(v) : String(v)
  if (typeof v === 'bigint') return v.toString()
  const s = String(v)
  if (column.type.kind === 'decimal' && /^-?\d+(\.\d+)?$/.test(s)) return s
  return stringLiteral(column.type.kind === 'timestamptz' ? utcTimestamp(s) : s)
}

/** The column expression a reader selects: floats widened to double so their exact value survives the text protocol. */
function selectExpression(column: ColumnSchema): string {
  // the text protocol prints FLOAT with 6 significant digits; as a double it prints exactly
  if (column.type.kind === 'float32' || /^float\b/i.test(column.nativeType)) return `(${q(column.name)} + 0E0)`
  return q(column.name)
}

const ZERO_DATE_SQL = (e: string) => `(${e} LIKE '0000%' OR ${e} LIKE '_____00%' OR ${e} LIKE '________00%')`

/**
 * A condition that holds for every value of a column the reader's decoder could reject (a boolean that is
 * not 0 or 1, a time outside a day, a zero date under the `reject` policy), `false` when it rejects none, or
 * undefined when the server's text is not what the reader decodes (text read from bytes).
 */
function rejectCondition(column: ColumnSchema, zeroDates: ZeroDatePolicy): string | undefined {
  const e = selectExpression(column)
  switch (column.type.kind) {
    case 'boolean':
      return /^bit\b/i.test(column.nativeType) ? 'false' : `${e} NOT IN (0, 1)`
    case 'text':
    case 'json':
    case 'uuid':
      // bytes decoded as UTF-8 by the reader: their validity is not checked here
      return mysqlTypes.readsAsBytes(column) ? undefined : 'false'
    case 'time':
      return `NOT (${e} BETWEEN '00:00:00' AND '23:59:59.999999')`
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return zeroDates === 'reject' ? ZERO_DATE_SQL(e) : 'false'
    default:
      return 'false'
  }
}

/**
 * A column's value as bytes in a row's text: `QUOTE` keeps NULL (the word) apart from any string (quoted,
 * with quotes and backslashes escaped), and text is converted to utf8mb4 first, so two columns of different
 * character sets that hold the same text give the same bytes, and different text never does.
 */
function hashedValue(column: ColumnSchema): string {
  const e = selectExpression(column)
  const text = !mysqlTypes.readsAsBytes(column) && (column.type.kind === 'text' || column.type.kind === 'json' || column.type.kind === 'uuid')
  return `CAST(QUOTE(${text ? `CONVERT(${e} USING utf8mb4)` : e}) AS BINARY)`
}

/** The md5 (hex) of a row's text as the server renders it, over the columns as the reader selects them. */
function rowHashSql(table: TableSchema, columns: readonly number[]): string {
  return `MD5(CONCAT(${columns.map((i) => hashedValue(table.columns[i]!)).join(", ',', ")}))`
}

/**
 * A row's segment: the low bits of the CRC-32 of its key's text, or, in a table without a key, 16 bits of its
 * md5 that the sums do not use. By key, a changed row stays in one segment on both sides, and the second
 * pass finds its segment's rows from their keys alone (measured 13 times cheaper than the md5 of each row).
 */
function segmentSql(table: TableSchema, request: SegmentRequest, rowHash: string): string {
  const key = request.key ?? []
  const hash = key.length > 0 ? `CRC32(CONCAT(${key.map((i) => hashedValue(table.columns[i]!)).join(", ',', ")}))` : `CONV(SUBSTRING(${rowHash}, 17, 4), 16, 10)`
  return `(${hash} & ${request.segments - 1})`
}

/**
 * The query of verify's engine-side first pass: per segment, the row count, the sum of the first 64 bits of
 * each row's md5 (as DECIMAL: order-independent and exact), and the count of rows the reader would reject.
 * The hash is computed in a derived table with a `LIMIT`, which MariaDB materialises instead of merging it
 * into the outer query, where each use of the hash computed the md5 again (measured 1.6 times slower).
 * Undefined when a column's text is not what the reader decodes.
 */
function segmentHashQuery(table: TableSchema, request: SegmentRequest, zeroDates: ZeroDatePolicy): string | undefined {
  const any = rejectedRowCondition(table, request, (c) => rejectCondition(c, zeroDates))
  if (any === undefined) return undefined
  const bad = any === 'false' ? '0' : `COALESCE(${any}, 0)`
  // a key's segment is computed from its columns, a keyless row's from its hash once that is computed
  const keyed = (request.key ?? []).length > 0
  return `SELECT seg, CONCAT(COUNT(*), ':', SUM(w)) AS sums, SUM(bad) AS bad
FROM (SELECT ${keyed ? 'kseg' : segmentSql(table, request, 'h')} AS seg, CAST(CONV(SUBSTRING(h, 1, 16), 16, 10) AS UNSIGNED) AS w, bad
      FROM (SELECT ${rowHashSql(table, request.columns)} AS h, ${keyed ? segmentSql(table, request, '') : 'NULL'} AS kseg, ${bad} AS bad
            FROM ${q(table.name)} LIMIT 18446744073709551615) r) s
GROUP BY seg`
}

/** The condition that keeps the rows of the `wanted` segments of a {@link MysqlSql.segmentHashQuery} request. */
function segmentFilter(table: TableSchema, request: SegmentRequest, wanted: readonly number[]): string {
  const list = segmentLiterals(request, wanted)
  return `${segmentSql(table, request, rowHashSql(table, request.columns))} IN (${list.join(', ')})`
}

/** What `mysqlSql` offers beyond the contract, for the other files of the dialect. */
export interface MysqlSql extends DialectSql {
  /** Always a statement: MySQL adds foreign keys after the data. */
  addForeignKey(table: TableSchema, fk: ForeignKeySchema): string
  /** `createTable` with the character sets and collations of one server (`createTable` knows none, so uses the defaults). */
  createTableOn(table: TableSchema, server: ServerCharsets, options?: CreateTableOptions): string
  /** A key's name, at most 64 characters and unique among `used` (case-insensitively); `PRIMARY` becomes `<table>_pkey`. */
  keyName(table: TableSchema, name: string, used: Set<string>): string
  /** A float32 value as a `FLOAT` column takes it: the shortest decimal, or the exact value past the largest float32's. */
  float32Text(value: number): string
  /** A timestamp with offset (`… +02:00`) as the UTC `datetime` MySQL stores; other text unchanged. */
  utcTimestamp(value: string): string
  /** The expression a reader selects for a column (floats widened to double, which the text protocol prints exactly). */
  selectExpression(column: ColumnSchema): string
  /** Verify's per-segment count/hash query; undefined when a column's text is not what the reader decodes. */
  segmentHashQuery(table: TableSchema, request: SegmentRequest, zeroDates: ZeroDatePolicy): string | undefined
  /** The condition that keeps the rows of the `wanted` segments of a `segmentHashQuery` request. */
  segmentFilter(table: TableSchema, request: SegmentRequest, wanted: readonly number[]): string
  /**
   * `GENERATED ALWAYS AS (…) VIRTUAL|STORED` for a generated column that came from MySQL/MariaDB, which the
   * target computes (its values are not written); undefined for any other column, a generated one from
   * another engine included (created plain, holding the source's values).
   */
  generatedClause(column: ColumnSchema): string | undefined
}

/**
 * MySQL/MariaDB statements. `createTable` builds InnoDB, utf8mb4 tables (`utf8mb4_unicode_ci` unless the
 * schema names a collation; a script cannot ask the server which it knows, so only the defaults are named);
 * `timestamptz` columns are UTC `datetime`s with a marking comment; foreign keys are added after the data;
 * `resetIdentity` is empty because `auto_increment` moves past inserted keys by itself. Scripts set utf8mb4,
 * UTC and `NO_AUTO_VALUE_ON_ZERO`, and turn foreign-key checks off while loading.
 */
export const mysqlSql: MysqlSql = Object.freeze({
  quoteIdentifier: q,
  // one database is one namespace: no schema qualification
  tableName: (table: { name: string }) => q(table.name),
  createTable: (table: TableSchema, options?: CreateTableOptions) => createTableSql(table, NO_CHARSETS, options),
  dropTable: (table: TableSchema) => `DROP TABLE IF EXISTS ${q(table.name)}`,
  createIndex,
  addForeignKey,
  foreignKeysInCreate: false,
  resetIdentity: () => [],
  literal,
  script: Object.freeze({
    header: Object.freeze(['SET NAMES utf8mb4', 'SET FOREIGN_KEY_CHECKS = 0', "SET SQL_MODE = 'NO_AUTO_VALUE_ON_ZERO'", "SET TIME_ZONE = '+00:00'"]),
    footer: Object.freeze(['SET FOREIGN_KEY_CHECKS = 1']),
    rowsPerInsert: () => 500,
  }),
  createTableOn: createTableSql,
  keyName,
  float32Text,
  utcTimestamp,
  selectExpression,
  segmentHashQuery,
  segmentFilter,
  generatedClause,
})
