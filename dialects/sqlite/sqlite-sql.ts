import type { CreateTableOptions, DialectSql } from '../../src/dialect.js'
import type { ColumnSchema, ForeignKeySchema, IndexSchema, TableSchema, Value } from '../../src/schema/types.js'
import { sqliteTypes } from './sqlite-types.js'

/**
 * Statements as SQLite writes them. Two CREATE TABLE forms share their key clauses:
 * - the script form (`createTable` for a schema from another engine, what an `sqlscript:` target writes):
 *   type-map types, an auto-increment key as `INTEGER PRIMARY KEY`, value defaults, foreign keys inside;
 * - the live writer's form (`targetTable`): also `now` and SQLite-expression defaults, foreign-key actions and,
 *   when the schema came from SQLite, its own declared types, collations and `WITHOUT ROWID`.
 */

const FK_ACTIONS = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION'])
const INT_KINDS = new Set(['int16', 'int32', 'int64'])
const SQLITE_COLLATIONS = new Set(['BINARY', 'NOCASE', 'RTRIM'])

/** Quotes an SQLite identifier: wraps it in `"` and doubles any `"` inside. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
const q = quoteIdentifier

const hex = (v: Uint8Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')

/** The primary key (unless a column is already the rowid alias) and the unique keys, as table clauses. */
function keyClauses(table: TableSchema, pkInline: boolean): string[] {
  const parts: string[] = []
  if (table.primaryKey && table.primaryKey.columns.length > 0 && !pkInline) parts.push(`PRIMARY KEY (${table.primaryKey.columns.map(q).join(', ')})`)
  for (const u of table.uniques) parts.push(`UNIQUE (${u.columns.map(q).join(', ')})`)
  return parts
}

/** A FOREIGN KEY clause; with `actions`, its ON DELETE/ON UPDATE actions other than the default. */
function foreignKeyClause(fk: ForeignKeySchema, actions: boolean): string {
  let line = `FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${q(fk.refTable)} (${fk.refColumns.map(q).join(', ')})`
  if (!actions) return line
  const del = fk.onDelete?.toUpperCase()
  const upd = fk.onUpdate?.toUpperCase()
  if (del && FK_ACTIONS.has(del) && del !== 'NO ACTION') line += ` ON DELETE ${del}`
  if (upd && FK_ACTIONS.has(upd) && upd !== 'NO ACTION') line += ` ON UPDATE ${upd}`
  return line
}

function tableStatement(table: TableSchema, parts: string[], suffix = ''): string {
  return `CREATE TABLE ${q(table.name)} (\n  ${parts.join(',\n  ')}\n)${suffix}`
}

function plainNumber(v: Value): string | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? (Object.is(v, -0) ? '0' : String(v)) : undefined
  if (typeof v === 'bigint') return v.toString()
  return undefined
}

/** A value as a literal: `''` doubled, `X'…'` blobs, booleans as 0/1 (a script writes non-finite floats as text). */
function valueLiteral(v: Value): string {
  if (v === null) return 'NULL'
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (v instanceof Uint8Array) return `X'${hex(v)}'`
  const n = plainNumber(v)
  if (n !== undefined) return n
  return `'${String(v).replace(/'/g, "''")}'`
}

/** The script form of CREATE TABLE (see the file's comment). */
function scriptTable(t: TableSchema): string {
  const single = t.primaryKey?.columns.length === 1 ? t.primaryKey.columns[0] : undefined
  let rowidKey = false
  const cols = t.columns.map((c) => {
    // an auto-increment integer key becomes the rowid alias, so new rows get keys as before
    if (c.name === single && c.autoIncrement && INT_KINDS.has(c.type.kind)) {
      rowidKey = true
      return `${q(c.name)} INTEGER PRIMARY KEY`
    }
    let def = `${q(c.name)} ${sqliteTypes.toNative(c.type)}`
    if (c.default?.kind === 'value' && c.default.value !== null) def += ` DEFAULT ${valueLiteral(c.default.value)}`
    if (!c.nullable) def += ' NOT NULL'
    return def
  })
  return tableStatement(t, [...cols, ...keyClauses(t, rowidKey), ...t.foreignKeys.map((fk) => foreignKeyClause(fk, false))])
}

/** Whether the column becomes the table's rowid (`INTEGER PRIMARY KEY`) in the live writer's form. */
function isRowidAlias(table: TableSchema, c: ColumnSchema, sameEngine: boolean): boolean {
  const pk = table.primaryKey?.columns
  if (!pk || pk.length !== 1 || pk[0] !== c.name || !INT_KINDS.has(c.type.kind)) return false
  if (sameEngine && table.rowid === false) return false
  return c.autoIncrement === true || (sameEngine && c.nativeType.trim().toUpperCase() === 'INTEGER')
}

/**
 * The declared type for a column: the source's own type when the schema came from SQLite and still means the
 * same logical type (a type override changes it), else the type map's name. A `DATETIME` column the
 * introspector read as `timestamptz` (it holds offsets) keeps its name: its values keep their offsets.
 */
function declaredType(c: ColumnSchema, sameEngine: boolean): string {
  if (sameEngine) {
    const declared = sqliteTypes.toLogical(c.nativeType)
    const read = declared.kind === 'timestamp' && c.type.kind === 'timestamptz' ? { ...declared, kind: 'timestamptz' } : declared
    if (JSON.stringify(read) === JSON.stringify(c.type)) return typeSql(c.nativeType)
  }
  return sqliteTypes.toNative(c.type)
}

const PLAIN_TYPE = /^[A-Za-z_][A-Za-z0-9_]*(?: [A-Za-z_][A-Za-z0-9_]*)*(?: ?\(\s*[+-]?\d+\s*(?:,\s*[+-]?\d+\s*)?\))?$/
const CLAUSE_WORDS = /\b(default|not|null|primary|unique|check|references|constraint|collate|generated|as|on)\b/i

/**
 * A declared type as SQL. Free-form names that would read as something else (`datetime default current_date`
 * came from a quoted name; unquoted it would be a DEFAULT clause) are quoted: SQLite stores the name without
 * the quotes, so the copy declares the same type and gets the same affinity.
 */
function typeSql(native: string): string {
  if (native === '' || (PLAIN_TYPE.test(native) && !CLAUSE_WORDS.test(native))) return native
  return q(native)
}

/** A default's literal in the live form: infinities as `±9e999` (SQLite reads them back as ±Inf), NaN as NULL. */
function defaultLiteral(v: Value): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return v > 0 ? '9e999' : v < 0 ? '-9e999' : 'NULL'
  if (typeof v === 'number') return String(v)
  return valueLiteral(v)
}

function defaultClause(c: ColumnSchema): string {
  const d = c.default
  if (!d) return ''
  if (d.kind === 'now') return c.type.kind === 'date' ? ' DEFAULT CURRENT_DATE' : c.type.kind === 'time' ? ' DEFAULT CURRENT_TIME' : ' DEFAULT CURRENT_TIMESTAMP'
  if (d.kind === 'value') return ` DEFAULT ${defaultLiteral(d.value)}`
  if (d.dialect === 'sqlite') return ` DEFAULT (${d.sql})`
  return ''
}

/** The live writer's form of CREATE TABLE (see the file's comment); `sameEngine`: the schema came from SQLite. */
function targetTable(table: TableSchema, sameEngine: boolean): string {
  const lines: string[] = []
  for (const c of table.columns) {
    const alias = isRowidAlias(table, c, sameEngine)
    let line = `${q(c.name)} ${alias ? 'INTEGER' : declaredType(c, sameEngine)}`.trimEnd()
    if (!c.nullable && !alias) line += ' NOT NULL'
    // collations are names of the engine that declared them: only SQLite's own come along
    if (sameEngine && c.collation !== undefined && SQLITE_COLLATIONS.has(c.collation.toUpperCase())) line += ` COLLATE ${c.collation.toUpperCase()}`
    line += defaultClause(c)
    lines.push(line)
  }
  // SQLite cannot add a foreign key to an existing table, so they are declared now and the load runs with
  // foreign_keys=OFF; finalize() checks them
  lines.push(...keyClauses(table, false), ...table.foreignKeys.map((fk) => foreignKeyClause(fk, true)))
  const withoutRowid = sameEngine && table.rowid === false && table.primaryKey !== undefined ? ' WITHOUT ROWID' : ''
  return tableStatement(table, lines, withoutRowid)
}

/**
 * SQLite's statements. Foreign keys are declared in CREATE TABLE (SQLite cannot add them later), no identity
 * needs resetting (a rowid continues after the largest), and a script is one transaction with checks off.
 * Beyond the contract: `targetTable(table, sameEngine)`, the CREATE TABLE the live writer runs.
 *
 * @example
 * sqliteSql.createTable(table) // CREATE TABLE "t" (\n  "id" INTEGER PRIMARY KEY, …)
 */
export const sqliteSql: DialectSql & { targetTable(table: TableSchema, sameEngine: boolean): string } = Object.freeze({
  quoteIdentifier,
  // one namespace per database file (attached databases are not used)
  tableName: (table: { name: string }) => q(table.name),
  createTable(table: TableSchema, options: CreateTableOptions = {}): string {
    return options.sourceDialect === 'sqlite' ? targetTable(table, true) : scriptTable(table)
  },
  targetTable,
  dropTable: (table: TableSchema) => `DROP TABLE IF EXISTS ${q(table.name)}`,
  createIndex(table: TableSchema, index: IndexSchema): string | undefined {
    if (index.expression) return undefined
    return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${q(index.name)} ON ${q(table.name)} (${index.columns.map(q).join(', ')})`
  },
  addForeignKey: () => undefined,
  foreignKeysInCreate: true,
  resetIdentity: () => [],
  literal: (value: Value, _column: ColumnSchema) => valueLiteral(value),
  script: Object.freeze({
    header: ['PRAGMA foreign_keys = OFF', 'BEGIN'],
    footer: ['COMMIT'],
    rowsPerInsert: () => 500,
    // a literal cannot carry U+0000 (the sqlite3 shell ends the string there), and NaN or ±Infinity would be
    // written as text: the rows are fitted for that before they reach the script
    capabilities: Object.freeze({ textHoldsNul: false, floatHoldsNonFinite: false }),
  }),
})
