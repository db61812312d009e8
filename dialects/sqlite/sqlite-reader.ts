import type BetterSqlite3 from 'better-sqlite3'
import { isUtf8 } from 'node:buffer'
import iconv from 'iconv-lite'
import type { ConnectOptions, ReadBatch, ReadOptions, ScanOptions } from '../../src/dialect.js'
import { AbortError, RowError, SchemaError } from '../../src/errors.js'
import { civilFromDays, daysFromCivil } from '../../src/schema/civil-days.js'
import { valueToJson } from '../../src/schema/rows.js'
import type { ColumnSchema, LogicalType, Row, TableSchema, Value } from '../../src/schema/types.js'
import { canonicalTimestampTz, ConversionFailure, INT_RANGES, makeConverter, type Converter } from '../../src/schema/values.js'
import { sqliteSql } from './sqlite-sql.js'

const q = sqliteSql.quoteIdentifier

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MAX_SAFE_NUMBER = Number.MAX_SAFE_INTEGER
const REPLACEMENT = '\uFFFD'
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
/**
 * Rows in the first batch of a table, before the row size is known; later batches grow at most eightfold, so
 * a table of huge blobs never has many of them in memory.
 */
const PROBE_ROWS = 8
/**
 * Estimated JS heap per batch, whatever `batchBytes` allows. Batches that fit V8's young generation die
 * young; larger ones are promoted and pile up until a full collection: measured on a 1M-row, 7-column copy,
 * 10 000-row batches peaked at 260 MB RSS, 5 000-row batches at 166 MB, with the same speed. Since batches are
 * read in pages and integers as numbers, 2 MiB (about 6 000 rows of that table): SQLite → PostgreSQL 2.85 s
 * and 150 MB against 2.93 s and 140 MB with 1 MiB; SQLite → SQLite peaks at 164 MB.
 */
const HEAP_BUDGET = 2 << 20
/**
 * Rows per statement within a batch. Between statements the event loop runs, so a writer streams the previous
 * batch to its server while this one is read. SQLite → PostgreSQL, 1M rows, 1 MiB batches: 3.75 s with one
 * statement per batch, 2.93 s with 256-row statements (with 2 MiB batches, 2.9 s either way).
 */
const PAGE_ROWS = 256

/**
 * Per-column converters for values read from SQLite. Each one answers the common case (the value already
 * has the storage class and shape its column expects) without a regex or an allocation, and hands anything
 * else to the core's {@link makeConverter}, which decides. The result is the same either way.
 */

const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48
  return c >= 0 && c <= 9 ? c : -100
}

function two(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1)
}

/** `YYYY-MM-DD` with a real calendar date, checked by character codes. */
function isCanonicalDate(s: string): boolean {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false
  const y = two(s, 0) * 100 + two(s, 2)
  const m = two(s, 5)
  const d = two(s, 8)
  if (y < 0 || m < 1 || m > 12 || d < 1) return false
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  return d <= (m === 2 && leap ? 29 : DAYS[m]!)
}

/** `HH:MM:SS` from offset `at`. */
function isCanonicalTime(s: string, at: number): boolean {
  if (s.charCodeAt(at + 2) !== 58 || s.charCodeAt(at + 5) !== 58) return false
  const h = two(s, at)
  const mi = two(s, at + 3)
  const se = two(s, at + 6)
  return h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && se >= 0 && se <= 59
}

/** What a number in a date or timestamp column means (`ConnectOptions.sqliteNumericTimestamps`). */
type NumericTimestamps = NonNullable<ConnectOptions['sqliteNumericTimestamps']>

const US_PER_DAY = 86_400_000_000n
/** Microseconds from 0000-01-01 to 1970-01-01, and to the end of 9999: the range a canonical timestamp holds. */
const MIN_US = -62_167_219_200_000_000n
const MAX_US = 253_402_300_799_999_999n
/** The Julian day of 1970-01-01 00:00 UTC, in milliseconds. */
const JD_EPOCH_MS = 210_866_760_000_000

/** Whole units and the rest in microseconds, exactly for integers and to the microsecond for reals. */
function scaled(v: number | bigint, usPerUnit: bigint): bigint {
  if (typeof v === 'bigint') return v * usPerUnit
  const whole = Math.floor(v)
  return BigInt(whole) * usPerUnit + BigInt(Math.round((v - whole) * Number(usPerUnit)))
}

const p2 = (n: number) => String(n).padStart(2, '0')

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` for microseconds since 1970-01-01 UTC (a proleptic Gregorian calendar). */
function formatMicros(us: bigint): string {
  let days = us / US_PER_DAY
  let rest = us % US_PER_DAY
  if (rest < 0n) {
    rest += US_PER_DAY
    days -= 1n
  }
  const [y, m, d] = civilFromDays(Number(days))
  const t = Number(rest)
  const secs = Math.floor(t / 1e6)
  const frac = t % 1e6
  const time = `${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}:${p2(secs % 60)}`
  const f = frac === 0 ? '' : `.${String(frac).padStart(6, '0').replace(/0+$/, '')}`
  return `${String(y).padStart(4, '0')}-${p2(m)}-${p2(d)} ${time}${f}`
}

/**
 * The UTC timestamp a number means under `policy`: Unix seconds or milliseconds (integers exact, reals to the
 * microsecond), or a Julian day number (to the millisecond, as SQLite's own date functions read it).
 */
function numberAsTimestamp(v: number | bigint, policy: Exclude<NumericTimestamps, 'reject'>): string | ConversionFailure {
  if (typeof v === 'number' && !Number.isFinite(v)) return new ConversionFailure(`${v} (a number) is not a timestamp`)
  const us = policy === 'unixepoch' ? scaled(v, 1_000_000n) : policy === 'unixepoch-ms' ? scaled(v, 1_000n) : BigInt(Math.round(Number(v) * 86_400_000) - JD_EPOCH_MS) * 1_000n
  if (us < MIN_US || us > MAX_US) return new ConversionFailure(`${v} (a number, read as ${policy}) is outside the years 0000 to 9999`, 'out_of_range')
  return formatMicros(us)
}

/**
 * A timestamp with a UTC offset as the same instant in UTC, without one (`2020-01-01 05:30:00+05:30` →
 * `2020-01-01 00:00:00`); undefined when `v` is not a timestamp with an offset, or its instant falls outside
 * the years 0000 to 9999.
 */
function offsetToUtc(v: string): string | undefined {
  // `YYYY-MM-DD HH:MM:SS[.ffffff]±HH:MM`
  const tz = canonicalTimestampTz(v)
  if (tz === undefined) return undefined
  const n = tz.length
  const num = (from: number, to: number) => Number(tz.slice(from, to))
  const offset = (tz.charCodeAt(n - 6) === 45 ? -1 : 1) * (num(n - 5, n - 3) * 60 + num(n - 2, n))
  const seconds = num(11, 13) * 3600 + num(14, 16) * 60 + num(17, 19) - offset * 60
  const frac = n - 6 > 19 ? Number(tz.slice(20, n - 6).padEnd(6, '0')) : 0
  const us = BigInt(daysFromCivil(num(0, 4), num(5, 7), num(8, 10))) * US_PER_DAY + BigInt(seconds) * 1_000_000n + BigInt(frac)
  return us < MIN_US || us > MAX_US ? undefined : formatMicros(us)
}

/**
 * The converter of a date or timestamp column for numbers: under `reject` the core's failure with a hint to
 * the option; otherwise the number read as `policy` and then converted as its text would be (a date must be
 * at midnight, a timestamptz gets `+00:00`).
 */
function numericTemporal(type: LogicalType, policy: NumericTimestamps, slow: Converter): (v: number | bigint) => Value | ConversionFailure {
  const name = type.kind === 'date' ? 'DATE' : 'DATETIME'
  if (policy === 'reject') {
    return (v) => {
      const out = slow(v)
      return out instanceof ConversionFailure ? new ConversionFailure(`${out.reason}; numbers in a ${name} column are read with numericTimestamps=unixepoch, unixepoch-ms or julianday`, out.kind) : out
    }
  }
  return (v) => {
    const ts = numberAsTimestamp(v, policy)
    if (ts instanceof ConversionFailure) return ts
    if (type.kind === 'date' && !ts.endsWith(' 00:00:00')) return new ConversionFailure(`${v} (a number, read as ${policy}) is ${ts} UTC, not a date: it has a time of day`)
    const out = slow(ts)
    return out instanceof ConversionFailure ? new ConversionFailure(`${v} (a number, read as ${policy} ${ts}): ${out.reason}`, out.kind) : out
  }
}

/** The canonical converter for a column read from SQLite. */
function sqliteConverter(c: ColumnSchema, numericTimestamps: NumericTimestamps): Converter {
  const type = c.type
  if (type.kind === 'bytes' && c.nativeType.trim() === '') return untypedConverter()
  // SQLite binds neither a declared scale nor a declared precision: values are read as stored, and the
  // target's scale and fractional digits are applied where rows are fitted to it (rejected, or counted as fixes)
  const slow = makeConverter(type, { decimalPlaces: 'keep', fraction: 'keep' })
  if (type.kind === 'date' || type.kind === 'timestamp' || type.kind === 'timestamptz') {
    const text = temporalConverter(type, slow)
    const numeric = numericTemporal(type, numericTimestamps, slow)
    return (v) => (typeof v === 'number' || typeof v === 'bigint' ? numeric(v) : text(v))
  }
  switch (type.kind) {
    case 'text':
      return (v) => (typeof v === 'string' ? v : slow(v))
    case 'float32':
    case 'float64':
      return (v) => (typeof v === 'number' ? v : slow(v))
    case 'int16':
    case 'int32':
    case 'int64': {
      const [lo, hi] = INT_RANGES[`${type.unsigned ? 'u' : ''}${type.kind}` as keyof typeof INT_RANGES]
      const loN = Number(lo)
      const hiN = Number(hi)
      // past 2^53 the bounds are not exact as doubles (2^63 - 1 is 2^63): the core compares those as bigints
      return (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= loN && v <= hiN ? v : slow(v))
    }
    case 'boolean':
      return (v) => (v === 0 ? false : v === 1 ? true : slow(v))
    case 'decimal':
      return decimalConverter(type, slow)
    default:
      return slow
  }
}

/** Text in a date or timestamp column: the canonical shapes without a regex, anything else by the core. */
function temporalConverter(type: LogicalType, slow: Converter): Converter {
  switch (type.kind) {
    case 'timestamp':
      // a timestamp without fraction is already canonical when its shape and values are
      return (v) => (typeof v === 'string' && v.length === 19 && v.charCodeAt(10) === 32 && isCanonicalDate(v) && isCanonicalTime(v, 11) ? v : slow(v))
    case 'date':
      return (v) => (typeof v === 'string' && v.length === 10 && isCanonicalDate(v) ? v : slow(v))
    default:
      return slow
  }
}

/**
 * Decimals stored as REAL or INTEGER (NUMERIC affinity): JS prints them canonically unless in exponent form.
 * Only the digits before the point are checked here: places past the scale are kept, and the target's scale
 * decides (fit-rows.ts: a `truncation` reject, or a counted rounding under `decimals: 'round'`).
 */
function decimalConverter(type: Extract<LogicalType, { kind: 'decimal' }>, slow: Converter): Converter {
  const maxInt = type.precision === undefined ? Infinity : type.precision - (type.scale ?? 0)
  return (v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return slow(v)
    const s = String(v)
    if (s.includes('e')) return slow(v)
    const neg = s.charCodeAt(0) === 45 ? 1 : 0
    const dot = s.indexOf('.')
    let intDigits = (dot < 0 ? s.length : dot) - neg
    if (intDigits === 1 && s.charCodeAt(neg) === 48) intDigits = 0
    return intDigits > maxInt ? slow(v) : s
  }
}

/**
 * A column with no declared type has BLOB affinity and holds anything: blobs pass as they are, text becomes
 * its UTF-8 bytes and numbers the bytes of their decimal text (see sqlite-types.ts).
 */
function untypedConverter(): Converter {
  return (v) => {
    if (v === null || v === undefined) return null
    if (v instanceof Uint8Array) return v
    if (typeof v === 'string') return Buffer.from(v, 'utf8')
    if (typeof v === 'number' || typeof v === 'bigint') return Buffer.from(String(v), 'utf8')
    return new ConversionFailure(`a ${typeof v} is not bytes`)
  }
}

/** Options for {@link readSqliteTable}. */
export interface SqliteReadContext {
  db: BetterSqlite3.Database
  /** iconv-lite encoding for text that is not valid UTF-8; undefined rejects such rows. */
  fallbackEncoding?: string
  /** What a number in a date or timestamp column means (`ConnectOptions.sqliteNumericTimestamps`). Default `reject`. */
  numericTimestamps?: 'reject' | 'unixepoch' | 'unixepoch-ms' | 'julianday'
}

/** How rows are ordered and found again: the rowid (under a name no column shadows) or the primary key. */
interface KeyPlan {
  /** SQL expressions selected after the columns: the rowid, or per key part its text bytes and its value. */
  select: string[]
  /** `WHERE` condition for "after the last key", with its parameters built by `params`. */
  after: string
  /** `WHERE` condition for "at or before this key" (a range's `until`), with its parameters built by `params`. */
  until: string
  /** `WHERE` condition for "this key" (to fetch one row's raw bytes). */
  equals: string
  orderBy: string
  /** Parameters for `after`/`equals` from the raw key values selected. */
  params(raw: readonly unknown[]): unknown[]
  /** The key object for errors. */
  describe(raw: readonly unknown[], row: readonly unknown[]): Record<string, unknown>
  /** Column indexes of the key parts in the row (primary-key order), or undefined for the rowid. */
  columns?: number[]
}

/** A bigint in the safe range as a number. */
function narrow(v: unknown): unknown {
  return typeof v === 'bigint' && v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v
}

/** The name that reaches a table's rowid (`rowid`, `_rowid_` or `oid`, whichever no column shadows). */
function rowidName(table: TableSchema): string | undefined {
  const taken = new Set(table.columns.map((c) => c.name.toLowerCase()))
  return ['rowid', '_rowid_', 'oid'].find((n) => !taken.has(n))
}

function keyPlan(table: TableSchema): KeyPlan {
  const pkIdx = (table.primaryKey?.columns ?? []).map((n) => table.columns.findIndex((c) => c.name === n))
  const describeByPk = (row: readonly unknown[]) => {
    const o: Record<string, unknown> = {}
    for (const i of pkIdx) o[table.columns[i]!.name] = valueToJson(row[i])
    return o
  }
  // introspected tables say whether they have a rowid; a hand-made schema without a primary key must have one
  const rid = table.rowid === true || (table.rowid === undefined && !table.primaryKey) ? rowidName(table) : undefined
  if (rid !== undefined) {
    return {
      select: [rid],
      after: `${rid} > ?`,
      until: `${rid} <= ?`,
      equals: `${rid} = ?`,
      orderBy: rid,
      // a rowid read as a number (see readSqliteTable) binds as the integer it is
      params: (raw) => [typeof raw[0] === 'number' ? BigInt(raw[0]) : raw[0]],
      describe: (raw, row) => (pkIdx.length > 0 && !pkIdx.includes(-1) ? describeByPk(row) : { rowid: valueToJson(narrow(raw[0])) }),
    }
  }
  if (pkIdx.length === 0 || pkIdx.includes(-1)) {
    throw new SchemaError(`table ${table.name} has neither a usable rowid nor a primary key to read it in order`, { table: table.name })
  }
  // WITHOUT ROWID: keyset over the primary key. Text keys travel as their raw bytes plus a flag, and are cast
  // back to TEXT in SQL, so a key holding invalid UTF-8 is compared byte for byte, not as U+FFFD.
  const cols = pkIdx.map((i) => q(table.columns[i]!.name))
  // per key part: its raw bytes when it is text, and the value itself as stored
  const select = cols.flatMap((c) => [`CASE WHEN typeof(${c}) = 'text' THEN CAST(${c} AS BLOB) END`, c])
  const param = () => 'iif(?, CAST(? AS TEXT), ?)'
  const list = (xs: string[]) => (xs.length === 1 ? xs[0]! : `(${xs.join(', ')})`)
  return {
    select,
    after: `${list(cols)} > ${list(cols.map(param))}`,
    until: `${list(cols)} <= ${list(cols.map(param))}`,
    equals: `${list(cols)} = ${list(cols.map(param))}`,
    orderBy: cols.join(', '),
    columns: pkIdx,
    params: (raw) => {
      const out: unknown[] = []
      for (let j = 0; j < raw.length; j += 2) {
        const bytes = raw[j]
        if (bytes instanceof Uint8Array) out.push(1, bytes, null)
        else out.push(0, null, raw[j + 1])
      }
      return out
    },
    describe: (_raw, row) => describeByPk(row),
  }
}

/** What {@link RowConverter.convert} returns for a row whose text needs its stored bytes, which it may not fetch. */
const NEEDS_BYTES = Symbol('needs bytes')
/** What {@link RowConverter.convert} returns, when integers were read as numbers, for a number past 2^53 - 1. */
const INEXACT = Symbol('inexact')

/**
 * Converts raw rows (the table's columns, then the key expressions of its {@link KeyPlan}) to canonical values
 * in place, and keeps the heap accounting a batch is sized by. One per read or scan of a table: the reader
 * and the scan convert every value the same way.
 */
class RowConverter {
  readonly n: number
  /** JS heap taken by the rows converted since the last {@link resetSize}, and the bytes of their blobs. */
  bytes = 0
  blobBytes = 0
  fixed: Record<string, number> | undefined
  /** The repairs counted in {@link fixed} that the journal lists one by one (kept only when `journal` is set). */
  fixes: NonNullable<ReadBatch['fixes']> | undefined
  /**
   * Whether the rows were read with integers as numbers: an integer past 2^53 - 1 then arrives rounded, and
   * {@link convert} answers {@link INEXACT} for any number that large, so the rows are read again as bigints.
   */
  numbers = false
  readonly #converters: ReturnType<typeof sqliteConverter>[]
  readonly #kinds: string[]
  /** Per column: a `timestamp`, where a value with an offset beyond the introspector's sample is read in UTC. */
  readonly #plainTimestamp: boolean[]
  readonly #rawFetch = new Map<number, BetterSqlite3.Statement>()

  constructor(
    readonly ctx: SqliteReadContext,
    readonly table: TableSchema,
    readonly plan: KeyPlan,
    /** Whether each fix is kept in {@link fixes} for the journal (a read), or only counted (a scan). */
    readonly journal: boolean,
  ) {
    this.n = table.columns.length
    this.#converters = table.columns.map((c) => sqliteConverter(c, ctx.numericTimestamps ?? 'reject'))
    this.#kinds = table.columns.map((c) => c.type.kind)
    this.#plainTimestamp = table.columns.map((c) => c.type.kind === 'timestamp')
  }

  /**
   * Counts the values of a converted row that were read from an offset to UTC (`pending`: pairs of column
   * index and stored text), and keeps each for the journal.
   */
  #offsetFixed(row: unknown[], pending: unknown[]): void {
    this.fixed ??= {}
    for (let j = 0; j < pending.length; j += 2) {
      const i = pending[j] as number
      const column = this.table.columns[i]!.name
      this.fixed[column] = (this.fixed[column] ?? 0) + 1
      if (this.journal) {
        const message = `${JSON.stringify(pending[j + 1])} has a UTC offset in a timestamp column: read as ${String(row[i])} (UTC)`
        ;(this.fixes ??= []).push({ column, kind: 'offset_to_utc', message, row: row as Row })
      }
    }
  }

  resetSize(): void {
    this.bytes = 0
    this.blobBytes = 0
  }

  /**
   * The stored bytes of a column of the row being converted, when the reader selected them with the row (a
   * read through plain statements, which cannot fetch them while converting); absent: fetched by key.
   */
  storedBytes: ((col: number) => Buffer | undefined) | undefined

  #fetchRaw(col: number, keyRaw: readonly unknown[]): Buffer | undefined {
    if (this.storedBytes) return this.storedBytes(col)
    let st = this.#rawFetch.get(col)
    if (!st) {
      const { table, plan } = this
      st = this.ctx.db.prepare(`SELECT CAST(${q(table.columns[col]!.name)} AS BLOB) FROM ${q(table.name)} WHERE ${plan.equals}`).pluck().safeIntegers(true)
      this.#rawFetch.set(col, st)
    }
    return (st.get(...this.plan.params(keyRaw)) as Buffer | null) ?? undefined
  }

  /**
   * Converts `raw[0..n)` in place. Returns the row's error when a value does not convert (the other values
   * are still converted, so the journal shows the row), or {@link NEEDS_BYTES} when `fetch` is false and a
   * text value must be checked against its stored bytes (better-sqlite3 turns invalid UTF-8 into U+FFFD).
   */
  convert(raw: unknown[], fetch: boolean): RowError | typeof NEEDS_BYTES | typeof INEXACT | undefined {
    const { n, table } = this
    const converters = this.#converters
    let badCol = -1
    let badKind: 'type_conversion' | 'out_of_range' | 'invalid_encoding' = 'type_conversion'
    let badReason = ''
    let badValue: unknown
    let offsets: unknown[] | undefined
    for (let i = 0; i < n; i++) {
      let v = raw[i]
      if (v === null) continue
      if (typeof v === 'bigint') {
        this.bytes += 16
        if (v >= MIN_SAFE && v <= MAX_SAFE) v = Number(v)
      } else if (typeof v === 'string') {
        this.bytes += 16 + v.length
        // better-sqlite3 turns invalid UTF-8 into U+FFFD: look at the stored bytes before trusting the text
        if (v.includes(REPLACEMENT)) {
          if (!fetch) return NEEDS_BYTES
          const bytesRaw = this.#fetchRaw(i, raw.slice(n))
          if (bytesRaw !== undefined) {
            if (this.#kinds[i] === 'bytes') v = bytesRaw
            else {
              try {
                strictUtf8.decode(bytesRaw)
              } catch {
                const fallback = this.ctx.fallbackEncoding
                if (fallback === undefined) {
                  if (badCol < 0) {
                    badCol = i
                    badKind = 'invalid_encoding'
                    badReason = 'text is not valid UTF-8 and no fallback encoding is set'
                    badValue = bytesRaw
                  }
                  raw[i] = bytesRaw
                  continue
                }
                v = iconv.decode(bytesRaw, fallback)
                this.fixed ??= {}
                this.fixed[table.columns[i]!.name] = (this.fixed[table.columns[i]!.name] ?? 0) + 1
              }
            }
          }
        }
      } else if (typeof v === 'number') {
        this.bytes += 16
        // a rounded integer is at least 2^53 in magnitude (a real that large is refused too, and read again)
        if (this.numbers && (v > MAX_SAFE_NUMBER || v < -MAX_SAFE_NUMBER)) return INEXACT
      } else if (v instanceof Uint8Array) {
        this.bytes += 96
        this.blobBytes += v.byteLength
      } else this.bytes += 16
      const out = converters[i]!(v)
      if (out instanceof ConversionFailure) {
        // the column was decided `timestamp` from a sample of its rows (sqlite-introspector.ts): an offset
        // further in is read as its instant in UTC, a fix, rather than rejected
        const utc = this.#plainTimestamp[i] && typeof v === 'string' ? offsetToUtc(v) : undefined
        const plain = utc === undefined ? undefined : converters[i]!(utc)
        if (typeof plain === 'string') {
          raw[i] = plain
          ;(offsets ??= []).push(i, v)
          continue
        }
        if (badCol < 0) {
          badCol = i
          badKind = out.kind === 'truncation' ? 'type_conversion' : out.kind
          badReason = out.reason
          badValue = raw[i]
        }
        raw[i] = v
        continue
      }
      raw[i] = out
    }
    if (badCol >= 0) return rowError(table, this.plan, raw, badCol, badKind, badReason, badValue)
    if (offsets !== undefined) this.#offsetFixed(raw, offsets)
    return undefined
  }
}

/** The select list every read of a table uses: its columns, then the key expressions of its plan. */
function selectHead(table: TableSchema, plan: KeyPlan): string {
  const cols = table.columns.map((c) => q(c.name)).join(', ')
  return `SELECT ${cols}${table.columns.length > 0 ? ', ' : ''}${plan.select.join(', ')} FROM ${q(table.name)}`
}

/**
 * Streams one table in rowid (or, for WITHOUT ROWID tables, primary-key) order by keyset pagination: each
 * batch is one `SELECT … WHERE key > ? ORDER BY key LIMIT n` run to completion, so no statement stays open
 * between batches and reads of several tables can interleave; `options.until` (a key in the same order: the
 * rowid, or the primary key) adds `AND key <= ?`. Integers come as numbers, or as bigints past 2^53 - 1 (a
 * batch that holds one is read again with bigints); each value is checked against its column's logical
 * type, and a row with a value that does not convert is returned in `rejected` while the rest of the batch
 * moves on.
 */
async function* readTable(ctx: SqliteReadContext, table: TableSchema, options: ReadOptions): AsyncGenerator<ReadBatch> {
  const { db } = ctx
  const plan = keyPlan(table)
  const n = table.columns.length
  const head = selectHead(table, plan)
  // a range's end: one more condition, its parameters bound before the LIMIT's
  const untilParams = untilParamsOf(options, plan, table)
  const bounded = untilParams.length > 0
  const firstSql = `${head}${bounded ? ` WHERE ${plan.until}` : ''} ORDER BY ${plan.orderBy} LIMIT ?`
  const nextSql = `${head} WHERE ${plan.after}${bounded ? ` AND ${plan.until}` : ''} ORDER BY ${plan.orderBy} LIMIT ?`
  const exactSt = { first: db.prepare(firstSql).raw(true).safeIntegers(true), next: db.prepare(nextSql).raw(true).safeIntegers(true) }
  // integers as numbers first: a bigint per integer, narrowed again, costs a tenth of the copy's time. A page
  // holding any number past 2^53 - 1 (where an integer may have been rounded) is read again with bigints.
  // Only for tables read by rowid: a primary-key part read as a number could not be bound back as the
  // integer or the real it was.
  const fastSt = plan.columns ? undefined : { first: db.prepare(firstSql).raw(true).safeIntegers(false), next: db.prepare(nextSql).raw(true).safeIntegers(false) }
  const conv = new RowConverter(ctx, table, plan, true)

  let lastRaw: unknown[] | undefined = options.after ? keyFromCanonical(options.after, plan, table) : undefined
  let limit = Math.max(1, Math.min(options.batchRows, PROBE_ROWS))
  let rows: Row[] = []
  let rejected: RowError[] = []
  /**
   * Reads and converts up to `want` rows after `lastRaw` into `rows`/`rejected`; returns how many it read.
   * Integers come as numbers first; a page holding a number past 2^53 - 1 is read again with bigints.
   */
  const readPage = (want: number): number => {
    const rowsAt = rows.length
    const rejectedAt = rejected.length
    const bytesAt = conv.bytes
    const blobBytesAt = conv.blobBytes
    const fixedAt = conv.fixed && { ...conv.fixed }
    const fixesAt = conv.fixes?.length
    for (let exact = fastSt === undefined; ; exact = true) {
      const st = exact ? exactSt : fastSt!
      const raws = (lastRaw === undefined ? st.first.all(...untilParams, want) : st.next.all(...plan.params(lastRaw), ...untilParams, want)) as unknown[][]
      conv.numbers = !exact
      const count = raws.length
      let keyRaw: unknown[] | undefined
      let r = 0
      for (; r < count; r++) {
        const raw = raws[r]!
        // the rowid first: with a rounded one, even fetching the row's stored bytes would miss
        const rowid = raw[n]
        if (!exact && typeof rowid === 'number' && (rowid > MAX_SAFE_NUMBER || rowid < -MAX_SAFE_NUMBER)) break
        const error = conv.convert(raw, true)
        if (error === INEXACT) break
        if (error) rejected.push(error as RowError)
        if (r === count - 1) keyRaw = raw.slice(n)
        raw.length = n
        if (!error) rows.push(raw as Value[])
      }
      if (r === count) {
        if (count > 0) {
          lastRaw = keyRaw!
          lastRow = raws[count - 1]!
        }
        return count
      }
      rows.length = rowsAt
      rejected.length = rejectedAt
      conv.bytes = bytesAt
      conv.blobBytes = blobBytesAt
      conv.fixed = fixedAt
      if (fixesAt === undefined) conv.fixes = undefined
      else conv.fixes!.length = fixesAt
    }
  }
  let lastRow: unknown[] | undefined
  for (;;) {
    // stopping quietly would look like the end of the table
    if (options.signal?.aborted) throw new AbortError()
    rows = []
    rejected = []
    conv.resetSize()
    conv.fixed = undefined
    conv.fixes = undefined
    let count = 0
    let full = true
    while (count < limit) {
      // between pages, the event loop runs: the writer streams the previous batch to its server meanwhile
      if (count > 0) await new Promise<void>((resolve) => setImmediate(resolve))
      const want = Math.min(limit - count, PAGE_ROWS)
      const got = readPage(want)
      count += got
      if (got < want) {
        full = false
        break
      }
    }
    if (count === 0) return
    // the row array itself
    const bytes = conv.bytes + count * (32 + 8 * n)
    const batch: ReadBatch = { rows, rejected, lastKey: lastKeyOf(plan, lastRaw!, lastRow!) }
    if (conv.fixed) batch.fixed = conv.fixed
    if (conv.fixes) batch.fixes = conv.fixes
    // size the next batch so it stays near batchBytes
    const heapPerRow = Math.max(1, bytes / count)
    const perRow = Math.max(1, (bytes + conv.blobBytes) / count)
    limit = Math.max(1, Math.min(options.batchRows, limit * 8, Math.floor(HEAP_BUDGET / heapPerRow), Math.floor(options.batchBytes / perRow)))
    yield batch
    if (!full) return
  }
}

/** Options for `scan`. */
export interface SqliteScanOptions extends ScanOptions {
  /** Rows per statement: a stretch (see `onStretch`); between statements the scan yields to the event loop. Default 4 096. */
  chunkRows?: number
}

/** The function each scan statement calls per row, and the visitor it hands rows to (one scan runs at a time). */
interface ScanHook {
  current: ((values: unknown[]) => void) | undefined
}
const scanHooks = new WeakMap<BetterSqlite3.Database, ScanHook>()

/** Registers `dbferry_scan(...)` on a connection once; it forwards each row to the running scan. */
function scanHook(db: BetterSqlite3.Database): ScanHook {
  let hook = scanHooks.get(db)
  if (!hook) {
    const h: ScanHook = { current: undefined }
    db.function('dbferry_scan', { varargs: true, safeIntegers: true, deterministic: false }, (...args: unknown[]) => {
      h.current?.(args)
      return 1
    })
    scanHooks.set(db, h)
    hook = h
  }
  return hook
}

/**
 * Visits every row of a table with the values `readSqliteTable` would yield, without building batches:
 * SQLite calls one function per row, which converts the row in an array of its own and passes it to `visit`
 * (the table's values first, then the key's raw parts; copy what you keep). Rows come in the reader's key
 * order, in statements of `chunkRows` rows, except that a row whose text holds U+FFFD is converted at the
 * end of its statement, with its stored bytes, exactly as the reader does. Rows that do not convert are
 * returned, not visited. Each statement is a stretch: `onStretch` gets where it begins (the raw key it
 * follows, which keeps text keys that are not valid UTF-8 exact), and a later scan can start there (`from`)
 * and stop after `limit` rows. Used by verify: about three times faster than reading batches, because no
 * batch is built and no row outlives its call. The function, `dbferry_scan`, stays registered on the
 * connection (a caller's too), where it does nothing outside a scan.
 */
async function scanSqliteTable(
  ctx: SqliteReadContext,
  table: TableSchema,
  visit: (row: Row) => void,
  options: SqliteScanOptions = {},
): Promise<{ rows: number; rejected: RowError[] }> {
  const { db } = ctx
  const plan = keyPlan(table)
  const n = table.columns.length
  const k = plan.select.length
  const hook = scanHook(db)
  const args = [...table.columns.map((c) => q(c.name)), ...plan.select].join(', ')
  const inner = (where: string) => `SELECT dbferry_scan(${args}) AS x FROM ${q(table.name)}${where} ORDER BY ${plan.orderBy} LIMIT ?`
  const first = db.prepare(`SELECT count(*) FROM (${inner('')}) WHERE x IS NOT NULL`).pluck()
  const next = db.prepare(`SELECT count(*) FROM (${inner(` WHERE ${plan.after}`)}) WHERE x IS NOT NULL`).pluck()
  const one = db.prepare(`${selectHead(table, plan)} WHERE ${plan.equals}`).raw(true).safeIntegers(true)
  const conv = new RowConverter(ctx, table, plan, false)
  const chunk = Math.max(1, Math.floor(options.chunkRows ?? 4096))
  if (options.from !== undefined && !(Array.isArray(options.from) && options.from.length === k)) {
    throw new SchemaError(`scan of ${table.name}: \`from\` is not a position of this table's scan`, { table: table.name })
  }
  let from = options.from as unknown[] | undefined
  let remaining = options.limit ?? Infinity
  const lastKey: unknown[] = new Array(k)
  const rejected: RowError[] = []
  let deferred: unknown[][] = []
  let rows = 0
  // `values`: the row's columns, then its key expressions, in an array of its own
  const onRow = (values: unknown[]): void => {
    for (let j = 0; j < k; j++) lastKey[j] = values[n + j]
    rows++
    // the scan reads integers as bigints: never INEXACT
    const out = conv.convert(values, false) as RowError | typeof NEEDS_BYTES | undefined
    if (out === NEEDS_BYTES) deferred.push(values.slice(n))
    else if (out) rejected.push(out)
    else visit(values as Row)
  }
  while (remaining > 0) {
    if (options.signal?.aborted) throw new AbortError()
    const size = Math.min(chunk, remaining)
    options.onStretch?.(from, rows)
    let seen: number
    hook.current = onRow
    try {
      seen = Number(from === undefined ? first.get(size) : next.get(...plan.params(from), size))
    } finally {
      hook.current = undefined
    }
    // rows whose text needs its stored bytes, which a statement cannot read while another one runs
    for (const key of deferred) {
      const raw = one.get(...plan.params(key)) as unknown[] | undefined
      if (!raw) continue
      const error = conv.convert(raw, true) as RowError | undefined
      if (error) rejected.push(error)
      else visit(raw as Row)
    }
    deferred = []
    if (seen < size) break
    remaining -= seen
    from = lastKey.slice()
    // lets timers and I/O run between statements (the other side of a comparison may be a server)
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  return { rows, rejected }
}

function rowError(
  table: TableSchema,
  plan: KeyPlan,
  raw: unknown[],
  col: number,
  kind: 'type_conversion' | 'out_of_range' | 'invalid_encoding',
  reason: string,
  value: unknown,
): RowError {
  const row = raw.slice(0, table.columns.length).map((v) => (typeof v === 'bigint' && v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v))
  const column = table.columns[col]!.name
  return new RowError(kind, `${table.name}.${column}: ${reason}`, {
    table: table.name,
    key: plan.describe(raw.slice(table.columns.length), row),
    column,
    value: typeof value === 'bigint' && value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value,
    row,
  })
}

/**
 * The checkpoint key of the last row: the rowid, or the primary-key values as read — except a text key part
 * whose stored bytes are not its text's UTF-8 (invalid UTF-8 read through a fallback encoding), which is kept
 * as those bytes: its text would seek elsewhere in byte order, repeating or skipping rows on resume.
 */
function lastKeyOf(plan: KeyPlan, keyRaw: readonly unknown[], lastRow: readonly unknown[]): Value[] {
  if (!plan.columns) {
    const v = keyRaw[0]
    return [typeof v === 'bigint' && v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : (v as Value)]
  }
  return plan.columns.map((c, j) => {
    const v = lastRow[c] as Value
    const stored = keyRaw[2 * j]
    return stored instanceof Uint8Array && typeof v === 'string' && !Buffer.from(v).equals(stored) ? new Uint8Array(stored) : v
  })
}

/** The parameters of `plan.until` for `options.until` (none without one), checked against the key's parts. */
function untilParamsOf(options: ReadOptions, plan: KeyPlan, table: TableSchema): unknown[] {
  const until = options.until
  if (!until || until.length === 0) return []
  const parts = plan.columns?.length ?? 1
  if (until.length !== parts) throw new SchemaError(`cannot read a key range of ${table.name}: the bound has ${until.length} parts, the key ${parts}`, { table: table.name })
  return plan.params(keyFromCanonical(until, plan, table))
}

/** Turns a checkpoint key back into the raw parameters the keyset query takes. */
function keyFromCanonical(after: readonly Value[], plan: KeyPlan, table: TableSchema): unknown[] {
  if (!plan.columns) return [typeof after[0] === 'number' ? BigInt(after[0]) : after[0]]
  // pairs of (raw text bytes, value) as the keyset query selects them; canonical values bind as they are,
  // and bytes in a column that is not a bytes column are a text key's stored bytes (see lastKeyOf)
  return after.flatMap((v, j) => {
    if (v instanceof Uint8Array && table.columns[plan.columns![j]!]!.type.kind !== 'bytes') return [v, null]
    return [null, typeof v === 'boolean' ? (v ? 1 : 0) : v]
  })
}

/**
 * The smallest and largest key of a table whose primary key is one integer column, in the reader's key order
 * (see `keyPlan`): its rowid when it has one (the key itself for an `INTEGER PRIMARY KEY`), else the key
 * column; numbers, or bigints past 2^53. Undefined for any other table, an empty one, or a key column that
 * holds other than integers (SQLite stores any value), which cannot be split by integer ranges.
 */
/** Whether a rowid table's one primary-key column is declared `INTEGER`, which makes it the rowid's alias. */
function isRowidAlias(db: BetterSqlite3.Database, table: string): boolean {
  const keys = db.prepare('SELECT type FROM pragma_table_info(?) WHERE pk > 0').all(table) as { type: string }[]
  return keys.length === 1 && keys[0]!.type.toUpperCase() === 'INTEGER'
}

function keyBounds(db: BetterSqlite3.Database, table: TableSchema): { min: Value; max: Value } | undefined {
  const key = table.primaryKey?.columns ?? []
  const column = key.length === 1 ? table.columns.find((c) => c.name === key[0]) : undefined
  if (!column || !(column.type.kind === 'int16' || column.type.kind === 'int32' || column.type.kind === 'int64')) return undefined
  const plan = keyPlan(table)
  // a rowid table is read in rowid order: its bounds split the key only where the key is the rowid itself
  // (INTEGER PRIMARY KEY); otherwise the same ranges would hold other rows on a target that orders by the key
  if (!plan.columns && !isRowidAlias(db, table.name)) return undefined
  const expression = plan.columns ? q(column.name) : plan.orderBy
  const r = db.prepare(`SELECT min(${expression}), max(${expression}) FROM ${q(table.name)}`).raw(true).safeIntegers(true).get() as unknown[]
  const [min, max] = r
  return typeof min === 'bigint' && typeof max === 'bigint' ? { min: narrow(min) as Value, max: narrow(max) as Value } : undefined
}

/**
 * Up to `count` rowids that cut a rowid table (read in rowid order, see `keyPlan`) into `count + 1` ranges
 * of its rowid span `min..max`, spread evenly (rowids are dense unless many rows were deleted: then ranges are
 * uneven, never wrong); numbers, or bigints past 2^53. Undefined for a WITHOUT ROWID table (not split) or an
 * empty one. The table's key, whatever it is, plays no part: a text or composite key splits by rowid too.
 */
function splitKeys(db: BetterSqlite3.Database, table: TableSchema, count: number): Value[][] | undefined {
  const plan = keyPlan(table)
  if (plan.columns || count < 1) return undefined
  const r = db.prepare(`SELECT min(${plan.orderBy}), max(${plan.orderBy}) FROM ${q(table.name)}`).raw(true).safeIntegers(true).get() as unknown[]
  const [min, max] = r
  if (typeof min !== 'bigint' || typeof max !== 'bigint' || max <= min) return undefined
  const span = max - min + 1n
  const parts = BigInt(Math.floor(count) + 1) > span ? span : BigInt(Math.floor(count) + 1)
  const out: Value[][] = []
  // the last rowid of part j: the span cut into `parts` parts, rounded down
  for (let j = 1n; j < parts; j++) out.push([narrow(min - 1n + (span * j) / parts) as Value])
  return out
}

/**
 * Streams one table in key order (see `readTable` above): the reader of a {@link SqliteReadContext}. Beyond
 * the contract it carries what the connection needs from the same key plan: `scan` (every row through one
 * SQLite function call, for verify), `rowidName` (the name that reaches a table's rowid, or undefined when
 * columns shadow all three), `keyBounds` (a table's first and last key, for splitting it into ranges) and
 * `splitKeys` (rowids to split any other rowid table at).
 */
export const readSqliteTable: typeof readTable & { scan: typeof scanSqliteTable; rowidName: typeof rowidName; keyBounds: typeof keyBounds; splitKeys: typeof splitKeys } = Object.assign(readTable, {
  scan: scanSqliteTable,
  rowidName,
  keyBounds,
  splitKeys,
})

// ---------------------------------------------------------------------------------------------------------
// reading through plain statements (a Kysely instance): keyset pages, every value in an exact form

/** Runs one SELECT with `?` parameters and gives its rows as objects keyed by column alias. */
export type SqliteSelect = (sql: string, params: readonly unknown[]) => Promise<Record<string, unknown>[]>

/**
 * Two expressions that carry a value exactly through any driver: its storage class, and the value with
 * integers as their decimal text (a driver may read them as doubles) and text as its stored bytes (a driver
 * turns invalid UTF-8 into U+FFFD). Reals and blobs pass as they are.
 */
function exactSelect(expression: string, alias: string): string {
  return `typeof(${expression}) AS "t${alias}", CASE typeof(${expression}) WHEN 'integer' THEN CAST(${expression} AS TEXT) WHEN 'text' THEN CAST(${expression} AS BLOB) ELSE ${expression} END AS "v${alias}"`
}

/** A value selected by {@link exactSelect} as better-sqlite3 reads it with bigints, and its stored text bytes. */
function exactValue(row: Record<string, unknown>, alias: string): { value: unknown; bytes?: Buffer } {
  const v = row[`v${alias}`]
  switch (row[`t${alias}`]) {
    case 'null':
      return { value: null }
    case 'integer':
      return { value: BigInt(String(v)) }
    case 'text': {
      const bytes = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8')
      return { value: bytes.toString('utf8'), bytes }
    }
    case 'real':
      return { value: typeof v === 'bigint' ? Number(v) : v }
    default:
      return { value: v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v }
  }
}

/**
 * Reads a table through `select` (a caller's Kysely instance, whose driver cannot be reached): the same
 * keyset pages in the same key order as {@link readSqliteTable}, every value selected in an exact form
 * ({@link exactSelect}) and converted by the same converter, so the rows, rejects, fixes and `lastKey` are
 * the ones the driver path gives, and `after`/`until` bind the same way.
 */
async function* readSqliteTablePaged(select: SqliteSelect, ctx: Omit<SqliteReadContext, 'db'>, table: TableSchema, options: ReadOptions): AsyncGenerator<ReadBatch> {
  const plan = keyPlan(table)
  const n = table.columns.length
  const columns = table.columns.map((c, i) => exactSelect(q(c.name), String(i)))
  // the rowid as text (a driver may read it as a double); a primary key's parts are columns already
  if (!plan.columns) columns.push(`CAST(${plan.select[0]} AS TEXT) AS "rid"`)
  const head = `SELECT ${columns.join(', ')} FROM ${q(table.name)}`
  const untilParams = untilParamsOf(options, plan, table)
  const bounded = untilParams.length > 0
  const firstSql = `${head}${bounded ? ` WHERE ${plan.until}` : ''} ORDER BY ${plan.orderBy} LIMIT ?`
  const nextSql = `${head} WHERE ${plan.after}${bounded ? ` AND ${plan.until}` : ''} ORDER BY ${plan.orderBy} LIMIT ?`
  const conv = new RowConverter({ ...ctx, db: undefined as unknown as BetterSqlite3.Database }, table, plan, true)
  let stored: (Buffer | undefined)[] = []
  conv.storedBytes = (col) => stored[col]
  let lastRaw: unknown[] | undefined = options.after ? keyFromCanonical(options.after, plan, table) : undefined
  let limit = Math.max(1, Math.min(options.batchRows, PROBE_ROWS))
  for (;;) {
    if (options.signal?.aborted) throw new AbortError()
    const rows: Row[] = []
    const rejected: RowError[] = []
    conv.resetSize()
    conv.fixed = undefined
    conv.fixes = undefined
    const page = await select(lastRaw === undefined ? firstSql : nextSql, [...(lastRaw === undefined ? [] : plan.params(lastRaw)), ...untilParams, limit])
    if (page.length === 0) return
    let lastRow: unknown[] = []
    for (const r of page) {
      const raw: unknown[] = new Array(n)
      stored = new Array(n)
      const keyRaw: unknown[] = []
      for (let i = 0; i < n; i++) {
        const { value, bytes } = exactValue(r, String(i))
        raw[i] = value
        stored[i] = bytes
      }
      if (plan.columns) for (const c of plan.columns) keyRaw.push(stored[c] ?? null, raw[c])
      else keyRaw.push(narrow(BigInt(String(r.rid))))
      raw.push(...keyRaw)
      const error = conv.convert(raw, true)
      raw.length = n
      if (error) rejected.push(error as RowError)
      else rows.push(raw as Value[])
      lastRaw = keyRaw
      lastRow = raw
    }
    const batch: ReadBatch = { rows, rejected, lastKey: lastKeyOf(plan, lastRaw!, lastRow) }
    if (conv.fixed) batch.fixed = conv.fixed
    if (conv.fixes) batch.fixes = conv.fixes
    const count = page.length
    const full = count === limit
    // size the next page so it stays near batchBytes, as the driver path does
    const bytes = conv.bytes + count * (32 + 8 * n)
    const perRow = Math.max(1, (bytes + conv.blobBytes) / count)
    limit = Math.max(1, Math.min(options.batchRows, limit * 8, Math.floor(HEAP_BUDGET / Math.max(1, bytes / count)), Math.floor(options.batchBytes / perRow)))
    yield batch
    if (!full) return
  }
}

/** Beyond the contract, for a connection through plain statements (a Kysely instance): `readSqliteTable.paged` ({@link readSqliteTablePaged}). */
readTable.paged = readSqliteTablePaged

// ---------------------------------------------------------------------------------------------------------
// the same-engine hand-over: which stored values a plain INSERT … SELECT may copy unread

/** The SQL functions {@link handOverSql}'s condition calls, registered on the connection that runs it. */
const handOverFunctions = new WeakSet<BetterSqlite3.Database>()

/** Per `precision,scale`: a decimal column's converter, as the reader builds it. */
const decimalConverters = new Map<string, Converter>()

/**
 * Whether a REAL or TEXT value of a `decimal(p,s)` column is one the reader reads (its own converter) and the
 * row fitter passes unchanged (no more places than the scale, which would be a reject or a rounding).
 */
function plainDecimal(v: unknown, precision: number | null, scale: number | null): number {
  if (typeof v !== 'number' && typeof v !== 'string') return 0
  const key = `${precision},${scale}`
  let conv = decimalConverters.get(key)
  if (!conv) {
    const type: LogicalType = precision === null ? { kind: 'decimal' } : { kind: 'decimal', precision, scale: scale ?? 0 }
    conv = sqliteConverter({ name: 'd', type, nativeType: 'NUMERIC', nullable: true }, 'reject')
    decimalConverters.set(key, conv)
  }
  const out = conv(v)
  if (typeof out !== 'string') return 0
  const dot = out.indexOf('.')
  return precision === null || dot < 0 || out.length - dot - 1 <= (scale ?? 0) ? 1 : 0
}

/**
 * Registers, once per connection, the functions of {@link handOverSql}'s condition: `dbferry_utf8(text)` (no
 * U+FFFD once decoded, as the reader decodes it), `dbferry_utf8_bytes(blob)` (valid UTF-8, for text that holds
 * a U+FFFD of its own), `dbferry_json(text)` and `dbferry_decimal(value, precision, scale)`.
 */
function registerHandOverFunctions(db: BetterSqlite3.Database): void {
  if (handOverFunctions.has(db)) return
  const options = { deterministic: true, safeIntegers: false }
  db.function('dbferry_utf8', options, (s: unknown) => (typeof s === 'string' && !s.includes(REPLACEMENT) ? 1 : 0))
  db.function('dbferry_utf8_bytes', options, (b: unknown) => (b instanceof Uint8Array && isUtf8(b) ? 1 : 0))
  db.function('dbferry_json', options, (s: unknown) => {
    try {
      JSON.parse(s as string)
      return 1
    } catch {
      return 0
    }
  })
  db.function('dbferry_decimal', options, (v: unknown, p: unknown, s: unknown) => plainDecimal(v, p as number | null, s as number | null))
  handOverFunctions.add(db)
}

/**
 * Text stored as valid UTF-8, by the reader's rule: no U+FFFD once decoded, else its stored bytes checked. SQL has
 * no test of it; an ASCII test in SQL (`NOT GLOB '*[^\x01-\x7f]*'`) before the call cost more than the call
 * (1M e-mail addresses: 0.35 s against 0.25 s over the bare scan).
 */
function validText(e: string): string {
  return `(dbferry_utf8(${e}) OR dbferry_utf8_bytes(CAST(${e} AS BLOB)))`
}

/** `HH:MM:SS` valid and canonical from `at` (1-based) in `e`; SQLite's time() takes hour 24 as it is, the reader not. */
const clockAt = (e: string, at: number) => `time(substr(${e}, ${at}, 8)) = substr(${e}, ${at}, 8) AND substr(${e}, ${at}, 2) <= '23'`

/** `YYYY-MM-DD HH:MM:SS` valid and canonical at the start of `e` (hour 24 aside, as in {@link clockAt}). */
const dateTime = (e: string) => `datetime(substr(${e}, 1, 19)) = substr(${e}, 1, 19) AND substr(${e}, 12, 2) <= '23'`

/** Up to nine fractional digits after the point at `at` (1-based), `count` characters long. */
const fractionAt = (e: string, at: number, count: string) => `(substr(${e}, ${at}, 1) = '.' AND ${count} BETWEEN 2 AND 10 AND substr(${e}, ${at + 1}, ${count} - 1) NOT GLOB '*[^0-9]*')`

/**
 * A condition on one column's stored value (`e`) that holds only where the reader reads it without rejecting,
 * repairing or converting it by a connection option, and the row fitter passes it unchanged, between columns
 * of the same logical type: the value a target reads back from the stored value copied as it is is then the one
 * the row path would have written. A subset: a value outside it (a timestamp spelled with a `T`) sends its
 * table to the row path, which decides. `test/sqlite/hand-over.test.ts` checks it against the reader value by value.
 */
function plainValue(c: ColumnSchema, e: string): string {
  const type = c.type
  const ts = `(typeof(${e}) = 'text' AND ${dateTime(e)} AND (length(${e}) = 19 OR ${fractionAt(e, 20, `(length(${e}) - 19)`)}))`
  switch (type.kind) {
    case 'boolean':
      return `(typeof(${e}) = 'integer' AND ${e} IN (0, 1))`
    case 'int16':
    case 'int32':
    case 'int64': {
      const [lo, hi] = INT_RANGES[`${type.unsigned ? 'u' : ''}${type.kind}` as keyof typeof INT_RANGES]
      // SQLite's integers are int64: a bound past them bounds nothing (and -2^63 is no literal of its own)
      const bounds = [lo > INT_RANGES.int64[0] ? `${e} >= ${lo}` : '', hi < INT_RANGES.int64[1] ? `${e} <= ${hi}` : ''].filter(Boolean)
      return `(typeof(${e}) = 'integer'${bounds.map((b) => ` AND ${b}`).join('')})`
    }
    case 'float32':
    case 'float64':
      // an integer past 2^53 would be rounded to a double on the row path; NaN is stored as the text 'NaN'
      return `(typeof(${e}) = 'real' OR (typeof(${e}) = 'integer' AND ${e} BETWEEN ${-MAX_SAFE_NUMBER} AND ${MAX_SAFE_NUMBER}) OR (typeof(${e}) = 'text' AND ${e} = 'NaN'))`
    case 'decimal': {
      const p = type.precision
      const digits = p === undefined ? undefined : p - (type.scale ?? 0)
      const ints = digits === undefined || digits >= 19 ? `typeof(${e}) = 'integer'` : `(typeof(${e}) = 'integer' AND ${e} BETWEEN ${1n - 10n ** BigInt(digits)} AND ${10n ** BigInt(digits) - 1n})`
      const others = `(typeof(${e}) = 'real' OR (typeof(${e}) = 'text' AND ${validText(e)})) AND dbferry_decimal(${e}, ${p ?? 'NULL'}, ${p === undefined ? 'NULL' : (type.scale ?? 0)})`
      return `(${ints} OR (${others}))`
    }
    case 'text':
      return `(typeof(${e}) = 'text' AND ${validText(e)})`
    case 'json':
      return `(typeof(${e}) = 'text' AND ${validText(e)} AND dbferry_json(${e}))`
    case 'bytes':
      return `typeof(${e}) = 'blob'`
    case 'date':
      return `(typeof(${e}) = 'text' AND length(${e}) = 10 AND date(${e}) = ${e})`
    case 'time':
      return `(typeof(${e}) = 'text' AND ${clockAt(e, 1)} AND (length(${e}) = 8 OR ${fractionAt(e, 9, `(length(${e}) - 8)`)}))`
    case 'timestamp':
      return ts
    case 'timestamptz': {
      // with an offset `±HH:MM` (any two digits each, as the reader takes them), or without one (read as UTC)
      const zone = `substr(${e}, -6, 1) IN ('+', '-') AND substr(${e}, -5) GLOB '[0-9][0-9]:[0-9][0-9]'`
      const head = `${dateTime(e)} AND (length(${e}) = 25 OR ${fractionAt(e, 20, `(length(${e}) - 25)`)})`
      return `((typeof(${e}) = 'text' AND ${zone} AND ${head}) OR ${ts})`
    }
    case 'uuid': {
      const hex = (n: number) => '[0-9a-fA-F]'.repeat(n)
      return `(typeof(${e}) = 'text' AND length(${e}) = 36 AND ${e} GLOB '${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}')`
    }
  }
}

/** What {@link handOverSql} gives: the pieces of `INSERT INTO … SELECT … FROM <source> WHERE <where> ORDER BY <orderBy>`. */
export interface SqliteHandOverSql {
  /** Every value plain ({@link plainValue}). */
  where: string
  /** Past `after`, when given: the reader's own condition. */
  after?: string
  /** The parameters of `after`. */
  params: unknown[]
  /** The reader's key order. */
  orderBy: string
  /** The rowid expression a rowid table is read in the order of; undefined for a WITHOUT ROWID table. */
  rowid?: string
}

/**
 * How a table is copied unread from an attached file: the reader's key order (the rowid, or the
 * primary key of a WITHOUT ROWID table), `after` bound as the reader binds it, and a condition true for the
 * rows whose every value the reader and the row fitter leave as they are (see {@link plainValue}); the
 * functions it calls are registered on `db`, the connection that runs it.
 */
function handOverSql(db: BetterSqlite3.Database, table: TableSchema, after?: readonly Value[]): SqliteHandOverSql {
  registerHandOverFunctions(db)
  const plan = keyPlan(table)
  const conditions = table.columns.map((c) => `(${q(c.name)} IS NULL OR ${plainValue(c, q(c.name))})`)
  const out: SqliteHandOverSql = { where: conditions.length > 0 ? conditions.join(' AND ') : '1', params: [], orderBy: plan.orderBy }
  if (after !== undefined) {
    out.after = plan.after
    out.params = plan.params(keyFromCanonical(after, plan, table))
  }
  if (!plan.columns) out.rowid = plan.select[0]!
  return out
}

/** Beyond the contract, for the same-engine hand-over (`copySqliteFileTable`): `readSqliteTable.handOver` ({@link handOverSql}). */
readTable.handOver = handOverSql
