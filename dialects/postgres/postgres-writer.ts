import type pg from 'pg'
import copyStreams from 'pg-copy-streams'
import type { ConstraintProblem, CsvLoad, CsvText, FinalizeOptions, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { AbortError, RowError, SchemaError, type FailureKind, type RowFailureKind } from '../../src/errors.js'
import { shortenIdentifier } from '../../src/schema/identifiers.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, IndexSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { postgresErrors } from './postgres-errors.js'
import type { PostgresQueryable } from './postgres-introspector.js'
import { postgresSql, type BinaryEncoder, type CopyBinaryBuffer, type CopyTextBuffer } from './postgres-sql.js'
import { postgresTypes } from './postgres-types.js'

/**
 * Writing to a PostgreSQL target: the tables with their keys before the data (prepare), the rows of each table
 * with `COPY … FROM STDIN` (binary format where every column's type takes it exactly and it is faster, text
 * otherwise), a CSV file handed over whole (`COPY … (FORMAT csv)`, the
 * pass-through path), and indexes, foreign keys and identity positions after the data (finalize).
 *
 * Each batch is one transaction and each COPY runs under a savepoint, so a refused COPY leaves nothing
 * behind; the offending row is found from the server's `line N` (or by bisecting when the server names
 * none), rejected alone with the kind its SQLSTATE names, and the rest of the batch is loaded and committed
 * with it.
 */

type Client = pg.Client | pg.PoolClient

const q = postgresSql.quoteIdentifier
const copyText = postgresSql.copyText
const copyBinary = postgresSql.copyBinary

/** A table's writer, which can also take the table's CSV text whole (see {@link loadCsvText}). */
export interface PostgresTableWriter extends TableWriter {
  /** Loads the table's CSV text in one transaction left open, or says why it cannot (nothing sent). */
  loadCsv(text: CsvText, signal?: AbortSignal): Promise<CsvLoad | string>
}

/** Kinds a refused row can carry (classify's kinds that are about the row). */
const ROW_KINDS: ReadonlySet<FailureKind> = new Set<FailureKind>([
  'not_null', 'duplicate_key', 'foreign_key_violation', 'check_violation', 'truncation', 'out_of_range', 'invalid_encoding', 'target_rejected',
])

// ---------------------------------------------------------------------------------------------------------
// prepare and finalize

const INTEGER_KINDS = new Set(['int16', 'int32', 'int64'])

async function existingRelations(client: PostgresQueryable, schemaName: string, names: string[]): Promise<Set<string>> {
  const r = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [schemaName, names],
  )
  return new Set(r.rows.map((x) => x.relname))
}

/**
 * Creates, truncates or recreates the tables of `schema` in `schemaName` as the mode says, in one transaction
 * (or, when `inTransaction`, under a savepoint of the one the caller holds; default false): primary and unique
 * keys now, everything else in {@link finalizePostgresTarget}.
 */
export async function preparePostgresTarget(
  client: PostgresQueryable,
  schemaName: string,
  schema: DatabaseSchema,
  options: PrepareOptions,
  description: string,
  inTransaction = false,
): Promise<void> {
  const names = schema.tables.map((t) => t.name)
  const existing = await existingRelations(client, schemaName, names)
  const mode = options.mode
  if (mode === 'create' && existing.size > 0) {
    throw new SchemaError(
      `${existing.size} table(s) already exist on ${description}: ${[...existing].join(', ')} (mode "create" never touches existing data; use truncate, append or recreate)`,
      { code: 'target_exists' },
    )
  }
  const used = new Set<string>()
  await client.query(inTransaction ? 'SAVEPOINT dbferry_prepare' : 'BEGIN')
  try {
    if (mode === 'recreate' && existing.size > 0) {
      await client.query(`DROP TABLE IF EXISTS ${[...existing].map((n) => `${q(schemaName)}.${q(n)}`).join(', ')} CASCADE`)
      existing.clear()
    }
    if (mode === 'truncate' && existing.size > 0) {
      await client.query(`TRUNCATE ${[...existing].map((n) => `${q(schemaName)}.${q(n)}`).join(', ')}`)
    }
    for (const t of schema.tables) {
      if (existing.has(t.name)) continue
      if (options.signal?.aborted) throw new SchemaError('aborted while creating tables')
      await client.query(postgresSql.createTableIn(schemaName, t, used))
    }
    await client.query(inTransaction ? 'RELEASE SAVEPOINT dbferry_prepare' : 'COMMIT')
  } catch (error) {
    await client.query(inTransaction ? 'ROLLBACK TO SAVEPOINT dbferry_prepare' : 'ROLLBACK').catch(() => {})
    if (error instanceof SchemaError) throw error
    throw new SchemaError(`could not prepare the target tables on ${description}: ${(error as Error).message}`, { cause: error })
  }
}

function problem(t: TableSchema, name: string, kind: ConstraintProblem['kind'], message: string, outcome: ConstraintProblem['outcome'] = 'failed'): ConstraintProblem {
  return { table: t.name, name, kind, outcome, message }
}

/** A lost connection is the run's failure, never one constraint's: finalize passes it on (resume finishes the step). */
function passOnLost(error: unknown): void {
  if (postgresErrors.classify(error)?.connectionLost) throw error
}

async function createIndex(client: PostgresQueryable, schemaName: string, t: TableSchema, ix: IndexSchema): Promise<ConstraintProblem | undefined> {
  if ((ix.expression !== undefined || ix.where !== undefined) && ix.dialect !== 'postgres') {
    return problem(t, ix.name, 'index', `index ${ix.name} on ${t.name} uses a ${ix.dialect ?? 'foreign'} expression or predicate; not recreated on PostgreSQL`)
  }
  const table = postgresSql.tableName({ name: t.name }, schemaName)
  // an index with this name on this table already (truncate/append, or a resumed finish): recognised when it
  // has the same uniqueness and columns, never created twice
  const found = await client.query<{ same: boolean; unique: boolean | null; columns: string[] | null }>(
    `SELECT i.indrelid = $3::regclass AS same, i.indisunique AS unique,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o) AS columns
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE n.nspname = $1 AND c.relname = $2`,
    [schemaName, ix.name, table],
  )
  let name = ix.name
  const existing = found.rows[0]
  if (existing?.same) {
    const plain = ix.expression === undefined && ix.where === undefined
    if (!plain || (existing.unique === ix.unique && (existing.columns ?? []).join('\0') === ix.columns.join('\0'))) return undefined
    return problem(t, ix.name, ix.unique ? 'unique' : 'index', `index ${ix.name} on ${t.name}: an index of that name with other columns or uniqueness is already there (${(existing.columns ?? []).join(', ')}); left as it is`)
  }
  if (existing) name = shortenIdentifier(`${t.name}_${ix.name}`, 63, 'bytes')
  const sql = postgresSql.createIndexIn(schemaName, t, ix, name)
  try {
    await client.query(sql)
  } catch (error) {
    passOnLost(error)
    return problem(t, ix.name, ix.unique ? 'unique' : 'index', `index ${ix.name} on ${t.name}: ${(error as Error).message}`)
  }
  return undefined
}

/** Counts child rows whose (non-null) key matches no parent row. */
async function countOrphans(client: PostgresQueryable, schemaName: string, t: TableSchema, fk: ForeignKeySchema): Promise<number> {
  const notNull = fk.columns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')
  const match = fk.columns.map((c, i) => `p.${q(fk.refColumns[i]!)} = c.${q(c)}`).join(' AND ')
  const r = await client.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM ${q(schemaName)}.${q(t.name)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${q(schemaName)}.${q(fk.refTable)} p WHERE ${match})`,
  )
  return Number(r.rows[0]?.n ?? 0)
}

async function createForeignKey(client: PostgresQueryable, schemaName: string, t: TableSchema, fk: ForeignKeySchema, known: FinalizeOptions['orphanedForeignKeys']): Promise<ConstraintProblem | undefined> {
  const label = fk.name ?? `${t.name}(${fk.columns.join(', ')}) → ${fk.refTable}`
  // the same key (these columns to that table) already there — truncate/append, or a resumed finish: recognised
  const exists = await client
    .query(
      `SELECT 1 FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = $1::regclass AND c.confrelid = $2::regclass
        AND ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) = $3::text[]`,
      [`${q(schemaName)}.${q(t.name)}`, `${q(schemaName)}.${q(fk.refTable)}`, fk.columns],
    )
    .catch((error: unknown) => {
      passOnLost(error)
      return { rows: [] }
    })
  if (exists.rows.length > 0) return undefined
  let name = fk.name
  const knownOrphans = fk.name ? known?.get(fk.name) ?? known?.get(`${t.name}.${fk.name}`) : undefined
  const attempt = async (notValid: boolean): Promise<void> => {
    try {
      await client.query(postgresSql.addForeignKeyIn(schemaName, t, fk, name, notValid))
    } catch (error) {
      // 42710: the name is taken on this table; let PostgreSQL choose one
      if ((error as { code?: string }).code === '42710' && name !== undefined) {
        name = undefined
        await client.query(postgresSql.addForeignKeyIn(schemaName, t, fk, name, notValid))
      } else throw error
    }
  }
  try {
    if (knownOrphans === undefined || knownOrphans === 0) {
      await attempt(false)
      return undefined
    }
  } catch (error) {
    passOnLost(error)
    if ((error as { code?: string }).code !== '23503') {
      return problem(t, label, 'foreign_key', `foreign key ${label}: ${(error as Error).message}`)
    }
  }
  try {
    const orphans = await countOrphans(client, schemaName, t, fk)
    await attempt(true)
    return {
      ...problem(t, label, 'foreign_key', `foreign key ${label} created NOT VALID: ${orphans} row(s) of ${t.name} point at no ${fk.refTable} row`, 'unvalidated'),
      orphans,
    }
  } catch (error) {
    passOnLost(error)
    return problem(t, label, 'foreign_key', `foreign key ${label}: ${(error as Error).message}`)
  }
}

async function setIdentity(client: PostgresQueryable, schemaName: string, t: TableSchema, c: ColumnSchema): Promise<ConstraintProblem | undefined> {
  if (!INTEGER_KINDS.has(c.type.kind)) return undefined
  const table = `${q(schemaName)}.${q(t.name)}`
  try {
    const seq = await client.query<{ s: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS s', [table, c.name])
    const s = seq.rows[0]?.s
    if (!s) return undefined
    await client.query(`SELECT setval($1::regclass, GREATEST(COALESCE(MAX(${q(c.name)}), 0) + 1, 1), false) FROM ${table}`, [s])
  } catch (error) {
    passOnLost(error)
    return problem(t, `${t.name}.${c.name}`, 'sequence', `identity of ${t.name}.${c.name}: ${(error as Error).message}`)
  }
  return undefined
}

/**
 * After the data: secondary indexes, foreign keys (NOT VALID, with their orphans counted, where rows point
 * nowhere) and identity positions. Returns what could not be done, or was done unvalidated. Idempotent, so a
 * resumed run can finish an interrupted one: an index of the same name, uniqueness and columns, or a foreign key
 * on the same columns to the same table, is recognised rather than created again, and identity positions are
 * set again. Throws the driver's error when the connection is lost (it is not a constraint's problem).
 */
export async function finalizePostgresTarget(client: PostgresQueryable, schemaName: string, schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  const push = (p: ConstraintProblem | undefined) => {
    if (p) problems.push(p)
  }
  for (const t of schema.tables) {
    for (const ix of t.indexes) {
      if (options.signal?.aborted) return problems
      push(await createIndex(client, schemaName, t, ix))
    }
  }
  for (const t of schema.tables) {
    for (const fk of t.foreignKeys) {
      if (options.signal?.aborted) return problems
      push(await createForeignKey(client, schemaName, t, fk, options.orphanedForeignKeys))
    }
  }
  for (const t of schema.tables) {
    for (const c of t.columns) if (c.autoIncrement) push(await setIdentity(client, schemaName, t, c))
  }
  return problems
}

// ---------------------------------------------------------------------------------------------------------
// rows through COPY text

/** A JSON array (as read from a PostgreSQL array column) as a PostgreSQL array literal. */
function jsonToArrayLiteral(json: string): string {
  const value: unknown = JSON.parse(json)
  if (!Array.isArray(value)) throw new TypeError('not a JSON array')
  const element = (e: unknown): string => {
    if (e === null) return 'NULL'
    if (Array.isArray(e)) return `{${e.map(element).join(',')}}`
    const s = typeof e === 'string' ? e : typeof e === 'object' ? JSON.stringify(e) : String(e)
    return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  }
  return element(value)
}

/** Whether a column is written at all: stored generated columns from PostgreSQL are computed by the target. */
function isComputedOnTarget(c: ColumnSchema): boolean {
  return c.generated === true && c.default?.kind === 'expression' && c.default.dialect === 'postgres'
}

type Encoder = (v: Value) => string

function encoderFor(column: ColumnSchema): Encoder {
  if (postgresTypes.columnType(column).endsWith('[]')) {
    return (v) => (v === null ? '\\N' : copyText.escape(jsonToArrayLiteral(String(v))))
  }
  return copyText.encode
}

/** SQLSTATE classes that are about the data of a row rather than the table or the connection. */
function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return false
  return code.startsWith('22') || code.startsWith('23') || code === '54000' || code === '42804' || code === '2200N'
}

/**
 * Bytes per COPY data message while streaming a batch; the server starts on the first while the rest encode.
 * Smaller chunks start it sooner: 64 KiB copied 300 000 rows from SQLite in 1.30 s against 1.44 s with 256 KiB.
 */
const CHUNK_BYTES = 64 * 1024
/**
 * Bytes the COPY stream may hold unsent before the writer waits for it to drain. Views of the batch cost nothing
 * more, but a large value's pieces are made as they are sent: without a wait, all of them would be held at once.
 */
const BACKLOG_BYTES = 4 << 20
/**
 * The largest row buffer kept for the next batch (it starts at 1 MiB and grows with a batch's small values): a
 * batch of many mid-sized values must not leave its buffer held for the rest of the table.
 */
const KEEP_BUFFER_BYTES = 8 << 20

type CopyIn = { stream: ReturnType<typeof copyStreams.from>; done: Promise<void>; state: { failed: boolean }; binary: boolean }

/** How a table's rows go: COPY text, or COPY binary with the encoder of each written column. */
interface CopyFormat {
  sql: string
  binary?: BinaryEncoder[]
}

/** A batch encoded in the table's format. */
type Batch = CopyTextBuffer | CopyBinaryBuffer

/** Ends a COPY's data (the binary trailer first), unless the server already refused it. */
function endCopy(copy: CopyIn): void {
  if (copy.state.failed) return
  if (copy.binary) copy.stream.write(copyBinary.trailer)
  copy.stream.end()
}

/**
 * The catalogue type (`pg_type.typname`, built-in types only) of each column of a target table, by column name;
 * empty when the table cannot be looked up (the COPY then says why).
 */
async function targetTypes(client: Client, target: string, inTransaction: boolean): Promise<Map<string, string>> {
  // inside a transaction the caller holds, a refused lookup (a server that only looks like PostgreSQL) must
  // not abort it
  if (inTransaction) await client.query('SAVEPOINT dbferry_types')
  try {
    const r = await client.query<{ name: string; type: string | null }>(
      `SELECT a.attname AS name, CASE WHEN t.typnamespace = 'pg_catalog'::regnamespace THEN t.typname::text END AS type
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [target],
    )
    if (inTransaction) await client.query('RELEASE SAVEPOINT dbferry_types')
    return new Map(r.rows.filter((x) => x.type !== null).map((x) => [x.name, x.type!]))
  } catch (error) {
    if (inTransaction) await client.query('ROLLBACK TO SAVEPOINT dbferry_types').catch(() => {})
    throw error
  }
}

/** Resolves once the stream has drained, or failed or closed (then no drain comes). */
function drained(stream: CopyIn['stream']): Promise<void> {
  return new Promise<void>((resolve) => {
    const go = () => {
      stream.off('drain', go)
      stream.off('error', go)
      stream.off('close', go)
      resolve()
    }
    stream.on('drain', go)
    stream.on('error', go)
    stream.on('close', go)
  })
}

/** Writes pieces of COPY text to a COPY in progress, waiting for the socket past the backlog; stops once the server refused it. */
async function send(copy: CopyIn, pieces: Iterable<Buffer>): Promise<void> {
  for (const piece of pieces) {
    if (copy.state.failed) return
    copy.stream.write(piece)
    if (copy.stream.writableLength > BACKLOG_BYTES) await drained(copy.stream)
  }
}

/**
 * Opens the COPY writer of one table in `schema` on a `pg` client, or, on a session of plain statements (a
 * Kysely instance, see {@link InsertSession}), the INSERT writer ({@link openInsertWriter}). `inTransaction`
 * says whether the client already holds a transaction (then each batch runs under a savepoint of it instead
 * of its own transaction); default: never.
 */
export function openPostgresWriter(
  client: Client | InsertSession,
  schema: string,
  table: TableSchema,
  description: string,
  inTransaction: () => boolean = () => false,
): PostgresTableWriter {
  if (isInsertSession(client)) return openInsertWriter(client, schema, table, description)
  const written = table.columns.map((c, i) => (isComputedOnTarget(c) ? -1 : i)).filter((i) => i >= 0)
  const encoders = table.columns.map(encoderFor)
  const target = postgresSql.tableName({ name: table.name }, schema)
  const textFormat: CopyFormat = { sql: `COPY ${target} (${written.map((i) => q(table.columns[i]!.name)).join(', ')}) FROM STDIN` }
  const keyIdx = keyColumnIndexes(table)
  const last = written.length - 1
  const plain = encoders.every((e) => e === copyText.encode)
  // allocated by the first batch: a writer opened only to load CSV text never needs it
  let buffer: Buffer | undefined
  // chosen by the first batch from the target table's column types; text from the first value binary cannot carry exactly
  let format: CopyFormat | undefined

  /**
   * Binary when every written column's type on the target has a binary encoder and binary is the faster format
   * for the table's mix of types (see `postgresTypes.binaryCopyFaster`); text otherwise, and for array columns,
   * which arrive as JSON and go as array literals.
   */
  const chooseFormat = async (): Promise<CopyFormat> => {
    if (!plain) return textFormat
    let types: Map<string, string>
    try {
      types = await targetTypes(client, target, inTransaction())
    } catch (error) {
      // a lost connection is the write's failure; anything else leaves the COPY to say what is wrong
      if (postgresErrors.classify(error)?.connectionLost) throw fail(error)
      return textFormat
    }
    const names = written.map((i) => types.get(table.columns[i]!.name))
    const binary = names.map((n) => (n === undefined ? undefined : copyBinary.encoders[n]))
    if (binary.some((e) => e === undefined) || !postgresTypes.binaryCopyFaster(names as string[])) return textFormat
    return { sql: `${textFormat.sql} (FORMAT binary)`, binary: binary as BinaryEncoder[] }
  }

  /** Appends one row to the batch; throws (and leaves the batch as it was) when a value cannot be encoded. */
  const encodeRow = (batch: Batch, row: Row): void => {
    if (format!.binary) return (batch as CopyBinaryBuffer).row(row, written)
    encodeTextRow(batch as CopyTextBuffer, row)
  }

  /** Appends one row to the batch as a COPY text line; throws (and leaves the batch as it was) when a value cannot be encoded. */
  const encodeTextRow = (batch: CopyTextBuffer, row: Row): void => {
    batch.beginRow()
    try {
      for (let j = 0; j <= last; j++) {
        const i = written[j]!
        const v = row[i]
        if (plain || v === null || v === undefined || encoders[i] === copyText.encode) batch.value(v)
        else batch.rawField(encoders[i]!(v))
      }
    } catch (error) {
      batch.abandonRow()
      throw error
    }
    batch.endRow()
  }

  /** Starts one COPY; returns the stream and a promise of its end (never left pending: errors reject it). */
  const startCopy = (): CopyIn => {
    const binary = format!.binary !== undefined
    const stream = client.query(copyStreams.from(format!.sql))
    if (binary) stream.write(copyBinary.header)
    const state = { failed: false }
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve)
      stream.on('error', (error) => {
        // the stream is unusable once the server refused the COPY: writers must stop feeding it
        state.failed = true
        reject(error)
      })
    })
    done.catch(() => {})
    return { stream, done, state, binary }
  }

  // every attempt runs under a savepoint of the batch's transaction: a refused COPY costs nothing
  const rollback = () => client.query('ROLLBACK TO SAVEPOINT dbferry_copy').catch(() => {})

  const copy = async (batch: Batch, from: number, to: number): Promise<void> => {
    try {
      await client.query('SAVEPOINT dbferry_copy')
      const attempt = startCopy()
      await send(attempt, batch.pieces(batch.offsets[from]!, batch.offsets[to]!))
      endCopy(attempt)
      await attempt.done
    } catch (error) {
      await rollback()
      throw error
    }
  }

  /** The row the server refused, as a RowError of the kind its SQLSTATE names, with the server's fields. */
  const reject = (row: Row, error: unknown): RowError => {
    const read = postgresErrors.classify(error)
    const e = error as { message?: string; detail?: string; column?: string }
    const key = rowKey(table, row, keyIdx)
    const where = key ? ` (row ${JSON.stringify(key)})` : ''
    // only errors about a row's data get here (isRowError): their kinds are row kinds
    const kind: RowFailureKind = read && ROW_KINDS.has(read.kind) ? (read.kind as RowFailureKind) : 'target_rejected'
    const opts: ConstructorParameters<typeof RowError>[2] = { table: table.name, key, row, cause: error }
    if (read) opts.driver = read.driver
    if (e.column) opts.column = e.column
    return new RowError(kind, `${table.name}: ${e.message ?? String(error)}${e.detail ? ` — ${e.detail}` : ''}${where}`, opts)
  }

  const fail = (error: unknown): Error => postgresErrors.wrap(error, `writing ${table.name} on ${description}`, { table: table.name })

  /**
   * Loads rows [from, to), rejecting only the rows the server refuses. `known` is the error an attempt at the
   * whole range already got. Returns how many rows were written.
   */
  const load = async (rows: Row[], batch: Batch, from: number, to: number, out: RowError[], known?: unknown): Promise<number> => {
    let written = 0
    let start = from
    while (start < to) {
      let error = known
      known = undefined
      if (error === undefined) {
        try {
          await copy(batch, start, to)
          return written + (to - start)
        } catch (e) {
          error = e
        }
      }
      if (!isRowError(error)) throw fail(error)
      const line = postgresErrors.copyLine(error, table.name)
      if (line === undefined || line < 1 || line > to - start) return written + (await bisect(rows, batch, start, to, out, error))
      const bad = start + line - 1
      if (bad > start) written += await load(rows, batch, start, bad, out)
      out.push(reject(rows[bad]!, error))
      start = bad + 1
    }
    return written
  }

  /** Halves [from, to) until each failing part is one row; `known` is the error seen for the whole range. */
  const bisect = async (rows: Row[], batch: Batch, from: number, to: number, out: RowError[], known?: unknown): Promise<number> => {
    if (known === undefined) {
      try {
        await copy(batch, from, to)
        return to - from
      } catch (error) {
        if (!isRowError(error)) throw fail(error)
        known = error
      }
    }
    if (to - from === 1) {
      out.push(reject(rows[from]!, known))
      return 0
    }
    const mid = from + Math.floor((to - from) / 2)
    return (await bisect(rows, batch, from, mid, out)) + (await bisect(rows, batch, mid, to, out))
  }

  const open = async (): Promise<{ copy: CopyIn; own: boolean }> => {
    // one transaction per batch, so the batch commits atomically; deferred keys are checked per COPY so a
    // collision is found while its rows can still be told apart
    const own = !inTransaction()
    try {
      await client.query(own ? 'BEGIN; SET CONSTRAINTS ALL IMMEDIATE; SAVEPOINT dbferry_copy' : 'SAVEPOINT dbferry_copy')
    } catch (error) {
      if (own) await client.query('ROLLBACK').catch(() => {})
      throw fail(error)
    }
    return { copy: startCopy(), own }
  }

  /**
   * Encodes the rows into a new batch while the COPY `first` takes it chunk by chunk (the server starts on the
   * first chunk meanwhile), then ends the COPY's data. A row whose value cannot be encoded is rejected alone;
   * a value binary cannot carry exactly throws (nothing more is sent) so the caller restarts the batch as text.
   */
  const stream = async (rows: Row[], first: CopyIn, rejected: RowError[]): Promise<{ batch: Batch; good: Row[] }> => {
    // the buffer is reused batch after batch: every byte of the last one was sent and answered for
    const bytes = buffer ?? Buffer.allocUnsafe(1 << 20)
    const batch: Batch = format!.binary ? new copyBinary.RowBuffer(bytes, format!.binary) : new copyText.RowBuffer(bytes)
    const good: Row[] = []
    let sent = 0
    let sentLarge = 0
    for (const row of rows) {
      try {
        encodeRow(batch, row)
      } catch (error) {
        if (copyBinary.isNotExact(error)) throw error
        rejected.push(new RowError('target_rejected', `${table.name}: ${(error as Error).message}`, { table: table.name, key: rowKey(table, row, keyIdx), row, cause: error }))
        continue
      }
      good.push(row)
      // a row with a large value goes at once: its bytes are made piece by piece as the socket takes them
      if (batch.len - sent >= CHUNK_BYTES || batch.largeValues > sentLarge) {
        await send(first, batch.pieces(sent, batch.len))
        sent = batch.len
        sentLarge = batch.largeValues
        // let the server's CopyInResponse and the socket through, so it works on this chunk meanwhile
        await new Promise<void>((r) => setImmediate(r))
      }
    }
    await send(first, batch.pieces(sent, batch.len))
    endCopy(first)
    return { batch, good }
  }

  return {
    async write(rows: Row[]): Promise<WriteResult> {
      const rejected: RowError[] = []
      if (rows.length === 0) return { written: 0, rejected }
      format ??= await chooseFormat()
      const opened = await open()
      const own = opened.own
      let first = opened.copy
      let streamed: { batch: Batch; good: Row[] }
      try {
        streamed = await stream(rows, first, rejected)
      } catch (error) {
        if (!copyBinary.isNotExact(error)) {
          if (own) await client.query('ROLLBACK').catch(() => {})
          throw error
        }
        // a value whose binary form is not exactly what its text gives: this batch and the rest of the table go as text
        format = textFormat
        rejected.length = 0
        try {
          first.stream.destroy(new Error('COPY restarted in text format'))
          await first.done.catch(() => {})
          await client.query('ROLLBACK TO SAVEPOINT dbferry_copy')
          first = startCopy()
        } catch (e) {
          if (own) await client.query('ROLLBACK').catch(() => {})
          throw fail(e)
        }
        streamed = await stream(rows, first, rejected)
      }
      const { batch, good } = streamed
      buffer = batch.buf.length <= KEEP_BUFFER_BYTES ? batch.buf : undefined
      let written = 0
      try {
        let error: unknown
        try {
          await first.done
        } catch (e) {
          error = e
          await rollback()
        }
        if (error !== undefined && good.length > 0) written = await load(good, batch, 0, good.length, rejected, error)
        else if (error !== undefined && !isRowError(error)) throw error
        else written = good.length
        if (own) await client.query('COMMIT')
      } catch (error) {
        if (own) await client.query('ROLLBACK').catch(() => {})
        throw fail(error)
      }
      return { written, rejected }
    },
    loadCsv: (text, signal) => loadCsvText(client, schema, table, text, signal),
    async close() {
      // every batch committed when its write resolved
    },
    async abort() {
      // nothing is pending between batches
    },
  }
}

// ---------------------------------------------------------------------------------------------------------
// CSV text through COPY csv (the pass-through path)

/*
 * The server's CSV rules match the strict CSV the source checks: an unquoted field equal to the NULL marker is
 * NULL and a quoted one never is (PostgreSQL's default without FORCE_NULL), `ESCAPE` applies only inside
 * quotes, and the session settings (ISO dates, UTC, hex bytea) read canonical text as the values the row path
 * would send.
 */

/** A `COPY` option value as a string literal (`escapeLiteral` also handles backslashes). */
function copyOption(client: Client, s: string): string {
  return client.escapeLiteral(s)
}

/** The `COPY` statement for `text` into `table` (columns in the file's order). */
function csvCopySql(client: Client, schema: string, table: TableSchema, text: CsvText): string {
  const f = text.format
  const options = [
    'FORMAT csv',
    `HEADER ${f.header ? 'true' : 'false'}`,
    `DELIMITER ${copyOption(client, f.delimiter)}`,
    `QUOTE ${copyOption(client, f.quote)}`,
    `ESCAPE ${copyOption(client, f.escape)}`,
    `NULL ${copyOption(client, f.null)}`,
    `ENCODING ${f.encoding === 'latin1' ? "'LATIN1'" : "'UTF8'"}`,
  ]
  return `COPY ${postgresSql.tableName({ name: table.name }, schema)} (${text.columns.map(q).join(', ')}) FROM STDIN WITH (${options.join(', ')})`
}

/** Why this table's text cannot go through `COPY … (FORMAT csv)` as the row path would write it, if so. */
function declined(table: TableSchema, text: CsvText): string | undefined {
  const byName = new Map(table.columns.map((c) => [c.name, c]))
  for (const name of text.columns) {
    const c = byName.get(name)
    if (!c) return `the target table has no column ${name}`
    if (isComputedOnTarget(c)) return `column ${name} is computed by the target`
    // arrays arrive as JSON and are rewritten as array literals on the row path
    if (postgresTypes.columnType(c).endsWith('[]')) return `column ${name} is an array`
  }
  const listed = new Set(text.columns)
  const missing = table.columns.filter((c) => !listed.has(c.name) && !isComputedOnTarget(c))
  if (missing.length > 0) return `the file has no field for ${missing.map((c) => c.name).join(', ')}`
  return undefined
}

/**
 * Loads `text` into `table` in one transaction left open (see {@link CsvLoad}). On any failure — the server
 * refuses a value, `text.bytes` throws, the signal aborts — the COPY is cancelled, the transaction rolled
 * back and the error rethrown.
 */
async function loadCsvText(
  client: Client,
  schema: string,
  table: TableSchema,
  text: CsvText,
  signal?: AbortSignal,
): Promise<CsvLoad | string> {
  const why = declined(table, text)
  if (why !== undefined) return why
  const sql = csvCopySql(client, schema, table, text)
  await client.query('BEGIN; SET CONSTRAINTS ALL IMMEDIATE')
  const rollback = () => client.query('ROLLBACK').then(() => undefined)
  try {
    const stream = client.query(copyStreams.from(sql))
    let serverError: unknown
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve)
      stream.on('error', (error) => {
        serverError ??= error
        reject(error)
      })
    })
    done.catch(() => {})
    try {
      for await (const chunk of text.bytes) {
        if (serverError !== undefined) break
        if (signal?.aborted) throw new AbortError()
        if (!stream.write(chunk)) {
          // wait for the socket, or for the server's refusal
          await new Promise<void>((resolve) => {
            const go = () => {
              stream.off('drain', go)
              stream.off('error', go)
              resolve()
            }
            stream.on('drain', go)
            stream.on('error', go)
          })
        }
      }
    } catch (error) {
      // the source's check (or an abort) stops the COPY: the server gets CopyFail and discards it
      stream.destroy(error instanceof Error ? error : new Error(String(error)))
      await done.catch(() => {})
      throw error
    }
    if (serverError === undefined) stream.end()
    await done
    const rows = (stream as unknown as { rowCount: number }).rowCount
    return {
      rows,
      commit: async () => {
        await client.query('COMMIT')
      },
      rollback,
    }
  } catch (error) {
    await rollback().catch(() => {})
    throw error
  }
}

// ---------------------------------------------------------------------------------------------------------
// rows through INSERT statements (a Kysely instance: no COPY)

/** Whether the writer was given a session of plain statements rather than a `pg` client. */
function isInsertSession(client: Client | InsertSession): client is InsertSession {
  return typeof (client as Partial<InsertSession>).inTransaction === 'function'
}

/** What the INSERT writer needs of its session: plain statements, and whether a transaction is already open. */
export interface InsertSession {
  query: PostgresQueryable['query']
  /** A transaction is open (a snapshot, or the caller's own): batches run under savepoints and never commit it. */
  inTransaction(): boolean
}

/** A value as its text form, which the server reads with the column type's input function, as it reads COPY text. */
function textFormFor(column: ColumnSchema): (v: Value) => string | null {
  if (postgresTypes.columnType(column).endsWith('[]')) return (v) => jsonToArrayLiteral(String(v))
  return postgresSql.paramText
}

/** Texts (or NULLs) as one `text[]` literal: the whole column of a batch goes as a single bound parameter. */
function textArrayLiteral(values: readonly (string | null)[]): string {
  let out = '{'
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    out += (i > 0 ? ',' : '') + (v === null ? 'NULL' : `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`)
  }
  return `${out}}`
}

/**
 * Opens the writer of one table for a session that runs only plain statements: each batch is one
 * `INSERT … SELECT … FROM unnest($1::text[], …)`, a column per bound parameter holding the values' text forms
 * (what COPY text would carry), each cast to the target column's type by the server's own input functions.
 * One statement per batch, whatever its size, costs far fewer round trips and parameters than rows of
 * `VALUES`. A batch is one transaction (or, inside an open one, a savepoint); a refused statement is retried
 * by halves until the refused rows are found, each rejected alone with the kind its SQLSTATE names, and the
 * rest written.
 */
function openInsertWriter(session: InsertSession, schema: string, table: TableSchema, description: string): PostgresTableWriter {
  const written = table.columns.map((c, i) => (isComputedOnTarget(c) ? -1 : i)).filter((i) => i >= 0)
  const forms = table.columns.map(textFormFor)
  const keyIdx = keyColumnIndexes(table)
  const target = postgresSql.tableName({ name: table.name }, schema)
  const fail = (error: unknown): Error => postgresErrors.wrap(error, `writing ${table.name} on ${description}`, { table: table.name })

  /** The INSERT, cast to the table's column types as they are on the target (a kept table's may differ). */
  const statement = async (): Promise<string> => {
    const r = await session.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a
        WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [target],
    )
    const types = new Map(r.rows.map((x) => [x.name, x.type]))
    const casts = written.map((i) => {
      const name = table.columns[i]!.name
      const type = types.get(name)
      if (type === undefined) throw new SchemaError(`writing ${table.name} on ${description}: the target table has no column ${name}`, { table: table.name })
      return `c${i}::${type}`
    })
    // the source's keys are kept, as COPY keeps them, also in a GENERATED ALWAYS identity
    return (
      `INSERT INTO ${target} (${written.map((i) => q(table.columns[i]!.name)).join(', ')}) OVERRIDING SYSTEM VALUE ` +
      `SELECT ${casts.join(', ')} FROM unnest(${written.map((_, j) => `$${j + 1}::text[]`).join(', ')}) AS u(${written.map((i) => `c${i}`).join(', ')})`
    )
  }
  let prepared: Promise<string> | undefined
  let sql = ''

  /** Inserts rows [from, to) of the batch's text columns under one savepoint: all of them, or none (then throws). */
  const insert = async (columns: (string | null)[][], from: number, to: number): Promise<void> => {
    await session.query('SAVEPOINT dbferry_insert')
    try {
      await session.query(sql, columns.map((c) => textArrayLiteral(c.slice(from, to))))
    } catch (error) {
      await session.query('ROLLBACK TO SAVEPOINT dbferry_insert').catch(() => {})
      throw error
    }
    await session.query('RELEASE SAVEPOINT dbferry_insert')
  }

  const reject = (row: Row, error: unknown): RowError => {
    const read = postgresErrors.classify(error)
    const e = error as { message?: string; detail?: string; column?: string }
    const key = rowKey(table, row, keyIdx)
    const kind: RowFailureKind = read && ROW_KINDS.has(read.kind) ? (read.kind as RowFailureKind) : 'target_rejected'
    const opts: ConstructorParameters<typeof RowError>[2] = { table: table.name, key, row, cause: error }
    if (read) opts.driver = read.driver
    if (e.column) opts.column = e.column
    return new RowError(kind, `${table.name}: ${e.message ?? String(error)}${e.detail ? ` — ${e.detail}` : ''}${key ? ` (row ${JSON.stringify(key)})` : ''}`, opts)
  }

  /** Writes rows [from, to), halving a refused range until each refused row stands alone. Returns rows written. */
  const load = async (rows: Row[], columns: (string | null)[][], from: number, to: number, out: RowError[]): Promise<number> => {
    try {
      await insert(columns, from, to)
      return to - from
    } catch (error) {
      if (!isRowError(error)) throw error
      if (to - from === 1) {
        out.push(reject(rows[from]!, error))
        return 0
      }
    }
    const mid = from + Math.floor((to - from) / 2)
    return (await load(rows, columns, from, mid, out)) + (await load(rows, columns, mid, to, out))
  }

  return {
    async write(rows: Row[]): Promise<WriteResult> {
      const rejected: RowError[] = []
      const good: Row[] = []
      const columns: (string | null)[][] = written.map(() => [])
      for (const row of rows) {
        let texts: (string | null)[]
        try {
          texts = written.map((i) => (row[i] === null || row[i] === undefined ? null : forms[i]!(row[i]!)))
        } catch (error) {
          rejected.push(new RowError('target_rejected', `${table.name}: ${(error as Error).message}`, { table: table.name, key: rowKey(table, row, keyIdx), row, cause: error }))
          continue
        }
        good.push(row)
        for (let j = 0; j < texts.length; j++) columns[j]!.push(texts[j]!)
      }
      if (good.length === 0) return { written: 0, rejected }
      const own = !session.inTransaction()
      let count: number
      try {
        sql = await (prepared ??= statement())
      } catch (error) {
        throw error instanceof SchemaError ? error : fail(error)
      }
      try {
        if (own) {
          await session.query('BEGIN')
          // deferred keys are checked per statement, so a collision is found while its rows can be told apart
          await session.query('SET CONSTRAINTS ALL IMMEDIATE')
        }
        count = await load(good, columns, 0, good.length, rejected)
        if (own) await session.query('COMMIT')
      } catch (error) {
        if (own) await session.query('ROLLBACK').catch(() => {})
        throw fail(error)
      }
      return { written: count, rejected }
    },
    loadCsv: async () => 'the target takes plain statements only (a Kysely instance): no COPY',
    async close() {
      // every batch committed when its write resolved
    },
    async abort() {
      // nothing is pending between batches
    },
  }
}
