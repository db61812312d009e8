import type { DuckDBConnection } from '@duckdb/node-api'
import type { ColumnDefault, ColumnSchema, DatabaseSchema, ForeignKeySchema, IndexSchema, KeySchema, LogicalType, ObjectSchema, TableSchema } from '../../src/schema/types.js'
import { duckdbTypes } from './duckdb-types.js'

type Cell = unknown

async function rows(connection: DuckDBConnection, sql: string, params: (string | number)[] = []): Promise<Cell[][]> {
  return (await connection.runAndReadAll(sql, params)).getRows() as Cell[][]
}

/** A column default as DuckDB shows it (`nextval('s')`, `CURRENT_TIMESTAMP`, `42`, `'x'`, `CAST('x' AS …)`). */
function readDefault(text: string | null): { default?: ColumnDefault; autoIncrement?: boolean } {
  if (text === null) return {}
  const t = text.trim()
  // a sequence feeding the column is DuckDB's identity
  if (/^nextval\s*\(/i.test(t)) return { autoIncrement: true }
  if (/^(current_timestamp|now\(\)|current_date|current_time|get_current_timestamp\(\))$/i.test(t)) return { default: { kind: 'now' } }
  if (/^-?\d+(\.\d+)?$/.test(t)) return { default: { kind: 'value', value: t.includes('.') ? t : Number(t) } }
  const str = /^'((?:[^']|'')*)'$/.exec(t) ?? /^CAST\('((?:[^']|'')*)' AS VARCHAR\)$/i.exec(t)
  if (str) return { default: { kind: 'value', value: str[1]!.replaceAll("''", "'") } }
  if (/^(true|false)$/i.test(t)) return { default: { kind: 'value', value: t.toLowerCase() === 'true' } }
  return { default: { kind: 'expression', sql: t, dialect: 'duckdb' } }
}

/** Splits the column list of a `CREATE INDEX … ON t(a, "b c", lower(d));` statement at top-level commas. */
function indexParts(sql: string): string[] | undefined {
  const on = sql.search(/\bON\b/i)
  const open = sql.indexOf('(', on)
  const close = sql.lastIndexOf(')')
  if (on < 0 || open < 0 || close < open) return undefined
  const body = sql.slice(open + 1, close)
  const parts: string[] = []
  let depth = 0
  let from = 0
  let quote: string | undefined
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!
    if (quote) {
      if (ch === quote) quote = undefined
      continue
    }
    if (ch === '"' || ch === "'") quote = ch
    else if (ch === '(') depth++
    else if (ch === ')') depth--
    else if (ch === ',' && depth === 0) {
      parts.push(body.slice(from, i).trim())
      from = i + 1
    }
  }
  parts.push(body.slice(from).trim())
  return parts
}

/** A bare or double-quoted column name, or undefined for an expression. */
function columnName(part: string, columns: readonly ColumnSchema[]): string | undefined {
  const quoted = /^"((?:[^"]|"")*)"$/.exec(part)
  const name = quoted ? quoted[1]!.replaceAll('""', '"') : /^[A-Za-z_][A-Za-z0-9_$]*$/.test(part) ? part : undefined
  if (name === undefined) return undefined
  return columns.find((c) => c.name === name)?.name ?? columns.find((c) => c.name.toLowerCase() === name.toLowerCase())?.name
}

/**
 * Reads one schema of a DuckDB database: tables (`duckdb_tables()`), columns with DuckDB's type text
 * (`duckdb_columns()`), primary, unique and foreign keys (`duckdb_constraints()`), indexes (`duckdb_indexes()`)
 * and views. A column whose type dbferry does not carry is kept as `text` with a note in its native type, and
 * its values are read as DuckDB's text for them.
 */
export async function introspectDuckdb(connection: DuckDBConnection, schema: string, only?: readonly string[]): Promise<DatabaseSchema> {
  const db = 'current_database()'
  const tableRows = await rows(
    connection,
    `SELECT table_name, estimated_size FROM duckdb_tables() WHERE database_name = ${db} AND schema_name = ? AND NOT temporary ORDER BY table_name`,
    [schema],
  )
  const wanted = only === undefined ? undefined : new Set(only.map((n) => n.toLowerCase()))
  const tables = new Map<string, TableSchema>()
  for (const [name, estimate] of tableRows) {
    const n = String(name)
    if (wanted && !wanted.has(n.toLowerCase())) continue
    tables.set(n, { name: n, columns: [], uniques: [], indexes: [], foreignKeys: [], rowCountEstimate: Number(estimate ?? 0) })
  }

  const columnRows = await rows(
    connection,
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM duckdb_columns() WHERE database_name = ${db} AND schema_name = ? ORDER BY table_name, column_index`,
    [schema],
  )
  for (const [tableName, name, dataType, nullable, dflt] of columnRows) {
    const t = tables.get(String(tableName))
    if (!t) continue
    const native = String(dataType)
    const logical = duckdbTypes.toLogical(native)
    // a type dbferry cannot carry (GEOMETRY) is read as DuckDB's text for it rather than left out
    const type: LogicalType = 'reject' in logical ? { kind: 'text' } : logical
    const col: ColumnSchema = { name: String(name), type, nativeType: native, nativeDialect: 'duckdb', nullable: nullable === true, ...readDefault(dflt === null ? null : String(dflt)) }
    t.columns.push(col)
  }

  const constraintRows = await rows(
    connection,
    `SELECT table_name, constraint_type, constraint_name, CAST(to_json(constraint_column_names) AS VARCHAR), referenced_table, CAST(to_json(referenced_column_names) AS VARCHAR)
       FROM duckdb_constraints() WHERE database_name = ${db} AND schema_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') ORDER BY table_name, constraint_index`,
    [schema],
  )
  for (const [tableName, type, name, cols, refTable, refCols] of constraintRows) {
    const t = tables.get(String(tableName))
    if (!t) continue
    const columns = JSON.parse(String(cols)) as string[]
    if (type === 'PRIMARY KEY') t.primaryKey = { name: String(name), columns } satisfies KeySchema
    else if (type === 'UNIQUE') t.uniques.push({ name: String(name), columns })
    else t.foreignKeys.push({ name: String(name), columns, refTable: String(refTable), refColumns: JSON.parse(String(refCols)) as string[], origin: 'source' } satisfies ForeignKeySchema)
  }

  const indexRows = await rows(connection, `SELECT table_name, index_name, is_unique, sql FROM duckdb_indexes() WHERE database_name = ${db} AND schema_name = ? ORDER BY table_name, index_name`, [schema])
  for (const [tableName, name, unique, sql] of indexRows) {
    const t = tables.get(String(tableName))
    if (!t || sql === null) continue
    const parts = indexParts(String(sql))
    if (!parts) continue
    const names = parts.map((p) => columnName(p, t.columns))
    const index: IndexSchema = { name: String(name), columns: [], unique: unique === true }
    if (names.every((n) => n !== undefined)) index.columns = names as string[]
    else {
      index.expression = parts.join(', ')
      index.dialect = 'duckdb'
    }
    t.indexes.push(index)
  }

  const objects: ObjectSchema[] = []
  const viewRows = await rows(connection, `SELECT view_name, sql FROM duckdb_views() WHERE database_name = ${db} AND schema_name = ? AND NOT internal ORDER BY view_name`, [schema])
  const names = [...tables.keys()]
  for (const [name, sql] of viewRows) {
    const text = sql === null ? undefined : String(sql)
    const lower = text?.toLowerCase() ?? ''
    const view: ObjectSchema = { name: String(name), type: 'view', dependsOn: names.filter((n) => new RegExp(`(^|[^a-z0-9_$])"?${n.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"?($|[^a-z0-9_$])`).test(lower)) }
    if (text !== undefined) view.definition = text
    objects.push(view)
  }
  return { dialect: 'duckdb', tables: [...tables.values()], objects }
}
