import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  CsvLoad,
  CsvText,
  Dialect,
  DialectCapabilities,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SegmentHashes,
  SegmentRequest,
  SnapshotInfo,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { AbortError, UsageError } from '../../src/errors.js'
import { toDbferryError } from './postgres-errors.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, LogicalType, TableSchema } from '../../src/schema/types.js'
import { openSession, type PostgresTarget, type Session } from './postgres-connection.js'
import { loadCsvText } from './postgres-csv-load.js'
import { finalizeTarget, prepareTarget } from './postgres-ddl.js'
import { introspectPostgres } from './postgres-introspector.js'
import { quoteIdent, readCopy, readKeyset, readSegments, segmentHashes } from './postgres-reader.js'
import { postgresNativeType } from './postgres-types.js'
import { openCopyWriter } from './postgres-writer.js'

/** What PostgreSQL can do, as the core sees it. */
export const POSTGRES_CAPABILITIES: DialectCapabilities = Object.freeze({
  transactionalDdl: true,
  bulkPath: 'copy',
  maxIdentifierLength: 63,
  identifierLengthUnit: 'bytes',
  schemas: true,
  enforcesForeignKeys: true,
  unvalidatedForeignKeys: true,
  textHoldsNul: false,
  floatHoldsNonFinite: true,
  maxTimestampPrecision: 6,
  concurrentSnapshotReads: false,
  storesAnyValue: false,
  loadsCsv: true,
})

function wrap(error: unknown, what: string, description: string): Error {
  return toDbferryError(error, `${what} on ${description}`)
}

/** An open PostgreSQL session used as a source, a target or both. */
export class PostgresConnection implements Connection {
  readonly dialect: Dialect
  readonly description: string
  /** The schema (namespace) this connection reads and writes. */
  readonly schema: string
  #session: Session
  #inTransaction = false
  #closed = false

  constructor(dialect: Dialect, session: Session) {
    this.dialect = dialect
    this.#session = session
    this.schema = session.schema
    this.description = session.description
  }

  /** The `pg` client, for callers that run their own queries on the same session. */
  get client(): Session['client'] {
    return this.#session.client
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    try {
      return await introspectPostgres(this.#session.client, this.schema, options.tables)
    } catch (error) {
      throw wrap(error, 'reading the schema', this.description)
    }
  }

  async snapshot(): Promise<SnapshotInfo> {
    if (!this.#inTransaction) {
      try {
        await this.#session.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      } catch (error) {
        throw wrap(error, 'starting a snapshot', this.description)
      }
      this.#inTransaction = true
    }
    return { guarantee: 'REPEATABLE READ READ ONLY' }
  }

  async count(table: TableSchema): Promise<number> {
    try {
      const r = await this.#session.client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(this.schema)}.${quoteIdent(table.name)}`)
      return Number(r.rows[0]?.n ?? 0)
    } catch (error) {
      throw wrap(error, `counting ${table.name}`, this.description)
    }
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const keys = (table.primaryKey?.columns ?? []).map(quoteIdent)
    if (keys.length === 0) return { rows }
    try {
      // text renderings: the same server renders the same key the same way in both runs
      const sql = `SELECT ${keys.map((k) => `${k}::text`).join(', ')} FROM ${quoteIdent(this.schema)}.${quoteIdent(table.name)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')} LIMIT 1`
      const r = await this.#session.client.query({ text: sql, rowMode: 'array' })
      const last = r.rows[0] as unknown[] | undefined
      return last ? { rows, maxKey: stateJson(last) } : { rows }
    } catch (error) {
      throw wrap(error, `reading the largest key of ${table.name}`, this.description)
    }
  }

  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    const session = { ...this.#session, inTransaction: () => this.#inTransaction }
    return options.after && options.after.length > 0
      ? readKeyset(session, table, options, this.description)
      : readCopy(session, table, options, this.description)
  }

  /** Verify's engine-side hashing: per-segment sums of row hashes computed by the server (see `segmentHashSql`). */
  segmentHashes(table: TableSchema, request: SegmentRequest): Promise<SegmentHashes | undefined> {
    return segmentHashes({ ...this.#session, inTransaction: () => this.#inTransaction }, table, request, this.description)
  }

  /** The rows of some segments of a `segmentHashes` request. */
  readSegments(table: TableSchema, request: SegmentRequest, wanted: readonly number[], options: ReadOptions): AsyncIterable<ReadBatch> {
    return readSegments({ ...this.#session, inTransaction: () => this.#inTransaction }, table, request, wanted, options, this.description)
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (this.#inTransaction) throw new UsageError('this PostgreSQL connection holds a read snapshot; open another one as the target')
    await prepareTarget(this.#session.client, this.schema, schema, options, this.description)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return openCopyWriter(this.#session.client, this.schema, table, this.description, () => this.#inTransaction)
  }

  /** Loads a table's CSV text with one `COPY … (FORMAT csv)` in a transaction left open (see `loadCsvText`). */
  async loadCsv(table: TableSchema, text: CsvText, options: { signal?: AbortSignal } = {}): Promise<CsvLoad | string> {
    if (this.#inTransaction) return 'this PostgreSQL connection holds a read snapshot'
    try {
      return await loadCsvText(this.#session.client, this.schema, table, text, options.signal)
    } catch (error) {
      // the source's own refusal and an abort pass as they are; the server's errors keep where it stopped
      const e = error as { code?: unknown; where?: unknown }
      if (error instanceof AbortError || typeof e.code !== 'string') throw error
      const wrapped = wrap(error, `loading ${table.name} as CSV`, this.description)
      if (typeof e.where === 'string') wrapped.message += ` (${e.where})`
      throw wrapped
    }
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    try {
      return await finalizeTarget(this.#session.client, this.schema, schema, options)
    } catch (error) {
      throw wrap(error, 'creating indexes and keys', this.description)
    }
  }

  async execute(sql: string): Promise<void> {
    try {
      await this.#session.client.query(sql)
    } catch (error) {
      throw wrap(error, 'running SQL', this.description)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inTransaction) {
      this.#inTransaction = false
      await this.#session.client.query('COMMIT').catch(() => {})
    }
    await this.#session.release().catch(() => {})
  }
}

/** Options of {@link postgresDialect}. */
export interface PostgresDialectOptions {
  /** Schema used when neither the URL (`?schema=`) nor `connect()` names one. Default: the server's `current_schema()`. */
  schema?: string
}

/**
 * A PostgreSQL dialect. `connect()` accepts a URL (`postgres://user:pass@host/db?schema=s`, or `postgres:` for
 * the `PG*` environment variables), `{ pool }`, `{ client }` or a `pg` client config; a pool or client
 * the caller passes in is borrowed and given back, never ended.
 */
export function postgresDialect(options: PostgresDialectOptions = {}): Dialect {
  const dialect: Dialect = {
    name: 'postgres',
    capabilities: POSTGRES_CAPABILITIES,
    nativeType(type: LogicalType): string {
      return postgresNativeType(type)
    },
    quoteIdentifier(name: string): string {
      return quoteIdent(name)
    },
    collationFolder(): undefined {
      // deterministic collations compare bytes for equality: no folding
      return undefined
    },
    async connect(target: string | object, connectOptions: ConnectOptions = {}): Promise<Connection> {
      const schema = connectOptions.schema ?? options.schema
      const session = await openSession(target as PostgresTarget, schema === undefined ? connectOptions : { ...connectOptions, schema })
      return new PostgresConnection(dialect, session)
    },
  }
  return Object.freeze(dialect)
}
