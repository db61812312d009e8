import type { CreateTableOptions, DialectSql, ScriptFrame } from '../../src/dialect.js'
import type { ColumnSchema, ForeignKeySchema, IndexSchema, TableSchema, Value } from '../../src/schema/types.js'
import { duckdbTypes } from './duckdb-types.js'

/** Quotes a DuckDB identifier: `"a""b"`. */
function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

const q = quoteIdentifier

function tableName(table: { name: string; schema?: string }, defaultSchema?: string): string {
  const schema = table.schema ?? defaultSchema
  return schema === undefined ? q(table.name) : `${q(schema)}.${q(table.name)}`
}

/** A string literal (DuckDB strings hold any character, U+0000 included, with `'` doubled). */
function stringLiteral(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

/** A literal for a canonical value, typed by a cast where DuckDB would otherwise guess (dates, blobs, …). */
function literal(value: Value, column: ColumnSchema): string {
  if (value === null) return 'NULL'
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return "'NaN'::DOUBLE"
    if (!Number.isFinite(value)) return value > 0 ? "'Infinity'::DOUBLE" : "'-Infinity'::DOUBLE"
    return Object.is(value, -0) ? "'-0'::DOUBLE" : String(value)
  }
  if (value instanceof Uint8Array) {
    // \xHH escapes for every byte: the blob literal syntax, whatever the bytes
    return `'${[...value].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'::BLOB`
  }
  const native = duckdbTypes.toNative(column.type)
  return column.type.kind === 'text' && column.type.values === undefined ? stringLiteral(value) : `${stringLiteral(value)}::${native}`
}

const FK_ACTIONS = new Set(['RESTRICT', 'NO ACTION'])

function foreignKeyClause(fk: ForeignKeySchema): string {
  // DuckDB supports neither ON DELETE CASCADE nor SET NULL: only the default (RESTRICT / NO ACTION)
  const del = fk.onDelete?.toUpperCase()
  const suffix = del !== undefined && FK_ACTIONS.has(del) && del !== 'NO ACTION' ? ` ON DELETE ${del}` : ''
  return `FOREIGN KEY (${fk.columns.map(q).join(', ')}) REFERENCES ${q(fk.refTable)} (${fk.refColumns.map(q).join(', ')})${suffix}`
}

/**
 * The declared type of a column: its own DuckDB type when the table came from DuckDB and the logical type was
 * not overridden since, else the type map's.
 */
function columnType(c: ColumnSchema, sourceDialect: string | undefined): string {
  const fromDuckdb = (c.nativeDialect ?? sourceDialect) === 'duckdb' && c.nativeType !== ''
  if (fromDuckdb && JSON.stringify(duckdbTypes.toLogical(c.nativeType)) === JSON.stringify(c.type)) return c.nativeType
  return duckdbTypes.toNative(c.type)
}

function defaultClause(c: ColumnSchema, sourceDialect: string | undefined): string {
  const d = c.default
  if (!d) return ''
  if (d.kind === 'now') return c.type.kind === 'date' ? ' DEFAULT current_date' : c.type.kind === 'time' ? ' DEFAULT current_time' : ' DEFAULT current_timestamp'
  if (d.kind === 'value') return ` DEFAULT ${literal(d.value, c)}`
  // expressions only on the engine that wrote them; a DuckDB nextval() names a sequence the copy does not have
  if (d.dialect === 'duckdb' && (sourceDialect ?? 'duckdb') === 'duckdb' && !/\bnextval\s*\(/i.test(d.sql)) return ` DEFAULT ${d.sql}`
  return ''
}

/**
 * CREATE TABLE with columns, defaults, the primary key, unique keys and — since DuckDB cannot add them later —
 * the table's foreign keys. Identity columns get their sequence after the data (see `identityStatements`).
 */
function createTable(table: TableSchema, options: CreateTableOptions = {}): string {
  const lines: string[] = []
  for (const c of table.columns) {
    let line = `${q(c.name)} ${columnType(c, options.sourceDialect)}`
    if (!c.nullable) line += ' NOT NULL'
    line += defaultClause(c, options.sourceDialect)
    lines.push(line)
  }
  if (table.primaryKey && table.primaryKey.columns.length > 0) lines.push(`PRIMARY KEY (${table.primaryKey.columns.map(q).join(', ')})`)
  for (const u of table.uniques) lines.push(`UNIQUE (${u.columns.map(q).join(', ')})`)
  for (const fk of table.foreignKeys) lines.push(foreignKeyClause(fk))
  return `CREATE TABLE ${tableName(table, options.schema)} (\n  ${lines.join(',\n  ')}\n)`
}

function dropTable(table: TableSchema): string {
  return `DROP TABLE IF EXISTS ${tableName(table)}`
}

function createIndex(table: TableSchema, index: IndexSchema): string | undefined {
  // DuckDB indexes take expressions, but only DuckDB's own text means the same thing here; no partial indexes
  if (index.where !== undefined) return undefined
  if (index.expression !== undefined && index.dialect !== 'duckdb') return undefined
  const body = index.expression ?? index.columns.map(q).join(', ')
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${q(index.name)} ON ${tableName(table)} (${body})`
}

/** The name of the sequence that feeds an identity column after a copy. */
function sequenceName(table: TableSchema, column: string): string {
  return `${table.name}_${column}_seq`
}

/**
 * Statements that give an identity column its sequence, starting at `next` (DuckDB has no IDENTITY and no
 * way to move a sequence: the sequence is created after the data, where its start is known).
 */
function identityStatements(table: TableSchema, column: string, next: bigint): string[] {
  const seq = q(sequenceName(table, column))
  const column_ = `${tableName(table)} ALTER COLUMN ${q(column)}`
  return [
    // a previous run's default holds the old sequence: let go of it first
    `ALTER TABLE ${column_} DROP DEFAULT`,
    `DROP SEQUENCE IF EXISTS ${seq}`,
    `CREATE SEQUENCE ${seq} START WITH ${next}`,
    `ALTER TABLE ${column_} SET DEFAULT nextval(${stringLiteral(sequenceName(table, column))})`,
  ]
}

const script: ScriptFrame = Object.freeze({
  header: ['BEGIN TRANSACTION;'],
  footer: ['COMMIT;'],
  rowsPerInsert: (columns: number) => Math.max(1, Math.floor(2000 / Math.max(columns, 1))),
})

/**
 * DuckDB's statements. Foreign keys can only be declared in CREATE TABLE (`foreignKeysInCreate`; there is
 * no ALTER TABLE … ADD FOREIGN KEY); dbferry's own load does not declare them (see the connection's
 * `prepareTarget`), a script that creates parents first may. `resetIdentity` gives nothing: a sequence's start
 * must be a constant, so the connection creates it after the data with {@link identityStatements}.
 */
export const duckdbSql: DialectSql & {
  /** Statements that create an identity column's sequence at `next` and make it the column's default. */
  identityStatements(table: TableSchema, column: string, next: bigint): string[]
  /** A string literal. */
  stringLiteral(s: string): string
} = Object.freeze({
  quoteIdentifier,
  tableName,
  createTable,
  dropTable,
  createIndex,
  addForeignKey: (): undefined => undefined,
  foreignKeysInCreate: true,
  resetIdentity: (): string[] => [],
  literal,
  script,
  identityStatements,
  stringLiteral,
})
