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
 * Rows read from each end of a table, in key order, to decide whether a timestamp column holds offsets.
 * Reading every row cost 0.4 s per million rows and column at every introspection (about a tenth of a copy);
 * the first and last rows show how an application writes its times, and a value with an offset beyond them
 * is still kept as its instant: the reader converts it to UTC and counts a fix (see sqlite-reader.ts).
 */
const OFFSET_SAMPLE_ROWS = 256

/**
 * The key order a table's ends are read in: its rowid under a name no column shadows, else its primary key
 * (WITHOUT ROWID); undefined when neither reaches it (then the sample is the first rows SQLite returns).
 */
function sampleOrder(db: BetterSqlite3.Database, table: string): { asc: string; desc: string } | undefined {
  const cols = db.prepare('SELECT name, pk FROM pragma_table_xinfo(?)').all(table) as { name: string; pk: number }[]
  const hasRowid = (db.prepare("SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?").pluck().get(table) as number | undefined) === 0
  const taken = new Set(cols.map((c) => c.name.toLowerCase()))
  const rowid = hasRowid ? ['rowid', '_rowid_', 'oid'].find((n) => !taken.has(n)) : undefined
  if (rowid !== undefined) return { asc: rowid, desc: `${rowid} DESC` }
  const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => sqliteSql.quoteIdentifier(c.name))
  return pk.length > 0 ? { asc: pk.join(', '), desc: pk.map((c) => `${c} DESC`).join(', ') } : undefined
}

/**
 * Whether a timestamp column's sample holds a text value with a UTC offset (`…+00:00`, `…Z`, `…+0530`): such a
 * column is read as `timestamptz`, so every value keeps its instant (see {@link SqliteIntrospectOptions}). The
 * sample is the first and last {@link OFFSET_SAMPLE_ROWS} rows in key order; SQL picks the candidates among
 * them and the core's parser decides. The memo keeps the answer for the snapshot.
 */
function holdsOffsets(db: BetterSqlite3.Database, table: string, column: string, memo: Map<string, unknown> | undefined): boolean {
  const key = `offsets\u0000${table}\u0000${column}`
  const known = memo?.get(key)
  if (typeof known === 'boolean') return known
  const c = sqliteSql.quoteIdentifier(column)
  const t = sqliteSql.quoteIdentifier(table)
  const order = sampleOrder(db, table)
  const end = (by: string | undefined) => `SELECT * FROM (SELECT ${c} AS v FROM ${t}${by === undefined ? '' : ` ORDER BY ${by}`} LIMIT ${OFFSET_SAMPLE_ROWS})`
  const sample = order === undefined ? end(undefined) : `${end(order.asc)} UNION ALL ${end(order.desc)}`
  const candidates = db
    // an offset follows `YYYY-MM-DD HH:MM` (16 characters): a sign after them, or a Z at the end
    .prepare(`SELECT v FROM (${sample}) WHERE typeof(v) = 'text' AND (instr(substr(v, 17), '+') > 0 OR instr(substr(v, 17), '-') > 0 OR substr(v, -1) IN ('Z', 'z'))`)
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
    if (type.kind === 'timestamp' && holdsOffsets(db, table, r.name, memo)) type = { ...type, kind: 'timestamptz' }
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

/* Virtual tables: a module's data, which no other engine can hold as it is. */

/** The tables each module keeps its data in, named `<virtual table>_<suffix>`. */
const SHADOW_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  fts3: ['content', 'segments', 'segdir', 'docsize', 'stat'],
  fts4: ['content', 'segments', 'segdir', 'docsize', 'stat'],
  fts5: ['data', 'idx', 'content', 'docsize', 'config'],
  rtree: ['node', 'rowid', 'parent'],
  rtree_i32: ['node', 'rowid', 'parent'],
  geopoly: ['node', 'rowid', 'parent'],
}

/** Modules whose tables show another table's data (their rows are not data of their own). */
const DERIVED_MODULES = new Set(['fts5vocab', 'fts4aux'])

/** One virtual table of the file, and what becomes of it. */
interface VirtualTable {
  name: string
  module: string
  /** Its shadow tables present in the file. */
  shadows: string[]
  /** FTS external content: the table whose rows it indexes. */
  contentTable?: string
  /** Rows it holds, or undefined when it cannot be read (a module this SQLite lacks). */
  rows?: number
}

/** The module and arguments of a `CREATE VIRTUAL TABLE … USING module(args)` statement. */
function moduleOf(sql: string): { module: string; args: string } {
  const m = /\busing\s+("(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|\w+)\s*(?:\(([\s\S]*)\))?\s*;?\s*$/i.exec(sql)
  if (!m) return { module: '?', args: '' }
  return { module: m[1]!.replace(/^["`[]|["`\]]$/g, '').toLowerCase(), args: m[2] ?? '' }
}

/** The `content=` option of an FTS table: a table name, `''` for a contentless one, undefined when absent. */
function contentOption(args: string): string | undefined {
  for (const part of splitTopLevel(args)) {
    const m = /^content\s*=\s*([\s\S]*)$/i.exec(part)
    if (!m) continue
    const v = m[1]!.trim()
    const quoted = /^(['"`])([\s\S]*)\1$/.exec(v)
    return quoted ? quoted[2]!.replaceAll(quoted[1]! + quoted[1]!, quoted[1]!) : /^\[([\s\S]*)\]$/.exec(v)?.[1] ?? v
  }
  return undefined
}

/** Every virtual table of the file, with its shadow tables, its content table and its row count. */
function virtualTables(db: BetterSqlite3.Database, tableNames: readonly string[]): VirtualTable[] {
  const defs = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY rowid").all() as { name: string; sql: string }[]
  const byLower = new Map(tableNames.map((n) => [n.toLowerCase(), n]))
  return defs.map(({ name, sql }) => {
    const { module, args } = moduleOf(sql)
    const shadows = (SHADOW_SUFFIXES[module] ?? []).map((s) => byLower.get(`${name}_${s}`.toLowerCase())).filter((n): n is string => n !== undefined)
    const vt: VirtualTable = { name, module, shadows }
    const content = module.startsWith('fts') ? contentOption(args) : undefined
    if (content !== undefined && content !== '') vt.contentTable = byLower.get(content.toLowerCase()) ?? content
    try {
      vt.rows = Number(db.prepare(`SELECT count(*) FROM ${sqliteSql.quoteIdentifier(name)}`).pluck().safeIntegers(false).get())
    } catch {
      // the module is not in this SQLite: the table cannot be read at all
    }
    return vt
  })
}

/**
 * What the report says about a virtual table, and whether it holds data the copy leaves behind: an FTS index
 * over a table of the file (external content) is an index not created, its rows come with that table; any
 * other virtual table with rows (FTS with its own content, R*Tree, contentless FTS, a module this SQLite
 * lacks) is data not copied, so the run is not clean.
 */
function virtualTableNote(vt: VirtualTable, tables: ReadonlySet<string>): { note: string; dataLeft: boolean } {
  const what = `${vt.name}: virtual table (${vt.module})`
  const shadows = vt.shadows.length > 0 ? `; its shadow tables ${vt.shadows.join(', ')} are not copied either` : ''
  const rows = vt.rows === undefined ? 'cannot be read here (its module is not in this SQLite)' : `holds ${vt.rows} row(s)`
  if (DERIVED_MODULES.has(vt.module)) return { note: `${what}, a view of another virtual table's data: not created${shadows}`, dataLeft: false }
  if (vt.contentTable !== undefined && tables.has(vt.contentTable)) {
    return { note: `${what}, a full-text index over table ${vt.contentTable}: index not created (the rows of ${vt.contentTable} are copied; create a full-text index on the target)${shadows}`, dataLeft: false }
  }
  const dataLeft = vt.rows !== 0
  return { note: `${what} ${rows}: not copied, no other engine holds a virtual table${dataLeft ? ' — its data is not on the target' : ''}${shadows}`, dataLeft }
}

/** Options of {@link introspectSqlite}. */
export interface SqliteIntrospectOptions {
  /** Only these tables (and views). Default: all. */
  tables?: readonly string[]
  /**
   * Results that stay true while one read transaction is open (which timestamp columns hold offsets), so
   * reading the schema again inside the snapshot does not scan the data again. Default: none kept.
   */
  memo?: Map<string, unknown>
  /**
   * Filled with what the report should say about the file: virtual tables and their shadow tables (skipped,
   * with the reason), timestamp columns read as `timestamptz`; `dataLeft` counts the virtual tables whose
   * data no target gets. Default: not collected.
   */
  survey?: { notes: string[]; dataLeft: number }
}

/**
 * Reads an SQLite database's schema from its own catalog: `sqlite_schema` and the `table_list`, `table_xinfo`,
 * `index_list`, `index_xinfo` and `foreign_key_list` pragmas. Virtual tables and their shadow tables are
 * left out (their data lives in the module; `options.survey` says so); views are reported as objects. A
 * `DATETIME`/`TIMESTAMP` column whose first or last rows hold times with a UTC offset is read as `timestamptz`
 * (values without one read as UTC); an offset further in is read as its instant in UTC and counted as a fix,
 * so no row is rejected for its offset.
 */
export function introspectSqlite(db: BetterSqlite3.Database, options: SqliteIntrospectOptions = {}): DatabaseSchema {
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
    const virtual = virtualTables(db, list.map((t) => t.name))
    // shadow tables by name too: without its module, SQLite lists a shadow table as a plain table
    const shadow = new Set(virtual.flatMap((v) => v.shadows))
    const tables: TableSchema[] = []
    for (const t of list) {
      if (t.type !== 'table' || shadow.has(t.name)) continue
      if (wanted && !wanted.has(t.name)) continue
      const sql = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(t.name) as string | null
      const columns = columnsOf(db, t.name, sql ? columnCollations(sql) : new Map(), options.memo)
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
      table.rowCountEstimate = rowEstimate(db, t.name, table.rowid)
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
    if (options.survey) {
      const names = new Set(list.filter((t) => t.type === 'table' && !shadow.has(t.name)).map((t) => t.name))
      for (const vt of virtual) {
        const { note, dataLeft } = virtualTableNote(vt, names)
        options.survey.notes.push(note)
        if (dataLeft) options.survey.dataLeft++
      }
      for (const t of tables) {
        for (const c of t.columns) {
          if (c.type.kind === 'timestamptz' && sqliteTypes.toLogical(c.nativeType).kind === 'timestamp') {
            options.survey.notes.push(`${t.name}.${c.name}: ${c.nativeType} holds times with a UTC offset, read as timestamptz (values without an offset are read as UTC)`)
          }
        }
      }
    }
    return { dialect: 'sqlite', tables, objects }
  } catch (error) {
    if (error instanceof SchemaError) throw error
    throw new SchemaError(`could not read the SQLite schema: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
}

/**
 * A table's row count estimate: for a rowid table its rowid span (`max(rowid) - min(rowid) + 1`, two lookups in
 * the table's b-tree; more than the rows where rows were deleted), else the exact `count(*)`. `count(*)` of a
 * rowid table walks every page of it: 7 % of a 1M-row SQLite → PostgreSQL copy's profile, for a number that only
 * sizes progress bars, chunks and key stores.
 */
function rowEstimate(db: BetterSqlite3.Database, table: string, rowid: boolean): number {
  const q = sqliteSql.quoteIdentifier(table)
  if (!rowid) return Number(db.prepare(`SELECT count(*) FROM ${q}`).pluck().safeIntegers(false).get())
  // BigInt(): a replayed statement (a Kysely instance's) gives numbers whatever safeIntegers asks
  const max = db.prepare(`SELECT max(rowid) FROM ${q}`).pluck().safeIntegers(true).get() as bigint | number | null
  if (max === null || max === undefined) return 0
  const min = db.prepare(`SELECT min(rowid) FROM ${q}`).pluck().safeIntegers(true).get() as bigint | number
  return Number(BigInt(max) - BigInt(min) + 1n)
}
