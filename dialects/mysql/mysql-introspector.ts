import type { ColumnDefault, ColumnSchema, DatabaseSchema, ForeignKeySchema, IndexSchema, KeySchema, LogicalType, ObjectSchema, TableSchema, Value } from '../../src/schema/types.js'
import { mysqlTypes } from './mysql-types.js'

/** What the introspector needs from a connection: a query returning row objects. */
export interface MysqlQuery {
  (sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
}

interface ColumnRow {
  TABLE_NAME: string
  COLUMN_NAME: string
  COLUMN_TYPE: string
  IS_NULLABLE: string
  COLUMN_DEFAULT: string | null
  EXTRA: string
  CHARACTER_SET_NAME: string | null
  COLLATION_NAME: string | null
  COLUMN_COMMENT: string | null
  GENERATION_EXPRESSION: string | null
}

function unquote(literal: string): string {
  return literal
    .slice(1, -1)
    .replace(/''/g, "'")
    .replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c)
}

function typedDefault(text: string, type: LogicalType): Value {
  switch (type.kind) {
    case 'boolean':
      return text !== '0' && text.toLowerCase() !== 'false' && text !== "b'0'"
    case 'int16':
    case 'int32':
    case 'int64': {
      const b = /^-?\d+$/.test(text) ? BigInt(text) : undefined
      if (b === undefined) return text
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
    }
    case 'float32':
    case 'float64':
      return Number(text)
    default:
      return text
  }
}

/**
 * Parses `COLUMN_DEFAULT`. MariaDB (10.2.7+) quotes string literals and writes `NULL` for no default; MySQL 8
 * gives literals unquoted and marks expressions with `DEFAULT_GENERATED` in `EXTRA`.
 */
function parseDefault(raw: string | null, extra: string, type: LogicalType, mariadb: boolean): ColumnDefault | undefined {
  if (raw === null) return undefined
  const now = /^(current_timestamp|now|localtimestamp)(\(\d*\))?$/i
  if (mariadb) {
    if (raw === 'NULL') return undefined
    if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return { kind: 'value', value: typedDefault(unquote(raw), type) }
    if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return { kind: 'value', value: typedDefault(raw, type) }
    if (now.test(raw)) return { kind: 'now' }
    return { kind: 'expression', sql: raw, dialect: 'mysql' }
  }
  if (/DEFAULT_GENERATED/i.test(extra)) return now.test(raw) ? { kind: 'now' } : { kind: 'expression', sql: raw, dialect: 'mysql' }
  if (now.test(raw)) return { kind: 'now' }
  return { kind: 'value', value: typedDefault(raw, type) }
}

/**
 * Reads the current database's schema from information_schema: tables (engine, charset, collation, row
 * estimate), columns (exact types, charset/collation, defaults, auto_increment, generated), keys, indexes with
 * prefix lengths, foreign keys, and views. MyISAM tables have no foreign keys in the catalog; the user declares
 * them with the `foreignKeys` option.
 */
export async function introspectMysql(query: MysqlQuery, options: { tables?: readonly string[]; mariadb: boolean }): Promise<DatabaseSchema> {
  const only = options.tables ? new Set(options.tables) : undefined
  const want = (t: string) => only === undefined || only.has(t)

  const tables = (await query(
    `SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_ROWS FROM information_schema.TABLES
     WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`,
  )) as { TABLE_NAME: string; TABLE_TYPE: string; ENGINE: string | null; TABLE_COLLATION: string | null; TABLE_ROWS: number | string | null }[]

  const columns = (await query(
    `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT,
            GENERATION_EXPRESSION
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  )) as unknown as ColumnRow[]

  // MariaDB's json is longtext with a json_valid() check
  let jsonColumns = new Set<string>()
  if (options.mariadb) {
    const checks = (await query(
      `SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()`,
    ).catch(() => [])) as { TABLE_NAME: string; CHECK_CLAUSE: string }[]
    jsonColumns = new Set(
      checks.flatMap((c) => {
        const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(c.CHECK_CLAUSE.trim())
        return m ? [`${c.TABLE_NAME}\0${m[1]!.replace(/``/g, '`')}`] : []
      }),
    )
  }

  const stats = (await query(
    `SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, INDEX_TYPE
     FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
  )) as { TABLE_NAME: string; INDEX_NAME: string; NON_UNIQUE: number | string; SEQ_IN_INDEX: number; COLUMN_NAME: string | null; SUB_PART: number | string | null; INDEX_TYPE: string }[]

  const fkRows = (await query(
    `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
            r.UPDATE_RULE, r.DELETE_RULE
     FROM information_schema.KEY_COLUMN_USAGE k
     JOIN information_schema.REFERENTIAL_CONSTRAINTS r
       ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
  )) as { TABLE_NAME: string; CONSTRAINT_NAME: string; COLUMN_NAME: string; REFERENCED_TABLE_NAME: string; REFERENCED_COLUMN_NAME: string; UPDATE_RULE: string; DELETE_RULE: string }[]

  const colsByTable = new Map<string, ColumnSchema[]>()
  for (const c of columns) {
    if (!want(c.TABLE_NAME)) continue
    // COLUMN_TYPE holds the whole declaration (`int(10) unsigned`, `enum('a','b')`), as mysqldump prints it
    const mapped = mysqlTypes.toLogical(c.COLUMN_TYPE)
    let type: LogicalType = 'reject' in mapped ? { kind: 'bytes' } : mapped
    if (jsonColumns.has(`${c.TABLE_NAME}\0${c.COLUMN_NAME}`)) type = { kind: 'json' }
    // a datetime dbferry wrote from a timestamp with offset holds UTC: read it back as one
    if (type.kind === 'timestamp' && c.COLUMN_COMMENT === mysqlTypes.utcComment) type = { kind: 'timestamptz', precision: type.precision ?? 0 }
    const extra = c.EXTRA ?? ''
    const generated = /\b(VIRTUAL|STORED|PERSISTENT)\b/i.test(extra) && /GENERATED/i.test(extra)
    const col: ColumnSchema = {
      name: c.COLUMN_NAME,
      type,
      nativeType: c.COLUMN_TYPE,
      nullable: c.IS_NULLABLE === 'YES',
    }
    const def = generated ? undefined : parseDefault(c.COLUMN_DEFAULT, extra, type, options.mariadb)
    if (def) col.default = def
    if (/auto_increment/i.test(extra)) col.autoIncrement = true
    if (generated) {
      col.generated = true
      // the clause after `AS`, storage included, so a MySQL/MariaDB target recreates the column as it was
      const storage = /\b(STORED|PERSISTENT)\b/i.test(extra) ? 'STORED' : 'VIRTUAL'
      if (c.GENERATION_EXPRESSION) col.default = { kind: 'expression', sql: `(${c.GENERATION_EXPRESSION}) ${storage}`, dialect: 'mysql' }
    }
    if (c.COLLATION_NAME) col.collation = c.COLLATION_NAME
    if (c.CHARACTER_SET_NAME) col.charset = c.CHARACTER_SET_NAME
    const list = colsByTable.get(c.TABLE_NAME) ?? []
    list.push(col)
    colsByTable.set(c.TABLE_NAME, list)
  }

  const keys = new Map<string, { primaryKey?: KeySchema; uniques: KeySchema[]; indexes: IndexSchema[] }>()
  const grouped = new Map<string, typeof stats>()
  for (const s of stats) {
    if (!want(s.TABLE_NAME)) continue
    const k = `${s.TABLE_NAME}\0${s.INDEX_NAME}`
    grouped.set(k, [...(grouped.get(k) ?? []), s])
  }
  for (const parts of grouped.values()) {
    const first = parts[0]!
    const entry = keys.get(first.TABLE_NAME) ?? { uniques: [], indexes: [] }
    keys.set(first.TABLE_NAME, entry)
    // functional index parts (MySQL 8) have no column: recreated only from their own engine, so skipped here
    if (parts.some((p) => p.COLUMN_NAME === null)) continue
    const cols = parts.map((p) => p.COLUMN_NAME!)
    const lengths = parts.map((p) => (p.SUB_PART === null ? undefined : Number(p.SUB_PART)))
    const unique = Number(first.NON_UNIQUE) === 0
    const prefixed = lengths.some((l) => l !== undefined)
    if (first.INDEX_NAME === 'PRIMARY') entry.primaryKey = { name: 'PRIMARY', columns: cols }
    else if (unique && !prefixed) entry.uniques.push({ name: first.INDEX_NAME, columns: cols })
    else {
      const idx: IndexSchema = { name: first.INDEX_NAME, columns: cols, unique }
      if (prefixed) idx.lengths = lengths
      if (first.INDEX_TYPE === 'FULLTEXT' || first.INDEX_TYPE === 'SPATIAL') {
        idx.expression = first.INDEX_TYPE
        idx.dialect = 'mysql'
      }
      entry.indexes.push(idx)
    }
  }

  const fks = new Map<string, ForeignKeySchema[]>()
  const fkByName = new Map<string, ForeignKeySchema>()
  for (const r of fkRows) {
    if (!want(r.TABLE_NAME)) continue
    const k = `${r.TABLE_NAME}\0${r.CONSTRAINT_NAME}`
    let fk = fkByName.get(k)
    if (!fk) {
      fk = { name: r.CONSTRAINT_NAME, columns: [], refTable: r.REFERENCED_TABLE_NAME, refColumns: [], origin: 'source' }
      if (r.DELETE_RULE && r.DELETE_RULE !== 'RESTRICT' && r.DELETE_RULE !== 'NO ACTION') fk.onDelete = r.DELETE_RULE
      if (r.UPDATE_RULE && r.UPDATE_RULE !== 'RESTRICT' && r.UPDATE_RULE !== 'NO ACTION') fk.onUpdate = r.UPDATE_RULE
      fkByName.set(k, fk)
      fks.set(r.TABLE_NAME, [...(fks.get(r.TABLE_NAME) ?? []), fk])
    }
    fk.columns.push(r.COLUMN_NAME)
    fk.refColumns.push(r.REFERENCED_COLUMN_NAME)
  }

  const out: TableSchema[] = []
  const objects: ObjectSchema[] = []
  const tableNames = tables.filter((t) => t.TABLE_TYPE === 'BASE TABLE').map((t) => t.TABLE_NAME)
  for (const t of tables) {
    if (!want(t.TABLE_NAME)) continue
    if (t.TABLE_TYPE !== 'BASE TABLE') {
      if (t.TABLE_TYPE === 'VIEW') objects.push({ name: t.TABLE_NAME, type: 'view', dependsOn: [] })
      continue
    }
    const k = keys.get(t.TABLE_NAME) ?? { uniques: [], indexes: [] }
    const table: TableSchema = {
      name: t.TABLE_NAME,
      columns: colsByTable.get(t.TABLE_NAME) ?? [],
      uniques: k.uniques,
      indexes: k.indexes,
      foreignKeys: fks.get(t.TABLE_NAME) ?? [],
    }
    if (k.primaryKey) table.primaryKey = k.primaryKey
    if (t.ENGINE) table.engine = t.ENGINE
    if (t.TABLE_COLLATION) {
      table.collation = t.TABLE_COLLATION
      table.charset = t.TABLE_COLLATION === 'binary' ? 'binary' : t.TABLE_COLLATION.split('_')[0]!
    }
    if (t.TABLE_ROWS !== null) table.rowCountEstimate = Number(t.TABLE_ROWS)
    out.push(table)
  }

  if (objects.length > 0) {
    const views = (await query(`SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`)) as {
      TABLE_NAME: string
      VIEW_DEFINITION: string
    }[]
    const known = [...tableNames, ...objects.map((o) => o.name)]
    for (const v of views) {
      const o = objects.find((x) => x.name === v.TABLE_NAME)
      if (!o) continue
      o.definition = v.VIEW_DEFINITION
      o.dependsOn = known.filter((n) => n !== o.name && v.VIEW_DEFINITION.includes(`\`${n}\``))
    }
  }
  return { dialect: 'mysql', tables: out, objects }
}
