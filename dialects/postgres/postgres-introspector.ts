import { SchemaError } from '../../src/errors.js'
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
import { postgresTypes } from './postgres-types.js'

/**
 * What the catalogue reads, `prepare` and `finalize` need of a session: one statement with bound parameters,
 * its rows as objects. A `pg` Client or pool client is one; so is a Kysely session's statement runner.
 */
export interface PostgresQueryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's own signature: rows typed by the caller
  query<R extends Record<string, any> = any>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount?: number | null }>
}

const FROM_POSTGRES = postgresTypes.catalog
const TEXT_LIKE = postgresTypes.textLike

/** Reads one schema's tables, columns, keys, indexes and views from pg_catalog. */

/** How a column's text form is decoded. */
type ColumnRead =
  | 'bool' | 'int' | 'int8' | 'numeric' | 'float' | 'text' | 'bytea' | 'date' | 'time' | 'timestamp' | 'timestamptz'
  | 'array'

const FK_ACTIONS: Record<string, string | undefined> = { a: undefined, r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' }

interface ColumnRow {
  attrelid: number
  attname: string
  native: string
  typname: string
  typtype: string
  typcategory: string
  typmod: number
  base_native: string | null
  base_typname: string | null
  base_typtype: string | null
  base_typmod: number
  attnotnull: boolean
  def: string | null
  attidentity: string
  attgenerated: string
  collation: string | null
  enum_values: string[] | null
}

/** The read plan of a column whose native type the logical model cannot name: `undefined` when unsupported. */
function readKindOf(typname: string, typtype: string, typcategory: string): ColumnRead | undefined {
  if (typcategory === 'A') return 'array'
  switch (typname) {
    case 'bool': return 'bool'
    case 'int2': case 'int4': return 'int'
    case 'int8': case 'oid': return 'int8'
    case 'numeric': case 'money': return 'numeric'
    case 'float4': case 'float8': return 'float'
    case 'bytea': return 'bytea'
    case 'date': return 'date'
    case 'time': return 'time'
    case 'timestamp': return 'timestamp'
    case 'timestamptz': return 'timestamptz'
  }
  if (typtype === 'e' || FROM_POSTGRES[typname] || TEXT_LIKE.has(typname)) return 'text'
  return undefined
}

function mapColumn(r: ColumnRow, unsupported: string[], table: string): ColumnSchema {
  const domain = r.typtype === 'd'
  const typname = domain ? r.base_typname! : r.typname
  const typtype = domain ? r.base_typtype! : r.typtype
  const typmod = domain ? r.base_typmod : r.typmod
  const native = domain ? r.base_native! : r.native
  const category = domain ? (native.endsWith('[]') ? 'A' : '') : r.typcategory
  let type: LogicalType
  const read = readKindOf(typname, typtype, category)
  if (category === 'A') type = { kind: 'json' }
  else if (typtype === 'e') type = { kind: 'text', values: r.enum_values ?? [] }
  else if (FROM_POSTGRES[typname]) type = FROM_POSTGRES[typname](typmod)
  else {
    // an unknown (extension) type: its text output is the most faithful form another database can hold
    type = { kind: 'text' }
    if (read === undefined) unsupported.push(`${table}.${r.attname} (${native})`)
  }
  const column: ColumnSchema = { name: r.attname, type, nativeType: typtype === 'e' ? r.native : native, nativeDialect: 'postgres', nullable: !r.attnotnull }
  if (r.collation) column.collation = r.collation
  if (r.attidentity === 'a' || r.attidentity === 'd') column.autoIncrement = true
  if (r.attgenerated === 's') {
    column.generated = true
    if (r.def) column.default = { kind: 'expression', sql: r.def, dialect: 'postgres' }
  } else if (r.def !== null) {
    if (/^nextval\(/i.test(r.def)) column.autoIncrement = true
    else column.default = parseDefault(r.def, type)
  }
  return column
}

/** A default expression as a value where it is one, `now` where it is the current time, else an expression. */
function parseDefault(sql: string, type: LogicalType): ColumnDefault {
  const s = sql.trim()
  if (/^(now\(\)|CURRENT_TIMESTAMP|CURRENT_DATE|LOCALTIMESTAMP|statement_timestamp\(\)|transaction_timestamp\(\))$/i.test(s)) return { kind: 'now' }
  if (/^NULL(::[\w ]+)?$/i.test(s)) return { kind: 'value', value: null }
  if (/^(true|false)$/i.test(s)) return { kind: 'value', value: s.toLowerCase() === 'true' }
  const num = /^\(?(-?\d+(?:\.\d+)?)\)?(?:::[\w ]+)?$/.exec(s)
  if (num) {
    const k = type.kind
    if (k === 'int16' || k === 'int32' || (k === 'int64' && Number.isSafeInteger(Number(num[1])))) return { kind: 'value', value: Number(num[1]) }
    if (k === 'float32' || k === 'float64') return { kind: 'value', value: Number(num[1]) }
    if (k === 'decimal') return { kind: 'value', value: num[1]! }
  }
  const str = /^'((?:[^']|'')*)'(?:::[\w ."\[\]()]+)?$/.exec(s)
  if (str && (type.kind === 'text' || type.kind === 'date' || type.kind === 'time' || type.kind === 'timestamp' || type.kind === 'uuid' || type.kind === 'decimal' || type.kind === 'json')) {
    return { kind: 'value', value: str[1]!.replaceAll("''", "'") }
  }
  return { kind: 'expression', sql: s, dialect: 'postgres' }
}

/** Reads the schema `schema` (tables, optionally narrowed to `only`). */
export async function introspectPostgres(client: PostgresQueryable, schema: string, only?: readonly string[]): Promise<DatabaseSchema> {
  const tables = await client.query<{ oid: number; relname: string; reltuples: string }>(
    `SELECT c.oid::int AS oid, c.relname, c.reltuples::bigint::text AS reltuples
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
      ORDER BY c.relname`,
    [schema],
  )
  const wanted = only ? new Set(only) : undefined
  const rows = tables.rows.filter((t) => !wanted || wanted.has(t.relname))
  const oids = rows.map((t) => t.oid)
  const byOid = new Map<number, TableSchema>()
  const nameOf = new Map<number, string>()
  for (const t of rows) {
    const est = Number(t.reltuples)
    const table: TableSchema = { name: t.relname, columns: [], uniques: [], indexes: [], foreignKeys: [] }
    if (schema !== 'public') table.schema = schema
    if (est >= 0) table.rowCountEstimate = est
    byOid.set(t.oid, table)
    nameOf.set(t.oid, t.relname)
  }
  const unsupported: string[] = []

  const cols = await client.query<ColumnRow>(
    `SELECT a.attrelid::int AS attrelid, a.attname, format_type(a.atttypid, a.atttypmod) AS native,
            t.typname, t.typtype, t.typcategory, a.atttypmod AS typmod,
            format_type(t.typbasetype, t.typtypmod) AS base_native, bt.typname AS base_typname, bt.typtype AS base_typtype,
            t.typtypmod AS base_typmod, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,
            pg_get_expr(d.adbin, d.adrelid) AS def, a.attidentity, a.attgenerated,
            CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN co.collname END AS collation,
            CASE WHEN t.typtype = 'e' THEN (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END AS enum_values
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       LEFT JOIN pg_collation co ON co.oid = a.attcollation
      WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attrelid, a.attnum`,
    [oids],
  )
  for (const r of cols.rows) {
    const table = byOid.get(r.attrelid)!
    table.columns.push(mapColumn(r, unsupported, table.name))
  }
  void unsupported // unknown types read as their text form; listed for callers that want them (none yet)

  const cons = await client.query<{
    conrelid: number; conname: string; contype: string; cols: string[]; confrelid: number; refcols: string[] | null
    confupdtype: string; confdeltype: string; conindid: number
  }>(
    `SELECT c.conrelid::int AS conrelid, c.conname, c.contype, c.confrelid::int AS confrelid, c.conindid::int AS conindid,
            c.confupdtype, c.confdeltype,
            ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS cols,
            ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                    JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)::text[] AS refcols
       FROM pg_constraint c
      WHERE c.conrelid = ANY($1::oid[]) AND c.contype IN ('p', 'u', 'f')
      ORDER BY c.conrelid, c.contype, c.conname`,
    [oids],
  )
  const constraintIndexes = new Set<number>()
  const allNames = await client.query<{ oid: number; relname: string }>(
    `SELECT c.oid::int AS oid, c.relname FROM pg_class c WHERE c.oid IN (SELECT confrelid FROM pg_constraint WHERE conrelid = ANY($1::oid[]) AND contype = 'f')`,
    [oids],
  )
  const refNames = new Map(allNames.rows.map((r) => [r.oid, r.relname]))
  for (const c of cons.rows) {
    const table = byOid.get(c.conrelid)!
    if (c.conindid) constraintIndexes.add(c.conindid)
    if (c.contype === 'p') table.primaryKey = { name: c.conname, columns: c.cols }
    else if (c.contype === 'u') table.uniques.push({ name: c.conname, columns: c.cols } satisfies KeySchema)
    else {
      const fk: ForeignKeySchema = {
        name: c.conname,
        columns: c.cols,
        refTable: refNames.get(c.confrelid) ?? String(c.confrelid),
        refColumns: c.refcols ?? [],
        origin: 'source',
      }
      const del = FK_ACTIONS[c.confdeltype]
      const upd = FK_ACTIONS[c.confupdtype]
      if (del) fk.onDelete = del
      if (upd) fk.onUpdate = upd
      table.foreignKeys.push(fk)
    }
  }

  const idx = await client.query<{
    indrelid: number; indexrelid: number; name: string; unique: boolean; keys: number[]; cols: (string | null)[]
    defs: string[]; pred: string | null; method: string
  }>(
    `SELECT i.indrelid::int AS indrelid, i.indexrelid::int AS indexrelid, ic.relname AS name, i.indisunique AS unique,
            am.amname AS method, pg_get_expr(i.indpred, i.indrelid) AS pred,
            ARRAY(SELECT k.n FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) WHERE k.o <= i.indnkeyatts ORDER BY k.o)::int[] AS keys,
            ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
                    LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
                   WHERE k.o <= i.indnkeyatts ORDER BY k.o)::text[] AS cols,
            ARRAY(SELECT pg_get_indexdef(i.indexrelid, k.o::int, true) FROM generate_series(1, i.indnkeyatts) k(o))::text[] AS defs
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       JOIN pg_am am ON am.oid = ic.relam
      WHERE i.indrelid = ANY($1::oid[]) AND NOT i.indisprimary
      ORDER BY i.indrelid, ic.relname`,
    [oids],
  )
  for (const r of idx.rows) {
    if (constraintIndexes.has(r.indexrelid)) continue
    const table = byOid.get(r.indrelid)!
    const plain = r.keys.every((k) => k > 0) && r.method === 'btree'
    const index: IndexSchema = { name: r.name, columns: r.cols.filter((c): c is string => c !== null), unique: r.unique }
    if (!plain) {
      index.expression = r.defs.join(', ')
      if (r.method !== 'btree') index.expression = `USING ${r.method} (${index.expression})`
      index.dialect = 'postgres'
    }
    if (r.pred) {
      index.where = r.pred
      index.dialect = 'postgres'
    }
    table.indexes.push(index)
  }

  const objects: ObjectSchema[] = []
  if (!only) {
    const views = await client.query<{ name: string; kind: string; definition: string; deps: string[] }>(
      `SELECT v.relname AS name, v.relkind AS kind, pg_get_viewdef(v.oid, true) AS definition,
              ARRAY(SELECT DISTINCT t.relname FROM pg_rewrite r JOIN pg_depend d ON d.objid = r.oid AND d.classid = 'pg_rewrite'::regclass
                      JOIN pg_class t ON t.oid = d.refobjid WHERE r.ev_class = v.oid AND t.oid <> v.oid ORDER BY 1)::text[] AS deps
         FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace
        WHERE n.nspname = $1 AND v.relkind IN ('v', 'm')
        ORDER BY v.relname`,
      [schema],
    )
    for (const v of views.rows) {
      const o: ObjectSchema = { name: v.name, type: 'view', definition: v.definition, dependsOn: v.deps }
      if (schema !== 'public') o.schema = schema
      objects.push(o)
    }
  }

  if (wanted) {
    const missing = [...wanted].filter((n) => !rows.some((r) => r.relname === n))
    if (missing.length > 0) throw new SchemaError(`no table ${missing.join(', ')} in schema ${schema}`)
  }
  return { dialect: 'postgres', tables: rows.map((r) => byOid.get(r.oid)!), objects }
}
