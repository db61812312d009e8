import type { ClassifiedError, ConstraintProblem, FinalizeOptions, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { ConnectionError, RowError, SchemaError, isDbferryError, type RowFailureKind } from '../../src/errors.js'
import type { DatabaseSchema, ForeignKeySchema, Row, TableSchema } from '../../src/schema/types.js'
import type { MssqlSession } from './mssql-sql.js'
import { mssqlErrors } from './mssql-errors.js'
import { mssqlSql } from './mssql-sql.js'

/** How often a row refused by a deadlock is tried again before it is rejected. */
const DEADLOCK_RETRIES = 3

/** The table as the writer addresses it: its own schema, else the connection's. */
function inSchema(table: TableSchema, defaultSchema: string): TableSchema {
  return table.schema === undefined ? { ...table, schema: defaultSchema } : table
}

/**
 * A failure that stops the run, as dbferry's error with the driver's fields: a lost connection is a
 * resumable `ConnectionError`, anything else the server refused a `SchemaError`.
 */
function stop(error: unknown, message: string, table?: string): Error {
  if (isDbferryError(error)) return error
  const c = mssqlErrors.classify(error)
  const options = { cause: error, ...(c ? { driver: c.driver } : {}), ...(table !== undefined ? { table } : {}) }
  const text = `${message}: ${error instanceof Error ? error.message : String(error)}`
  return c && !c.connectionLost ? new SchemaError(text, options) : new ConnectionError(text, options)
}

/** Runs one parameterised INSERT of some rows. */
async function insertRows(session: MssqlSession, table: TableSchema, rows: readonly Row[], defaultSchema: string): Promise<void> {
  const statement = mssqlSql.insertStatement(table, rows, defaultSchema)
  const request = session.request()
  for (const p of statement.params) session.input(request, p.name, p.type, p.value)
  await request.query(statement.sql)
}

/** Bulk-loads one batch (TDS BulkLoadBCP), every column declared with its exact type and scale. */
async function bulkRows(session: MssqlSession, table: TableSchema, rows: readonly Row[], defaultSchema: string): Promise<void> {
  const columns = mssqlSql.bulkColumns(table)
  const bulk = session.bulkTable(mssqlSql.qualified(table, defaultSchema), columns)
  for (const r of rows) bulk.rows.add(...columns.map((c) => mssqlSql.bulkValue(r[c.index] ?? null, c.logical) as never))
  await session.request().bulk(bulk, { keepNulls: true } as never)
}

/**
 * Bulk-loads one batch of an IDENTITY table exactly: into the session's stage (no IDENTITY, so every key is
 * kept whatever the server does with bulk identity values), then one INSERT … SELECT under IDENTITY_INSERT, all
 * in one transaction on one connection. A failure anywhere rolls the whole batch back.
 */
async function stagedRows(session: MssqlSession, table: TableSchema, rows: readonly Row[], defaultSchema: string): Promise<void> {
  const stage = mssqlSql.staging(table, defaultSchema)
  await session.inTransaction(async (request) => {
    await request().batch(stage.create)
    const bulk = session.bulkTable(stage.name, stage.columns)
    for (const r of rows) bulk.rows.add(...stage.columns.map((c) => mssqlSql.bulkValue(r[c.index] ?? null, c.logical) as never))
    await request().bulk(bulk, { keepNulls: true } as never)
    await request().batch(stage.insert)
  })
}

/** The row's primary key as `{ column: value }`, when the table has one. */
function keyOf(table: TableSchema, row: Row): Record<string, unknown> | undefined {
  const key = table.primaryKey?.columns ?? []
  if (key.length === 0) return undefined
  return Object.fromEntries(key.map((k) => [k, row[table.columns.findIndex((c) => c.name === k)] ?? null]))
}

/** The RowError of a row the server refused, with the kind and fields {@link mssqlErrors} read. */
function rowError(table: TableSchema, row: Row, error: unknown, c: ClassifiedError | undefined): RowError {
  const kind = (c?.kind ?? 'target_rejected') as RowFailureKind
  // catalogs may spell the column in lower case (Babelfish): find it case-insensitively
  const named = c?.driver.column?.toLowerCase()
  const column = named === undefined ? undefined : table.columns.find((col) => col.name.toLowerCase() === named)
  const key = keyOf(table, row)
  return new RowError(kind, `${table.name}: ${error instanceof Error ? error.message : String(error)}`, {
    table: table.name,
    row,
    cause: error,
    ...(c ? { driver: c.driver } : {}),
    ...(key ? { key } : {}),
    ...(column ? { column: column.name, value: row[table.columns.indexOf(column)] ?? null } : {}),
  })
}

/** The writer of one table: bulk load (staged for IDENTITY tables) or multi-row INSERT per batch; a refused batch is retried row by row. */
class MssqlTableWriter implements TableWriter {
  constructor(
    readonly session: MssqlSession,
    readonly table: TableSchema,
    readonly defaultSchema: string,
  ) {}

  async write(rows: Row[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, rejected: [] }
    if (mssqlSql.usesBulk(this.table)) {
      try {
        if (mssqlSql.hasIdentity(this.table)) await stagedRows(this.session, this.table, rows, this.defaultSchema)
        else await bulkRows(this.session, this.table, rows, this.defaultSchema)
        return { written: rows.length, rejected: [] }
      } catch (error) {
        this.#stopIfLost(error)
        // a bulk load is all or nothing: find the refused rows one by one
        return this.#oneByOne(rows)
      }
    }
    const per = mssqlSql.script.rowsPerInsert(mssqlSql.bulkColumns(this.table).length)
    let written = 0
    const rejected: RowError[] = []
    for (let i = 0; i < rows.length; i += per) {
      const chunk = rows.slice(i, i + per)
      try {
        await insertRows(this.session, this.table, chunk, this.defaultSchema)
        written += chunk.length
      } catch (error) {
        this.#stopIfLost(error)
        // isolate the refused rows of this chunk, write the rest
        const res = await this.#oneByOne(chunk)
        written += res.written
        rejected.push(...res.rejected)
      }
    }
    return { written, rejected }
  }

  #stopIfLost(error: unknown): void {
    // anything else (the server refusing a row, a value the driver cannot encode) is isolated row by row
    if (mssqlErrors.classify(error)?.connectionLost) throw stop(error, `writing ${this.table.name}`, this.table.name)
  }

  async #oneByOne(rows: Row[]): Promise<WriteResult> {
    let written = 0
    const rejected: RowError[] = []
    for (const row of rows) {
      for (let attempt = 1; ; attempt++) {
        try {
          await insertRows(this.session, this.table, [row], this.defaultSchema)
          written++
          break
        } catch (error) {
          this.#stopIfLost(error)
          const c = mssqlErrors.classify(error)
          if (c?.retryable && attempt < DEADLOCK_RETRIES) continue
          rejected.push(rowError(this.table, row, error, c))
          break
        }
      }
    }
    return { written, rejected }
  }

  async close(): Promise<void> {}
}

/** Opens the writer of one table (each batch commits on its own). */
export async function openMssqlWriter(session: MssqlSession, table: TableSchema, defaultSchema: string): Promise<TableWriter> {
  return new MssqlTableWriter(session, table, defaultSchema)
}

async function exists(session: MssqlSession, table: TableSchema, schema: string): Promise<boolean> {
  const r = session.request()
  session.input(r, 'name', { name: 'NVarChar', length: 300 }, mssqlSql.qualified(table, schema))
  const res = await r.query("SELECT OBJECT_ID(@name, N'U') AS id")
  return res.recordset[0]?.id != null
}

/** Creates the schemas if missing, then the tables (or checks, truncates, recreates them per mode). */
export async function prepareMssqlTarget(session: MssqlSession, schema: DatabaseSchema, options: PrepareOptions, defaultSchema: string): Promise<void> {
  const schemas = new Set(schema.tables.map((t) => t.schema ?? defaultSchema))
  for (const s of schemas) {
    try {
      const r = session.request()
      session.input(r, 's', { name: 'NVarChar', length: 128 }, s)
      await r.query(mssqlSql.ensureSchema)
    } catch (error) {
      throw stop(error, `could not create schema ${s}`)
    }
  }
  if (options.mode === 'recreate') {
    try {
      // foreign keys pointing at the tables go first, then the tables, children first
      for (const t of schema.tables) {
        const r = session.request()
        session.input(r, 'name', { name: 'NVarChar', length: 300 }, mssqlSql.qualified(t, defaultSchema))
        await r.query(`DECLARE @sql nvarchar(max) = N'';
SELECT @sql += N'ALTER TABLE ' + QUOTENAME(OBJECT_SCHEMA_NAME(fk.parent_object_id)) + N'.' + QUOTENAME(OBJECT_NAME(fk.parent_object_id)) + N' DROP CONSTRAINT ' + QUOTENAME(fk.name) + N';'
FROM sys.foreign_keys fk WHERE fk.referenced_object_id = OBJECT_ID(@name);
EXEC sp_executesql @sql`)
      }
      for (const t of [...schema.tables].reverse()) await session.request().query(`DROP TABLE IF EXISTS ${mssqlSql.qualified(t, defaultSchema)}`)
    } catch (error) {
      throw stop(error, 'could not drop the target tables')
    }
  }
  for (const t of schema.tables) {
    const name = mssqlSql.qualified(t, defaultSchema)
    let present: boolean
    try {
      present = await exists(session, t, defaultSchema)
      if (present && options.mode === 'truncate') await session.request().query(`DELETE FROM ${name}`)
    } catch (error) {
      throw stop(error, `could not check ${name}`, t.name)
    }
    if (present) {
      if (options.mode === 'create') {
        throw new SchemaError(`table ${name} already exists (mode 'create' does not touch existing tables)`, { code: 'target_exists', table: t.name })
      }
      continue
    }
    try {
      await session.request().query(mssqlSql.createTable(t, { schema: t.schema ?? defaultSchema }))
    } catch (error) {
      throw stop(error, `could not create ${name}`, t.name)
    }
  }
}

/** Secondary indexes, foreign keys (WITH NOCHECK when rows are orphaned: reported unvalidated) and identity reseeds. */
export async function finalizeMssqlTarget(session: MssqlSession, schema: DatabaseSchema, options: FinalizeOptions, defaultSchema: string): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  const run = async (text: string) => {
    try {
      await session.request().query(text)
    } catch (error) {
      // a lost connection stops the run; the server refusing one constraint is reported
      if (mssqlErrors.classify(error)?.connectionLost) throw stop(error, 'creating indexes and keys')
      throw error
    }
  }
  for (const t of schema.tables) {
    const target = inSchema(t, defaultSchema)
    for (const index of t.indexes) {
      const ddl = mssqlSql.createIndex(target, index)
      if (!ddl) {
        problems.push({ table: t.name, name: index.name, kind: 'index', outcome: 'failed', message: `index ${index.name} is an expression index from ${index.dialect ?? 'another engine'}; recreate it by hand` })
        continue
      }
      try {
        await run(ddl)
      } catch (error) {
        if (isDbferryError(error)) throw error
        problems.push({ table: t.name, name: index.name, kind: index.unique ? 'unique' : 'index', outcome: 'failed', message: (error as Error).message })
      }
    }
  }
  for (const t of schema.tables) {
    for (const fk of t.foreignKeys) {
      const name = fk.name ?? `FK_${t.name}_${fk.columns.join('_')}`
      try {
        await run(mssqlSql.foreignKey(t, fk, { defaultSchema }))
      } catch (error) {
        if (isDbferryError(error)) throw error
        // existing rows conflict with the key: keep it, untrusted, and say how many rows point nowhere
        if (mssqlErrors.classify(error)?.kind !== 'foreign_key_violation') {
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: (error as Error).message })
          continue
        }
        const orphans = options.orphanedForeignKeys?.get(name) ?? options.orphanedForeignKeys?.get(`${t.name}.${name}`) ?? (await countOrphans(session, t, fk, defaultSchema))
        try {
          await run(mssqlSql.foreignKey(t, fk, { check: false, defaultSchema }))
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'unvalidated', message: `foreign key ${name} created WITH NOCHECK: ${orphans} row(s) point at missing parents`, orphans })
        } catch (again) {
          if (isDbferryError(again)) throw again
          // a server that refuses WITH NOCHECK (the Babelfish stand-in): not created, and still say why
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: `foreign key ${name} not created: ${orphans} row(s) point at missing parents, and WITH NOCHECK was refused: ${(again as Error).message}`, orphans })
        }
      }
    }
    if (mssqlSql.hasIdentity(t)) {
      try {
        await run(mssqlSql.reseed(t, defaultSchema, { plainAscii: true }))
      } catch (error) {
        if (isDbferryError(error)) throw error
        problems.push({ table: t.name, name: `${t.name} identity`, kind: 'sequence', outcome: 'failed', message: (error as Error).message })
      }
    }
  }
  return problems
}

async function countOrphans(session: MssqlSession, t: TableSchema, fk: ForeignKeySchema, defaultSchema: string): Promise<number> {
  const q = mssqlSql.quoteIdentifier
  const notNull = fk.columns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')
  const match = fk.columns.map((c, i) => `p.${q(fk.refColumns[i]!)} = c.${q(c)}`).join(' AND ')
  const ref = mssqlSql.qualified({ name: fk.refTable, schema: t.schema }, defaultSchema)
  const res = await session.request().query(`SELECT COUNT_BIG(*) AS n FROM ${mssqlSql.qualified(t, defaultSchema)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${ref} p WHERE ${match})`)
  return Number(res.recordset[0]?.n ?? 0)
}
