import type BetterSqlite3 from 'better-sqlite3'
import { SchemaError } from '../../src/errors.js'
import { canonicalTimestampTz, ConversionFailure, makeConverter } from '../../src/schema/values.js'
import type {
  ColumnDefault,
  ColumnSchema,
  DatabaseSchema,
  ForeignKeySchema,
  IndexSchema,
  KeySchema,
  LogicalType,
  ObjectSchema,
  TableSchema,
} from '../../src/schema/types.js'
import { sqliteSql } from './sqlite-sql.js'
import { sqliteTypes } from './sqlite-types.js'

interface TableListRow {
  name: string
  type: string
  wr: number
}
interface XInfoRow {
  cid: number
  name: string
  type: string
  notnull: number
  dflt_value: string | null
  pk: number
  hidden: number
}
interface IndexListRow {
  seq: number
  name: string
  unique: number
  origin: string
  partial: number
}
interface IndexXInfoRow {
  seqno: number
  cid: number
  name: string | null
  key: number
}
interface FkRow {
  id: number
  seq: number
  table: string
  from: string
  to: string | null
  on_update: string
  on_delete: string
}

/* SQL text helpers: what the catalog pragmas do not say is read from the statements SQLite keeps. */

/**
 * Splits a `CREATE INDEX … ON t (body) WHERE cond` statement into the parenthesised body and the WHERE
 * condition, skipping quoted names and strings. Returns undefined when the text has no column list.
 */
function splitIndexSql(sql: string): { body: string; where?: string } | undefined {
  let i = 0
  let start = -1
  let depth = 0
  let end = -1
  const n = sql.length
  while (i < n) {
    const ch = sql[i]!
    if (ch === '"' || ch === '`' || ch === "'" || ch === '[') {
      const close = ch === '[' ? ']' : ch
      i++
      while (i < n) {
        if (sql[i] === close) {
          if (close !== ']' && sql[i + 1] === close) {
            i += 2
            continue
          }
          break
        }
        i++
      }
      i++
      continue
    }
    if (ch === '(') {
      if (depth === 0 && start < 0) start = i + 1
      depth++
    } else if (ch === ')') {
      depth--
      if (depth === 0 && start >= 0) {
        end = i
        break
      }
    }
    i++
  }
  if (start < 0 || end < 0) return undefined
  const body = sql.slice(start, end).trim()
  const rest = sql.slice(end + 1)
  const m = /\bwhere\b([\s\S]*)$/i.exec(rest)
  return m ? { body, where: m[1]!.trim() } : { body }
}

/** Whether `sql` mentions `name` as a whole word or quoted identifier (for view dependencies). */
function mentions(sql: string, name: string): boolean {
  const lower = sql.toLowerCase()
  const n = name.toLowerCase()
  let from = 0
  for (;;) {
    const at = lower.indexOf(n, from)
    if (at < 0) return false
    const before = lower[at - 1]
    const after = lower[at + n.length]
    const edge = (c: string | undefined) => c === undefined || !/[a-z0-9_$]/.test(c)
    if (edge(before) && edge(after)) return true
    from = at + 1
  }
}

/** Splits `text` at top-level commas (outside parentheses, quotes and strings). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '"' || ch === '`' || ch === "'" || ch === '[') {
      const close = ch === '[' ? ']' : ch
      i++
      while (i < text.length && !(text[i] === close && !(close !== ']' && text[i + 1] === close && ++i))) i++
      continue
    }
    if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      parts.push(text.slice(from, i))
      from = i + 1
    }
  }
  parts.push(text.slice(from))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

/** Reads one identifier (quoted or bare) at the start of `text`; returns it and the rest. */
function leadingName(text: string): [string, string] | undefined {
  const quoted = /^(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\])/.exec(text)
  if (quoted) {
    const name = quoted[1] !== undefined ? quoted[1].replaceAll('""', '"') : quoted[2] !== undefined ? quoted[2].replaceAll('``', '`') : quoted[3]!
    return [name, text.slice(quoted[0].length)]
  }
  const bare = /^([^\s(,]+)/.exec(text)
  return bare ? [bare[1]!, text.slice(bare[0].length)] : undefined
}

const TABLE_CONSTRAINT = /^(constraint|primary|unique|check|foreign)\b/i

/**
 * What `pragma table_xinfo` does not tell about columns, read from the `CREATE TABLE` text: each column's
 * `COLLATE` name, keyed by the lower-cased column name.
 */
function columnCollations(createSql: string): Map<string, string> {
  const collations = new Map<string, string>()
  const body = splitIndexSql(createSql)?.body
  if (body === undefined) return collations
  for (const part of splitTopLevel(body)) {
    if (TABLE_CONSTRAINT.test(part)) continue
    const lead = leadingName(part)
    if (!lead) continue
    // strings and quoted names in the rest must not be mistaken for the keyword
    const rest = lead[1].replace(/'(?:[^']|'')*'/g, "''")
    const m = /\bcollate\s+("(?:[^"]|"")*"|\w+)/i.exec(rest)
    if (m) collations.set(lead[0].toLowerCase(), m[1]!.replace(/^"|"$/g, '').replaceAll('""', '"'))
  }
  return collations
}

const NOW_WORDS = new Set(['current_timestamp', "datetime('now')", 'datetime("now")', "(datetime('now'))", "(datetime('now','localtime'))"])

/** A column default from SQLite's `dflt_value` text: literals become values, CURRENT_TIMESTAMP `now`. */
function parseDefault(text: string | null, type: LogicalType): ColumnDefault | undefined {
  if (text === null) return undefined
  let t = text.trim()
  while (t.startsWith('(') && t.endsWith(')')) t = t.slice(1, -1).trim()
  const lower = t.toLowerCase()
  if (lower === 'null') return undefined
  if (NOW_WORDS.has(lower) || NOW_WORDS.has(text.trim().toLowerCase())) return { kind: 'now' }
  let raw: unknown
  if (/^'(?:[^']|'')*'$/.test(t)) raw = t.slice(1, -1).replaceAll("''", "'")
  else if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) raw = /^[+-]?\d+$/.test(t) ? (BigInt(t) >= BigInt(Number.MIN_SAFE_INTEGER) && BigInt(t) <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : BigInt(t)) : Number(t)
  else if (lower === 'true' || lower === 'false') raw = lower === 'true' ? 1 : 0
  else if (/^x'([0-9a-f]{2})*'$/i.test(t)) raw = Buffer.from(t.slice(2, -1), 'hex')
  else return { kind: 'expression', sql: text, dialect: 'sqlite' }
  const v = makeConverter(type)(raw)
  if (v instanceof ConversionFailure) return { kind: 'expression', sql: text, dialect: 'sqlite' }
  return { kind: 'value', value: v }
}

/**
 * Whether a timestamp column holds at least one text value with a UTC offset (`…+00:00`, `…Z`, `…+0530`):
 * such a column is read as `timestamptz`, so every value keeps its instant (see {@link SqliteIntrospectOptions}).
 * SQL picks the candidates (a time, then a sign or a Z after it) and the core's parser decides, stopping at
 * the first one; a column without any is read to its end once.
 */
function holdsOffsets(db: BetterSqlite3.Database, table: string, column: string, memo: Map<string, unknown> | undefined): boolean {
  const key = `offsets\u0000${table}\u0000${column}`
  const known = memo?.get(key)
  if (typeof known === 'boolean') return known
  const c = sqliteSql.quoteIdentifier(column)
  const candidates = db
    .prepare(`SELECT ${c} FROM ${sqliteSql.quoteIdentifier(table)} WHERE typeof(${c}) = 'text' AND (${c} GLOB '*[0-9]:[0-9][0-9]*[+-][0-9][0-9]*' OR ${c} GLOB '*[0-9]:[0-9][0-9]*[Zz]')`)
    .pluck()
  let found = false
  for (const v of candidates.iterate() as IterableIterator<string>) {
    if (canonicalTimestampTz(v) !== undefined) {
      found = true
      break
    }
  }
  memo?.set(key, found)
  return found
}

function columnsOf(db: BetterSqlite3.Database, table: string, collations: Map<string, string>, memo: Map<string, unknown> | undefined): ColumnSchema[] {
  const rows = db.prepare('SELECT cid, name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)').all(table) as XInfoRow[]
  const pkCount = rows.filter((r) => r.pk > 0).length
  const out: ColumnSchema[] = []
  for (const r of rows) {
    // hidden 1: a virtual table's hidden column, not data
    if (r.hidden === 1) continue
    let type = sqliteTypes.toLogical(r.type)
    // a generated column is not read, so it keeps its declared type
    if (type.kind === 'timestamp' && r.hidden === 0 && holdsOffsets(db, table, r.name, memo)) type = { ...type, kind: 'timestamptz' }
    const c: ColumnSchema = { name: r.name, type, nativeType: r.type, nullable: r.notnull === 0 && r.pk === 0 }
    const d = parseDefault(r.dflt_value, type)
    if (d) c.default = d
    const collation = collations.get(r.name.toLowerCase())
    if (collation !== undefined) c.collation = collation
    if (r.hidden === 2 || r.hidden === 3) c.generated = true
    // INTEGER PRIMARY KEY (exactly that type name) makes the column the rowid itself
    if (r.pk === 1 && pkCount === 1 && r.type.toUpperCase() === 'INTEGER') c.autoIncrement = true
    out.push(c)
  }
  return out
}

function indexColumns(db: BetterSqlite3.Database, index: string): { columns: string[]; expression: boolean } {
  const rows = db.prepare('SELECT seqno, cid, name, "key" FROM pragma_index_xinfo(?) WHERE "key" = 1 ORDER BY seqno').all(index) as IndexXInfoRow[]
  return { columns: rows.filter((r) => r.name !== null).map((r) => r.name!), expression: rows.some((r) => r.cid === -2) }
}

function keysOf(db: BetterSqlite3.Database, table: string): { uniques: KeySchema[]; indexes: IndexSchema[] } {
  const list = db.prepare('SELECT seq, name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY seq DESC').all(table) as IndexListRow[]
  const sqlOf = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?").pluck()
  const uniques: KeySchema[] = []
  const indexes: IndexSchema[] = []
  for (const ix of list) {
    if (ix.origin === 'pk') continue
    const { columns, expression } = indexColumns(db, ix.name)
    if (ix.origin === 'u') {
      uniques.push(ix.name.startsWith('sqlite_autoindex_') ? { columns } : { name: ix.name, columns })
      continue
    }
    const idx: IndexSchema = { name: ix.name, columns, unique: ix.unique === 1 }
    if (expression || ix.partial === 1) {
      const sql = sqlOf.get(ix.name) as string | null
      const parts = sql ? splitIndexSql(sql) : undefined
      if (parts) {
        if (expression) idx.expression = parts.body
        if (parts.where !== undefined) idx.where = parts.where
        idx.dialect = 'sqlite'
      }
    }
    indexes.push(idx)
  }
  return { uniques, indexes }
}

function foreignKeysOf(db: BetterSqlite3.Database, table: string, pkOf: (t: string) => string[]): ForeignKeySchema[] {
  const rows = db.prepare('SELECT id, seq, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq').all(table) as FkRow[]
  const byId = new Map<number, FkRow[]>()
  for (const r of rows) {
    const list = byId.get(r.id) ?? []
    list.push(r)
    byId.set(r.id, list)
  }
  const out: ForeignKeySchema[] = []
  // foreign_key_list numbers keys from the last declared; declared order reads better
  for (const id of [...byId.keys()].sort((a, b) => b - a)) {
    const parts = byId.get(id)!
    const refTable = parts[0]!.table
    let refColumns = parts.map((p) => p.to)
    if (refColumns.some((c) => c === null)) refColumns = pkOf(refTable)
    const fk: ForeignKeySchema = { columns: parts.map((p) => p.from), refTable, refColumns: refColumns as string[], origin: 'source' }
    if (parts[0]!.on_delete && parts[0]!.on_delete !== 'NO ACTION') fk.onDelete = parts[0]!.on_delete
    if (parts[0]!.on_update && parts[0]!.on_update !== 'NO ACTION') fk.onUpdate = parts[0]!.on_update
    out.push(fk)
  }
  return out
}

/**
 * Reads an SQLite database's schema from its own catalog: `sqlite_schema` and the `table_list`, `table_xinfo`,
 * `index_list`, `index_xinfo` and `foreign_key_list` pragmas. Virtual tables and their shadow tables are
 * left out (their data lives in the module); views are reported as objects.
 */
export function introspectSqlite(db: BetterSqlite3.Database, options: { tables?: readonly string[] } = {}): DatabaseSchema {
  try {
    const list = db
      .prepare("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
      .all() as TableListRow[]
    const order = new Map(
      (db.prepare("SELECT name, rowid AS n FROM sqlite_schema WHERE type IN ('table', 'view')").all() as { name: string; n: number }[]).map((r) => [r.name, r.n]),
    )
    list.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0))
    const wanted = options.tables ? new Set(options.tables) : undefined
    const pkCache = new Map<string, string[]>()
    const pkOf = (t: string): string[] => {
      let pk = pkCache.get(t)
      if (!pk) {
        const rows = db.prepare('SELECT name, pk FROM pragma_table_xinfo(?) WHERE pk > 0 ORDER BY pk').all(t) as { name: string }[]
        pk = rows.map((r) => r.name)
        pkCache.set(t, pk)
      }
      return pk
    }
    const tables: TableSchema[] = []
    for (const t of list) {
      if (t.type !== 'table') continue
      if (wanted && !wanted.has(t.name)) continue
      const sql = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(t.name) as string | null
      const columns = columnsOf(db, t.name, sql ? columnCollations(sql) : new Map())
      const pk = pkOf(t.name)
      const { uniques, indexes } = keysOf(db, t.name)
      const table: TableSchema = {
        name: t.name,
        columns,
        uniques,
        indexes,
        foreignKeys: foreignKeysOf(db, t.name, pkOf),
      }
      if (pk.length > 0) table.primaryKey = { columns: pk }
      table.rowid = t.wr === 0
      table.rowCountEstimate = Number(db.prepare(`SELECT count(*) FROM ${sqliteSql.quoteIdentifier(t.name)}`).pluck().safeIntegers(false).get())
      tables.push(table)
    }
    const objects: ObjectSchema[] = []
    const views = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'view' ORDER BY rowid").all() as { name: string; sql: string }[]
    const names = [...list.map((t) => t.name)]
    for (const v of views) {
      if (wanted && !wanted.has(v.name)) continue
      const body = v.sql.replace(/^[\s\S]*?\bAS\b/i, '')
      objects.push({ name: v.name, type: 'view', definition: v.sql, dependsOn: names.filter((n) => n !== v.name && mentions(body, n)) })
    }
    return { dialect: 'sqlite', tables, objects }
  } catch (error) {
    if (error instanceof SchemaError) throw error
    throw new SchemaError(`could not read the SQLite schema: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
}
