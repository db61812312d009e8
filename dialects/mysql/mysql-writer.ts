import { Readable } from 'node:stream'
import type { ClassifiedError, ConstraintProblem, FinalizeOptions, PrepareOptions, TableWriter, WriteResult } from '../../src/dialect.js'
import { ConnectionError, RowError, SchemaError, type RowFailureKind } from '../../src/errors.js'
import { keyColumnIndexes, rowKey } from '../../src/schema/rows.js'
import { hexPieces, stringPieces } from '../../src/schema/value-pieces.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, LogicalType, Row, TableSchema, Value } from '../../src/schema/types.js'
import { mysqlErrors, type MysqlWarning } from './mysql-errors.js'
import { mysqlSql, type ServerCharsets } from './mysql-sql.js'
import { mysqlTypes } from './mysql-types.js'

/**
 * The MySQL/MariaDB target: creating the tables, the bulk path (`LOAD DATA LOCAL INFILE` from a stream, with
 * an exact INSERT fallback that isolates each refused row), and secondary indexes, foreign keys and
 * `auto_increment` positions after the data.
 */

const q = mysqlSql.quoteIdentifier
const noop = () => {}

/** The part of a mysql2/promise connection the writer uses. */
export interface MysqlSession {
  query(options: string | { sql: string; values?: unknown[]; infileStreamFactory?: () => Readable }, values?: unknown[]): Promise<[unknown, unknown]>
}

/** Result header of a statement that changes rows. */
interface Header {
  affectedRows: number
  warningStatus: number
}

async function rows<T>(s: MysqlSession, sql: string, values?: unknown[]): Promise<T[]> {
  const [r] = await s.query(sql, values)
  return r as T[]
}

/** The server's collations and character sets, so only names it knows reach DDL. */
async function serverCharsets(s: MysqlSession): Promise<ServerCharsets> {
  const list = await rows<{ COLLATION_NAME: string; CHARACTER_SET_NAME: string | null }>(
    s,
    'SELECT COLLATION_NAME, CHARACTER_SET_NAME FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY',
  )
  const collations = new Map<string, string>()
  const charsets = new Set<string>()
  for (const r of list) {
    if (r.CHARACTER_SET_NAME) {
      // MariaDB 10.10+ lists a collation once per character set it applies to (uca1400_*); keep the first
      if (!collations.has(r.COLLATION_NAME.toLowerCase())) collations.set(r.COLLATION_NAME.toLowerCase(), r.CHARACTER_SET_NAME)
      charsets.add(r.CHARACTER_SET_NAME.toLowerCase())
    }
  }
  return { collations, charsets }
}

const INT_RANK = { int16: 1, int32: 2, int64: 3 } as const
type IntKind = keyof typeof INT_RANK

/**
 * MySQL refuses a foreign key whose columns differ in integer size or sign from the key they reference
 * (a SQLite `INTEGER PRIMARY KEY` is 64-bit, the `INT` pointing at it 32-bit): both sides get the wider type.
 */
function alignForeignKeyTypes(tables: readonly TableSchema[]): TableSchema[] {
  const wanted = new Map<string, LogicalType>()
  const byName = new Map(tables.map((t) => [t.name, t]))
  const col = (t: TableSchema, c: string) => t.columns.find((x) => x.name === c)
  for (const t of tables) {
    for (const fk of t.foreignKeys) {
      const parent = byName.get(fk.refTable)
      if (!parent) continue
      fk.columns.forEach((c, i) => {
        const a = col(t, c)
        const b = col(parent, fk.refColumns[i]!)
        if (!a || !b || !(a.type.kind in INT_RANK) || !(b.type.kind in INT_RANK)) return
        const ta = a.type as { kind: IntKind; unsigned?: boolean }
        const tb = b.type as { kind: IntKind; unsigned?: boolean }
        if (ta.kind === tb.kind && !!ta.unsigned === !!tb.unsigned) return
        const kind = INT_RANK[ta.kind] >= INT_RANK[tb.kind] ? ta.kind : tb.kind
        const type: LogicalType = ta.unsigned && tb.unsigned ? { kind, unsigned: true } : { kind }
        wanted.set(`${t.name}\0${c}`, type)
        wanted.set(`${parent.name}\0${b.name}`, type)
      })
    }
  }
  if (wanted.size === 0) return [...tables]
  return tables.map((t) => ({
    ...t,
    columns: t.columns.map((c) => {
      const type = wanted.get(`${t.name}\0${c.name}`)
      return type ? { ...c, type, nativeType: '' } : c
    }),
  }))
}

/** Creates, truncates, checks or recreates the target tables (see {@link PrepareOptions.mode}). */
export async function prepareMysqlTarget(s: MysqlSession, schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
  const existing = new Set(
    (await rows<{ TABLE_NAME: string }>(s, 'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()')).map((r) =>
      r.TABLE_NAME.toLowerCase(),
    ),
  )
  const present = schema.tables.filter((t) => existing.has(t.name.toLowerCase()))
  if (options.mode === 'create' && present.length > 0) {
    throw new SchemaError(`target table(s) already exist: ${present.map((t) => t.name).join(', ')} (use mode truncate, append or recreate)`, {
      code: 'target_exists',
      table: present[0]!.name,
    })
  }
  const server = await serverCharsets(s)
  const tables = alignForeignKeyTypes(schema.tables)
  await s.query('SET foreign_key_checks = 0')
  try {
    for (const t of tables) {
      if (options.signal?.aborted) break
      const exists = existing.has(t.name.toLowerCase())
      try {
        if (exists && options.mode === 'truncate') {
          await s.query(`TRUNCATE TABLE ${q(t.name)}`)
          continue
        }
        if (exists && options.mode === 'append') continue
        if (exists && options.mode === 'recreate') await s.query(mysqlSql.dropTable(t))
        await s.query(mysqlSql.createTableOn(t, server))
      } catch (error) {
        const driver = mysqlErrors.classify(error)?.driver
        throw new SchemaError(`cannot create ${t.name} on the target: ${(error as Error).message}`, { table: t.name, cause: error, ...(driver && { driver }) })
      }
    }
  } finally {
    await s.query('SET foreign_key_checks = 1')
  }
}

// errors that concern one row's values; anything else stops the table
const ROW_LEVEL_ERRORS = new Set([1062, 1586, 1048, 1263, 1364, 1264, 1690, 1265, 1406, 1366, 1300, 1292, 1367, 1411, 3140, 4025, 3819, 1452, 1216, 1261, 1262, 1918])
// local_infile disabled (server 1148, MySQL 8 client/server 3948/3950, mysql2 without a stream 2068)
const INFILE_DISABLED = new Set([1148, 3948, 3950, 2068])

interface ColumnCodec {
  column: ColumnSchema
  /** position of the value in the source row */
  index: number
  /** loaded through a variable and converted with SET (bytes: UNHEX; bit: CAST) */
  via?: 'unhex' | 'bit'
  /** the value as a LOAD DATA field (already escaped) */
  field(v: Exclude<Value, null>): string
  /** the field of a string is the string escaped, of a number its `String` (so the batch encoder writes them itself) */
  plain?: boolean
  /** the value as an INSERT parameter */
  param(v: Exclude<Value, null>): unknown
  /**
   * A large value as LOAD DATA field bytes, in pieces of at most 96 KiB made as they are asked for: the batch
   * holds the value itself, never its escaped text or hex whole.
   */
  pieces(v: Exclude<Value, null>): Iterable<Buffer>
}

/**
 * Values longer than this (characters or bytes) stay out of the batch's LOAD DATA text: their text is made piece
 * by piece as the socket takes it. Made whole, two rows of a 50 MB text and a 50 MB blob peaked at 1.2 GB (each
 * text escaped into a second string and encoded into a buffer, each blob as 100 MB of hex, and every chunk copied
 * again by the driver as it queued them all on the socket at once).
 */
const LARGE_VALUE = 64 * 1024

/** A string's escaped LOAD DATA text as UTF-8, in pieces (see {@link stringPieces}). */
function* escapedPieces(s: string): Generator<Buffer> {
  for (const piece of stringPieces(s)) yield Buffer.from(escapeField(piece), 'utf8')
}

const ESC_TEST = /[\\\t\n\r\0\x1a]/
/** The escape of a character code that LOAD DATA text escapes, else undefined. */
function escapeOf(code: number): string | undefined {
  switch (code) {
    case 92:
      return '\\\\'
    case 9:
      return '\\t'
    case 10:
      return '\\n'
    case 13:
      return '\\r'
    case 0:
      return '\\0'
    case 26:
      return '\\Z'
    default:
      return undefined
  }
}
/** Per byte: the letter that follows the backslash of its escape (0: not escaped). */
const ESC_BYTE = new Uint8Array(256)
for (const [b, e] of [[92, '\\'], [9, 't'], [10, 'n'], [13, 'r'], [0, '0'], [26, 'Z']] as const) ESC_BYTE[b] = e.charCodeAt(0)

/**
 * Writes `s` escaped (see {@link escapeField}) as UTF-8 into `buf` at `at`, which has room for 3 bytes a UTF-16
 * unit; returns where it ends. The escaped characters are ASCII, never part of a longer UTF-8 sequence, so the
 * bytes are escaped where they were written, with no escaped copy of the string to make and collect.
 */
function writeEscaped(buf: Buffer, s: string, at: number): number {
  const end = at + buf.write(s, at)
  if (!ESC_TEST.test(s)) return end
  let extra = 0
  for (let i = at; i < end; i++) if (ESC_BYTE[buf[i]!] !== 0) extra++
  // move the tail right from the end, a backslash before each escaped byte
  let from = end - 1
  let to = end + extra - 1
  while (to > from) {
    const b = buf[from--]!
    const e = ESC_BYTE[b]!
    if (e === 0) buf[to--] = b
    else {
      buf[to--] = e
      buf[to--] = 92
    }
  }
  return end + extra
}

/** Escapes text for LOAD DATA … FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'. */
function escapeField(s: string): string {
  // most values need no escaping: test first, and escape in one pass (a replace callback per match costs more)
  if (!ESC_TEST.test(s)) return s
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const e = escapeOf(s.charCodeAt(i))
    if (e === undefined) continue
    out += s.slice(from, i) + e
    from = i + 1
  }
  return out + s.slice(from)
}

function codecFor(column: ColumnSchema, index: number, ddlType: string): ColumnCodec {
  const kind = column.type.kind
  const bit = /^bit\b/i.test(ddlType)
  const scalar = (v: Exclude<Value, null>): string => {
    if (typeof v === 'boolean') return v ? '1' : '0'
    if (typeof v === 'number' || typeof v === 'bigint') return String(v)
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8')
    return kind === 'timestamptz' ? mysqlSql.utcTimestamp(v) : v
  }
  if (kind === 'bytes' || (ddlType !== '' && /(binary|blob)/i.test(ddlType) && !bit)) {
    const bytes = (v: Exclude<Value, null>) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(scalar(v), 'utf8'))
    return { column, index, via: 'unhex', field: (v) => bytes(v).toString('hex'), param: bytes, pieces: (v) => hexPieces(bytes(v)) }
  }
  // bits and float32 are never large: their text is one piece
  const whole = (field: (v: Exclude<Value, null>) => string) => (v: Exclude<Value, null>) => [Buffer.from(field(v), 'utf8')]
  if (bit) return { column, index, via: 'bit', field: (v) => scalar(v), param: (v) => scalar(v), pieces: whole(scalar) }
  if (kind === 'float32') {
    const f32 = (v: Exclude<Value, null>) => (typeof v === 'number' ? mysqlSql.float32Text(v) : scalar(v))
    return { column, index, field: f32, param: f32, pieces: whole(f32) }
  }
  const field = (v: Exclude<Value, null>) => escapeField(scalar(v))
  return {
    column,
    index,
    field,
    plain: kind !== 'timestamptz',
    pieces: (v) => escapedPieces(scalar(v)),
    param: (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'string' && kind === 'timestamptz' ? mysqlSql.utcTimestamp(v) : v),
  }
}

const TEXTUAL = new Set<LogicalType['kind']>(['text', 'json', 'uuid'])
const ROW_KINDS = new Set<string>(['invalid_encoding', 'out_of_range', 'truncation', 'not_null', 'duplicate_key', 'foreign_key_violation', 'check_violation', 'type_conversion'])
/** A classified kind as a row's failure kind: one that names no fault of the row's values is `target_rejected`. */
const rowKind = (kind: string): RowFailureKind => (ROW_KINDS.has(kind) ? (kind as RowFailureKind) : 'target_rejected')
const ASTRAL_RE = /[\u{10000}-\u{10FFFF}]/u
/** ` (value "…")` for a refused value the server's message does not quote; bytes and NULL are left to the row. */
function valueNote(message: string, v: Value | undefined): string {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean') return ''
  const text = String(v)
  return message.includes(`'${text}'`) || message.includes(`"${text}"`) ? '' : ` (value ${JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text)})`
}

/** Rows a writer's transaction holds before it commits. */
const COMMIT_ROWS = 200_000
/** Longest a writer's transaction stays open before it commits, in milliseconds. */
const COMMIT_MS = 2_000
const MAX_PARAMS = 60_000
const MAX_INSERT_BYTES = 4 * 1024 * 1024

/**
 * Writes one table. Each batch is loaded with `LOAD DATA LOCAL INFILE` from a stream behind a savepoint (the
 * transaction commits every 200 000 rows or 2 s, and at close), the statement for the next batch opened as soon
 * as one is written;
 * when the server reports anything (a warning, a skipped duplicate, an error) the batch is rolled back, rows
 * named by line in the warnings are rejected with the server's message, and the rest go in again with
 * multi-row INSERTs that are split in halves around each failing row, so one bad row never costs its
 * neighbours and no value is changed without a trace. Without `local_infile`, batches take the INSERT path
 * directly. Non-transactional engines (MyISAM) cannot roll back: their rows are inserted one at a time.
 */
class MysqlTableWriter implements TableWriter {
  readonly #s: MysqlSession
  readonly #table: TableSchema
  /** The columns of the key that names a rejected row, found once per table. */
  readonly #keyIdx: number[]
  readonly #codecs: ColumnCodec[]
  readonly #release: () => void
  #loadData: boolean
  readonly #transactional: boolean
  readonly #loadSql: string
  readonly #insertHead: string
  readonly #placeholders: string
  readonly #utf8mb3: boolean[]
  /** Per codec: the length a key column was narrowed to so its key fits InnoDB's 3072 bytes, and that key. */
  readonly #narrowed: ({ length: number; key: string } | undefined)[]
  readonly #maxRowBytes: number
  #inTransaction = false
  #txStarted = 0
  #pendingRows = 0
  /** The next batch's LOAD DATA, opened behind its savepoint as soon as the previous batch was written. */
  #next: OpenLoad | undefined

  constructor(
    session: MysqlSession,
    table: TableSchema,
    options: { loadData: boolean; transactional: boolean; ddlTypes: Map<string, string>; maxPacket?: number; release: () => void },
  ) {
    this.#s = session
    // a row larger than one packet makes the server drop the connection: such rows are refused before sending
    this.#maxRowBytes = (options.maxPacket ?? 16 << 20) - 4096
    this.#table = table
    this.#keyIdx = keyColumnIndexes(table)
    this.#release = options.release
    this.#loadData = options.loadData
    this.#transactional = options.transactional
    // a generated column the target computes is not written; one from another engine is a plain column here
    this.#codecs = table.columns.flatMap((c, i) => (mysqlSql.generatedClause(c) !== undefined ? [] : [codecFor(c, i, options.ddlTypes.get(c.name) ?? '')]))
    this.#utf8mb3 = this.#codecs.map((c) => TEXTUAL.has(c.column.type.kind) && mysqlTypes.isUtf8mb3(c.column))
    this.#narrowed = this.#codecs.map((c) => narrowedKeyColumn(table, c.column, options.ddlTypes.get(c.column.name) ?? ''))
    const targets: string[] = []
    const sets: string[] = []
    this.#codecs.forEach((c, i) => {
      if (c.via) {
        targets.push(`@v${i}`)
        sets.push(`${q(c.column.name)} = ${c.via === 'unhex' ? `UNHEX(@v${i})` : `CAST(@v${i} AS UNSIGNED)`}`)
      } else targets.push(q(c.column.name))
    })
    this.#loadSql =
      `LOAD DATA LOCAL INFILE 'dbferry.tsv' INTO TABLE ${q(table.name)} CHARACTER SET utf8mb4 ` +
      `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
      (sets.length > 0 ? ` SET ${sets.join(', ')}` : '')
    this.#insertHead = `INSERT INTO ${q(table.name)} (${this.#codecs.map((c) => q(c.column.name)).join(', ')}) VALUES `
    this.#placeholders = `(${this.#codecs.map((c) => (c.via === 'bit' ? 'CAST(? AS UNSIGNED)' : '?')).join(', ')})`
  }

  #reject(row: Row, code: RowFailureKind, message: string, column?: string, value?: unknown): RowError {
    const opts: ConstructorParameters<typeof RowError>[2] = { table: this.#table.name, key: rowKey(this.#table, row, this.#keyIdx), row }
    if (column !== undefined) opts.column = column
    if (value !== undefined) opts.value = value
    return new RowError(code, message, opts)
  }

  /** Checks what the server would refuse or change before any row is sent: astral characters for utf8mb3 columns. */
  #precheck(row: Row): RowError | undefined {
    // sizes as sent: bytes go as hex (two characters a byte), text as UTF-8 (at most three bytes a UTF-16 unit)
    let size = 0
    for (const v of row) {
      if (typeof v === 'string') size += v.length * 3
      else if (v instanceof Uint8Array) size += v.byteLength * 2
      else size += 24
    }
    if (size > this.#maxRowBytes) {
      const exact = row.reduce<number>((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : v instanceof Uint8Array ? v.byteLength * 2 : 24), 0)
      if (exact > this.#maxRowBytes) {
        return this.#reject(
          row,
          'target_rejected',
          `${this.#table.name}: the row is about ${exact} bytes as sent, more than the server's max_allowed_packet (${this.#maxRowBytes + 4096}); raise max_allowed_packet on the server to load it`,
        )
      }
    }
    for (let i = 0; i < this.#codecs.length; i++) {
      const narrowed = this.#narrowed[i]
      if (narrowed !== undefined) {
        const c = this.#codecs[i]!
        const v = row[c.index]
        const length = typeof v === 'string' ? (v.length > narrowed.length ? [...v].length : v.length) : v instanceof Uint8Array ? v.byteLength : 0
        if (length > narrowed.length) {
          return this.#reject(
            row,
            'truncation',
            `${this.#table.name}.${c.column.name}: the value is ${length} ${c.column.type.kind === 'bytes' ? 'bytes' : 'characters'} long, but the column holds ${narrowed.length}: it is part of ${narrowed.key}, and InnoDB keys hold at most 3072 bytes; the row is not copied rather than cut, so the key stays exact`,
            c.column.name,
            v,
          )
        }
      }
      if (!this.#utf8mb3[i]) continue
      const c = this.#codecs[i]!
      const v = row[c.index]
      if (typeof v === 'string' && ASTRAL_RE.test(v)) {
        return this.#reject(
          row,
          'invalid_encoding',
          `${this.#table.name}.${c.column.name}: text needs 4-byte UTF-8 (e.g. emoji) but the column's character set is ${c.column.charset ?? 'utf8mb3'} (3 bytes); convert the column to utf8mb4`,
          c.column.name,
          v,
        )
      }
    }
    return undefined
  }

  #describeDuplicate(message: string, name: string | undefined): string {
    if (name === undefined) return message
    const key = name === 'PRIMARY' ? this.#table.primaryKey : this.#table.uniques.find((u) => u.name === name)
    return key ? `${message} (collides on ${name === 'PRIMARY' ? 'the primary key' : `unique key ${name}`} (${key.columns.join(', ')}) with an earlier row)` : message
  }

  /** A row the server refused (an error) or changed (a warning), with the kind and fields classify found. */
  #rowError(row: Row, problem: ClassifiedError, note = ''): RowError {
    const { kind, driver } = problem
    const column = driver.column
    const idx = column === undefined ? -1 : this.#table.columns.findIndex((c) => c.name === column)
    // the row's position in the statement is no use to the reader of the rejection
    const message = driver.message.replace(/ at row \d+$/, '')
    const text = kind === 'duplicate_key' ? this.#describeDuplicate(message, driver.constraint) : message
    const opts: ConstructorParameters<typeof RowError>[2] = { table: this.#table.name, key: rowKey(this.#table, row, this.#keyIdx), row, driver }
    let named = ''
    if (idx >= 0) {
      opts.column = column
      opts.value = row[idx]
      // the server names the column, not the value ("Data truncated for column 'd'"): the journal needs both
      named = valueNote(text, row[idx])
    }
    return new RowError(rowKind(kind), `${this.#table.name}: ${text}${named}${note}`, opts)
  }

  /**
   * An error that stops the table: a lost connection becomes a resumable `ConnectionError` with the driver's
   * fields; any other error passes unchanged.
   */
  #stopping(error: unknown): unknown {
    const c = mysqlErrors.classify(error)
    if (!c?.connectionLost) return error
    return new ConnectionError(`lost the connection while copying ${this.#table.name}: ${c.driver.message} (run again with --resume to continue)`, {
      table: this.#table.name,
      cause: error,
      driver: c.driver,
    })
  }

  async write(batch: Row[]): Promise<WriteResult> {
    try {
      return await this.#write(batch)
    } catch (error) {
      throw this.#stopping(error)
    }
  }

  async #write(batch: Row[]): Promise<WriteResult> {
    const rejected: RowError[] = []
    const good: Row[] = []
    for (const r of batch) {
      const e = this.#precheck(r)
      if (e) rejected.push(e)
      else good.push(r)
    }
    if (good.length === 0) return { written: 0, rejected, committed: this.#pendingRows === 0 }
    if (!this.#transactional) {
      const written = await this.#insertOneByOne(good, rejected)
      return { written, rejected, committed: true }
    }
    // one transaction spans several batches (each behind a savepoint) and commits every COMMIT_ROWS rows or
    // COMMIT_MS: a commit per small batch would cost one log flush each
    const opened = this.#takeNext()
    if (!opened) {
      if (!this.#inTransaction) await this.#begin()
      await this.#s.query('SAVEPOINT dbferry_batch')
    }
    let written = 0
    try {
      let rest = good
      if (this.#loadData) {
        let header: Header | undefined
        try {
          header = await this.#load(good, opened)
        } catch (error) {
          await this.#s.query('ROLLBACK TO SAVEPOINT dbferry_batch')
          const errno = (error as { errno?: number }).errno ?? 0
          if (INFILE_DISABLED.has(errno)) this.#loadData = false
          else if (!ROW_LEVEL_ERRORS.has(errno)) throw error
        }
        if (header && header.affectedRows === good.length && header.warningStatus === 0) {
          written = good.length
          rest = []
        } else if (header) {
          const warnings = await rows<MysqlWarning>(this.#s, 'SHOW WARNINGS')
          await this.#s.query('ROLLBACK TO SAVEPOINT dbferry_batch')
          // warnings that name their line reject that row with the server's message; the others (duplicates)
          // are found again by the INSERT path below
          const byLine = new Map<number, MysqlWarning>()
          for (const w of warnings) {
            const m = / at row (\d+)$/.exec(w.Message)
            if (m && !byLine.has(Number(m[1]))) byLine.set(Number(m[1]), w)
          }
          rest = []
          good.forEach((r, i) => {
            const w = byLine.get(i + 1)
            if (w) rejected.push(this.#rowError(r, mysqlErrors.classifyWarning(w)))
            else rest.push(r)
          })
        }
      }
      if (rest.length > 0) written += await this.#insertSplitting(rest, rejected)
    } catch (error) {
      // a statement opened ahead that never got its text is ended (empty) so the session is usable again
      if (opened) await this.#endOpened(opened).catch(() => {})
      // the batch in flight is undone; earlier batches of this transaction stay (they were reported written)
      await this.#s.query('ROLLBACK TO SAVEPOINT dbferry_batch').catch(() => {})
      throw error
    }
    this.#pendingRows += written
    if (this.#pendingRows >= COMMIT_ROWS || Date.now() - this.#txStarted >= COMMIT_MS) await this.#commit()
    // the engine checkpoints only at commits, so a crash never leaves a checkpoint ahead of the target
    const committed = !this.#inTransaction
    if (this.#loadData) await this.#openNext()
    return { written, rejected, committed }
  }

  /**
   * Opens the next batch's LOAD DATA now, behind its savepoint, and waits until the server asks for its text.
   * The next batch's text then goes to the socket as it is encoded, and the server parses it while the reader
   * works on the batch after (a synchronous reader such as SQLite's holds the event loop, so a statement sent
   * only then would wait for it before the server got a row).
   */
  async #openNext(): Promise<void> {
    if (!this.#inTransaction) await this.#begin()
    await this.#s.query('SAVEPOINT dbferry_batch')
    let asked!: () => void
    const ready = new Promise<void>((resolve) => (asked = resolve))
    const load = this.#openLoad(asked)
    await Promise.race([ready, load.done.then(noop, noop)])
    load.timer = setTimeout(() => {
      if (this.#next !== load) return
      this.#next = undefined
      // an error here is the session's: the next statement on it reports it
      this.#endOpened(load).catch(noop)
    }, NEXT_IDLE_MS)
    load.timer.unref()
    this.#next = load
  }

  /** The LOAD DATA opened ahead, now this batch's (undefined when none is open). */
  #takeNext(): OpenLoad | undefined {
    const load = this.#next
    this.#next = undefined
    if (load?.timer) clearTimeout(load.timer)
    return load
  }

  /** Ends a LOAD DATA opened ahead without rows; resolves when the server has answered it. */
  async #endOpened(load: OpenLoad): Promise<void> {
    load.stream.finish()
    await load.done
  }

  /** Sends a LOAD DATA statement; its text follows through the returned stream. */
  #openLoad(asked?: () => void): OpenLoad {
    const stream = new LoadStream()
    const done = this.#s
      .query({
        sql: this.#loadSql,
        infileStreamFactory: () => {
          asked?.()
          return stream
        },
      })
      .then(([header]) => header as Header)
    // awaited where the statement's rows are; a failure meanwhile is no unhandled rejection
    done.catch(noop)
    return { stream, done }
  }

  /**
   * Loads a batch as LOAD DATA text, through the statement opened ahead when there is one. Rows are encoded into
   * chunk buffers, and full chunks go to the stream at once; a large value (a long text, a blob)
   * is kept as it is and its text made in pieces while the stream is read, which the driver pauses whenever the
   * socket holds more than it takes: two 50 MB values are held once, not as escaped text, hex and queued packets.
   */
  async #load(batch: Row[], opened?: OpenLoad): Promise<Header> {
    const load = opened ?? this.#openLoad()
    try {
      this.#encode(batch, load.stream)
    } finally {
      load.stream.finish()
    }
    return await load.done
  }

  /**
   * Writes a batch's LOAD DATA text into `out`, field by field into chunk buffers (no line or batch strings to
   * build and collect); a large value goes as its pieces, made when the stream gets to them.
   */
  #encode(batch: Row[], out: LoadStream): void {
    const codecs = this.#codecs
    const last = codecs.length - 1
    let buf = Buffer.allocUnsafe(TEXT_CHUNK)
    let at = 0
    // room for `n` more bytes: a full chunk goes to the stream and a new one starts (larger for a long field)
    const room = (n: number) => {
      if (at + n <= buf.length) return
      if (at > 0) out.add(buf.subarray(0, at))
      buf = Buffer.allocUnsafe(Math.max(TEXT_CHUNK, n))
      at = 0
    }
    for (let r = 0; r < batch.length; r++) {
      const row = batch[r]!
      for (let i = 0; i <= last; i++) {
        const c = codecs[i]!
        const v = row[c.index]
        // each field is followed by a tab, the last by the line's end; every room() below counts that byte
        if (v === null || v === undefined) {
          room(3)
          at += buf.write('\\N', at, 'latin1')
        } else if (typeof v === 'number' && c.plain) {
          const text = String(v)
          room(text.length + 1)
          at += buf.write(text, at, 'latin1')
        } else if ((typeof v === 'string' && v.length > LARGE_VALUE) || (v instanceof Uint8Array && v.byteLength > LARGE_VALUE)) {
          if (at > 0) out.add(buf.subarray(0, at))
          buf = buf.subarray(at)
          at = 0
          out.add(() => c.pieces(v))
          room(1)
        } else if (typeof v === 'string' && c.plain) {
          // escaped text is at most 3 bytes of UTF-8 a UTF-16 unit (an escape is 2 bytes for 1, a surrogate pair 4 for 2)
          room(3 * v.length + 1)
          at = writeEscaped(buf, v, at)
        } else {
          const text = c.field(v)
          room(3 * text.length + 1)
          at += buf.write(text, at)
        }
        buf[at++] = i === last ? 10 : 9
      }
    }
    if (at > 0) out.add(buf.subarray(0, at))
  }

  #params(row: Row): unknown[] {
    return this.#codecs.map((c) => {
      const v = row[c.index]
      return v === null || v === undefined ? null : c.param(v)
    })
  }

  /** Inserts rows in multi-row statements; a failing or warning statement is undone and split until each bad row stands alone. */
  async #insertSplitting(batch: Row[], rejected: RowError[]): Promise<number> {
    let written = 0
    const perChunk = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, this.#codecs.length)))
    let start = 0
    while (start < batch.length) {
      let end = Math.min(batch.length, start + perChunk)
      let bytes = 0
      for (let i = start; i < end; i++) {
        bytes += approxRowBytes(batch[i]!)
        if (bytes > MAX_INSERT_BYTES && i > start) {
          end = i
          break
        }
      }
      written += await this.#insertChunk(batch.slice(start, end), rejected)
      start = end
    }
    return written
  }

  async #insertChunk(chunk: Row[], rejected: RowError[]): Promise<number> {
    if (chunk.length === 0) return 0
    await this.#s.query('SAVEPOINT dbferry_chunk')
    let problem: ClassifiedError | undefined
    try {
      const sql = this.#insertHead + new Array(chunk.length).fill(this.#placeholders).join(', ')
      const [h] = await this.#s.query(sql, chunk.flatMap((r) => this.#params(r)))
      const header = h as Header
      if (header.warningStatus > 0) {
        const w = (await rows<MysqlWarning>(this.#s, 'SHOW WARNINGS'))[0]
        problem = mysqlErrors.classifyWarning(w ?? { Level: 'Warning', Code: 0, Message: 'the server reported a warning' })
      }
    } catch (error) {
      const errno = (error as { errno?: number }).errno ?? 0
      if (!ROW_LEVEL_ERRORS.has(errno)) throw error
      problem = mysqlErrors.classify(error)!
    }
    if (!problem) {
      await this.#s.query('RELEASE SAVEPOINT dbferry_chunk')
      return chunk.length
    }
    await this.#s.query('ROLLBACK TO SAVEPOINT dbferry_chunk')
    if (chunk.length === 1) {
      rejected.push(this.#rowError(chunk[0]!, problem))
      return 0
    }
    const mid = Math.ceil(chunk.length / 2)
    return (await this.#insertChunk(chunk.slice(0, mid), rejected)) + (await this.#insertChunk(chunk.slice(mid), rejected))
  }

  async #insertOneByOne(batch: Row[], rejected: RowError[]): Promise<number> {
    let written = 0
    const sql = this.#insertHead + this.#placeholders
    for (const row of batch) {
      try {
        const [h] = await this.#s.query(sql, this.#params(row))
        if ((h as Header).warningStatus > 0) {
          const w = (await rows<MysqlWarning>(this.#s, 'SHOW WARNINGS'))[0]
          // a non-transactional engine keeps the row as the server changed it: say so in the rejection
          const problem = mysqlErrors.classifyWarning(w ?? { Level: 'Warning', Code: 0, Message: 'warning' })
          rejected.push(this.#rowError(row, problem, ' (the engine cannot roll back: the row was stored as the server changed it)'))
          continue
        }
        written++
      } catch (error) {
        const errno = (error as { errno?: number }).errno ?? 0
        if (!ROW_LEVEL_ERRORS.has(errno)) throw error
        rejected.push(this.#rowError(row, mysqlErrors.classify(error)!))
      }
    }
    return written
  }

  async #begin(): Promise<void> {
    await this.#s.query('START TRANSACTION')
    this.#inTransaction = true
    this.#txStarted = Date.now()
    this.#pendingRows = 0
  }
  async #commit(): Promise<void> {
    await this.#s.query('COMMIT')
    this.#inTransaction = false
    this.#pendingRows = 0
  }
  async #rollback(): Promise<void> {
    if (!this.#inTransaction) return
    this.#inTransaction = false
    await this.#s.query('ROLLBACK')
  }

  async close(): Promise<void> {
    try {
      const opened = this.#takeNext()
      if (opened) await this.#endOpened(opened)
      if (this.#inTransaction) await this.#commit()
    } catch (error) {
      throw this.#stopping(error)
    } finally {
      this.#release()
    }
  }

  /** The batch in flight was already undone by `write`; the batches before it were reported written, so they are committed. */
  async abort(): Promise<void> {
    try {
      const opened = this.#takeNext()
      if (opened) await this.#endOpened(opened).catch(noop)
      if (this.#inTransaction) await this.#commit().catch(() => this.#rollback())
    } finally {
      this.#release()
    }
  }
}

/**
 * A foreign key's actions as MySQL/MariaDB accepts them: `SET NULL` on a column that is NOT NULL (legal in
 * PostgreSQL, where the delete or update then fails on the NOT NULL) becomes `RESTRICT`, which refuses the same
 * changes. `changes` says what was replaced, for the report.
 */
function legalActions(table: TableSchema, fk: ForeignKeySchema): { fk: ForeignKeySchema; changes: string[] } {
  const notNull = fk.columns.filter((c) => {
    const col = table.columns.find((x) => x.name === c)
    return col !== undefined && (!col.nullable || table.primaryKey?.columns.includes(c) === true)
  })
  if (notNull.length === 0) return { fk, changes: [] }
  const out = { ...fk }
  const changes: string[] = []
  for (const on of ['onDelete', 'onUpdate'] as const) {
    if (!/^set null$/i.test(fk[on] ?? '')) continue
    out[on] = 'RESTRICT'
    const event = on === 'onDelete' ? 'DELETE' : 'UPDATE'
    changes.push(`ON ${event} SET NULL became ON ${event} RESTRICT (${notNull.join(', ')} ${notNull.length > 1 ? 'are' : 'is'} NOT NULL)`)
  }
  return { fk: out, changes }
}

/**
 * A key's text or bytes column that the table's DDL holds shorter than the source declares it (or unbounded
 * text in a `varchar(n)`): its length and the key, so a longer value is rejected with the reason.
 */
function narrowedKeyColumn(table: TableSchema, column: ColumnSchema, ddlType: string): { length: number; key: string } | undefined {
  if (column.type.kind !== 'text' && column.type.kind !== 'bytes') return undefined
  const m = /^var(?:char|binary)\((\d+)\)/i.exec(ddlType)
  if (!m || Number(m[1]) >= (column.type.length ?? Infinity)) return undefined
  const pk = table.primaryKey?.columns.includes(column.name) ? table.primaryKey : undefined
  const key = pk ?? table.uniques.find((u) => u.columns.includes(column.name))
  if (!key) return undefined
  return { length: Number(m[1]), key: `${pk ? 'the primary key' : `unique key ${key.name ?? ''}`.trimEnd()} (${key.columns.join(', ')})` }
}

/** Bytes of LOAD DATA text per chunk handed to the driver (a packet each): rows are encoded straight into it. */
const TEXT_CHUNK = 128 * 1024

/**
 * The LOAD DATA text of one statement as the stream the driver reads. Chunks go in as the batch is encoded and,
 * while the socket takes them, out to the server at once, so it parses the first rows while later ones are
 * still being encoded; a large value's pieces are made only when the stream is read, and when the socket is
 * full (the driver pauses the stream) encoded chunks wait here.
 */
class LoadStream extends Readable {
  readonly #queue: (Buffer | (() => Iterable<Buffer>))[] = []
  #head = 0
  #pieces: Iterator<Buffer> | undefined
  #wanting = true
  #pumping = false
  #ended = false

  constructor() {
    super({ highWaterMark: TEXT_CHUNK })
  }

  override _read(): void {
    this.#wanting = true
    this.#pump()
  }

  /** Appends text: a buffer as it is, or a large value's pieces, made when the stream gets to them. */
  add(chunk: Buffer | (() => Iterable<Buffer>)): void {
    this.#queue.push(chunk)
    this.#pump()
  }

  /** No more text: the stream ends once what was added has been read. */
  finish(): void {
    this.#ended = true
    this.#pump()
  }

  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#wanting) {
        if (this.#pieces) {
          const n = this.#pieces.next()
          if (!n.done) {
            this.#wanting = this.push(n.value)
            continue
          }
          this.#pieces = undefined
        }
        if (this.#head === this.#queue.length) {
          this.#queue.length = 0
          this.#head = 0
          if (this.#ended) {
            this.#wanting = false
            this.push(null)
          }
          return
        }
        const next = this.#queue[this.#head]!
        this.#queue[this.#head++] = EMPTY
        if (Buffer.isBuffer(next)) this.#wanting = this.push(next)
        else this.#pieces = next()[Symbol.iterator]()
      }
    } finally {
      this.#pumping = false
    }
  }
}
const EMPTY = Buffer.alloc(0)

/** A LOAD DATA statement sent to the server, whose text is still to come. */
interface OpenLoad {
  stream: LoadStream
  /** The statement's result header, once its text has ended. */
  done: Promise<Header>
  /** Ends an idle open statement (see {@link NEXT_IDLE_MS}). */
  timer?: NodeJS.Timeout
}

/**
 * Longest the next batch's LOAD DATA waits open for its rows before it is ended empty: the server gives up on a
 * LOCAL INFILE whose client sends nothing for `net_read_timeout` (30 s by default).
 */
const NEXT_IDLE_MS = 5_000

function approxRowBytes(row: Row): number {
  let n = 0
  for (const v of row) {
    if (typeof v === 'string') n += v.length * 2 + 4
    else if (v instanceof Uint8Array) n += v.byteLength * 2 + 4
    else n += 12
  }
  return n
}

/** The DDL types of a table's columns as the writer created them (from `information_schema`). */
async function columnTypes(s: MysqlSession, table: string): Promise<{ types: Map<string, string>; engine: string | undefined }> {
  const cols = await rows<{ COLUMN_NAME: string; COLUMN_TYPE: string }>(
    s,
    'SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
    [table],
  )
  const t = await rows<{ ENGINE: string | null }>(s, 'SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table])
  return { types: new Map(cols.map((c) => [c.COLUMN_NAME, c.COLUMN_TYPE])), engine: t[0]?.ENGINE ?? undefined }
}

/** What {@link openMysqlWriter} needs to know of the server, and how to give the connection back. */
export interface MysqlWriterOptions {
  /** The server allows `LOAD DATA LOCAL INFILE` (`@@local_infile`); false: multi-row INSERTs only. */
  loadData: boolean
  /** The server's `max_allowed_packet`; a row larger than that is rejected before it is sent. Default 16 MiB. */
  maxPacket?: number
  /** Gives the session back once the writer is closed or aborted (or fails to open). */
  release(): void
}

/**
 * Opens the bulk path for one existing table on `session`: LOAD DATA with the INSERT fallback on InnoDB, rows
 * one at a time on engines that cannot roll back (see {@link MysqlTableWriter}). Values go to the column types
 * the table has on the server. Throws a `SchemaError` when the table does not exist.
 */
export async function openMysqlWriter(session: MysqlSession, table: TableSchema, options: MysqlWriterOptions): Promise<TableWriter> {
  try {
    const { types, engine } = await columnTypes(session, table.name)
    if (types.size === 0) throw new SchemaError(`target table ${table.name} does not exist`, { table: table.name })
    return new MysqlTableWriter(session, table, {
      loadData: options.loadData,
      transactional: engine === undefined || /^innodb$/i.test(engine),
      ddlTypes: types,
      maxPacket: options.maxPacket,
      release: options.release,
    })
  } catch (error) {
    options.release()
    throw error
  }
}

/** A lost connection is the run's failure, never one constraint's: finalize passes it on (resume finishes the step). */
function passOnLost(error: unknown): void {
  if (mysqlErrors.classify(error)?.connectionLost) throw error
}

/** A table's secondary and unique indexes as the server has them: name (lower case) → uniqueness and columns in order. */
async function existingIndexes(s: MysqlSession, table: string): Promise<Map<string, { unique: boolean; columns: string[] }>> {
  const list = await rows<{ INDEX_NAME: string; NON_UNIQUE: number | string; COLUMN_NAME: string | null }>(
    s,
    'SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [table],
  )
  const out = new Map<string, { unique: boolean; columns: string[] }>()
  for (const r of list) {
    const e = out.get(r.INDEX_NAME.toLowerCase()) ?? { unique: Number(r.NON_UNIQUE) === 0, columns: [] }
    if (r.COLUMN_NAME !== null) e.columns.push(r.COLUMN_NAME)
    out.set(r.INDEX_NAME.toLowerCase(), e)
  }
  return out
}

/** A table's foreign keys as the server has them: name (lower case) → parent table and columns in order. */
async function existingForeignKeys(s: MysqlSession, table: string): Promise<Map<string, { refTable: string; columns: string[] }>> {
  const list = await rows<{ CONSTRAINT_NAME: string; REFERENCED_TABLE_NAME: string; COLUMN_NAME: string }>(
    s,
    `SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION`,
    [table],
  )
  const out = new Map<string, { refTable: string; columns: string[] }>()
  for (const r of list) {
    const e = out.get(r.CONSTRAINT_NAME.toLowerCase()) ?? { refTable: r.REFERENCED_TABLE_NAME, columns: [] }
    e.columns.push(r.COLUMN_NAME)
    out.set(r.CONSTRAINT_NAME.toLowerCase(), e)
  }
  return out
}

const sameColumns = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i]!.toLowerCase())

/**
 * Secondary indexes, foreign keys and auto_increment positions, after the data. A foreign key whose child rows
 * point nowhere is created with `foreign_key_checks = 0` and reported `unvalidated` with the orphan count.
 * Idempotent, so a resumed run can finish an interrupted one: an index of the same name, uniqueness and columns,
 * or a foreign key of the same name (or any name) on the same columns to the same table, is recognised rather
 * than created again; auto_increment positions are set again. Throws the driver's
 * error when the connection is lost (it is not a constraint's problem).
 */
export async function finalizeMysqlTarget(s: MysqlSession, schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
  const problems: ConstraintProblem[] = []
  const engines = new Map(
    (await rows<{ TABLE_NAME: string; ENGINE: string | null; AUTO_INCREMENT: number | string | null }>(
      s,
      'SELECT TABLE_NAME, ENGINE, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()',
    )).map((r) => [r.TABLE_NAME.toLowerCase(), r]),
  )
  for (const t of schema.tables) {
    if (options.signal?.aborted) break
    const { types } = await columnTypes(s, t.name)
    const existing = await existingIndexes(s, t.name)
    // secondary indexes, all in one ALTER so the table is rebuilt once
    const adds: { idx: (typeof t.indexes)[number]; sql: string }[] = []
    for (const idx of t.indexes) {
      const there = existing.get(idx.name.toLowerCase())
      if (there) {
        if (there.unique !== idx.unique || !sameColumns(there.columns, idx.columns)) {
          problems.push({
            table: t.name,
            name: idx.name,
            kind: idx.unique ? 'unique' : 'index',
            outcome: 'failed',
            message: `an index named ${idx.name} with other columns or uniqueness is already on ${t.name} (${there.columns.join(', ')}); left as it is`,
          })
        }
        continue
      }
      if (idx.expression !== undefined || idx.where !== undefined) {
        if (idx.dialect !== 'mysql' || (idx.expression !== 'FULLTEXT' && idx.expression !== 'SPATIAL') || idx.where !== undefined) continue
        adds.push({ idx, sql: `ADD ${idx.expression} INDEX ${q(idx.name)} (${idx.columns.map(q).join(', ')})` })
        continue
      }
      const parts = idx.columns.map((c, i) => {
        const type = types.get(c) ?? ''
        const length = idx.lengths?.[i] ?? (/(text|blob)$/i.test(type) ? 255 : undefined)
        return length === undefined ? q(c) : `${q(c)}(${length})`
      })
      adds.push({ idx, sql: `ADD ${idx.unique ? 'UNIQUE ' : ''}INDEX ${q(idx.name)} (${parts.join(', ')})` })
    }
    if (adds.length > 0) {
      try {
        await s.query(`ALTER TABLE ${q(t.name)} ${adds.map((a) => a.sql).join(', ')}`)
      } catch (error) {
        passOnLost(error)
        // one at a time, to say which failed
        for (const { idx, sql } of adds) {
          try {
            await s.query(`ALTER TABLE ${q(t.name)} ${sql}`)
          } catch (error) {
            passOnLost(error)
            problems.push({ table: t.name, name: idx.name, kind: idx.unique ? 'unique' : 'index', outcome: 'failed', message: (error as Error).message })
          }
        }
      }
    }
    // auto_increment continues past the largest value loaded
    const auto = t.columns.find((c) => c.autoIncrement && /int/i.test(types.get(c.name) ?? ''))
    if (auto) {
      try {
        const [r] = await rows<{ m: string | null }>(s, `SELECT CAST(MAX(${q(auto.name)}) AS CHAR) AS m FROM ${q(t.name)}`)
        const current = engines.get(t.name.toLowerCase())?.AUTO_INCREMENT
        if (r?.m != null && (current == null || BigInt(String(current)) <= BigInt(r.m))) {
          await s.query(`ALTER TABLE ${q(t.name)} AUTO_INCREMENT = ${(BigInt(r.m) + 1n).toString()}`)
        }
      } catch (error) {
        passOnLost(error)
        problems.push({ table: t.name, name: auto.name, kind: 'sequence', outcome: 'failed', message: (error as Error).message })
      }
    }
  }
  for (const t of schema.tables) {
    const used = new Set<string>()
    const keys = t.foreignKeys.length > 0 ? await existingForeignKeys(s, t.name) : new Map<string, { refTable: string; columns: string[] }>()
    for (const fk of t.foreignKeys) {
      if (options.signal?.aborted) break
      const name = mysqlSql.keyName(t, fk.name ?? `${t.name}_${fk.columns.join('_')}_fkey`, used)
      const engine = engines.get(t.name.toLowerCase())?.ENGINE ?? 'InnoDB'
      if (!/^innodb$/i.test(engine)) {
        problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: `${t.name} uses the ${engine} engine, which does not keep foreign keys (rewrite it to InnoDB)` })
        continue
      }
      const named = keys.get(name.toLowerCase())
      const same = (k: { refTable: string; columns: string[] }) => k.refTable.toLowerCase() === fk.refTable.toLowerCase() && sameColumns(k.columns, fk.columns)
      if (named && !same(named)) {
        problems.push({
          table: t.name,
          name,
          kind: 'foreign_key',
          outcome: 'failed',
          message: `a foreign key named ${name} on other columns or to another table is already on ${t.name} (${named.columns.join(', ')} → ${named.refTable}); left as it is`,
        })
        continue
      }
      // the key is there already (truncate/append, or a resumed finish): recognised, nothing to do
      if (named !== undefined || [...keys.values()].some(same)) continue
      const match = fk.columns.map((c, i) => `p.${q(fk.refColumns[i]!)} = c.${q(c)}`).join(' AND ')
      const notNull = fk.columns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')
      let orphans = 0
      try {
        const [r] = await rows<{ n: number | string }>(
          s,
          `SELECT COUNT(*) AS n FROM ${q(t.name)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${q(fk.refTable)} p WHERE ${match})`,
        )
        orphans = Number(r?.n ?? 0)
      } catch (error) {
        passOnLost(error)
        orphans = 0
      }
      const { fk: legal, changes } = legalActions(t, fk)
      const sql = mysqlSql.addForeignKey(t, { ...legal, name })
      try {
        if (orphans > 0) await s.query('SET foreign_key_checks = 0')
        await s.query(sql)
        if (changes.length > 0) {
          problems.push({
            table: t.name,
            name,
            kind: 'foreign_key',
            outcome: 'changed',
            message: `${changes.join('; ')}: MySQL/MariaDB refuses SET NULL on a NOT NULL column; the key was created with RESTRICT, which refuses the same changes as the source's key, where they fail on the NOT NULL`,
          })
        }
        if (orphans > 0) {
          problems.push({
            table: t.name,
            name,
            kind: 'foreign_key',
            outcome: 'unvalidated',
            orphans,
            message: `${orphans} row(s) of ${t.name} point at no row of ${fk.refTable}; the key was created without checking them`,
          })
        }
      } catch (error) {
        passOnLost(error)
        problems.push({ table: t.name, name, kind: 'foreign_key', outcome: 'failed', message: (error as Error).message })
      } finally {
        if (orphans > 0) await s.query('SET foreign_key_checks = 1')
      }
    }
  }
  return problems
}
