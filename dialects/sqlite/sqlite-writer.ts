import type BetterSqlite3 from 'better-sqlite3'
import type { ConstraintProblem, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import type { ClassifiedError } from '../../src/dialect.js'
import { AbortError, ConnectionError, RowError, SchemaError, type RowFailureKind } from '../../src/errors.js'
import { keyColumnIndexes, rowKey, valueToJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, ForeignKeySchema, IndexSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { readSqliteTable } from './sqlite-reader.js'
import { sqliteErrors } from './sqlite-errors.js'
import { sqliteSql } from './sqlite-sql.js'

const q = sqliteSql.quoteIdentifier
/** Rows per multi-row INSERT. */
const ROWS_PER_INSERT = 32

function existingTables(db: BetterSqlite3.Database, names: readonly string[]): string[] {
  const st = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE").pluck()
  return names.filter((n) => st.get(n) !== undefined)
}

/**
 * Whether a table's native types are SQLite's: a run stamps every column with the dialect its native type
 * came from; a schema built by hand says so in `schema.dialect`.
 */
function cameFromSqlite(table: TableSchema, schema: DatabaseSchema): boolean {
  return table.columns.every((c) => (c.nativeDialect ?? schema.dialect) === 'sqlite')
}

/**
 * Creates the target tables in one transaction. `create` refuses tables that exist (naming them); `truncate`
 * empties existing ones; `append` keeps them; `recreate` drops and creates them.
 */
export function prepareSqliteTarget(db: BetterSqlite3.Database, schema: DatabaseSchema, options: PrepareOptions): void {
  const names = schema.tables.map((t) => t.name)
  const existing = new Set(existingTables(db, names))
  if (options.mode === 'create' && existing.size > 0) {
    throw new SchemaError(`the target already has table${existing.size > 1 ? 's' : ''} ${[...existing].join(', ')} (mode "create" does not touch existing tables; use truncate, append or recreate)`, {
      code: 'target_exists',
    })
  }
  try {
    db.transaction(() => {
      for (const t of schema.tables) {
        if (existing.has(t.name)) {
          if (options.mode === 'truncate') {
            db.exec(`DELETE FROM ${q(t.name)}`)
            continue
          }
          if (options.mode === 'append') continue
          db.exec(sqliteSql.dropTable(t))
        }
        db.exec(sqliteSql.targetTable(t, cameFromSqlite(t, schema)))
      }
    })()
  } catch (error) {
    throw new SchemaError(`could not create the target tables: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
  }
}

/**
 * The error when it rejects the row alone: a constraint, a value of the wrong type for a rowid or a STRICT
 * column, a value too big, or a value the driver cannot bind. Anything else (a lost file, a lock, a missing
 * table) stops the write.
 */
function rowFailure(error: unknown): (ClassifiedError & { kind: RowFailureKind }) | undefined {
  const c = sqliteErrors.classify(error)
  if (!c || c.connectionLost || c.retryable) return undefined
  const code = c.driver.code
  const byEngine = code !== undefined && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG')
  // no code: better-sqlite3 refused to bind a value (a bigint past 64 bits, an object)
  return byEngine || code === undefined ? (c as ClassifiedError & { kind: RowFailureKind }) : undefined
}

/** The columns a constraint message names (`UNIQUE constraint failed: t.a, t.b` → a, b). */
function constraintColumns(message: string, table: TableSchema): number[] {
  const at = message.indexOf(': ')
  if (at < 0) return []
  const prefix = `${table.name}.`
  return message
    .slice(at + 2)
    .split(', ')
    .map((p) => (p.startsWith(prefix) ? p.slice(prefix.length) : p))
    .map((name) => table.columns.findIndex((c) => c.name === name))
    .filter((i) => i >= 0)
}

/**
 * The bulk path: prepared INSERTs of 32 rows each, inside one transaction per batch. A row the target
 * refuses (duplicate key, NULL in NOT NULL, a non-integer for a rowid) is rejected alone: SQLite undoes only
 * the failing statement, whose rows are then inserted one by one, so the rest of the batch commits.
 */
export function openSqliteWriter(db: BetterSqlite3.Database, table: TableSchema): TableWriter {
  const n = table.columns.length
  const cols = table.columns.map((c) => q(c.name)).join(', ')
  const tuple = `(${new Array(n).fill('?').join(', ')})`
  const into = `INSERT INTO ${q(table.name)} (${cols}) VALUES `
  const single = db.prepare(n === 0 ? `INSERT INTO ${q(table.name)} DEFAULT VALUES` : `${into}${tuple}`)
  // several rows per statement halve the per-call cost; SQLite allows 32 766 parameters per statement
  const chunk = n === 0 ? 1 : Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(32766 / n)))
  const multi = chunk > 1 ? db.prepare(`${into}${new Array(chunk).fill(tuple).join(', ')}`) : undefined
  const keyIdx = keyColumnIndexes(table)
  const one: unknown[] = new Array(n)
  const many: unknown[] = new Array(n * chunk)
  const runOne = (row: Row, rejected: RowError[]): number => {
    bindRow(row, one, 0, n)
    try {
      single.run(one)
      return 1
    } catch (error) {
      const failure = rowFailure(error)
      if (failure === undefined) throw error
      rejected.push(rowRejection(table, row, keyIdx, failure, error))
      return 0
    }
  }
  const runBatch = db.transaction((rows: Row[], rejected: RowError[]) => {
    let written = 0
    let r = 0
    if (multi) {
      for (; r + chunk <= rows.length; r += chunk) {
        for (let j = 0; j < chunk; j++) bindRow(rows[r + j]!, many, j * n, n)
        try {
          multi.run(many)
          written += chunk
        } catch (error) {
          if (rowFailure(error) === undefined) throw error
          // the failed statement was undone as a whole: place these rows one by one to find the bad ones
          for (let j = 0; j < chunk; j++) written += runOne(rows[r + j]!, rejected)
        }
      }
    }
    for (; r < rows.length; r++) written += runOne(rows[r]!, rejected)
    return written
  })
  return {
    async write(rows: Row[]): Promise<WriteResult> {
      const rejected: RowError[] = []
      try {
        const written = runBatch(rows, rejected) as number
        return { written, rejected }
      } catch (error) {
        throw writeFailed(table, error)
      }
    },
    async close(): Promise<void> {},
    async abort(): Promise<void> {},
  }
}

/** Puts a row's values, in the form SQLite binds, into `out` from `at`. */
function bindRow(row: Row, out: unknown[], at: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = row[i]
    if (v === null || v === undefined || typeof v === 'string' || typeof v === 'bigint') out[at + i] = v ?? null
    // SQLite stores NaN as NULL: keep it as the text 'NaN', which the reader turns back into NaN
    else if (typeof v === 'number') out[at + i] = v === v ? v : 'NaN'
    else if (typeof v === 'boolean') out[at + i] = v ? 1 : 0
    else if (Buffer.isBuffer(v)) out[at + i] = v
    else out[at + i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  }
}

function rowRejection(table: TableSchema, row: Row, keyIdx: number[], failure: ClassifiedError & { kind: RowFailureKind }, error: unknown): RowError {
  const { kind } = failure
  const message = failure.driver.message
  const key = rowKey(table, row, keyIdx)
  let column: string | undefined
  let text = `${table.name}: ${message}`
  let value: unknown
  if (kind === 'duplicate_key') {
    const idx = constraintColumns(message, table)
    if (idx.length > 0) {
      const names = idx.map((i) => table.columns[i]!.name)
      const vals = idx.map((i) => JSON.stringify(valueToJson(row[i])))
      text = `${table.name}: duplicate key (${names.join(', ')})=(${vals.join(', ')}) collides with a row already written`
      if (idx.length === 1) {
        column = names[0]
        value = row[idx[0]!]
      }
    }
  } else if (kind === 'not_null') {
    const idx = constraintColumns(message, table)
    if (idx.length === 1) {
      column = table.columns[idx[0]!]!.name
      text = `${table.name}.${column}: NULL in a NOT NULL column`
      value = null
    }
  }
  const options: ConstructorParameters<typeof RowError>[2] = { table: table.name, row, cause: error, driver: failure.driver }
  if (key) options.key = key
  if (column !== undefined) {
    options.column = column
    options.value = value
  }
  return new RowError(kind, text, options)
}

/** The names an index may take, in order: its own, then `<table>_<name>`, `<table>_<name>_3`, … */
function* indexNames(table: string, name: string): Generator<string> {
  yield name
  // index names are per database in SQLite, per table elsewhere (MySQL): keep them apart
  for (let i = 2; ; i++) yield i === 2 ? `${table}_${name}` : `${table}_${name}_${i}`
}

const INDEX_OWNER = 'SELECT tbl_name FROM sqlite_schema WHERE name = ? COLLATE NOCASE'

/** An index written in another engine's expression or condition: reported, not recreated. */
function foreignIndex(table: TableSchema, idx: IndexSchema): ConstraintProblem | undefined {
  if ((idx.expression === undefined && idx.where === undefined) || idx.dialect === 'sqlite') return undefined
  return {
    table: table.name,
    name: idx.name,
    kind: idx.unique ? 'unique' : 'index',
    outcome: 'failed',
    message: `index ${idx.name} on ${table.name} uses a ${idx.dialect ?? 'foreign'} expression or condition; not recreated on SQLite`,
  }
}

function createIndexSql(table: TableSchema, idx: IndexSchema, name: string): string {
  const body = idx.expression ?? idx.columns.map(q).join(', ')
  return `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${q(name)} ON ${q(table.name)} (${body})${idx.where !== undefined ? ` WHERE ${idx.where}` : ''}`
}

/** A CREATE INDEX the database refused, as the problem finalize reports (a lost database is thrown on). */
function indexFailed(table: TableSchema, idx: IndexSchema, error: unknown): ConstraintProblem {
  passOnLost(error)
  return {
    table: table.name,
    name: idx.name,
    kind: idx.unique ? 'unique' : 'index',
    outcome: 'failed',
    message: `could not create index ${idx.name} on ${table.name}: ${error instanceof Error ? error.message : String(error)}`,
  }
}

/** A lost database (I/O error, closed connection) is the run's failure, never one constraint's: finalize passes it on. */
function passOnLost(error: unknown): void {
  if (sqliteErrors.classify(error)?.connectionLost) throw error
}

function createIndex(db: BetterSqlite3.Database, table: TableSchema, idx: IndexSchema): ConstraintProblem | undefined {
  const foreign = foreignIndex(table, idx)
  if (foreign) return foreign
  const owner = db.prepare(INDEX_OWNER).pluck()
  let name = idx.name
  for (name of indexNames(table.name, idx.name)) {
    const t = owner.get(name) as string | undefined
    if (t === undefined || t === table.name) break
  }
  try {
    db.exec(createIndexSql(table, idx, name))
    return undefined
  } catch (error) {
    return indexFailed(table, idx, error)
  }
}

/**
 * After the data: secondary indexes, then `PRAGMA foreign_key_check` per table. Foreign keys are part of the
 * tables already; one whose rows point nowhere is reported `unvalidated` with its orphan count. Idempotent (an
 * index of that name on the table is kept: `IF NOT EXISTS`), so a resumed run can finish an interrupted one;
 * throws the driver's error when the database is lost (it is not a constraint's problem).
 */
export function finalizeSqliteTarget(db: BetterSqlite3.Database, schema: DatabaseSchema): ConstraintProblem[] {
  const problems: ConstraintProblem[] = []
  for (const t of schema.tables) {
    for (const idx of t.indexes) {
      const p = createIndex(db, t, idx)
      if (p) problems.push(p)
    }
  }
  for (const t of schema.tables) {
    if (t.foreignKeys.length === 0) continue
    const declared = db.prepare('SELECT id, "table", "from" FROM pragma_foreign_key_list(?) ORDER BY id, seq').all(t.name) as { id: number; table: string; from: string }[]
    const byId = new Map<number, { refTable: string; columns: string[] }>()
    for (const d of declared) {
      const e = byId.get(d.id) ?? { refTable: d.table, columns: [] }
      e.columns.push(d.from)
      byId.set(d.id, e)
    }
    const fkName = (refTable: string, columns: string[]) =>
      t.foreignKeys.find((f) => f.refTable === refTable && f.columns.join('\0') === columns.join('\0'))?.name ?? `${t.name}_${columns.join('_')}_fkey`
    let counts: Map<number, number>
    try {
      counts = new Map()
      // foreign_key_check returns one row per orphan; count them without holding them all
      for (const r of db.prepare(`PRAGMA foreign_key_check(${q(t.name)})`).iterate() as IterableIterator<{ fkid: number }>) {
        counts.set(r.fkid, (counts.get(r.fkid) ?? 0) + 1)
      }
    } catch (error) {
      passOnLost(error)
      problems.push(...uncheckedForeignKeys(t, error))
      continue
    }
    for (const [id, orphans] of counts) {
      const fk = byId.get(id)
      if (!fk) continue
      problems.push(orphanedForeignKey(t, fk, fkName(fk.refTable, fk.columns), orphans))
    }
  }
  return problems
}

// ---------------------------------------------------------------------------------------------------------
// through plain statements (a Kysely instance): the same steps, each statement awaited

/**
 * One statement at a time with `?` parameters, as a caller's Kysely instance runs them: `all` gives a SELECT's
 * (or a pragma's) rows as objects, `run` runs anything else.
 */
export interface SqliteStatements {
  all(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>
  run(sql: string, params?: readonly unknown[]): Promise<void>
}

/**
 * Runs `steps` in a savepoint: a transaction of its own outside one, nested inside the caller's. Undone as
 * a whole when a step fails.
 */
async function inSavepoint<T>(s: SqliteStatements, name: string, steps: () => Promise<T>): Promise<T> {
  await s.run(`SAVEPOINT ${name}`)
  try {
    const out = await steps()
    await s.run(`RELEASE ${name}`)
    return out
  } catch (error) {
    await s.run(`ROLLBACK TO ${name}`).catch(() => {})
    await s.run(`RELEASE ${name}`).catch(() => {})
    throw error
  }
}

/** {@link prepareSqliteTarget} through plain statements: the same checks and DDL, in one savepoint. */
async function prepareSqliteTargetBy(s: SqliteStatements, schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
  const existing = new Set<string>()
  for (const t of schema.tables) {
    const found = await s.all("SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ? COLLATE NOCASE", [t.name])
    if (found.length > 0) existing.add(t.name)
  }
  if (options.mode === 'create' && existing.size > 0) {
    throw new SchemaError(`the target already has table${existing.size > 1 ? 's' : ''} ${[...existing].join(', ')} (mode "create" does not touch existing tables; use truncate, append or recreate)`, {
      code: 'target_exists',
    })
  }
  try {
    await inSavepoint(s, 'dbferry_prepare', async () => {
      for (const t of schema.tables) {
        if (existing.has(t.name)) {
          if (options.mode === 'truncate') {
            await s.run(`DELETE FROM ${q(t.name)}`)
            continue
          }
          if (options.mode === 'append') continue
          await s.run(sqliteSql.dropTable(t))
        }
        await s.run(sqliteSql.targetTable(t, cameFromSqlite(t, schema)))
      }
    })
  } catch (error) {
    throw new SchemaError(`could not create the target tables: ${error instanceof Error ? error.message : String(error)}`, { cause: error, ...sqliteErrors.driverOf(error) })
  }
}

/**
 * {@link openSqliteWriter} through plain statements: multi-row INSERTs with parameters, one savepoint per
 * batch; a statement the target refuses is undone alone by SQLite and its rows inserted one by one, so only
 * the refused rows are rejected and the rest of the batch commits.
 */
function openSqliteStatementWriter(s: SqliteStatements, table: TableSchema): TableWriter {
  const n = table.columns.length
  const cols = table.columns.map((c) => q(c.name)).join(', ')
  const tuple = `(${new Array(n).fill('?').join(', ')})`
  const into = `INSERT INTO ${q(table.name)} (${cols}) VALUES `
  const single = n === 0 ? `INSERT INTO ${q(table.name)} DEFAULT VALUES` : `${into}${tuple}`
  const chunk = n === 0 ? 1 : Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(32766 / n)))
  const keyIdx = keyColumnIndexes(table)
  const runOne = async (row: Row, rejected: RowError[]): Promise<number> => {
    const one: unknown[] = new Array(n)
    bindRow(row, one, 0, n)
    try {
      await s.run(single, one)
      return 1
    } catch (error) {
      const failure = rowFailure(error)
      if (failure === undefined) throw error
      rejected.push(rowRejection(table, row, keyIdx, failure, error))
      return 0
    }
  }
  const runBatch = async (rows: Row[], rejected: RowError[]): Promise<number> => {
    let written = 0
    let r = 0
    if (chunk > 1) {
      for (; r + chunk <= rows.length; r += chunk) {
        const many: unknown[] = new Array(n * chunk)
        for (let j = 0; j < chunk; j++) bindRow(rows[r + j]!, many, j * n, n)
        try {
          await s.run(`${into}${new Array(chunk).fill(tuple).join(', ')}`, many)
          written += chunk
        } catch (error) {
          if (rowFailure(error) === undefined) throw error
          for (let j = 0; j < chunk; j++) written += await runOne(rows[r + j]!, rejected)
        }
      }
    }
    for (; r < rows.length; r++) written += await runOne(rows[r]!, rejected)
    return written
  }
  return {
    async write(rows: Row[]): Promise<WriteResult> {
      const rejected: RowError[] = []
      try {
        const written = await inSavepoint(s, 'dbferry_batch', () => runBatch(rows, rejected))
        return { written, rejected }
      } catch (error) {
        throw writeFailed(table, error)
      }
    },
    async close(): Promise<void> {},
    async abort(): Promise<void> {},
  }
}

/** {@link finalizeSqliteTarget} through plain statements: secondary indexes, then the foreign keys' orphans. */
async function finalizeSqliteTargetBy(s: SqliteStatements, schema: DatabaseSchema): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  for (const t of schema.tables) {
    for (const idx of t.indexes) {
      const p = await createIndexBy(s, t, idx)
      if (p) problems.push(p)
    }
  }
  for (const t of schema.tables) {
    if (t.foreignKeys.length === 0) continue
    const declared = (await s.all('SELECT id, "table", "from" FROM pragma_foreign_key_list(?) ORDER BY id, seq', [t.name])) as { id: number; table: string; from: string }[]
    const byId = new Map<number, { refTable: string; columns: string[] }>()
    for (const d of declared) {
      const e = byId.get(Number(d.id)) ?? { refTable: d.table, columns: [] }
      e.columns.push(d.from)
      byId.set(Number(d.id), e)
    }
    const fkName = (refTable: string, columns: string[]) =>
      t.foreignKeys.find((f) => f.refTable === refTable && f.columns.join('\0') === columns.join('\0'))?.name ?? `${t.name}_${columns.join('_')}_fkey`
    let counts: { fkid: unknown; n: unknown }[]
    try {
      // one row per foreign key, not per orphan
      counts = (await s.all(`SELECT fkid, count(*) AS n FROM pragma_foreign_key_check(?) GROUP BY fkid`, [t.name])) as { fkid: unknown; n: unknown }[]
    } catch (error) {
      passOnLost(error)
      problems.push(...uncheckedForeignKeys(t, error))
      continue
    }
    for (const { fkid, n } of counts) {
      const fk = byId.get(Number(fkid))
      if (!fk) continue
      const orphans = Number(n)
      problems.push(orphanedForeignKey(t, fk, fkName(fk.refTable, fk.columns), orphans))
    }
  }
  return problems
}

/** {@link createIndex} through plain statements. */
async function createIndexBy(s: SqliteStatements, table: TableSchema, idx: IndexSchema): Promise<ConstraintProblem | undefined> {
  const foreign = foreignIndex(table, idx)
  if (foreign) return foreign
  let name = idx.name
  for (name of indexNames(table.name, idx.name)) {
    const [owner] = await s.all(INDEX_OWNER, [name])
    if (owner === undefined || owner.tbl_name === table.name) break
  }
  try {
    await s.run(createIndexSql(table, idx, name))
    return undefined
  } catch (error) {
    return indexFailed(table, idx, error)
  }
}

/**
 * Beyond the contract, for a connection through plain statements (a Kysely instance): each step's twin that
 * awaits every statement through {@link SqliteStatements}.
 */
prepareSqliteTarget.byStatements = prepareSqliteTargetBy
openSqliteWriter.byStatements = openSqliteStatementWriter
finalizeSqliteTarget.byStatements = finalizeSqliteTargetBy

/** Every foreign key of a table whose orphans could not be counted, as a failed constraint with the reason. */
function uncheckedForeignKeys(t: TableSchema, error: unknown): ConstraintProblem[] {
  return t.foreignKeys.map((fk) => ({
    table: t.name,
    name: fk.name ?? `${t.name}_${fk.columns.join('_')}_fkey`,
    kind: 'foreign_key',
    outcome: 'failed',
    message: `could not check foreign keys of ${t.name}: ${error instanceof Error ? error.message : String(error)}`,
  }))
}

/** A batch write that failed as a whole (not a refused row): the run stops, resumable. */
function writeFailed(table: TableSchema, error: unknown): ConnectionError {
  return new ConnectionError(`writing ${table.name} into SQLite failed: ${error instanceof Error ? error.message : String(error)}`, {
    table: table.name,
    cause: error,
    ...sqliteErrors.driverOf(error),
  })
}

/** A foreign key SQLite keeps declared but that rows point past: `unvalidated`, with how many rows do. */
function orphanedForeignKey(t: TableSchema, fk: Pick<ForeignKeySchema, 'columns' | 'refTable'>, name: string, orphans: number): ConstraintProblem {
  return {
    table: t.name,
    name,
    kind: 'foreign_key',
    outcome: 'unvalidated',
    orphans,
    message: `${orphans} row${orphans === 1 ? '' : 's'} of ${t.name} (${fk.columns.join(', ')}) point at no row of ${fk.refTable}`,
  }
}

// ---------------------------------------------------------------------------------------------------------
// the same-engine hand-over: a table copied from another SQLite file by INSERT … SELECT, never decoded in Node

/** What {@link copySqliteFileTable} copies: a source table in an SQLite file (a `FileTable` of the pass-through). */
export interface SqliteFileTable {
  file: string
  table: TableSchema
  after?: readonly Value[]
  rows: number
  unchanged(): boolean
}

/** The name the source file is attached under while its table is copied. */
const SOURCE_SCHEMA = 'dbferry_source'

/**
 * Rows per INSERT … SELECT of a rowid table (by rowid ranges, all in the one transaction): between two, the
 * event loop runs, so Ctrl-C, timers and progress are not held up for the whole table.
 */
const PIECE_ROWS = 100_000

/** Options of {@link copySqliteFileTable}. */
export interface FileCopyOptions {
  /** Checked between pieces: aborted, the copy rolls back and throws an `AbortError`. Absent: never aborted. */
  signal?: AbortSignal
  /** Called after each piece with the rows copied so far (not yet committed). Absent: nothing called. */
  onRows?(rows: number): void
}

/** A declared type's affinity, by SQLite's rules (section 3.1 of its datatype documentation). */
function affinity(declared: string): string {
  const t = declared.toUpperCase()
  if (t.includes('INT')) return 'INTEGER'
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT'
  if (t.includes('BLOB') || t.trim() === '') return 'BLOB'
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

/**
 * Why a value could change on its way from the source column to the target column, or undefined: each column
 * pair must have the same affinity (applying an affinity to a value stored under it leaves the value as it is),
 * and a STRICT target takes only what its types allow, which it says by refusing the row.
 */
function affinityChange(db: BetterSqlite3.Database, from: SqliteFileTable, table: TableSchema): string | undefined {
  const declared = (schema: string, name: string) =>
    new Map((db.prepare('SELECT name, type FROM pragma_table_info(?, ?)').all(name, schema) as { name: string; type: string }[]).map((r) => [r.name.toLowerCase(), r.type]))
  const source = declared(SOURCE_SCHEMA, from.table.name)
  const target = declared('main', table.name)
  for (const c of table.columns) {
    const s = source.get((c.origin ?? c.name).toLowerCase())
    const t = target.get(c.name.toLowerCase())
    if (s === undefined || t === undefined) return `column ${c.name} is missing on one side`
    if (affinity(s) !== affinity(t)) return `column ${c.name} is ${s || 'untyped'} in the source and ${t || 'untyped'} on the target, of another type affinity`
  }
  return undefined
}

/**
 * Copies a table of another SQLite file into `table` without decoding a value: attaches the file, then in one
 * write transaction `INSERT INTO main.t (…) SELECT … FROM source.t WHERE <every value plain> [AND key > after]
 * ORDER BY <the reader's key>` (see `readSqliteTable.handOver`), and commits only when it took exactly
 * `from.rows` rows and `from.unchanged()` says the file still holds the source's snapshot. Anything else rolls
 * back and says why: a row the target refuses (a constraint), values the row path would convert or reject,
 * another type affinity, a changed file. Each target column takes the source column it comes from (`origin`,
 * else its own name). A rowid table is copied in pieces of {@link PIECE_ROWS} rows by rowid range, yielding
 * between them; the caller keeps every other write of this connection out until it returns (they would join
 * the open transaction). Throws what stops the row path too: a lost database, an abort.
 */
async function copySqliteFileTable(db: BetterSqlite3.Database, from: SqliteFileTable, table: TableSchema, options: FileCopyOptions = {}): Promise<{ rows: number } | string> {
  try {
    db.prepare(`ATTACH DATABASE ? AS ${q(SOURCE_SCHEMA)}`).run(from.file)
  } catch (error) {
    passOnLost(error)
    return `the target cannot attach the source file (${error instanceof Error ? error.message : String(error)})`
  }
  try {
    const changed = affinityChange(db, from, table)
    if (changed !== undefined) return changed
    const sql = readSqliteTable.handOver(db, from.table, from.after)
    // each target column from the source column it comes from (a rename keeps `origin`)
    const columns = table.columns.map((c) => q(c.origin ?? c.name)).join(', ')
    const source = `${q(SOURCE_SCHEMA)}.${q(from.table.name)}`
    const ranges = sql.rowid === undefined ? undefined : rowidRanges(db, source, sql, from.rows)
    const insert = db.prepare(
      `INSERT INTO main.${q(table.name)} (${table.columns.map((c) => q(c.name)).join(', ')}) SELECT ${columns} FROM ${source} WHERE ${sql.where}${sql.after ? ` AND ${sql.after}` : ''}${ranges ? ` AND ${sql.rowid} BETWEEN ? AND ?` : ''} ORDER BY ${sql.orderBy}`,
    )
    // deferred: BEGIN IMMEDIATE would take a write lock on the attached source too, which its reader may hold off
    db.exec('BEGIN')
    let rows = 0
    for (const range of ranges ?? [[]]) {
      try {
        rows += insert.run(...sql.params, ...range).changes
      } catch (error) {
        db.exec('ROLLBACK')
        passOnLost(error)
        const message = error instanceof Error ? error.message : String(error)
        return rowFailure(error) ? `the target refused a row (${message})` : `the copy failed (${message})`
      }
      options.onRows?.(rows)
      if (ranges === undefined || ranges.length === 1) continue
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (options.signal?.aborted) throw new AbortError()
    }
    // the rows of the source's snapshot, all of them: fewer means values the reader would not pass as they are
    const why = !from.unchanged()
      ? 'the source file changed since the copy began reading it'
      : rows !== from.rows
        ? `${from.rows - rows} row(s) hold values the row path converts, repairs or rejects`
        : undefined
    if (why !== undefined) {
      db.exec('ROLLBACK')
      return why
    }
    db.exec('COMMIT')
    return { rows }
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK')
    db.exec(`DETACH DATABASE ${q(SOURCE_SCHEMA)}`)
  }
}

/**
 * Inclusive rowid ranges that cut the rows to copy into pieces of about {@link PIECE_ROWS} (rowids are dense unless
 * many rows were deleted: then pieces are uneven, never wrong); none for an empty table.
 */
function rowidRanges(db: BetterSqlite3.Database, source: string, sql: { rowid?: string; after?: string; params: unknown[] }, rows: number): bigint[][] {
  const where = sql.after ? ` WHERE ${sql.after}` : ''
  const [min, max] = db.prepare(`SELECT min(${sql.rowid}), max(${sql.rowid}) FROM ${source}${where}`).raw(true).safeIntegers(true).get(...sql.params) as [bigint | null, bigint | null]
  if (min === null || max === null) return []
  const pieces = BigInt(Math.max(1, Math.ceil(rows / PIECE_ROWS)))
  const step = (max - min) / pieces + 1n
  const out: bigint[][] = []
  for (let lo = min; lo <= max; lo += step) out.push([lo, lo + step - 1n > max ? max : lo + step - 1n])
  return out
}

/** Beyond the contract, for the same-engine hand-over: `openSqliteWriter.fromFile` ({@link copySqliteFileTable}). */
openSqliteWriter.fromFile = copySqliteFileTable
