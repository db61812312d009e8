import type { ConstraintProblem, FinalizeOptions, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { RowError, SchemaError } from '../../src/errors.js'
import type { ColumnSchema, DatabaseSchema, Row, TableSchema } from '../../src/schema/types.js'
import { driverType, errorNumber, ROW_ERROR_NUMBERS, sql } from './mssql-driver.js'
import {
  bulkValue,
  createIndexSql,
  createTableSql,
  foreignKeySql,
  identityInsertSql,
  insertParameter,
  qualified,
  quoteId,
  reseedSql,
  rowsPerInsert,
} from './mssql-sql.js'
import { bulkColumnType, bulkExact } from './mssql-types.js'

type NewRequest = () => sql.Request

/** Columns that receive data: computed columns are not written. */
export function writtenColumns(table: TableSchema): { column: ColumnSchema; index: number }[] {
  return table.columns.map((column, index) => ({ column, index })).filter((c) => !c.column.generated)
}

function hasIdentity(table: TableSchema): boolean {
  return table.columns.some((c) => c.autoIncrement && !c.generated && /^(int16|int32|int64|decimal)$/.test(c.type.kind))
}

/**
 * Whether a table's batches go through TDS bulk load. tedious's bulk load has no KEEP_IDENTITY option and
 * encodes decimals through JS numbers, and `mssql`'s Table cannot name a table containing `]`; such tables use
 * the parameterised multi-row INSERT path (with SET IDENTITY_INSERT), which is exact.
 */
export function usesBulk(table: TableSchema): boolean {
  if (hasIdentity(table)) return false
  if (/[\]\[.]/.test(table.name) || /[\]\[.]/.test(table.schema ?? '')) return false
  return writtenColumns(table).every(({ column }) => bulkExact(column.type))
}

/** Builds the `mssql` Table for one batch: every column declared with its exact type and scale. */
export function bulkTable(table: TableSchema, rows: Row[], defaultSchema: string): sql.Table {
  const t = new sql.Table(qualified(table, defaultSchema))
  t.create = false
  const cols = writtenColumns(table)
  for (const { column } of cols) {
    // mssql wants a `]` in a column name written as `]]`
    t.columns.add(column.name.replace(/]/g, ']]'), driverType(bulkColumnType(column.type)), { nullable: true })
  }
  for (const r of rows) t.rows.add(...cols.map(({ column, index }) => bulkValue(r[index] ?? null, column.type) as never))
  return t
}

function rowKind(error: unknown): 'duplicate_key' | 'not_null' | 'truncation' | 'out_of_range' | 'type_conversion' | 'target_rejected' {
  const n = errorNumber(error)
  return (n !== undefined ? ROW_ERROR_NUMBERS[n] : undefined) ?? 'target_rejected'
}

/** Builds one parameterised multi-row INSERT for `rows` (with IDENTITY_INSERT around it when needed). */
export function insertRequest(request: sql.Request, table: TableSchema, rows: Row[], defaultSchema: string): string {
  const cols = writtenColumns(table)
  let n = 0
  const tuples = rows.map((r) => {
    const parts = cols.map(({ column, index }) => {
      const p = insertParameter(r[index] ?? null, column.type)
      const name = `p${n++}`
      request.input(name, driverType(p.type), p.value)
      return p.sql.replaceAll('@p', `@${name}`)
    })
    return `(${parts.join(', ')})`
  })
  const insert = `INSERT INTO ${qualified(table, defaultSchema)} (${cols.map(({ column }) => quoteId(column.name)).join(', ')}) VALUES ${tuples.join(', ')}`
  if (!hasIdentity(table)) return insert
  return `${identityInsertSql(table, true, defaultSchema)};\n${insert};\n${identityInsertSql(table, false, defaultSchema)};`
}

/** The writer of one table: bulk load or multi-row INSERT per batch; a failed batch is retried row by row. */
export class MssqlTableWriter implements TableWriter {
  constructor(
    readonly newRequest: NewRequest,
    readonly table: TableSchema,
    readonly defaultSchema: string,
  ) {}

  async write(rows: Row[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, rejected: [] }
    try {
      if (usesBulk(this.table)) {
        await this.newRequest().bulk(bulkTable(this.table, rows, this.defaultSchema), { keepNulls: true } as never)
      } else {
        const per = rowsPerInsert(writtenColumns(this.table).length)
        for (let i = 0; i < rows.length; i += per) {
          const chunk = rows.slice(i, i + per)
          try {
            const r = this.newRequest()
            await r.query(insertRequest(r, this.table, chunk, this.defaultSchema))
          } catch (error) {
            // isolate the refused rows of this chunk, write the rest
            const res = await this.#oneByOne(chunk)
            if (i === 0 && rows.length <= per) return res
            const rest = await this.write(rows.slice(i + per))
            return { written: i + res.written + rest.written, rejected: [...res.rejected, ...rest.rejected] }
          }
        }
      }
      return { written: rows.length, rejected: [] }
    } catch {
      return this.#oneByOne(rows)
    }
  }

  async #oneByOne(rows: Row[]): Promise<WriteResult> {
    let written = 0
    const rejected: RowError[] = []
    for (const row of rows) {
      try {
        const r = this.newRequest()
        await r.query(insertRequest(r, this.table, [row], this.defaultSchema))
        written++
      } catch (error) {
        rejected.push(new RowError(rowKind(error), `${this.table.name}: ${(error as Error).message}`, { table: this.table.name, row, cause: error }))
      }
    }
    return { written, rejected }
  }

  async close(): Promise<void> {}
}

async function exists(newRequest: NewRequest, table: TableSchema, schema: string): Promise<boolean> {
  const r = newRequest()
  r.input('name', sql.NVarChar(300), qualified(table, schema))
  const res = await r.query('SELECT OBJECT_ID(@name, N\'U\') AS id')
  return res.recordset[0]?.id != null
}

/** Creates the schema if missing, then the tables (or checks, truncates, recreates them per mode). */
export async function prepareMssqlTarget(newRequest: NewRequest, schema: DatabaseSchema, options: PrepareOptions, defaultSchema: string): Promise<void> {
  const schemas = new Set(schema.tables.map((t) => t.schema ?? defaultSchema))
  for (const s of schemas) {
    const r = newRequest()
    r.input('s', sql.NVarChar(128), s)
    await r.query(`IF SCHEMA_ID(@s) IS NULL EXEC (N'CREATE SCHEMA ' + QUOTENAME(@s))`)
  }
  if (options.mode === 'recreate') {
    // foreign keys pointing at the tables go first, then the tables, children first
    for (const t of schema.tables) {
      const r = newRequest()
      r.input('name', sql.NVarChar(300), qualified(t, defaultSchema))
      await r.query(`DECLARE @sql nvarchar(max) = N'';
SELECT @sql += N'ALTER TABLE ' + QUOTENAME(OBJECT_SCHEMA_NAME(fk.parent_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.parent_object_id)) + N' DROP CONSTRAINT ' + QUOTENAME(fk.name) + N';'
FROM sys.foreign_keys fk WHERE fk.referenced_object_id = OBJECT_ID(@name);
EXEC sp_executesql @sql`)
    }
    for (const t of [...schema.tables].reverse()) await newRequest().query(`DROP TABLE IF EXISTS ${qualified(t, defaultSchema)}`)
  }
  for (const t of schema.tables) {
    const present = await exists(newRequest, t, defaultSchema)
    if (present) {
      if (options.mode === 'create') {
        throw new SchemaError(`table ${qualified(t, defaultSchema)} already exists (mode 'create' does not touch existing tables)`, { code: 'target_exists', table: t.name })
      }
      if (options.mode === 'truncate') await newRequest().query(`DELETE FROM ${qualified(t, defaultSchema)}`)
      continue
    }
    try {
      await newRequest().query(createTableSql(t, defaultSchema))
    } catch (error) {
      throw new SchemaError(`could not create ${qualified(t, defaultSchema)}: ${(error as Error).message}`, { table: t.name, cause: error })
    }
  }
}

/** Secondary indexes, foreign keys (WITH NOCHECK when rows are orphaned: reported unvalidated) and identity reseeds. */
export async function finalizeMssql(newRequest: NewRequest, schema: DatabaseSchema, options: FinalizeOptions, defaultSchema: string): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  for (const t of schema.tables) {
    for (const index of t.indexes) {
      const ddl = createIndexSql(t, index, defaultSchema)
      if (!ddl) {
        problems.push({ table: t.name, name: index.name, kind: 'index', outcome: 'failed', message: `index ${index.name} is an expression index from ${index.dialect ?? 'another engine'}; recreate it by hand` })
        continue
      }
      try {
        await newRequest().query(ddl)
      } catch (error) {
        problems.push({ table: t.name, name: index.name, kind: index.unique ? 'unique' : 'index', outcome: 'failed', message: (error as Error).message })
      }
    }
  }
  for (const t of schema.tables) {
    for (const fk of t.foreignKeys) {
      const name = fk.name ?? `FK_${t.name}_${fk.columns.join('_')}`
      try {
        await newRequest().query(foreignKeySql(t, fk, { check: true, defaultSchema }))
      } catch (error) {
        // 547: existing rows conflict with the key; keep it, untrusted, and say how many rows point nowhere
        if (errorNumber(error) !== 547) {
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: (error as Error).message })
          continue
        }
        try {
          await newRequest().query(foreignKeySql(t, fk, { check: false, defaultSchema }))
          const orphans = options.orphanedForeignKeys?.get(name) ?? options.orphanedForeignKeys?.get(`${t.name}.${name}`) ?? (await countOrphans(newRequest, t, fk, defaultSchema))
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'unvalidated', message: `foreign key ${name} created WITH NOCHECK: ${orphans} row(s) point at missing parents`, orphans })
        } catch (again) {
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: (again as Error).message })
        }
      }
    }
    if (hasIdentity(t)) {
      try {
        await newRequest().query(reseedSql(t, defaultSchema))
      } catch (error) {
        problems.push({ table: t.name, name: `${t.name} identity`, kind: 'sequence', outcome: 'failed', message: (error as Error).message })
      }
    }
  }
  return problems
}

async function countOrphans(newRequest: NewRequest, t: TableSchema, fk: TableSchema['foreignKeys'][number], defaultSchema: string): Promise<number> {
  const notNull = fk.columns.map((c) => `c.${quoteId(c)} IS NOT NULL`).join(' AND ')
  const match = fk.columns.map((c, i) => `p.${quoteId(fk.refColumns[i]!)} = c.${quoteId(c)}`).join(' AND ')
  const ref = qualified({ name: fk.refTable, schema: t.schema }, defaultSchema)
  const res = await newRequest().query(`SELECT COUNT_BIG(*) AS n FROM ${qualified(t, defaultSchema)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${ref} p WHERE ${match})`)
  return Number(res.recordset[0]?.n ?? 0)
}
