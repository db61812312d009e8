import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import type { ReadBatch, ReadOptions, SegmentHashes, SegmentRequest } from '../../src/dialect.js'
import { RowError, SchemaError } from '../../src/errors.js'
import { toDbferryError } from './postgres-errors.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import type { ColumnSchema, Row, TableSchema, Value } from '../../src/schema/types.js'
import { ConversionFailure, makeConverter } from '../../src/schema/values.js'
import { rejectedRowCondition, segmentLiterals } from '../../src/verify/engine-sql.js'
import { parseNativeType } from './postgres-types.js'

/**
 * Reading a table: `COPY (SELECT … ORDER BY key) TO STDOUT` in text format, parsed chunk by chunk into
 * canonical rows (the fast path), or keyset pages with bound parameters when resuming after a key.
 * Memory stays bounded: the COPY stream is pulled only as fast as batches are consumed.
 */

/** Decodes one column's text form; returns the value or a reason for rejecting the row. */
type Decoder = (text: string) => Value | ConversionFailure

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/
const TS_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/
const TSTZ_RE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/
// DESIGN §3: int64 is a number up to 2^53 (exactly representable), a bigint past it
const MIN_SAFE = -(2n ** 53n)
const MAX_SAFE = 2n ** 53n

function notCanonical(what: string, text: string): ConversionFailure {
  return new ConversionFailure(`${what} ${JSON.stringify(text)} has no canonical form (infinity, BC or a year past 9999)`)
}

/** A quoted identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Whether a column's native type is a PostgreSQL array (read as JSON). */
function isArray(column: ColumnSchema): boolean {
  return column.nativeDialect === 'postgres' && column.nativeType.endsWith('[]')
}

/** The select-list expression that reads a column in the text form its decoder expects. */
export function selectExpression(column: ColumnSchema): string {
  const q = quoteIdent(column.name)
  if (isArray(column)) return `to_json(${q})::text`
  if (column.nativeDialect === 'postgres' && column.nativeType === 'money') return `${q}::numeric`
  return q
}

/** The decoder of one column, from its logical type (and native type where that decides the text form). */
export function decoderFor(column: ColumnSchema): Decoder {
  const t = column.type
  const native = column.nativeDialect === 'postgres' && column.nativeType !== '' && (parseNativeType(column.nativeType) !== undefined || isArray(column) || column.nativeType === 'money' || t.kind === 'text')
  if (!native) {
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
      return (s) => (s === 'NaN' || s.endsWith('Infinity') ? new ConversionFailure(`numeric ${s} is not a decimal number`) : s)
    case 'float32':
      // real's shortest text form names the stored single-precision value; fround gives exactly that value
      return (s) => Math.fround(+s)
    case 'float64':
      return (s) => +s
    case 'bytes':
      return (s) => Buffer.from(s.slice(2), 'hex')
    case 'date':
      return (s) => (DATE_RE.test(s) ? s : notCanonical('date', s))
    case 'timestamp':
      return (s) => (TS_RE.test(s) ? s : notCanonical('timestamp', s))
    case 'timestamptz':
      return (s) => {
        const m = TSTZ_RE.exec(s)
        if (!m) return notCanonical('timestamptz', s)
        // the session runs in UTC, so the offset is +00; other offsets only come from historic zones
        return m[4] !== undefined ? new ConversionFailure(`timestamptz ${s} has a seconds offset`) : `${m[1]}${m[2]}:${m[3] ?? '00'}`
      }
    default:
      // text, uuid, json, time: the text form is the canonical value
      return (s) => s
  }
}

const ESCAPES: Record<number, string> = { 98: '\b', 102: '\f', 110: '\n', 114: '\r', 116: '\t', 118: '\v', 92: '\\' }

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** Undoes COPY text-format escaping (`\\`, `\n`, `\t`, octal `\ooo`, hex `\xhh`). */
export function unescapeCopy(field: string): string {
  let out = ''
  let last = 0
  for (let i = field.indexOf('\\'); i >= 0 && i < field.length - 1; i = field.indexOf('\\', last)) {
    out += field.slice(last, i)
    const c = field.charCodeAt(i + 1)
    const simple = ESCAPES[c]
    if (simple !== undefined) {
      out += simple
      last = i + 2
    } else if (isOctal(c)) {
      let j = i + 1
      let v = 0
      while (j < field.length && j < i + 4 && isOctal(field.charCodeAt(j))) v = v * 8 + field.charCodeAt(j++) - 48
      out += String.fromCharCode(v & 0xff)
      last = j
    } else if (c === 120 && hexValue(field.charCodeAt(i + 2)) >= 0) {
      let v = hexValue(field.charCodeAt(i + 2))
      let j = i + 3
      const h2 = hexValue(field.charCodeAt(j))
      if (h2 >= 0) {
        v = v * 16 + h2
        j++
      }
      out += String.fromCharCode(v)
      last = j
    } else {
      out += field[i + 1]
      last = i + 2
    }
  }
  return last === 0 ? field : out + field.slice(last)
}

/**
 * Builds the SELECT that reads `table` in key order, with an optional keyset condition, or an optional
 * condition of its own (`where`, SQL without parameters: verify's segment filter).
 */
export function selectSql(table: TableSchema, schema: string, after?: number, where?: string): { sql: string; keyIndexes: number[] } {
  const keyIndexes = table.primaryKey ? keyColumnIndexes({ ...table, uniques: [] }) : []
  const cols = table.columns.map(selectExpression).join(', ')
  const from = `${quoteIdent(schema)}.${quoteIdent(table.name)}`
  const keys = keyIndexes.map((i) => quoteIdent(table.columns[i]!.name))
  let sql = `SELECT ${cols} FROM ${from}`
  if (after !== undefined && keys.length > 0) {
    sql += ` WHERE (${keys.join(', ')}) > (${keys.map((_, i) => `$${i + 1}`).join(', ')})`
  } else if (where !== undefined) {
    sql += ` WHERE ${where}`
  }
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
  return toDbferryError(error, `reading ${table} from ${description}`, { table })
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

/** Streams `table` with COPY TO STDOUT in batches (only the rows matching `where` when given). */
export async function* readCopy(session: ReaderSession, table: TableSchema, options: ReadOptions, description: string, where?: string): AsyncGenerator<ReadBatch> {
  const { sql, keyIndexes } = selectSql(table, session.schema, undefined, where)
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
      let next: IteratorResult<Buffer>
      try {
        next = await it.next()
      } catch (error) {
        done = true
        throw wrapError(error, table.name, description)
      }
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
    if (!done) {
      // stopped early: end the COPY (cancel it, or read it out) so the session stays usable
      const cancelled = await cancelBackend(session)
      try {
        while (!(await it.next()).done) {
          /* drain */
        }
      } catch (error) {
        if (!cancelled) throw wrapError(error, table.name, description)
      }
    }
    if (savepoint && !released) await client.query('ROLLBACK TO SAVEPOINT dbferry_read').catch(() => {})
  }
}

/** A query config that returns every column as its text form, rows as arrays. */
function textQuery(text: string, values: unknown[]): pg.QueryArrayConfig {
  return { text, values, rowMode: 'array', types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig }
}

function keyParam(v: Value): unknown {
  return typeof v === 'bigint' ? v.toString() : v
}

/** Streams `table` after `after` (its key) in keyset pages: parameters, no COPY. */
export async function* readKeyset(session: ReaderSession, table: TableSchema, options: ReadOptions, description: string): AsyncGenerator<ReadBatch> {
  const { sql, keyIndexes } = selectSql(table, session.schema, 1)
  if (keyIndexes.length === 0) throw new SchemaError(`cannot resume ${table.name}: it has no primary key`, { table: table.name })
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
 * A condition that holds for every value of a column its decoder could reject (numeric NaN and infinities,
 * dates and timestamps outside years 1–9999), `false` when it rejects none, or undefined when its values
 * are not decoded from their own text form (a logical type override): then its rows cannot be hashed by
 * the server in the form the reader would see them.
 */
function rejectCondition(column: ColumnSchema): string | undefined {
  const t = column.type
  const native = column.nativeDialect === 'postgres' && column.nativeType !== '' && (parseNativeType(column.nativeType) !== undefined || isArray(column) || column.nativeType === 'money' || t.kind === 'text')
  if (!native) return undefined
  const e = selectExpression(column)
  switch (t.kind) {
    case 'decimal':
      // numeric infinities exist from PostgreSQL 14; comparing their text works on every version
      return `(${e})::text IN ('NaN', 'Infinity', '-Infinity')`
    case 'date':
      return `NOT (${e} BETWEEN '0001-01-01' AND '9999-12-31')`
    case 'timestamp':
    case 'timestamptz':
      return `NOT (${e} >= '0001-01-01' AND ${e} < '10000-01-01')`
    default:
      return 'false'
  }
}

/**
 * A 64-bit hash of a row's text as the server renders it: the record form of the columns as the reader
 * selects them (NULL and the empty string, quotes and commas all distinct), hashed by `hashtextextended`
 * over its bytes (`COLLATE "C"`: no collation folds it). That hash is PostgreSQL's own and may change
 * between versions and platforms, which is why the renderer names both. Measured 1.6 to 2.2 times faster
 * than md5 and its hex digits.
 */
function rowHashSql(table: TableSchema, columns: readonly number[]): string {
  return `hashtextextended(ROW(${columns.map((i) => selectExpression(table.columns[i]!)).join(', ')})::text COLLATE "C", 0)`
}

/**
 * A row's segment: the low bits of the hash of its key (seeded apart from the row hash), or of its row hash
 * in a table without a key. By key, a changed row stays in one segment on both sides, and the second pass
 * finds its segment's rows by hashing only their keys (measured 2.7 times cheaper than their whole rows).
 */
function segmentSql(table: TableSchema, request: SegmentRequest, rowHash: string): string {
  const key = request.key ?? []
  const hash = key.length > 0 ? `hashtextextended(ROW(${key.map((i) => selectExpression(table.columns[i]!)).join(', ')})::text COLLATE "C", 1)` : rowHash
  return `(${hash} & ${request.segments - 1})::int`
}

/**
 * The query of verify's engine-side first pass: per segment, the row count, the sums of the high and the
 * low 32 bits of each row's hash (as numeric: order-independent and exact), and the count of rows the reader
 * would reject. Undefined when a column's values are not read from their own text. `OFFSET 0` keeps the
 * planner from inlining the hash into the grouping and each aggregate, which computed it again for each
 * (2.4 times slower).
 */
export function segmentHashSql(table: TableSchema, schema: string, request: SegmentRequest): string | undefined {
  const bad = rejectedRowCondition(table, request, rejectCondition)
  if (bad === undefined) return undefined
  const from = `${quoteIdent(schema)}.${quoteIdent(table.name)}`
  // a key's segment is computed from its columns, a keyless row's from its hash once that is computed
  const keyed = (request.key ?? []).length > 0
  return `SELECT seg, count(*)::text || ':' || sum(h >> 32)::text || ':' || sum(h & 4294967295)::text AS sums, count(*) FILTER (WHERE bad) AS bad
FROM (SELECT ${keyed ? 'kseg' : segmentSql(table, request, 'h')} AS seg, h, bad
      FROM (SELECT ${rowHashSql(table, request.columns)} AS h, ${keyed ? segmentSql(table, request, '') : 'NULL'} AS kseg, coalesce(${bad}, false) AS bad
            FROM ${from} OFFSET 0) r) s
GROUP BY seg`
}

/** Runs {@link segmentHashSql} on the session: the server's per-segment sums, or undefined (see there). */
export async function segmentHashes(session: ReaderSession, table: TableSchema, request: SegmentRequest, description: string): Promise<SegmentHashes | undefined> {
  const sql = segmentHashSql(table, session.schema, request)
  if (sql === undefined) return undefined
  try {
    // every setting that changes a value's text is part of the rendering
    const settings = await session.client.query<{ r: string }>(
      `SELECT concat_ws(' ', version(), current_setting('server_encoding'), current_setting('DateStyle'),
        current_setting('TimeZone'), current_setting('IntervalStyle'), current_setting('bytea_output'), current_setting('extra_float_digits')) AS r`,
    )
    const res = await session.client.query<{ seg: number; sums: string; bad: string }>(sql)
    const out: SegmentHashes = { renderer: settings.rows[0]!.r, sums: new Map(), suspect: new Set(), rows: 0 }
    for (const r of res.rows) {
      out.sums.set(r.seg, r.sums)
      if (Number(r.bad) > 0) out.suspect.add(r.seg)
      out.rows += Number(r.sums.slice(0, r.sums.indexOf(':')))
    }
    return out
  } catch (error) {
    throw wrapError(error, table.name, description)
  }
}

/** Streams the rows of the `wanted` segments of a {@link segmentHashSql} request, through COPY like `readCopy`. */
export function readSegments(session: ReaderSession, table: TableSchema, request: SegmentRequest, wanted: readonly number[], options: ReadOptions, description: string): AsyncGenerator<ReadBatch> {
  const list = segmentLiterals(request, wanted)
  return readCopy(session, table, options, description, `${segmentSql(table, request, rowHashSql(table, request.columns))} = ANY('{${list.join(',')}}'::int[])`)
}
