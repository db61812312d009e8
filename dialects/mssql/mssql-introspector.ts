import { SchemaError } from '../../src/errors.js'
import type { DatabaseSchema, ForeignKeySchema, IndexSchema, KeySchema, ObjectSchema, TableSchema } from '../../src/schema/types.js'
import type { MssqlSession } from './mssql-sql.js'
import { mssqlSql } from './mssql-sql.js'
import { mssqlTypes, type MssqlColumnMapping } from './mssql-types.js'

/** What the reader needs per column beyond the schema: the select expression and the code page to decode. */
export interface MssqlReadPlan {
  /** Select expression per column, aligned with the table's columns. */
  selects: string[]
  /** Code page per column for char/varchar read as bytes; undefined elsewhere. */
  codePages: (number | undefined)[]
}

/** The result of introspection: the schema, read plans per table, and notes on explicit mappings. */
export interface MssqlIntrospection {
  schema: DatabaseSchema
  plans: Map<string, MssqlReadPlan>
  /** Lossy or explicit mappings and computed columns, one line each, for the report. */
  notes: string[]
}

const TABLES = `
SELECT t.object_id, t.name,
  (SELECT SUM(p.rows) FROM sys.partitions p WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)) AS row_count
FROM sys.tables t JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE t.is_ms_shipped = 0 AND s.name = @schema
ORDER BY t.name`

// alias types resolve to their base type; CLR types (hierarchyid, geography) keep their own name
const COLUMNS = `
SELECT c.object_id, c.column_id, c.name,
  CASE WHEN ty.is_user_defined = 1 AND ty.is_assembly_type = 0 THEN TYPE_NAME(c.system_type_id) ELSE ty.name END AS type_name,
  c.max_length, c.precision, c.scale, c.is_nullable, c.is_identity, c.is_computed, c.collation_name,
  CAST(COLLATIONPROPERTY(c.collation_name, 'CodePage') AS int) AS code_page,
  dc.definition AS default_definition, cc.definition AS computed_definition
FROM sys.columns c
JOIN sys.tables t ON t.object_id = c.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
JOIN sys.types ty ON ty.user_type_id = c.user_type_id
LEFT JOIN sys.default_constraints dc ON dc.object_id = c.default_object_id
LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
WHERE s.name = @schema
ORDER BY c.object_id, c.column_id`

const INDEXES = `
SELECT i.object_id, i.index_id, i.name, i.is_primary_key, i.is_unique_constraint, i.is_unique, i.has_filter,
  i.filter_definition, col.name AS column_name
FROM sys.indexes i
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns col ON col.object_id = ic.object_id AND col.column_id = ic.column_id
JOIN sys.tables t ON t.object_id = i.object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE s.name = @schema AND i.type > 0 AND ic.is_included_column = 0
ORDER BY i.object_id, i.index_id, ic.key_ordinal`

const FOREIGN_KEYS = `
SELECT fk.object_id AS fk_id, fk.name, fk.parent_object_id, rt.name AS ref_table, pc.name AS column_name,
  rc.name AS ref_column, fk.delete_referential_action_desc AS on_delete, fk.update_referential_action_desc AS on_update
FROM sys.foreign_keys fk
JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.columns rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
JOIN sys.tables rt ON rt.object_id = fkc.referenced_object_id
JOIN sys.tables t ON t.object_id = fk.parent_object_id
JOIN sys.schemas s ON s.schema_id = t.schema_id
WHERE s.name = @schema
ORDER BY fk.object_id, fkc.constraint_column_id`

const OBJECTS = `
SELECT o.object_id, o.name, RTRIM(o.type) AS type, m.definition
FROM sys.objects o
JOIN sys.schemas s ON s.schema_id = o.schema_id
LEFT JOIN sys.sql_modules m ON m.object_id = o.object_id
WHERE o.is_ms_shipped = 0 AND o.type IN ('V', 'FN', 'IF', 'TF', 'P') AND s.name = @schema
ORDER BY o.name`

// INFORMATION_SCHEMA keeps names as written where sys.* may not (Babelfish lower-cases them)
const SPELLINGS = `
SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name
FROM INFORMATION_SCHEMA.COLUMNS
WHERE TABLE_SCHEMA = @schema`

const DEPENDENCIES = `
SELECT d.referencing_id, OBJECT_NAME(d.referenced_id) AS ref_name
FROM sys.sql_expression_dependencies d
JOIN sys.objects o ON o.object_id = d.referencing_id
JOIN sys.schemas s ON s.schema_id = o.schema_id
WHERE d.referenced_id IS NOT NULL AND s.name = @schema`

interface ColumnRow {
  object_id: number
  name: string
  type_name: string
  max_length: number
  precision: number
  scale: number
  is_nullable: boolean
  is_identity: boolean
  is_computed: boolean
  collation_name: string | null
  code_page: number | null
  default_definition: string | null
  computed_definition: string | null
}

/**
 * Whether the server converts varchar to varbinary as bytes of the column's code page (SQL Server). Babelfish
 * stores the text right but gives `?` for every non-ASCII character there: on such a server varchar is read
 * as text, which the server converts to Unicode itself.
 */
async function codePageBytes(session: MssqlSession): Promise<boolean> {
  // an Arabic alef is 0xC7 in code page 1256 (Babelfish converts Latin-1 letters right, Arabic ones to '?')
  const res = await session.request().query("SELECT CAST(CAST(N'\u0627' AS varchar(4)) COLLATE Arabic_CI_AS AS varbinary(4)) AS b")
  const b = res.recordset[0]?.b as Uint8Array | undefined
  return b !== undefined && b.length === 1 && b[0] === 0xc7
}

/**
 * Reads the schema of one SQL Server schema (default `dbo`) from `sys.*`: tables, columns with exact types,
 * identity and computed columns, keys, indexes, foreign keys, views/functions/procedures and their
 * dependencies. Unknown types are rejected with a `SchemaError` naming the column.
 */
export async function introspectMssql(session: MssqlSession, schemaName: string, only?: ReadonlySet<string>): Promise<MssqlIntrospection> {
  const run = async <T>(text: string): Promise<T[]> => {
    const r = session.request()
    r.input('schema', schemaName)
    const res = await r.query(text)
    return res.recordset as unknown as T[]
  }
  // one after the other: inside a SNAPSHOT transaction requests share one connection
  const tables = await run<{ object_id: number; name: string; row_count: number | string | null }>(TABLES)
  const columns = await run<ColumnRow>(COLUMNS)
  const indexes = await run<{ object_id: number; index_id: number; name: string; is_primary_key: boolean; is_unique_constraint: boolean; is_unique: boolean; has_filter: boolean; filter_definition: string | null; column_name: string }>(INDEXES)
  const fks = await run<{ fk_id: number; name: string; parent_object_id: number; ref_table: string; column_name: string; ref_column: string; on_delete: string; on_update: string }>(FOREIGN_KEYS)
  const objects = await run<{ object_id: number; name: string; type: string; definition: string | null }>(OBJECTS)
  const deps = await run<{ referencing_id: number; ref_name: string | null }>(DEPENDENCIES)
  const spellings = await run<{ table_name: string; column_name: string }>(SPELLINGS)
  const codePages = await codePageBytes(session)
  const spellTable = mssqlSql.nameSpeller(spellings.map((r) => r.table_name))
  const columnSpellings = new Map<string, string[]>()
  for (const r of spellings) columnSpellings.set(r.table_name, [...(columnSpellings.get(r.table_name) ?? []), r.column_name])
  const columnSpellers = new Map<string, (name: string) => string>()
  /** A column of a table (named as written) as written. */
  const spellColumn = (table: string, column: string): string => {
    let speller = columnSpellers.get(table)
    if (!speller) columnSpellers.set(table, (speller = mssqlSql.nameSpeller(columnSpellings.get(table) ?? [])))
    return speller(column)
  }
  for (const t of tables) t.name = spellTable(t.name)
  const notes: string[] = []
  const plans = new Map<string, MssqlReadPlan>()
  const byId = new Map<number, TableSchema>()
  const out: TableSchema[] = []
  for (const t of tables) {
    if (only && !only.has(t.name)) continue
    const table: TableSchema = {
      name: t.name,
      ...(schemaName !== 'dbo' ? { schema: schemaName } : {}),
      columns: [],
      uniques: [],
      indexes: [],
      foreignKeys: [],
      // Babelfish shows -1 for a table never analyzed
      ...(t.row_count !== null && Number(t.row_count) >= 0 ? { rowCountEstimate: Number(t.row_count) } : {}),
    }
    byId.set(t.object_id, table)
    plans.set(t.name, { selects: [], codePages: [] })
    out.push(table)
  }
  for (const c of columns) {
    const table = byId.get(c.object_id)
    if (!table) continue
    c.name = spellColumn(table.name, c.name)
    const plan = plans.get(table.name)!
    const mapped = mssqlTypes.columnMapping({ typeName: c.type_name, maxLength: c.max_length, precision: c.precision, scale: c.scale, ...(c.code_page !== null && codePages ? { codePage: c.code_page } : {}) })
    if ('rejected' in mapped) throw new SchemaError(`${table.name}.${c.name}: ${mapped.rejected}`, { table: table.name, column: c.name })
    const m: MssqlColumnMapping = mapped
    if (m.note) notes.push(`${table.name}.${c.name}: ${m.note}`)
    // a computed column's values are read like any column's; the target gets them as a plain column
    if (c.is_computed) notes.push(`${table.name}.${c.name}: computed column AS ${c.computed_definition ?? '?'}, copied as a plain column with its values (the expression is not recreated)`)
    table.columns.push({
      name: c.name,
      type: m.type,
      nativeType: m.nativeType,
      nullable: c.is_nullable,
      ...(c.is_identity ? { autoIncrement: true } : {}),
      ...(c.collation_name ? { collation: c.collation_name } : {}),
      // Babelfish shows rowversion's own generator as a default; SQL Server has none, and a copy takes no versions
      ...(c.default_definition && m.nativeType !== 'rowversion' && !c.is_computed ? { default: mssqlSql.columnDefault(c.default_definition) } : {}),
    })
    plan.selects.push(m.select)
    plan.codePages.push(m.decodeCodePage)
  }
  // keys and indexes, grouped by (object, index)
  const groups = new Map<string, { row: (typeof indexes)[number]; columns: string[] }>()
  for (const i of indexes) {
    const k = `${i.object_id}:${i.index_id}`
    const g = groups.get(k) ?? { row: i, columns: [] }
    g.columns.push(i.column_name)
    groups.set(k, g)
  }
  for (const { row, columns: sysCols } of groups.values()) {
    const table = byId.get(row.object_id)
    if (!table) continue
    const cols = sysCols.map((c) => spellColumn(table.name, c))
    const key: KeySchema = { name: row.name, columns: cols }
    if (row.is_primary_key) table.primaryKey = key
    else if (row.is_unique_constraint) table.uniques.push(key)
    else {
      const index: IndexSchema = { name: mssqlSql.indexNameAsWritten(row.name, table.name), columns: cols, unique: row.is_unique }
      if (row.has_filter && row.filter_definition) Object.assign(index, { where: row.filter_definition, dialect: 'mssql' })
      table.indexes.push(index)
    }
  }
  const fkGroups = new Map<number, ForeignKeySchema & { parent: number }>()
  for (const f of fks) {
    const parentName = byId.get(f.parent_object_id)?.name ?? spellTable(f.ref_table)
    const refTable = spellTable(f.ref_table)
    const g = fkGroups.get(f.fk_id) ?? {
      parent: f.parent_object_id,
      name: f.name,
      columns: [],
      refTable,
      refColumns: [],
      onDelete: f.on_delete.replace(/_/g, ' '),
      onUpdate: f.on_update.replace(/_/g, ' '),
      origin: 'source' as const,
    }
    g.columns.push(spellColumn(parentName, f.column_name))
    g.refColumns.push(spellColumn(refTable, f.ref_column))
    fkGroups.set(f.fk_id, g)
  }
  for (const { parent, ...fk } of fkGroups.values()) byId.get(parent)?.foreignKeys.push(fk)

  const depsById = new Map<number, string[]>()
  for (const d of deps) if (d.ref_name) depsById.set(d.referencing_id, [...(depsById.get(d.referencing_id) ?? []), d.ref_name])
  // the definition spells the name as created; sys.objects may not (Babelfish)
  const named = objects.map((o) => {
    const defined = o.definition ? mssqlSql.definedName(o.definition) : undefined
    return { ...o, name: defined ? mssqlSql.nameSpeller([defined])(o.name) : o.name }
  })
  const known = [...named.map((o) => o.name), ...[...byId.values()].map((t) => t.name)]
  const spellKnown = mssqlSql.nameSpeller(known)
  const objectList: ObjectSchema[] = named.map((o) => {
    const recorded = (depsById.get(o.object_id) ?? []).map(spellKnown)
    // where the server records no dependencies (Babelfish), the names the definition mentions
    const dependsOn = recorded.length > 0 ? recorded : o.definition ? mssqlSql.referencedNames(o.definition, known, o.name) : []
    return {
      name: o.name,
      ...(schemaName !== 'dbo' ? { schema: schemaName } : {}),
      type: o.type === 'V' ? 'view' : o.type === 'P' ? 'procedure' : 'function',
      ...(o.definition ? { definition: o.definition } : {}),
      dependsOn: [...new Set(dependsOn)].filter((n) => n !== o.name),
    }
  })
  return { schema: { dialect: 'mssql', tables: out, objects: objectList }, plans, notes }
}
