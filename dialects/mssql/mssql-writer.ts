import type { ClassifiedError, ConstraintProblem, FinalizeOptions, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { ConnectionError, RowError, SchemaError, isDbferryError, type RowFailureKind } from '../../src/errors.js'
import type { DatabaseSchema, ForeignKeySchema, Row, TableSchema } from '../../src/schema/types.js'
import type { MssqlSession, MssqlTransaction, Staging } from './mssql-sql.js'
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

/** The bulk columns of a table (its own, or the stage's `c0`, `c1`, …). */
type BulkColumns = ReturnType<typeof mssqlSql.bulkColumns>

/** A batch's rows as the bulk load sends them, with each row's bytes in the stream when every column type is sized. */
interface Encoded {
  values: unknown[][]
  bytes: number[] | undefined
}

/** Encodes the rows for a bulk load (see {@link Encoded}). */
function encodeRows(columns: BulkColumns, rows: readonly Row[]): Encoded {
  const values: unknown[][] = new Array(rows.length)
  let bytes: number[] | undefined = new Array<number>(rows.length)
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const v: unknown[] = new Array(columns.length)
    // the ROW token
    let n = 1
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!
      v[i] = mssqlSql.bulkValue(row[c.index] ?? null, c.logical)
      if (bytes === undefined) continue
      const b = mssqlSql.bulkValueBytes(c.type, v[i])
      if (b === undefined) bytes = undefined
      else n += b
    }
    values[r] = v
    if (bytes !== undefined) bytes[r] = n
  }
  return { values, bytes }
}

/**
 * Sends encoded rows as bulk loads into `path`: one load, or (rarely) consecutive parts, so that no load's
 * stream ends in a packet the stand-in refuses by its length alone (`mssqlSql.bulkParts`).
 */
async function bulkLoad(session: MssqlSession, request: () => ReturnType<MssqlSession['request']>, path: string, columns: BulkColumns, encoded: Encoded): Promise<void> {
  const frame = encoded.bytes === undefined ? undefined : mssqlSql.bulkFrameBytes(columns)
  const parts: (readonly [number, number])[] = frame === undefined || encoded.bytes === undefined ? [[0, encoded.values.length]] : mssqlSql.bulkParts(frame, encoded.bytes)
  for (const [start, end] of parts) {
    const bulk = session.bulkTable(path, columns)
    for (let i = start; i < end; i++) bulk.rows.push(encoded.values[i] as never)
    await request().bulk(bulk, { keepNulls: true } as never)
  }
}

/**
 * Bulk-loads one batch (TDS BulkLoadBCP), every column declared with its exact type and scale, in a
 * transaction of its own: the stand-in can leave the rows before a refused one in the table when a load
 * fails outside a transaction, and the pieces of a split batch must not find them there.
 */
async function bulkRows(session: MssqlSession, table: TableSchema, rows: readonly Row[], defaultSchema: string): Promise<void> {
  const columns = mssqlSql.bulkColumns(table)
  const encoded = encodeRows(columns, rows)
  await session.inTransaction((request) => bulkLoad(session, request, mssqlSql.qualified(table, defaultSchema), columns, encoded))
}

/**
 * Bulk-loads one batch of an IDENTITY table exactly: into the session's stage (no IDENTITY, so every key is
 * kept whatever the server does with bulk identity values), then one INSERT … SELECT under IDENTITY_INSERT, all
 * in one transaction on one connection. A failure anywhere rolls the whole batch back.
 */
async function stagedRows(session: MssqlSession, table: TableSchema, rows: readonly Row[], defaultSchema: string): Promise<void> {
  const stage = mssqlSql.staging(table, defaultSchema)
  const encoded = encodeRows(stage.columns, rows)
  await session.inTransaction(async (request) => {
    await request().batch(stage.create)
    await bulkLoad(session, request, stage.name, stage.columns, encoded)
    await request().batch(stage.insert)
  })
}

/** Per session, whether the server keeps the IDENTITY values a bulk load supplies (see {@link keepsBulkIdentity}). */
const keepsIdentity = new WeakMap<MssqlSession, Promise<boolean>>()

/**
 * Whether the server keeps the values a bulk load supplies for an IDENTITY column: a bulk load of one row into a
 * temp table, once per session. The Babelfish stand-in keeps them; SQL Server renumbers them (tedious cannot ask
 * for KEEPIDENTITY). A probe that fails answers no, which keeps the stage (exact on every server).
 */
function keepsBulkIdentity(session: MssqlSession): Promise<boolean> {
  let answer = keepsIdentity.get(session)
  if (!answer) {
    const probe = mssqlSql.identityProbe
    answer = session
      .inTransaction(async (request) => {
        await request().batch(probe.create)
        const bulk = session.bulkTable(probe.name, probe.columns)
        bulk.rows.push([probe.value] as never)
        await request().bulk(bulk, { keepNulls: true } as never)
        const res = await request().query(probe.read)
        return Number(res.recordset[0]?.id) === probe.value
      })
      .catch(() => false)
    keepsIdentity.set(session, answer)
  }
  return answer
}

/**
 * Whether the server refused a bulk load as a malformed stream rather than for its rows. The stand-in does so
 * with the load that follows a refused one on the same connection (and closes the connection at its next
 * request), and with a load whose last TDS packet splits the closing DONE token, which {@link bulkLoad} avoids
 * by sizing each load (unsized column types aside: such a load fails the same way when tried again, and its
 * halves go through).
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

/**
 * A transaction that spans several bulk-loaded batches commits once it holds this many rows, {@link GROUP_BYTES}
 * or is {@link GROUP_MS} old: a transaction per batch cost a begin and a commit (and for an IDENTITY table the
 * stage created), round trips of the six that a batch of an IDENTITY table took.
 */
const GROUP_ROWS = 100_000

/**
 * … or about this many bytes of values (strings counted as UTF-16). The group's rows are kept until its commit,
 * to be written again should the server end the transaction under a refused batch: this bounds that memory.
 */
const GROUP_BYTES = 4 << 20

/** … or once it has been open this long, in milliseconds (a resume repeats at most this much work). */
const GROUP_MS = 10_000

/** Bulk-loaded batches in one open transaction, not yet committed. */
interface Group {
  tx: MssqlTransaction
  /** The batches loaded in it, kept to write them again if the server ends the transaction or a batch is refused without a savepoint. */
  batches: Row[][]
  /**
   * Whether a savepoint stands just before the batch in flight (staged loads: set in the statement each batch
   * sends anyway). Loads straight into the table set none, which saves a round trip per batch: once one is in, a
   * refused batch rolls the whole transaction back and the batches before it are written again.
   */
  saved: boolean
  rows: number
  bytes: number
  started: number
}

/** About the bytes the rows' values take: strings as UTF-16, bytes as they are, anything else 8. */
function approxBytes(rows: readonly Row[]): number {
  let n = 0
  for (const r of rows) {
    for (const v of r) n += typeof v === 'string' ? 2 * v.length : v instanceof Uint8Array ? v.byteLength : 8
  }
  return n
}

/**
 * The writer of one table. Bulk-loaded tables (an IDENTITY table through the stage, or, where the server keeps
 * bulk-loaded IDENTITY values, its first batch through the stage and the rest straight in) write several batches
 * per transaction and commit every {@link GROUP_ROWS} rows, {@link GROUP_BYTES} or {@link GROUP_MS} (`committed:
 * false` until then). A refused batch is undone to its savepoint (staged batches), or the transaction rolled back
 * and the batches before it written again; the batches before it are committed, and it is then written as a
 * single batch is: bulk loads split in halves, the last pieces row by row. Other tables: multi-row INSERT per
 * chunk (a refused chunk retried row by row), each committed.
 */
class MssqlTableWriter implements TableWriter {
  #group: Group | undefined
  // the batches of a transaction were lost without being written again: abort must not report them committed
  #broken = false
  // a batch's load started and did not finish: it may sit half-loaded in the open transaction
  #inFlight = false
  // an IDENTITY value went in through the stage (INSERT under IDENTITY_INSERT): the identity counts as used
  #identityUsed = false
  readonly #stage: Staging | undefined
  readonly #columns: BulkColumns

  constructor(
    readonly session: MssqlSession,
    readonly table: TableSchema,
    readonly defaultSchema: string,
    /** The server keeps bulk-loaded IDENTITY values ({@link keepsBulkIdentity}); false keeps the stage for every batch. */
    readonly keepsIdentity = false,
  ) {
    this.#stage = mssqlSql.hasIdentity(table) ? mssqlSql.staging(table, defaultSchema) : undefined
    this.#columns = mssqlSql.bulkColumns(table)
  }

  async write(rows: Row[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, rejected: [], committed: this.#group === undefined }
    if (mssqlSql.usesBulk(this.table)) return this.#grouped(rows)
    const per = mssqlSql.script.rowsPerInsert(this.#columns.length)
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

  /** Loads the batch into the open transaction (opening one first); commits when the group is full. */
  async #grouped(rows: Row[]): Promise<WriteResult> {
    let group = this.#group
    try {
      if (!group) group = this.#group = await this.#open()
      this.#inFlight = true
      await this.#load(group, rows)
      this.#inFlight = false
    } catch (error) {
      this.#stopIfLost(error)
      return this.#afterRefusal(rows)
    }
    group.batches.push(rows)
    group.rows += rows.length
    group.bytes += approxBytes(rows)
    if (group.rows >= GROUP_ROWS || group.bytes >= GROUP_BYTES || Date.now() - group.started >= GROUP_MS) await this.#commit()
    return { written: rows.length, rejected: [], committed: this.#group === undefined }
  }

  /**
   * The stage the next batch loads through: an IDENTITY table's, for every batch where the server renumbers
   * bulk-loaded IDENTITY values (SQL Server), else for this writer's first batch only. That one INSERT under
   * IDENTITY_INSERT marks the identity used, so that finalize's plain `DBCC CHECKIDENT … RESEED` moves it past the
   * keys loaded straight in after it (the stand-in leaves a never-used identity where it is; see
   * `mssqlSql.reseedPastKeys`).
   */
  get #staged(): Staging | undefined {
    return this.keepsIdentity && this.#identityUsed ? undefined : this.#stage
  }

  /** Begins a transaction; a staged group also creates the stage and sets the savepoint (one more round trip). */
  async #open(): Promise<Group> {
    const tx = await this.session.begin()
    try {
      const stage = this.#staged
      if (stage) await tx.request().batch(`${stage.create};\n${mssqlSql.saveBatch}`)
    } catch (error) {
      await tx.rollback().catch(() => {})
      throw error
    }
    return { tx, batches: [], saved: this.#staged !== undefined, rows: 0, bytes: 0, started: Date.now() }
  }

  /**
   * One batch in the open transaction: its bulk load; staged, then INSERT … SELECT and the savepoint moved past
   * it. A batch loaded straight in sets no savepoint: once it is in, the group's savepoint no longer stands just
   * before the batch in flight.
   */
  async #load(group: Group, rows: Row[]): Promise<void> {
    const stage = this.#staged
    const columns = stage ? stage.columns : this.#columns
    const path = stage ? stage.name : mssqlSql.qualified(this.table, this.defaultSchema)
    await bulkLoad(this.session, () => group.tx.request(), path, columns, encodeRows(columns, rows))
    if (stage) {
      await group.tx.request().batch(stage.insertAndSave)
      this.#identityUsed = true
    } else group.saved = false
  }

  /** Commits a group (by default the open one); a failed commit leaves its batches' fate to resume. */
  async #commit(group = this.#group): Promise<void> {
    this.#group = undefined
    if (!group) return
    try {
      await group.tx.commit()
    } catch (error) {
      this.#broken = true
      throw stop(error, `committing ${this.table.name}`, this.table.name)
    }
  }

  /**
   * The server refused the batch: the batches before it in the transaction are committed (or written again when
   * the server ended the transaction), then the batch is written on its own, split where refused.
   */
  async #afterRefusal(rows: Row[]): Promise<WriteResult> {
    const group = this.#group
    this.#group = undefined
    this.#inFlight = false
    if (group) await this.#salvage(group)
    return { ...(await this.#bulkOrSplit(rows)), committed: true }
  }

  /**
   * Commits the batches of a transaction whose last batch was refused, that batch undone to its savepoint. When
   * there is none, or the server ended the transaction instead (a refused load ends it on the stand-in, or
   * closes the connection after a load refused as garbled), the transaction is rolled back (no COMMIT was sent,
   * so nothing of it is on the target) and its batches are written again.
   */
  async #salvage(group: Group): Promise<void> {
    let state: number | undefined
    try {
      if (group.saved) state = Number((await group.tx.request().query(mssqlSql.undoBatch)).recordset[0]?.state)
    } catch {
      // the connection is gone (the server closed it): the transaction with it
    }
    if (state === 1) return this.#commit(group)
    await group.tx.rollback().catch(() => {})
    for (const batch of group.batches) {
      const again = await this.#bulkOrSplit(batch)
      if (again.rejected.length > 0) {
        this.#broken = true
        throw new SchemaError(`${this.table.name}: ${again.rejected.length} row(s) the server had taken were refused when written again (${again.rejected[0]!.message}); run again with --resume`, {
          table: this.table.name,
        })
      }
    }
  }

  /**
   * Bulk-loads the rows; when the server refuses the load (all or nothing), loads each half the same way, and
   * writes a refused piece of at most {@link SPLIT_DOWN_TO} rows row by row, each refused row rejected with its
   * own error. One bad row among 10 000 costs some 15 bulk loads and 64 INSERTs instead of 10 000 INSERTs. A
   * load refused as a garbled stream (see {@link garbled}) is tried again once as it was, then split.
   */
  async #bulkOrSplit(rows: Row[], again = true): Promise<WriteResult> {
    try {
      if (this.#stage) await stagedRows(this.session, this.table, rows, this.defaultSchema)
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

  /** Commits the open transaction. */
  async close(): Promise<void> {
    await this.#commit()
  }

  /**
   * After a failure: commits the batches `write` reported written, a batch cut off half-loaded undone to its
   * savepoint first. Throws when that cannot be done (no savepoint, the connection or the transaction gone),
   * having rolled back: resume then counts what the target holds.
   */
  async abort(): Promise<void> {
    const group = this.#group
    const cut = this.#inFlight
    this.#group = undefined
    this.#inFlight = false
    if (this.#broken) throw new ConnectionError(`${this.table.name}: rows reported written were not committed`, { table: this.table.name })
    if (!group) return
    if (cut) {
      let state: number | undefined
      try {
        if (group.saved) state = Number((await group.tx.request().query(mssqlSql.undoBatch)).recordset[0]?.state)
      } catch {
        // the connection or the transaction is gone
      }
      if (state !== 1) {
        await group.tx.rollback().catch(() => {})
        throw new ConnectionError(`${this.table.name}: a batch was cut off half-loaded and could not be undone alone; its transaction was rolled back`, { table: this.table.name })
      }
    }
    await group.tx.commit()
  }
}

/**
 * Opens the writer of one table (bulk-loaded tables commit every few batches; see {@link MssqlTableWriter}). A
 * bulk-loaded IDENTITY table first asks whether the server keeps bulk-loaded IDENTITY values (once per session).
 */
export async function openMssqlWriter(session: MssqlSession, table: TableSchema, defaultSchema: string): Promise<TableWriter> {
  const keeps = mssqlSql.hasIdentity(table) && mssqlSql.usesBulk(table) ? await keepsBulkIdentity(session) : false
  return new MssqlTableWriter(session, table, defaultSchema, keeps)
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
      // the identity past the column's largest value (a never-used one too): the same however often it runs
      try {
        await run(mssqlSql.reseedPastKeys(t, defaultSchema, { plainAscii: true }))
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
