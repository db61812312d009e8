import { DuckDBTimestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api'
import type { ConstraintProblem, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { RowError, SchemaError, type RowFailureKind } from '../../src/errors.js'
import { daysFromCivil } from '../../src/schema/civil-days.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, IndexSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { duckdbErrors } from './duckdb-errors.js'
import { duckdbSql } from './duckdb-sql.js'

const q = duckdbSql.quoteIdentifier

/** Where a load happens. */
export interface DuckdbTargetContext {
  connection: DuckDBConnection
  schema: string
  description: string
}

async function existingTables(ctx: DuckdbTargetContext, names: readonly string[]): Promise<Map<string, string>> {
  const r = await ctx.connection.runAndReadAll('SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = ?', [ctx.schema])
  // DuckDB's names are case-insensitive: `Users` and `users` are one table
  const have = new Map(r.getRows().map(([n]) => [String(n).toLowerCase(), String(n)]))
  const out = new Map<string, string>()
  for (const n of names) {
    const found = have.get(n.toLowerCase())
    if (found !== undefined) out.set(n, found)
  }
  return out
}

/**
 * Creates the target tables in one transaction (DuckDB's DDL is transactional): `create` refuses tables that
 * exist, `truncate` empties them, `append` keeps them, `recreate` drops and creates them. Tables are created
 * without their foreign keys: DuckDB would check each row against them while loading, refusing orphans and
 * binding the load to parent-first order; `finalize` reports them instead.
 */
export async function prepareDuckdbTarget(ctx: DuckdbTargetContext, schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
  const existing = await existingTables(ctx, schema.tables.map((t) => t.name))
  if (options.mode === 'create' && existing.size > 0) {
    const names = [...existing.values()]
    throw new SchemaError(`the target already has table${names.length > 1 ? 's' : ''} ${names.join(', ')} (mode "create" does not touch existing tables; use truncate, append or recreate)`, {
      code: 'target_exists',
    })
  }
  const { connection } = ctx
  try {
    await connection.run('BEGIN TRANSACTION')
    for (const t of schema.tables) {
      const name = duckdbSql.tableName({ name: existing.get(t.name) ?? t.name }, ctx.schema)
      if (existing.has(t.name)) {
        if (options.mode === 'append') continue
        if (options.mode === 'truncate') {
          await connection.run(`DELETE FROM ${name}`)
          continue
        }
        await connection.run(`DROP TABLE ${name}`)
      }
      await connection.run(duckdbSql.createTable({ ...t, foreignKeys: [] }, { sourceDialect: schema.dialect, schema: ctx.schema }))
    }
    await connection.run('COMMIT')
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => {})
    throw duckdbErrors.toDbferryError(error, `creating the target tables on ${ctx.description}`)
  }
}

/** The offset of a canonical `…+HH:MM` timestamp in minutes, and its local part. */
const TSTZ = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([+-])(\d{2}):(\d{2})$/

/**
 * A canonical timestamp with offset as DuckDB's value (microseconds since the epoch, UTC). Computed here: the
 * Appender's cast from text drops the offset (`…+02:00` would be stored as if it were UTC).
 */
function timestamptzValue(text: string): DuckDBTimestampTZValue | undefined {
  const m = TSTZ.exec(text)
  if (!m) return undefined
  const days = daysFromCivil(+m[1]!, +m[2]!, +m[3]!)
  const offset = (m[8] === '-' ? -1 : 1) * (+m[9]! * 60 + +m[10]!)
  const seconds = BigInt(days) * 86400n + BigInt(+m[4]! * 3600 + +m[5]! * 60 + +m[6]! - offset * 60)
  // sub-microsecond digits cannot be stored: cut, as the core cuts fractions past maxTimestampPrecision
  return new DuckDBTimestampTZValue(seconds * 1_000_000n + BigInt((m[7] ?? '').slice(0, 6).padEnd(6, '0')))
}

type Append = (ap: DuckDBAppender, v: Value) => void

const INT64_MAX = 9223372036854775807n

/**
 * How one column's values go into the Appender. Everything that is text in the canonical model goes as
 * VARCHAR, which DuckDB casts exactly to the column's type (DECIMAL, DATE, TIME, TIMESTAMP, UUID, ENUM, JSON)
 * and refuses when it cannot; numbers, booleans and bytes go as themselves; a timestamp with offset as its
 * instant (see {@link timestamptzValue}).
 */
function appendFor(c: ColumnSchema): Append {
  switch (c.type.kind) {
    case 'boolean':
      return (ap, v) => (typeof v === 'boolean' ? ap.appendBoolean(v) : ap.appendVarchar(String(v)))
    case 'int16':
    case 'int32':
    case 'int64': {
      // unsigned 64-bit values past 2^63 - 1 go as text, which DuckDB casts to UBIGINT
      const unsigned = c.type.kind === 'int64' && c.type.unsigned === true
      return (ap, v) => {
        if (typeof v === 'number' && v >= -2147483648 && v <= 2147483647 && Number.isInteger(v)) ap.appendInteger(v)
        else if ((typeof v === 'bigint' || Number.isSafeInteger(v)) && !(unsigned && BigInt(v as number) > INT64_MAX)) ap.appendBigInt(BigInt(v as number))
        else ap.appendVarchar(String(v))
      }
    }
    case 'float32':
    case 'float64':
      return (ap, v) => (typeof v === 'number' ? ap.appendDouble(v) : ap.appendVarchar(String(v)))
    case 'bytes':
      return (ap, v) => (v instanceof Uint8Array ? ap.appendBlob(v) : ap.appendBlob(Buffer.from(String(v), 'utf8')))
    case 'timestamptz':
      return (ap, v) => {
        const value = typeof v === 'string' ? timestamptzValue(v) : undefined
        if (value === undefined) throw new ValueRefused(`${JSON.stringify(v)} is not a timestamp with offset (YYYY-MM-DD HH:MM:SS+HH:MM)`)
        ap.appendTimestampTZ(value)
      }
    default:
      return (ap, v) => ap.appendVarchar(typeof v === 'string' ? v : String(v))
  }
}

/** A value dbferry itself could not put into DuckDB's form (the engine never saw it). */
class ValueRefused extends Error {}

/** A failure while appending row `row` (a value refused) or while flushing/committing (row undefined). */
interface Attempt {
  error: unknown
  /** The row whose value the Appender refused as it was appended; undefined when the flush or commit failed. */
  row?: number
}

/** Failure kinds that are about a row's data rather than the table or the connection. */
const ROW_KINDS = new Set<string>(['not_null', 'duplicate_key', 'foreign_key_violation', 'check_violation', 'truncation', 'out_of_range', 'invalid_encoding'])
const ROW_CODES = new Set<string>(['Constraint', 'Conversion', 'Out of Range', 'Invalid Input'])

function isRowFailure(error: unknown): boolean {
  if (error instanceof ValueRefused) return true
  const c = duckdbErrors.classify(error)
  if (!c || c.connectionLost) return false
  return ROW_KINDS.has(c.kind) || (c.driver.code !== undefined && ROW_CODES.has(c.driver.code))
}

/**
 * Opens the Appender path of one table. Each `write` appends its batch inside one transaction and commits it.
 * When DuckDB refuses the batch (DuckDB has no savepoints, and a failed statement aborts the transaction),
 * the offending rows are isolated by rolled-back trial loads: a value the Appender refuses names its row at
 * once; a refused flush (duplicate key, NOT NULL, CHECK) is narrowed by bisecting the shortest failing prefix.
 * Each bad row is rejected with its classified error, and the rest of the batch is loaded in one transaction,
 * so a batch still reaches the target whole or not at all.
 */
export async function openDuckdbWriter(ctx: DuckdbTargetContext, table: TableSchema): Promise<TableWriter> {
  const { connection } = ctx
  const target = duckdbSql.tableName(table, ctx.schema)
  let order: number[]
  try {
    // the Appender fills the table's own column order; columns the source lacks get their default
    const r = await connection.runAndReadAll(
      'SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = ? AND lower(table_name) = lower(?) ORDER BY column_index',
      [ctx.schema, table.name],
    )
    order = r.getRows().map(([n]) => {
      const name = String(n)
      return table.columns.findIndex((c) => c.name === name || c.name.toLowerCase() === name.toLowerCase())
    })
  } catch (error) {
    throw duckdbErrors.toDbferryError(error, `opening ${target} on ${ctx.description}`, { table: table.name })
  }
  if (order.length === 0) throw new SchemaError(`cannot write into ${table.name}: it does not exist on ${ctx.description}`, { table: table.name })
  const appenders = table.columns.map(appendFor)
  const keyIdx = keyColumnIndexes(table)

  /** Appends `rows` in a transaction; commits (or, for a trial, rolls back). Returns the failure, if any. */
  const attempt = async (rows: readonly Row[], commit: boolean): Promise<Attempt | undefined> => {
    await connection.run('BEGIN TRANSACTION')
    let ap: DuckDBAppender | undefined
    let at: number | undefined
    try {
      ap = await connection.createAppender(table.name, ctx.schema)
      for (let r = 0; r < rows.length; r++) {
        const row = rows[r]!
        at = r
        for (const i of order) {
          if (i < 0) ap.appendDefault()
          else {
            const v = row[i]
            if (v === null || v === undefined) ap.appendNull()
            else appenders[i]!(ap, v)
          }
        }
        at = undefined
        ap.endRow()
      }
      ap.closeSync()
      ap = undefined
      await connection.run(commit ? 'COMMIT' : 'ROLLBACK')
      return undefined
    } catch (error) {
      if (ap) {
        // drop what the Appender holds: closing it would flush the rows into the transaction rolled back below
        try {
          ap.clear()
          ap.closeSync()
        } catch {
          // already unusable: the rollback undoes whatever it wrote
        }
      }
      await connection.run('ROLLBACK').catch(() => {})
      return at === undefined ? { error } : { error, row: at }
    }
  }

  const reject = (row: Row, error: unknown): RowError => {
    const c = duckdbErrors.classify(error)
    const kind = (c?.kind ?? 'type_conversion') as RowFailureKind
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
    const key = rowKey(table, row, keyIdx)
    const options: ConstructorParameters<typeof RowError>[2] = { table: table.name, row, cause: error }
    if (key) options.key = key
    if (c) options.driver = c.driver
    const column = c?.driver.column
    if (column !== undefined) {
      const i = table.columns.findIndex((x) => x.name.toLowerCase() === column.toLowerCase())
      if (i >= 0) {
        options.column = table.columns[i]!.name
        options.value = row[i]
      }
    }
    return new RowError(kind, `${table.name}: ${message}${key ? ` (row ${JSON.stringify(key)})` : ''}`, options)
  }

  const fail = (error: unknown) => duckdbErrors.toDbferryError(error, `writing ${table.name} on ${ctx.description}`, { table: table.name })

  /**
   * Finds the rows DuckDB refuses, as positions in `rows`. `good` rows load together; each round tries `good`
   * plus the rest. A value the Appender refused names its row, which alone is dropped (the rows before it were
   * never flushed, so they prove nothing). A refused flush is narrowed by bisecting the shortest failing prefix
   * of the rest, whose last row is the culprit given the rows before it: of two rows with one key the second is
   * refused, as a row-by-row load would.
   */
  const isolate = async (rows: Row[], first: Attempt): Promise<{ accepted: Row[]; rejected: RowError[] }> => {
    const bad = new Map<number, unknown>()
    const good: number[] = []
    let rest = rows.map((_, i) => i)
    const trial = (ids: readonly number[]) => attempt(ids.map((i) => rows[i]!), false)
    let failure: Attempt | undefined = first
    while (failure) {
      if (!isRowFailure(failure.error)) throw fail(failure.error)
      if (failure.row !== undefined) {
        const at = failure.row - good.length
        bad.set(rest[at]!, failure.error)
        rest = rest.filter((_, j) => j !== at)
      } else {
        let lo = 1
        let hi = rest.length
        let error = failure.error
        let refusedValue: number | undefined
        while (lo < hi) {
          const mid = (lo + hi) >> 1
          const tried = await trial([...good, ...rest.slice(0, mid)])
          if (!tried) lo = mid + 1
          else if (tried.row !== undefined) {
            refusedValue = tried.row - good.length
            error = tried.error
            break
          } else {
            hi = mid
            error = tried.error
          }
        }
        if (refusedValue !== undefined) {
          bad.set(rest[refusedValue]!, error)
          rest = rest.filter((_, j) => j !== refusedValue)
        } else {
          bad.set(rest[hi - 1]!, error)
          good.push(...rest.slice(0, hi - 1))
          rest = rest.slice(hi)
        }
      }
      failure = rest.length === 0 ? undefined : await trial([...good, ...rest])
    }
    const accepted = [...good, ...rest].map((i) => rows[i]!)
    const rejected = [...bad.entries()].sort((a, b) => a[0] - b[0]).map(([i, error]) => reject(rows[i]!, error))
    return { accepted, rejected }
  }

  return {
    async write(rows: Row[]): Promise<WriteResult> {
      let first: Attempt | undefined
      try {
        first = await attempt(rows, true)
      } catch (error) {
        throw fail(error)
      }
      if (!first) return { written: rows.length, rejected: [], committed: true }
      const { accepted, rejected } = await isolate(rows, first)
      if (accepted.length > 0) {
        const last = await attempt(accepted, true)
        if (last) throw fail(last.error)
      }
      return { written: accepted.length, rejected, committed: true }
    },
    async close(): Promise<void> {},
    async abort(): Promise<void> {},
  }
}

/** An index already on the schema: its table, uniqueness and key expressions as DuckDB prints them (`[a, b]`). */
interface ExistingIndex {
  table: string
  unique: boolean
  expressions: string
}

async function existingIndexes(ctx: DuckdbTargetContext): Promise<Map<string, ExistingIndex>> {
  const r = await ctx.connection.runAndReadAll(
    'SELECT index_name, table_name, is_unique, expressions FROM duckdb_indexes() WHERE database_name = current_database() AND schema_name = ?',
    [ctx.schema],
  )
  return new Map(r.getRows().map(([i, t, u, e]) => [String(i).toLowerCase(), { table: String(t), unique: u === true, expressions: String(e ?? '') }]))
}

/** Whether an existing index is this one: same table, uniqueness and columns (an expression index: same table and name). */
function sameIndex(there: ExistingIndex, table: string, idx: IndexSchema): boolean {
  if (there.table !== table || there.unique !== idx.unique) return false
  if (idx.expression !== undefined) return true
  // DuckDB prints `[code]` or, for a name it quotes, `['"label"']`: compared without quotes and spaces
  const bare = (s: string) => s.replace(/["'\s]/g, '').toLowerCase()
  return bare(there.expressions) === bare(`[${idx.columns.join(',')}]`)
}

/**
 * The name to create an index under, or undefined when this very index is there already (truncate/append, or a
 * resumed finish): index names are per schema in DuckDB, per table elsewhere (MySQL), so another table's index
 * of that name sends this one to `<table>_<name>`.
 */
function indexNameFor(taken: ReadonlyMap<string, ExistingIndex>, table: string, idx: IndexSchema): string | undefined {
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? idx.name : i === 2 ? `${table}_${idx.name}` : `${table}_${idx.name}_${i}`
    const owner = taken.get(candidate.toLowerCase())
    if (owner === undefined) return candidate
    if (sameIndex(owner, table, idx)) return undefined
  }
}

/** A lost connection is the run's failure, never one constraint's: finalize passes it on (resume finishes the step). */
function passOnLost(error: unknown): void {
  if (duckdbErrors.classify(error)?.connectionLost) throw error
}

async function orphanCount(ctx: DuckdbTargetContext, table: TableSchema, fk: ForeignKeySchema, tables: ReadonlySet<string>): Promise<number | undefined> {
  if (!tables.has(fk.refTable.toLowerCase())) return undefined
  const child = duckdbSql.tableName(table, ctx.schema)
  const parent = duckdbSql.tableName({ name: fk.refTable }, ctx.schema)
  const notNull = fk.columns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')
  const match = fk.columns.map((c, i) => `p.${q(fk.refColumns[i]!)} = c.${q(c)}`).join(' AND ')
  const r = await ctx.connection.runAndReadAll(`SELECT count(*) FROM ${child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE ${match})`)
  return Number(r.getRows()[0]![0])
}

/**
 * After the data: secondary indexes, identity sequences (started past the largest key loaded), and a report
 * of every foreign key as not created — DuckDB has no ALTER TABLE … ADD FOREIGN KEY — with its orphan count.
 * Idempotent, so a resumed run can finish an interrupted one: an index of the same table, uniqueness and columns
 * is recognised rather than created again under another name, and sequences are made again. Throws the driver's
 * error when the connection is lost (it is not a constraint's problem).
 */
export async function finalizeDuckdbTarget(ctx: DuckdbTargetContext, schema: DatabaseSchema): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  const { connection } = ctx
  for (const t of schema.tables) {
    for (const idx of t.indexes) {
      const kind = idx.unique ? 'unique' : 'index'
      const name = indexNameFor(await existingIndexes(ctx), t.name, idx)
      if (name === undefined) continue
      const sql = duckdbSql.createIndex({ ...t, schema: ctx.schema }, { ...idx, name })
      if (sql === undefined) {
        problems.push({ table: t.name, name: idx.name, kind, outcome: 'failed', message: `index ${idx.name} on ${t.name} has a ${idx.dialect ?? 'foreign'} expression or condition DuckDB cannot take; not created` })
        continue
      }
      try {
        await connection.run(sql)
      } catch (error) {
        passOnLost(error)
        problems.push({ table: t.name, name: idx.name, kind, outcome: 'failed', message: `could not create index ${idx.name} on ${t.name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` })
      }
    }
    for (const c of t.columns) {
      if (!c.autoIncrement || !['int16', 'int32', 'int64'].includes(c.type.kind)) continue
      try {
        const r = await connection.runAndReadAll(`SELECT CAST(coalesce(max(${q(c.name)}), 0) AS VARCHAR) FROM ${duckdbSql.tableName(t, ctx.schema)}`)
        const next = BigInt(String(r.getRows()[0]![0])) + 1n
        for (const s of duckdbSql.identityStatements({ ...t, schema: ctx.schema }, c.name, next)) await connection.run(s)
      } catch (error) {
        passOnLost(error)
        problems.push({ table: t.name, name: `${t.name}_${c.name}_seq`, kind: 'sequence', outcome: 'failed', message: `could not give ${t.name}.${c.name} its sequence: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` })
      }
    }
  }
  const loaded = new Set(schema.tables.map((t) => t.name.toLowerCase()))
  for (const t of schema.tables) {
    for (const fk of t.foreignKeys) {
      const name = fk.name ?? `${t.name}_${fk.columns.join('_')}_fkey`
      const orphans = await orphanCount(ctx, t, fk, loaded).catch((error: unknown) => {
        passOnLost(error)
        return undefined
      })
      const problem: ConstraintProblem = {
        table: t.name,
        name,
        kind: 'foreign_key',
        outcome: 'failed',
        message:
          `foreign key ${name} of ${t.name} (${fk.columns.join(', ')}) → ${fk.refTable} not created: DuckDB can declare foreign keys only in CREATE TABLE, ` +
          `where they would refuse rows while loading` + (orphans ? `; ${orphans} row${orphans === 1 ? '' : 's'} point at no row of ${fk.refTable}` : ''),
      }
      if (orphans !== undefined) problem.orphans = orphans
      problems.push(problem)
    }
  }
  return problems
}
