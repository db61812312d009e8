import type { ClassifiedError, ConstraintProblem, FinalizeOptions, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { ConnectionError, RowError, SchemaError, isDbferryError, type RowFailureKind } from '../../src/errors.js'
import type { DatabaseSchema, ForeignKeySchema, Row, TableSchema } from '../../src/schema/types.js'
import type { MssqlSession } from './mssql-sql.js'
import { mssqlErrors } from './mssql-errors.js'
import { mssqlSql } from './mssql-sql.js'

/** How often a row refused by a deadlock is tried again before it is rejected. */
const DEADLOCK_RETRIES = 3

/** A refused bulk load is split in halves down to this many rows, then written row by row. */
const SPLIT_DOWN_TO = 64

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

/**
 * Bulk-loads one batch (TDS BulkLoadBCP), every column declared with its exact type and scale, in a
 * transaction of its own: the stand-in can leave the rows before a refused one in the table when a load
 * fails outside a transaction, and the pieces of a split batch must not find them there.
 */
async function bulkRows(session: MssqlSession, table: TableSchema, rows: readonly Row[], defaultSchema: string): Promise<void> {
  const columns = mssqlSql.bulkColumns(table)
  const bulk = session.bulkTable(mssqlSql.qualified(table, defaultSchema), columns)
  for (const r of rows) bulk.rows.add(...columns.map((c) => mssqlSql.bulkValue(r[c.index] ?? null, c.logical) as never))
  await session.inTransaction((request) => request().bulk(bulk, { keepNulls: true } as never))
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

/**
 * Whether the server refused a bulk load as a malformed stream rather than for its rows. The stand-in does so
 * with the load that follows a refused one on the same connection, and with a load whose last TDS packet
 * splits the closing DONE token (by the load's length alone: 2 of the 15 loads of a 100 000-row bench copy;
 * tried again, such a load fails the same way, and its halves go through).
 */
function garbled(error: unknown): boolean {
  return /protocol stream is incorrect/i.test(error instanceof Error ? error.message : String(error))
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

/** The writer of one table: bulk load (staged for IDENTITY tables; a refused load split in halves) or multi-row INSERT per batch (a refused chunk retried row by row). */
class MssqlTableWriter implements TableWriter {
  constructor(
    readonly session: MssqlSession,
    readonly table: TableSchema,
    readonly defaultSchema: string,
  ) {}

  async write(rows: Row[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, rejected: [] }
    if (mssqlSql.usesBulk(this.table)) return this.#bulkOrSplit(rows)
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

  /**
   * Bulk-loads the rows; when the server refuses the load (all or nothing), loads each half the same way, and
   * writes a refused piece of at most {@link SPLIT_DOWN_TO} rows row by row, each refused row rejected with its
   * own error. One bad row among 10 000 costs some 15 bulk loads and 64 INSERTs instead of 10 000 INSERTs. A
   * load refused as a garbled stream (see {@link garbled}) is tried again once as it was, then split.
   */
  async #bulkOrSplit(rows: Row[], again = true): Promise<WriteResult> {
    try {
      if (mssqlSql.hasIdentity(this.table)) await stagedRows(this.session, this.table, rows, this.defaultSchema)
      else await bulkRows(this.session, this.table, rows, this.defaultSchema)
      return { written: rows.length, rejected: [] }
    } catch (error) {
      this.#stopIfLost(error)
      if (again && garbled(error)) return this.#bulkOrSplit(rows, false)
      if (rows.length <= SPLIT_DOWN_TO) return this.#oneByOne(rows)
      const half = Math.ceil(rows.length / 2)
      const first = await this.#bulkOrSplit(rows.slice(0, half))
      const second = await this.#bulkOrSplit(rows.slice(half))
      return { written: first.written + second.written, rejected: [...first.rejected, ...second.rejected] }
    }
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

/** The table's indexes as the server has them: name (lower case: the stand-in's catalog lower-cases it) → uniqueness and key columns in order. */
async function existingIndexes(session: MssqlSession, table: TableSchema, defaultSchema: string): Promise<Map<string, { unique: boolean; columns: string[] }>> {
  const r = session.request()
  session.input(r, 'name', { name: 'NVarChar', length: 300 }, mssqlSql.qualified(table, defaultSchema))
  const res = await r.query(`SELECT i.name AS name, i.is_unique AS is_unique, c.name AS col
    FROM sys.indexes i
    JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
    JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
    WHERE i.object_id = OBJECT_ID(@name) AND i.name IS NOT NULL
    ORDER BY i.index_id, ic.key_ordinal`)
  const out = new Map<string, { unique: boolean; columns: string[] }>()
  for (const row of res.recordset as { name: string; is_unique: boolean | number; col: string }[]) {
    const key = row.name.toLowerCase()
    const entry = out.get(key) ?? { unique: Boolean(row.is_unique), columns: [] }
    entry.columns.push(row.col)
    out.set(key, entry)
  }
  return out
}

/** The table's foreign keys as the server has them: referenced table's object id and parent columns in order. */
async function existingForeignKeys(session: MssqlSession, table: TableSchema, defaultSchema: string): Promise<{ ref: number; columns: string[] }[]> {
  const r = session.request()
  session.input(r, 'name', { name: 'NVarChar', length: 300 }, mssqlSql.qualified(table, defaultSchema))
  const res = await r.query(`SELECT fk.object_id AS id, fk.referenced_object_id AS ref, c.name AS col
    FROM sys.foreign_keys fk
    JOIN sys.foreign_key_columns fkc ON fkc.constraint_object_id = fk.object_id
    JOIN sys.columns c ON c.object_id = fkc.parent_object_id AND c.column_id = fkc.parent_column_id
    WHERE fk.parent_object_id = OBJECT_ID(@name)
    ORDER BY fk.object_id, fkc.constraint_column_id`)
  const keys = new Map<number, { ref: number; columns: string[] }>()
  for (const row of res.recordset as { id: number; ref: number; col: string }[]) {
    const entry = keys.get(row.id) ?? { ref: row.ref, columns: [] }
    entry.columns.push(row.col)
    keys.set(row.id, entry)
  }
  return [...keys.values()]
}

/** The object id of a foreign key's referenced table, or undefined when it is not there. */
async function objectId(session: MssqlSession, table: { name: string; schema?: string }, defaultSchema: string): Promise<number | undefined> {
  const r = session.request()
  session.input(r, 'name', { name: 'NVarChar', length: 300 }, mssqlSql.qualified(table, defaultSchema))
  const res = await r.query("SELECT OBJECT_ID(@name, N'U') AS id")
  return (res.recordset[0]?.id as number | null) ?? undefined
}

/**
 * The index of this name among a table's: SQL Server lists it under its own name; the Babelfish stand-in under
 * its physical name, the index's name, then the table's, then 32 hex digits (both lower case).
 */
function namedIndex<T>(indexes: Map<string, T>, name: string, table: string): T | undefined {
  const exact = indexes.get(name.toLowerCase())
  if (exact !== undefined) return exact
  const prefix = `${name}${table}`.toLowerCase()
  for (const [key, value] of indexes) if (key.startsWith(prefix) && /^[0-9a-f]{32}$/.test(key.slice(prefix.length))) return value
  return undefined
}

/** Column lists equal, names compared case-insensitively (the stand-in's catalog lower-cases them). */
function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i]!.toLowerCase())
}

/** A lost connection is the run's failure, never one constraint's: finalize passes it on (resume finishes the step). */
function passOnLost(error: unknown): void {
  if (isDbferryError(error)) throw error
  if (mssqlErrors.classify(error)?.connectionLost) throw stop(error, 'creating indexes and keys')
}

/**
 * Secondary indexes, foreign keys (WITH NOCHECK when rows are orphaned: reported unvalidated) and identity
 * reseeds. Idempotent, so a resumed run can finish an interrupted one: an index of the same name, uniqueness
 * and columns, or a foreign key with the same columns to the same table, is recognised and not created again;
 * a reseed moves the identity past the largest key however often it runs. A lost connection is passed on as a
 * `ConnectionError`.
 */
export async function finalizeMssqlTarget(session: MssqlSession, schema: DatabaseSchema, options: FinalizeOptions, defaultSchema: string): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  const run = async (text: string) => {
    try {
      await session.request().query(text)
    } catch (error) {
      // a lost connection stops the run; the server refusing one constraint is reported
      passOnLost(error)
      throw error
    }
  }
  /** A catalog read; a lost connection stops the run, anything else reads as nothing there. */
  const read = async <T>(work: () => Promise<T>, none: T): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      passOnLost(error)
      return none
    }
  }
  for (const t of schema.tables) {
    const target = inSchema(t, defaultSchema)
    const indexes = t.indexes.length > 0 ? await read(() => existingIndexes(session, t, defaultSchema), new Map()) : new Map<string, { unique: boolean; columns: string[] }>()
    for (const index of t.indexes) {
      const ddl = mssqlSql.createIndex(target, index)
      if (!ddl) {
        problems.push({ table: t.name, name: index.name, kind: 'index', outcome: 'failed', message: `index ${index.name} is an expression index from ${index.dialect ?? 'another engine'}; recreate it by hand` })
        continue
      }
      // an index of this name already (truncate/append, or a resumed finish): recognised when it is the same
      const found = namedIndex(indexes, index.name, t.name)
      if (found) {
        if (found.unique === index.unique && sameColumns(found.columns, index.columns) && index.where === undefined) continue
        problems.push({
          table: t.name,
          name: index.name,
          kind: index.unique ? 'unique' : 'index',
          outcome: 'failed',
          message: `index ${index.name} on ${t.name}: an index of that name with other columns or uniqueness is already there (${found.columns.join(', ')}); left as it is`,
        })
        continue
      }
      try {
        await run(ddl)
      } catch (error) {
        passOnLost(error)
        problems.push({ table: t.name, name: index.name, kind: index.unique ? 'unique' : 'index', outcome: 'failed', message: (error as Error).message })
      }
    }
  }
  for (const t of schema.tables) {
    const keys = t.foreignKeys.length > 0 ? await read(() => existingForeignKeys(session, t, defaultSchema), []) : []
    for (const fk of t.foreignKeys) {
      const name = fk.name ?? `FK_${t.name}_${fk.columns.join('_')}`
      // the same key (these columns to that table) already there — truncate/append, or a resumed finish: recognised
      if (keys.length > 0) {
        const ref = await read(() => objectId(session, { name: fk.refTable, schema: t.schema }, defaultSchema), undefined)
        if (ref !== undefined && keys.some((k) => k.ref === ref && sameColumns(k.columns, fk.columns))) continue
      }
      try {
        await run(mssqlSql.foreignKey(t, fk, { defaultSchema }))
      } catch (error) {
        passOnLost(error)
        // existing rows conflict with the key: keep it, untrusted, and say how many rows point nowhere
        if (mssqlErrors.classify(error)?.kind !== 'foreign_key_violation') {
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: (error as Error).message })
          continue
        }
        const orphans =
          options.orphanedForeignKeys?.get(name) ?? options.orphanedForeignKeys?.get(`${t.name}.${name}`) ?? (await countOrphans(session, t, fk, defaultSchema))
        try {
          await run(mssqlSql.foreignKey(t, fk, { check: false, defaultSchema }))
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'unvalidated', message: `foreign key ${name} created WITH NOCHECK: ${orphans} row(s) point at missing parents`, orphans })
        } catch (again) {
          passOnLost(again)
          // a server that refuses WITH NOCHECK (the Babelfish stand-in): not created, and still say why
          problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: `foreign key ${name} not created: ${orphans} row(s) point at missing parents, and WITH NOCHECK was refused: ${(again as Error).message}`, orphans })
        }
      }
    }
    if (mssqlSql.hasIdentity(t)) {
      // RESEED without a value moves the identity past the column's largest value: the same however often it runs
      try {
        await run(mssqlSql.reseed(t, defaultSchema, { plainAscii: true }))
      } catch (error) {
        passOnLost(error)
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
