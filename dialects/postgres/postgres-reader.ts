import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import type { CsvText, ReadBatch, ReadOptions } from '../../src/dialect.js'
import { AbortError, RowError, SchemaError } from '../../src/errors.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import type { ColumnSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { ConversionFailure, makeConverter, shortestFloat32 } from '../../src/schema/values.js'
import { postgresErrors } from './postgres-errors.js'
import type { PostgresQueryable } from './postgres-introspector.js'
import { postgresSql } from './postgres-sql.js'
import { postgresTypes } from './postgres-types.js'

/**
 * Reading a table: `COPY (SELECT … ORDER BY key) TO STDOUT` in text format, parsed chunk by chunk into
 * canonical rows (the fast path), or keyset pages with bound parameters when resuming after a key.
 * Memory stays bounded: the COPY stream is pulled only as fast as batches are consumed.
 */

const quoteIdent = postgresSql.quoteIdentifier
const selectExpression = postgresSql.selectExpression
const unescapeCopy = postgresSql.copyText.decode

/** Decodes one column's text form; returns the value or a reason for rejecting the row. */
type Decoder = (text: string) => Value | ConversionFailure

// beyond YYYY-MM-DD: years past 9999 and BC dates, in PostgreSQL's own spelling (the value model's date
// extension, which PostgreSQL targets keep and others refuse, naming the value); `infinity` is tested apart
const DATE_RE = /^\d{4,}-\d{2}-\d{2}( BC)?$/
const TS_RE = /^\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?( BC)?$/
const TSTZ_RE = /^(\d{4,}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?( BC)?$/
const isInfinity = (s: string) => s === 'infinity' || s === '-infinity'
// DESIGN §3: int64 is a number up to 2^53 (exactly representable), a bigint past it
const MIN_SAFE = -(2n ** 53n)
const MAX_SAFE = 2n ** 53n


function notCanonical(what: string, text: string): ConversionFailure {
  return new ConversionFailure(`${what} ${JSON.stringify(text)} has no canonical form`)
}

/** The decoder of one column, from its logical type (and native type where that decides the text form). */
function decoderFor(column: ColumnSchema): Decoder {
  const t = column.type
  if (!postgresTypes.readsOwnText(column)) {
    // the logical type was overridden: convert the text form like any loosely typed value
    const conv = makeConverter(t)
    if (t.kind === 'bytes') return (s) => (s.startsWith('\\x') ? Buffer.from(s.slice(2), 'hex') : conv(s))
    if (t.kind === 'boolean') return (s) => (s === 't' ? true : s === 'f' ? false : conv(s))
    return conv as Decoder
  }
  switch (t.kind) {
    case 'boolean':
      return (s) => s === 't'
    case 'int16':
    case 'int32':
      return (s) => +s
    case 'int64':
      return (s) => {
        if (s.length < 16) return +s
        const b = BigInt(s)
        return b >= MIN_SAFE && b <= MAX_SAFE ? Number(b) : b
      }
    case 'decimal':
      // NaN and ±Infinity are carried as PostgreSQL spells them (the value model's decimal extension)
      return (s) => s
    case 'float32':
      // real's text names the stored single-precision value; carried as the shortest decimal that names it
      return (s) => shortestFloat32(+s)
    case 'float64':
      return (s) => +s
    case 'bytes':
      return (s) => Buffer.from(s.slice(2), 'hex')
    case 'date':
      return (s) => (DATE_RE.test(s) || isInfinity(s) ? s : notCanonical('date', s))
    case 'timestamp':
      return (s) => (TS_RE.test(s) || isInfinity(s) ? s : notCanonical('timestamp', s))
    case 'timestamptz':
      return (s) => {
        if (isInfinity(s)) return s
        const m = TSTZ_RE.exec(s)
        if (!m) return notCanonical('timestamptz', s)
        // the session runs in UTC, so the offset is +00; other offsets only come from historic zones
        return m[4] !== undefined ? new ConversionFailure(`timestamptz ${s} has a seconds offset`) : `${m[1]}${m[2]}:${m[3] ?? '00'}${m[5] ?? ''}`
      }
    default:
      // text, uuid, json, time: the text form is the canonical value
      return (s) => s
  }
}

/**
 * The key range of a read, in key order: past `after` (exclusive), up to `until` (inclusive); absent: no bound.
 * `pages`: only the rows stored in those pages of the table (`ReadOptions.pages`).
 */
interface KeyRange {
  after?: readonly Value[]
  until?: readonly Value[]
  pages?: { from?: number; to?: number }
}

/** How a bound's key part is written: a literal (COPY takes no parameters) or a parameter placeholder. */
type BoundSql = (value: Value, column: ColumnSchema) => string

/**
 * A key part as a literal that the server reads with the key column's input function, as it reads a bound
 * parameter: the parameter's text in quotes, so it takes the column's type (`0.1` would be numeric, and a
 * `real` key compared with it as double precision would include the row `0.1` itself).
 */
const literalBound: BoundSql = (value, column) => postgresSql.literal(postgresSql.paramText(value), column)

/** `range` with empty bounds left out. */
function rangeOf(options: { after?: readonly Value[]; until?: readonly Value[]; pages?: { from?: number; to?: number } }): KeyRange {
  const range: KeyRange = {}
  if (options.after && options.after.length > 0) range.after = options.after
  if (options.until && options.until.length > 0) range.until = options.until
  if (options.pages) range.pages = options.pages
  return range
}

/**
 * The conditions of a page range: `ctid` from the first tuple of page `from` up to (not including) page `to`,
 * which PostgreSQL 14 and later read as a TID range scan (only those pages).
 */
function pageConditions(pages: KeyRange['pages']): string[] {
  const tid = (page: number | undefined, op: string) => (page === undefined ? [] : [`ctid ${op} '(${Math.floor(page)},0)'::tid`])
  return pages ? [...tid(pages.from, '>='), ...tid(pages.to, '<')] : []
}

/** The conditions of a key range over the key columns (`(a, b) > (…)`, `(a, b) <= (…)`), checked against the key. */
function rangeConditions(table: TableSchema, keyIndexes: number[], range: KeyRange, bound: BoundSql): string[] {
  if (range.after === undefined && range.until === undefined) return []
  if (keyIndexes.length === 0) {
    const what = range.until ? 'read a key range of' : 'resume'
    throw new SchemaError(`cannot ${what} ${table.name}: it has no primary key`, { table: table.name })
  }
  const keys = keyIndexes.map((i) => quoteIdent(table.columns[i]!.name))
  const list = (xs: string[]) => (xs.length === 1 ? xs[0]! : `(${xs.join(', ')})`)
  const side = (values: readonly Value[], op: string) => {
    if (values.length !== keys.length) throw new SchemaError(`reading ${table.name}: a key bound has ${values.length} parts, the key ${keys.length}`, { table: table.name })
    return `${list(keys)} ${op} ${list(values.map((v, j) => bound(v, table.columns[keyIndexes[j]!]!)))}`
  }
  const conditions: string[] = []
  if (range.after) conditions.push(side(range.after, '>'))
  if (range.until) conditions.push(side(range.until, '<='))
  return conditions
}

/**
 * Builds the SELECT that reads `table` in key order, within a key range (its bounds written by `bound`) and
 * a condition of its own (`where`, SQL without parameters: verify's segment filter).
 */
function selectSql(
  table: TableSchema,
  schema: string,
  range: KeyRange,
  bound: BoundSql,
  where?: string,
  expression: (column: ColumnSchema, i: number) => string = selectExpression,
): { sql: string; keyIndexes: number[] } {
  const keyIndexes = table.primaryKey ? keyColumnIndexes({ ...table, uniques: [] }) : []
  const cols = table.columns.map((c, i) => expression(c, i)).join(', ')
  const from = `${quoteIdent(schema)}.${quoteIdent(table.name)}`
  const keys = keyIndexes.map((i) => quoteIdent(table.columns[i]!.name))
  let sql = `SELECT ${cols} FROM ${from}`
  const conditions = [...rangeConditions(table, keyIndexes, range, bound), ...pageConditions(range.pages)]
  if (where !== undefined) conditions.push(`(${where})`)
  if (conditions.length > 0) sql += ` WHERE ${conditions.join(' AND ')}`
  if (keys.length > 0) sql += ` ORDER BY ${keys.join(', ')}`
  return { sql, keyIndexes }
}

/** What the reader needs from its session. */
export interface ReaderSession {
  client: pg.Client | pg.PoolClient
  schema: string
  config?: pg.ClientConfig
  inTransaction(): boolean
}

function wrapError(error: unknown, table: string, description: string): Error {
  return postgresErrors.wrap(error, `reading ${table} from ${description}`, { table })
}

/** Turns raw text fields into a canonical row, or a rejected row. */
function makeRowBuilder(table: TableSchema) {
  const decoders = table.columns.map(decoderFor)
  const n = decoders.length
  const keyIdx = keyColumnIndexes(table)
  return (fields: (string | null)[], rejected: RowError[]): Row | undefined => {
    const row: Row = new Array(n)
    for (let i = 0; i < n; i++) {
      const f = fields[i]
      if (f === null || f === undefined) {
        row[i] = null
        continue
      }
      const v = decoders[i]!(f)
      if (v instanceof ConversionFailure) {
        for (let j = i; j < n; j++) row[j] = fields[j] ?? null // copies: the caller reuses `fields`
        rejected.push(
          new RowError(v.kind, `${table.name}.${table.columns[i]!.name}: ${v.reason}`, {
            table: table.name,
            key: rowKey(table, row, keyIdx),
            column: table.columns[i]!.name,
            value: f,
            row,
          }),
        )
        return undefined
      }
      row[i] = v
    }
    return row
  }
}

async function cancelBackend(session: ReaderSession): Promise<boolean> {
  const pid = (session.client as unknown as { processID?: number }).processID
  if (!session.config || pid === undefined) return false
  const c = new pg.Client(session.config)
  c.on('error', () => {})
  try {
    await c.connect()
    await c.query('SELECT pg_cancel_backend($1)', [pid])
    return true
  } catch {
    return false
  } finally {
    await c.end().catch(() => {})
  }
}

/**
 * Streams `table` with COPY TO STDOUT in batches: the rows of the key range of `options` (its bounds as
 * literals), and only those matching `where` when given.
 */
async function* readCopy(session: ReaderSession, table: TableSchema, options: ReadOptions, description: string, where?: string): AsyncGenerator<ReadBatch> {
  const { sql, keyIndexes } = selectSql(table, session.schema, rangeOf(options), literalBound, where)
  const build = makeRowBuilder(table)
  const width = table.columns.length
  const fields: (string | null)[] = new Array(width)
  const client = session.client
  const savepoint = session.inTransaction()
  if (savepoint) await client.query('SAVEPOINT dbferry_read')
  const stream = client.query(copyStreams.to(`COPY (${sql}) TO STDOUT`))
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  let done = false
  let released = false
  let leftover: Buffer | undefined
  const partial: Buffer[] = []
  let rows: Row[] = []
  let rejected: RowError[] = []
  let bytes = 0
  const lastKey = (r: Row[]) => (keyIndexes.length > 0 && r.length > 0 ? keyIndexes.map((i) => r[r.length - 1]![i]!) : undefined)
  try {
    for (;;) {
      const next = await nextCopyChunk(it, table.name, description, () => (done = true))
      if (next.done) {
        done = true
        break
      }
      let chunk = next.value
      // a line longer than a chunk (a large bytea) is collected and joined once: joining on every chunk
      // would copy it over and over (quadratic in its length)
      if (chunk.lastIndexOf(10) < 0) {
        partial.push(chunk)
        continue
      }
      if (leftover || partial.length > 0) {
        chunk = Buffer.concat([...(leftover ? [leftover] : []), ...partial, chunk])
        leftover = undefined
        partial.length = 0
      }
      const end = chunk.lastIndexOf(10)
      if (end < chunk.length - 1) leftover = chunk.subarray(end + 1)
      const text = chunk.toString('utf8', 0, end)
      bytes += end
      const tlen = text.length
      let start = 0
      // one line per row; fields split in place (no per-line arrays), unescaped only when they hold a backslash
      while (start <= tlen) {
        let nl = text.indexOf('\n', start)
        if (nl < 0) nl = tlen
        let p = start
        for (let i = 0; i < width; i++) {
          let e = nl
          if (i < width - 1) {
            e = text.indexOf('\t', p)
            if (e < 0 || e > nl) throw new SchemaError(`reading ${table.name}: a COPY line has ${i + 1} fields, expected ${width}`, { table: table.name })
          }
          const f = text.slice(p, e)
          fields[i] = f.indexOf('\\') < 0 ? f : f === '\\N' ? null : unescapeCopy(f)
          p = e + 1
        }
        const row = build(fields, rejected)
        if (row) rows.push(row)
        if (rows.length + rejected.length >= options.batchRows || bytes >= options.batchBytes) {
          const batch: ReadBatch = { rows, rejected }
          const k = lastKey(rows)
          if (k) batch.lastKey = k
          rows = []
          rejected = []
          bytes = 0
          yield batch
        }
        start = nl + 1
      }
    }
    if ((leftover && leftover.length > 0) || partial.length > 0) throw new SchemaError(`reading ${table.name}: the COPY stream ended mid-line`, { table: table.name })
    if (rows.length > 0 || rejected.length > 0) {
      const batch: ReadBatch = { rows, rejected }
      const k = lastKey(rows)
      if (k) batch.lastKey = k
      yield batch
    }
    if (savepoint) {
      await client.query('RELEASE SAVEPOINT dbferry_read')
      released = true
    }
  } finally {
    await endCopyRead(session, it, done, savepoint && !released, table.name, description)
  }
}

/**
 * The end of a `COPY … TO STDOUT` read in any case: one stopped early is ended (cancelled, or read out) so the
 * session stays usable, and the savepoint of one that did not finish (`rollback`) is rolled back to.
 */
async function endCopyRead(session: ReaderSession, it: AsyncIterator<Buffer>, done: boolean, rollback: boolean, table: string, description: string): Promise<void> {
  if (!done) {
    const cancelled = await cancelBackend(session)
    try {
      while (!(await it.next()).done) {
        /* drain */
      }
    } catch (error) {
      if (!cancelled) throw wrapError(error, table, description)
    }
  }
  if (rollback) await session.client.query('ROLLBACK TO SAVEPOINT dbferry_read').catch(() => {})
}

/** A query config that returns every column as its text form, rows as arrays. */
function textQuery(text: string, values: unknown[]): pg.QueryArrayConfig {
  return { text, values, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig }
}

function keyParam(v: Value): unknown {
  return typeof v === 'bigint' ? v.toString() : v
}

/** Streams `table` after `after` (its key) in keyset pages: parameters, no COPY. */
async function* readKeyset(session: ReaderSession, table: TableSchema, options: ReadOptions, description: string): AsyncGenerator<ReadBatch> {
  let n = 0
  const { sql, keyIndexes } = selectSql(table, session.schema, { after: options.after! }, () => `$${++n}`)
  const build = makeRowBuilder(table)
  let after = options.after!
  for (;;) {
    let res: pg.QueryArrayResult<string[]>
    try {
      res = await session.client.query(textQuery(`${sql} LIMIT ${Math.max(1, Math.floor(options.batchRows))}`, after.map(keyParam)))
    } catch (error) {
      throw wrapError(error, table.name, description)
    }
    if (res.rows.length === 0) return
    const rows: Row[] = []
    const rejected: RowError[] = []
    let last: Row | undefined
    for (const fields of res.rows) {
      const row = build(fields, rejected)
      if (row) rows.push(row)
      last = row ?? (rejected[rejected.length - 1]!.row as Row)
    }
    const batch: ReadBatch = { rows, rejected }
    if (last) batch.lastKey = keyIndexes.map((i) => last![i]!)
    yield batch
    if (res.rows.length < options.batchRows || !batch.lastKey) return
    after = batch.lastKey
  }
}

/**
 * Streams `table` in batches, in key order: through COPY, or in keyset pages after `options.after` when no
 * `until` bounds the read (a resume); a range with `until` (one chunk of a table) goes through COPY with its
 * bounds as literals. On a session of plain statements (a Kysely instance), through a cursor (see
 * {@link readStatements}). `where` (SQL without parameters, e.g. verify's segment filter from
 * `postgresSql.segmentFilter`) narrows the rows further.
 */
function readTable(session: ReaderSession | StatementSession, table: TableSchema, options: ReadOptions, description: string, where?: string): AsyncGenerator<ReadBatch> {
  if (!('client' in session)) return readStatements(session, table, options, description, where)
  const range = rangeOf(options)
  if (range.after && !range.until && !range.pages && where === undefined) return readKeyset(session, table, options, description)
  return readCopy(session, table, options, description, where)
}

// ---------------------------------------------------------------------------------------------------------
// plain statements (a Kysely instance): a cursor fetched page by page, every value as its text form

/** What the statement reader needs: a runner of plain statements, the schema, and whether a transaction is open. */
export interface StatementSession {
  query: PostgresQueryable['query']
  schema: string
  inTransaction(): boolean
}

/**
 * A column's value as the text its type's output function writes, the form COPY sends and the decoders read,
 * whatever type parsers the caller's driver has: `format('%s', …)` calls the output function (`::text` would
 * not: `true::text` is `true`, `'a '::char(2)::text` drops the space, `inet::text` adds the netmask).
 */
function textExpression(column: ColumnSchema, i: number): string {
  const e = selectExpression(column)
  return `CASE WHEN ${e} IS NULL THEN NULL ELSE format('%s', ${e}) END AS c${i}`
}

let cursors = 0

/**
 * Streams `table` in key order through plain statements: `DECLARE … CURSOR` over the same SELECT as the COPY
 * path (every column as its text form, see {@link textExpression}), then `FETCH` a batch at a time, decoded
 * by the same decoders as COPY text. The cursor lives in the session's transaction (under a savepoint, so a
 * failed read leaves the snapshot usable) or in one of its own. `options.after` and `options.until` bound the
 * key range (as parameters); `where` narrows the rows as in {@link readTable}.
 */
async function* readStatements(session: StatementSession, table: TableSchema, options: ReadOptions, description: string, where?: string): AsyncGenerator<ReadBatch> {
  const params: (string | null)[] = []
  const bound: BoundSql = (value) => {
    params.push(postgresSql.paramText(value))
    return `$${params.length}`
  }
  const { sql, keyIndexes } = selectSql(table, session.schema, rangeOf(options), bound, where, textExpression)
  const build = makeRowBuilder(table)
  const width = table.columns.length
  const cursor = `dbferry_read_${++cursors}`
  const own = !session.inTransaction()
  const maxRows = Math.max(1, Math.floor(options.batchRows))
  // pages follow the byte limit too: the next page shrinks after one past `batchBytes`, grows back after small ones
  let pageRows = maxRows
  let finished = false
  try {
    await session.query(own ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : `SAVEPOINT ${cursor}`)
    await session.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`, params)
    for (;;) {
      if (options.signal?.aborted) throw new AbortError()
      const asked = pageRows
      const page = await session.query<Record<string, string | null>>(`FETCH FORWARD ${asked} FROM ${cursor}`)
      const rows: Row[] = []
      const rejected: RowError[] = []
      let last: Row | undefined
      let bytes = 0
      for (const r of page.rows) {
        const fields: (string | null)[] = new Array(width)
        for (let i = 0; i < width; i++) {
          const f = r[`c${i}`] ?? null
          fields[i] = f
          if (f !== null) bytes += f.length
        }
        const row = build(fields, rejected)
        if (row) rows.push(row)
        last = row ?? (rejected[rejected.length - 1]!.row as Row)
      }
      if (page.rows.length > 0) {
        const batch: ReadBatch = { rows, rejected }
        if (last && keyIndexes.length > 0) batch.lastKey = keyIndexes.map((i) => last![i]!)
        yield batch
      }
      if (page.rows.length < asked) break
      if (bytes > options.batchBytes) pageRows = Math.max(1, Math.floor((asked * options.batchBytes) / bytes))
      else if (bytes < options.batchBytes / 2) pageRows = Math.min(maxRows, asked * 2)
    }
    await session.query(`CLOSE ${cursor}`)
    await session.query(own ? 'COMMIT' : `RELEASE SAVEPOINT ${cursor}`)
    finished = true
  } catch (error) {
    if (error instanceof AbortError || error instanceof SchemaError) throw error
    throw wrapError(error, table.name, description)
  } finally {
    // stopped early or failed: the cursor goes with the savepoint (or the transaction)
    if (!finished) await session.query(own ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${cursor}`).catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------------------
// key bounds: where a table split into key ranges starts and ends

/** The key column of a table whose primary key is one integer column, else undefined. */
function integerKey(table: TableSchema): ColumnSchema | undefined {
  const key = table.primaryKey?.columns ?? []
  const column = key.length === 1 ? table.columns.find((c) => c.name === key[0]) : undefined
  return column && (column.type.kind === 'int16' || column.type.kind === 'int32' || column.type.kind === 'int64') ? column : undefined
}

/**
 * The smallest and largest key of a table whose primary key is one integer column, decoded as the reader
 * decodes that column (a number, or a bigint past 2^53), read in the session's transaction (the snapshot);
 * undefined for any other table or an empty one.
 */
async function keyBounds(client: Pick<PostgresQueryable, 'query'>, schema: string, table: TableSchema, description: string): Promise<{ min: Value; max: Value } | undefined> {
  const column = integerKey(table)
  if (!column) return undefined
  const k = quoteIdent(column.name)
  let r: { rows: { lo: string | null; hi: string | null }[] }
  try {
    r = await client.query<{ lo: string | null; hi: string | null }>(`SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${quoteIdent(schema)}.${quoteIdent(table.name)}`)
  } catch (error) {
    throw wrapError(error, table.name, description)
  }
  const { lo, hi } = r.rows[0] ?? { lo: null, hi: null }
  if (lo === null || hi === null) return undefined
  const decode = decoderFor(column)
  const min = decode(lo)
  const max = decode(hi)
  return min instanceof ConversionFailure || max instanceof ConversionFailure ? undefined : { min, max }
}

/**
 * Up to `count` primary-key tuples that cut a table into `count + 1` parts of about equal row counts, in key
 * order (the reader's ORDER BY, under the key columns' own collations), read in the session's transaction (the
 * snapshot) and decoded as the reader decodes the key: the last key of each part of a sample. The sample is
 * `TABLESAMPLE SYSTEM` (random pages) of about 10 000 rows, at least 200 per part — the whole table when it
 * holds no more. Undefined for a table without a primary key.
 */
async function splitKeys(client: Pick<PostgresQueryable, 'query'>, schema: string, table: TableSchema, count: number, description: string): Promise<Value[][] | undefined> {
  const keyIndexes = table.primaryKey ? keyColumnIndexes({ ...table, uniques: [] }) : []
  if (keyIndexes.length === 0 || count < 1) return undefined
  const columns = keyIndexes.map((i) => table.columns[i]!)
  const keys = columns.map((c) => quoteIdent(c.name)).join(', ')
  const parts = Math.floor(count) + 1
  const estimate = table.rowCountEstimate ?? (await countOf(client, schema, table, description))
  const percent = estimate > 0 ? (100 * Math.max(10_000, 200 * parts)) / estimate : 100
  const sample = percent >= 100 ? '' : ` TABLESAMPLE SYSTEM (${percent.toFixed(6)})`
  // row rn ends part j when rn * parts / n crosses j (integer division); the last row ends the last part
  const sql =
    `SELECT ${columns.map((c, j) => `format('%s', ${selectExpression(c)}) AS k${j}`).join(', ')} FROM (` +
    `SELECT ${keys}, row_number() OVER (ORDER BY ${keys}) AS dbferry_rn, count(*) OVER () AS dbferry_n FROM ${quoteIdent(schema)}.${quoteIdent(table.name)}${sample}` +
    `) s WHERE dbferry_rn < dbferry_n AND (dbferry_rn * ${parts}) / dbferry_n > ((dbferry_rn - 1) * ${parts}) / dbferry_n ORDER BY ${keys}`
  let res: { rows: Record<string, string | null>[] }
  try {
    // each part as its type's output text (what COPY sends), whatever type parsers the client has
    res = await client.query<Record<string, string | null>>(sql)
  } catch (error) {
    throw wrapError(error, table.name, description)
  }
  const decoders = columns.map(decoderFor)
  const out: Value[][] = []
  for (const r of res.rows) {
    const key = columns.map((_, j) => {
      const f = r[`k${j}`] ?? null
      return f === null ? new ConversionFailure('a NULL key part') : decoders[j]!(f)
    })
    // a key the reader would reject cannot bound a range it reads: the neighbouring parts join instead
    if (!key.some((v) => v instanceof ConversionFailure)) out.push(key as Value[])
  }
  return out
}

/** The exact row count of a table, in the session's transaction. */
async function countOf(client: Pick<PostgresQueryable, 'query'>, schema: string, table: TableSchema, description: string): Promise<number> {
  try {
    const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(schema)}.${quoteIdent(table.name)}`)
    return Number(r.rows[0]!.n)
  } catch (error) {
    throw wrapError(error, table.name, description)
  }
}

/**
 * The pages a table is stored in (`pg_relation_size` over the block size), for splitting a table without a
 * primary key by `ctid` ranges; undefined before PostgreSQL 14, which has no TID range scan (each range would
 * read the whole table), and for a table with a primary key (read in key order instead).
 */
async function pageCount(client: Pick<PostgresQueryable, 'query'>, schema: string, table: TableSchema, description: string): Promise<number | undefined> {
  if (table.primaryKey && table.primaryKey.columns.length > 0) return undefined
  let r: { rows: { v: string; pages: string }[] }
  try {
    r = await client.query<{ v: string; pages: string }>(
      `SELECT current_setting('server_version_num') AS v, (pg_relation_size(format('%I.%I', $1::text, $2::text)::regclass) / current_setting('block_size')::bigint)::text AS pages`,
      [schema, table.name],
    )
  } catch (error) {
    throw wrapError(error, table.name, description)
  }
  const row = r.rows[0]
  return row && Number(row.v) >= 140_000 ? Number(row.pages) : undefined
}

/**
 * The next chunk of a `COPY … TO STDOUT` stream. A driver error is wrapped with the table, after `ended()` tells
 * the caller the COPY is over (its cleanup then does not try to read it out).
 */
async function nextCopyChunk(it: AsyncIterator<Buffer>, table: string, description: string, ended: () => void): Promise<IteratorResult<Buffer>> {
  try {
    return await it.next()
  } catch (error) {
    ended()
    throw wrapError(error, table, description)
  }
}

/** PostgreSQL's own CSV: what `COPY … (FORMAT csv)` writes and reads with its defaults. */
const OWN_CSV = { delimiter: ',', quote: '"', escape: '"', null: '', header: false, encoding: 'utf8' } as const

/**
 * A table as PostgreSQL's own CSV text (`COPY (SELECT …) TO STDOUT (FORMAT csv)`, in the session's snapshot,
 * behind a savepoint like `readCopy`), marked `native` so that only a PostgreSQL target loads it: between two
 * PostgreSQL databases the rows then go through without a value decoded or encoded in Node. Both sessions
 * have the same settings (ISO dates, UTC, hex bytea, exact floats), so each value reads back as it was. The
 * COPY starts at the first chunk read and is ended (cancelled, or read out) if the reader stops early, so the
 * session stays usable for the row path. `records()` is the COPY's row count once the bytes are exhausted.
 */
function csvText(session: ReaderSession, table: TableSchema, description: string): CsvText {
  const columns = table.columns.map((c) => c.name)
  const sql = `COPY (SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(session.schema)}.${quoteIdent(table.name)}) TO STDOUT WITH (FORMAT csv)`
  let records = 0
  async function* bytes(): AsyncGenerator<Uint8Array> {
    const client = session.client
    const savepoint = session.inTransaction()
    if (savepoint) await client.query('SAVEPOINT dbferry_read')
    const stream = client.query(copyStreams.to(sql))
    const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    let done = false
    let released = false
    try {
      for (;;) {
        const next = await nextCopyChunk(it, table.name, description, () => (done = true))
        if (next.done) break
        yield next.value
      }
      done = true
      records = (stream as unknown as { rowCount: number }).rowCount
      if (savepoint) {
        await client.query('RELEASE SAVEPOINT dbferry_read')
        released = true
      }
    } finally {
      await endCopyRead(session, it, done, savepoint && !released, table.name, description)
    }
  }
  return { format: OWN_CSV, columns, bytes: bytes(), records: () => records, native: 'postgres' }
}

/**
 * Streams a table in batches, in key order (see `readTable` above). Beyond the contract it carries `keyBounds`
 * (a table's first and last integer key, decoded as the reader decodes it, for splitting it into ranges),
 * `splitKeys` (sampled keys to split any other keyed table at), `pageCount` (pages of a keyless table, split by
 * `ctid` ranges) and
 * `csvText` (the table as PostgreSQL's own CSV, for a PostgreSQL target's pass-through).
 */
export const readPostgresTable: typeof readTable & { keyBounds: typeof keyBounds; splitKeys: typeof splitKeys; pageCount: typeof pageCount; csvText: typeof csvText } = Object.assign(readTable, { keyBounds, splitKeys, pageCount, csvText })
