import type { Socket } from 'node:net'
import pg from 'pg'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  CsvLoad,
  CsvText,
  DatabaseIdentity,
  Dialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SegmentHashes,
  SegmentRequest,
  SnapshotInfo,
  SnapshotOptions,
  SharedSnapshot,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { AbortError, ConnectionError, SchemaError, UsageError, redact } from '../../src/errors.js'
import { KEEPALIVE_DELAY_MS, armSocketStall, resolveTimeouts, urlTimeouts, type Timeouts } from '../../src/timeouts.js'
import { isKysely, reserveKyselySession, type KyselyLike } from '../../src/kysely-session.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, TableSchema, Value } from '../../src/schema/types.js'
import { postgresErrors } from './postgres-errors.js'
import { introspectPostgres, type PostgresQueryable } from './postgres-introspector.js'
import { readPostgresTable, type ReaderSession } from './postgres-reader.js'
import { postgresSql } from './postgres-sql.js'
import { finalizePostgresTarget, openPostgresWriter, preparePostgresTarget } from './postgres-writer.js'

/**
 * Opening a session: one `pg` client with the settings every read and write relies on (ISO dates, UTC, hex
 * bytea, UTF-8), from a URL, the `PG*` environment variables, a `pg` Pool or a `pg` Client.
 */

/** The part of a `pg` Pool dbferry uses: it borrows one client and gives it back. */
export interface PoolLike {
  connect(): Promise<pg.PoolClient>
}

/**
 * What `postgres.connect()` accepts: a URL, a `pg` Pool or Client (borrowed, never ended), the same wrapped
 * with a schema, or a `pg` client config.
 */
export type PostgresTarget =
  | string
  | pg.Pool
  | pg.Client
  | { pool: PoolLike; schema?: string }
  | { client: pg.Client | pg.PoolClient; schema?: string }
  | (pg.ClientConfig & { schema?: string })

/** An open session: the client, the schema it works in, and how to let go of it. */
export interface Session {
  client: pg.Client | pg.PoolClient
  schema: string
  description: string
  /** Builds a new client to the same server (for cancelling a query), or undefined for a user's client. */
  config?: pg.ClientConfig
  /** Milliseconds without a byte either way, while rows stream, after which the session is ended (0: never). */
  stallMs: number
  release(): Promise<void>
}

/** `ConnectOptions` with the PostgreSQL dialect's timeouts (also URL parameters, see {@link postgresDialect}). */
export interface PostgresConnectOptions extends ConnectOptions {
  /** Connecting (TCP, TLS, authentication) must finish within this many milliseconds. Default 30 000. */
  connectTimeoutMs?: number
  /**
   * While rows are read or written, a server that sends and takes no byte for this many milliseconds ends the
   * run with a resumable `ConnectionError` (a frozen server, a dead network path). Default 300 000; 0: never.
   */
  stallTimeoutMs?: number
}

/** Session settings that make the text forms exact and independent of the server's defaults. */
const SETTINGS = [
  "SET DateStyle = 'ISO, YMD'",
  "SET TimeZone = 'UTC'",
  "SET IntervalStyle = 'postgres'",
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
  'SET extra_float_digits = 1',
].join('; ')

/**
 * Every commit dbferry makes is one a checkpoint confirms (a batch, a CSV table), so none may be acknowledged
 * before its WAL is flushed: after a server crash the target must still hold every batch the journal says it
 * holds, or resume finds it short and refuses. A session (or a database, a role, the server) whose default is
 * `off` gets `local`; `on` and the replication levels are kept as they are. One flush per batch of
 * thousands of rows costs little.
 */
const DURABLE_COMMIT = "SELECT CASE WHEN current_setting('synchronous_commit') = 'off' THEN set_config('synchronous_commit', 'local', false) END"

const RESET = 'RESET DateStyle; RESET TimeZone; RESET IntervalStyle; RESET bytea_output; RESET client_encoding; RESET extra_float_digits; RESET synchronous_commit'

/** Splits dbferry's parameters (`schema`, the timeouts) off a URL (pg would pass unknown parameters to the server). */
function parseUrl(url: string): { config: pg.ClientConfig; schema?: string; description: string; timeouts: Partial<Timeouts> } {
  const description = redact(url)
  // `postgres:` or `postgres://` alone: everything from PG* variables
  if (/^postgres(ql)?:(\/\/)?$/i.test(url.trim())) return { config: {}, description: `postgres (from PG* environment)`, timeouts: {} }
  let u: URL
  try {
    u = new URL(url)
  } catch (cause) {
    throw new UsageError(`not a PostgreSQL URL: ${description}`, { cause: new Error(redact(String(cause))) })
  }
  const schema = u.searchParams.get('schema') ?? u.searchParams.get('currentSchema') ?? undefined
  u.searchParams.delete('schema')
  u.searchParams.delete('currentSchema')
  const timeouts = urlTimeouts(u.searchParams, description)
  return { config: { connectionString: u.toString() }, schema, description, timeouts }
}

/** The client config with the connect timeout and TCP keepalive (a config's own settings are kept). */
function withTimeouts(config: pg.ClientConfig, timeouts: Timeouts): pg.ClientConfig {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    ...config,
  }
}

function databaseOf(config: pg.ClientConfig): string | undefined {
  if (config.database) return config.database
  if (config.connectionString) {
    try {
      return decodeURIComponent(new URL(config.connectionString).pathname.slice(1)) || undefined
    } catch {
      return undefined
    }
  }
  return process.env.PGDATABASE
}

function withDatabase(config: pg.ClientConfig, database: string): pg.ClientConfig {
  if (config.connectionString) {
    const u = new URL(config.connectionString)
    u.pathname = `/${database}`
    return { ...config, connectionString: u.toString() }
  }
  return { ...config, database }
}

const quote = postgresSql.quoteIdentifier

/** A connection failure with the driver's fields (see `postgresErrors.classify`), its message redacted. */
function connectionError(message: string, cause: unknown): ConnectionError {
  const driver = postgresErrors.classify(cause)?.driver
  return new ConnectionError(`${message}: ${redact(cause instanceof Error ? cause.message : String(cause))}`, driver ? { cause, driver } : { cause })
}

async function openClient(config: pg.ClientConfig, description: string, create: boolean): Promise<pg.Client> {
  const client = new pg.Client(config)
  client.on('error', () => {}) // surfaced by the query in flight
  try {
    await client.connect()
    return client
  } catch (error) {
    await client.end().catch(() => {})
    // pg's own "timeout expired" (or a socket's) says nothing of which limit it was
    const cause = isConnectTimeout(error, config) ? connectTimeoutError(error, config) : error
    const db = databaseOf(config)
    // 3D000: the database does not exist; a target may create it
    if (create && (cause as { code?: string }).code === '3D000' && db) {
      const admin = new pg.Client(withDatabase(config, 'postgres'))
      admin.on('error', () => {})
      try {
        await admin.connect()
        await admin.query(`CREATE DATABASE ${quote(db)}`)
      } catch (error) {
        if ((error as { code?: string }).code !== '42P04') {
          throw connectionError(`could not create database ${db} on ${description}`, error)
        }
      } finally {
        await admin.end().catch(() => {})
      }
      return openClient(config, description, false)
    }
    throw connectionError(`could not connect to ${description}`, cause)
  }
}

/** Whether connecting failed because the connect timeout ran out. */
function isConnectTimeout(error: unknown, config: pg.ClientConfig): boolean {
  return (config.connectionTimeoutMillis ?? 0) > 0 && error instanceof Error && /timeout expired|Connection terminated due to connection timeout/i.test(error.message)
}

function connectTimeoutError(error: unknown, config: pg.ClientConfig): Error {
  const ms = config.connectionTimeoutMillis ?? 0
  return Object.assign(new Error(`no answer within ${ms / 1000} s (connect timeout: connect_timeout in the URL, in seconds, or connectTimeoutMs)`), {
    code: 'ETIMEDOUT',
    cause: error,
  })
}

/** Arms the stall timeout on a session's socket while rows stream (see `armSocketStall`). Returns the disarm function. */
function armStall(session: Session): () => void {
  const socket = (session.client as unknown as { connection?: { stream?: Socket } }).connection?.stream
  return armSocketStall(socket, session.stallMs, session.description)
}

/** `source` with the stall timeout armed from the first pull to the end (or an early return). */
async function* stallGuarded<T>(session: Session, source: AsyncIterable<T>): AsyncIterable<T> {
  const disarm = armStall(session)
  try {
    yield* source
  } finally {
    disarm()
  }
}

/** `writer` with the stall timeout armed during every call that talks to the server. */
function stallGuardedWriter(session: Session, writer: TableWriter): TableWriter {
  const guarded = <A extends unknown[], R>(f: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
    const disarm = armStall(session)
    try {
      return await f(...args)
    } finally {
      disarm()
    }
  }
  const abort = writer.abort?.bind(writer)
  return { ...writer, write: guarded(writer.write.bind(writer)), close: guarded(writer.close.bind(writer)), ...(abort && { abort: guarded(abort) }) }
}

/** A caller's `pg` Pool or Client (as `dialect.accepts` recognises them) in the wrapped form `openSession` takes. */
function wrapped(target: PostgresTarget | object, dialect: Dialect): PostgresTarget | object {
  if (typeof target === 'string' || !dialect.accepts(target)) return target
  return 'totalCount' in target ? { pool: target as PoolLike } : { client: target as pg.Client }
}

/** Opens a session from any {@link PostgresTarget}. */
async function openSession(given: PostgresTarget | object, options: PostgresConnectOptions, dialect: Dialect): Promise<Session> {
  const target = wrapped(given, dialect)
  let timeouts = resolveTimeouts({}, options)
  let client: pg.Client | pg.PoolClient
  let schema = options.schema
  let description: string
  let config: pg.ClientConfig | undefined
  let release: (restore: boolean) => Promise<void>
  if (typeof target === 'string') {
    const parsed = parseUrl(target)
    schema = parsed.schema ?? schema
    description = parsed.description
    timeouts = resolveTimeouts(parsed.timeouts, options)
    config = withTimeouts(parsed.config, timeouts)
    const c = await openClient(config, description, options.create === true)
    client = c
    release = async () => {
      await c.end()
    }
  } else if ('pool' in target && target.pool) {
    const t = target as { pool: PoolLike; schema?: string }
    schema = t.schema ?? schema
    description = 'postgres (pool)'
    try {
      client = await t.pool.connect()
    } catch (cause) {
      throw connectionError('could not get a client from the pool', cause)
    }
    const pc = client as pg.PoolClient
    release = async (restore) => {
      if (restore) await pc.query(RESET).catch(() => {})
      pc.release()
    }
  } else if ('client' in target && target.client) {
    const t = target as { client: pg.Client; schema?: string }
    schema = t.schema ?? schema
    description = 'postgres (client)'
    client = t.client
    release = async (restore) => {
      if (restore) await t.client.query(RESET).catch(() => {})
    }
  } else {
    const { schema: s, ...rest } = target as pg.ClientConfig & { schema?: string }
    schema = s ?? schema
    config = withTimeouts(rest, timeouts)
    description = redact(rest.connectionString ?? `postgres://${rest.user ?? ''}@${rest.host ?? 'localhost'}/${rest.database ?? ''}`)
    const c = await openClient(config, description, options.create === true)
    client = c
    release = async () => {
      await c.end()
    }
  }
  const owned = config !== undefined
  try {
    await client.query(SETTINGS)
    await client.query(DURABLE_COMMIT)
    schema = await resolveSchema(client, schema, options.create === true, description)
  } catch (error) {
    await release(!owned).catch(() => {})
    if (error instanceof SchemaError) throw error
    throw connectionError(`could not prepare the session on ${description}`, error)
  }
  return {
    client,
    schema,
    description: schema === 'public' ? description : `${description} (schema ${schema})`,
    config,
    stallMs: timeouts.stallMs,
    release: () => release(!owned),
  }
}

/** The schema to work in: `schema` when given (created when missing and `create`), else the server's `current_schema()`. */
async function resolveSchema(client: PostgresQueryable, schema: string | undefined, create: boolean, description: string): Promise<string> {
  if (schema === undefined) {
    const r = await client.query<{ s: string }>('SELECT current_schema() AS s')
    return r.rows[0]?.s ?? 'public'
  }
  const r = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
  if (r.rows.length === 0) {
    if (!create) throw new SchemaError(`schema ${schema} does not exist on ${description}`)
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`)
  }
  return schema
}

/** Parsed by pg for {@link PostgresConnection.query}: boolean, int2, int4 and bytea; every other type stays text. */
const PARSED_OIDS = new Set([16, 17, 21, 23])
const QUERY_TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (PARSED_OIDS.has(oid) ? pg.types.getTypeParser(oid, format ?? 'text') : (text: string) => text),
} as unknown as pg.CustomTypesConfig

function wrap(error: unknown, what: string, description: string): Error {
  return postgresErrors.wrap(error, `${what} on ${description}`)
}

/** A table's exact row count. */
async function countRows(client: PostgresQueryable, schema: string, table: TableSchema, description: string): Promise<number> {
  try {
    const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${postgresSql.tableName({ name: table.name }, schema)}`)
    return Number(r.rows[0]?.n ?? 0)
  } catch (error) {
    throw wrap(error, `counting ${table.name}`, description)
  }
}

/** A source table's row count and largest primary key, for resume's check that the source did not change. */
async function tableStateOf(client: PostgresQueryable, schema: string, table: TableSchema, description: string): Promise<SourceTableState> {
  const rows = await countRows(client, schema, table, description)
  const keys = (table.primaryKey?.columns ?? []).map(postgresSql.quoteIdentifier)
  if (keys.length === 0) return { rows }
  try {
    // text renderings: the same server renders the same key the same way in both runs
    const sql = `SELECT ${keys.map((k, i) => `${k}::text AS k${i}`).join(', ')} FROM ${postgresSql.tableName({ name: table.name }, schema)} ORDER BY ${keys.map((k) => `${k} DESC`).join(', ')} LIMIT 1`
    const r = await client.query<Record<string, unknown>>(sql)
    const last = r.rows[0]
    return last ? { rows, maxKey: stateJson(keys.map((_, i) => last[`k${i}`])) } : { rows }
  } catch (error) {
    throw wrap(error, `reading the largest key of ${table.name}`, description)
  }
}

/**
 * The cluster as the server identifies itself, readable by any role: `system_identifier` (fixed at initdb,
 * shared only with physical copies of it), the port it listens on and when its postmaster started (which
 * tells a copy apart); then `current_database()` and the schema this connection reads and writes. The data
 * directory is left out: only privileged roles can read it, and two roles must see one identity.
 */
async function identityOf(client: PostgresQueryable, schema: string, description: string): Promise<DatabaseIdentity> {
  try {
    const r = await client.query<{ system: string; port: string; started: string; db: string; schema: string }>(
      `SELECT (SELECT system_identifier::text FROM pg_control_system()) AS system, current_setting('port') AS port,
        to_char(pg_postmaster_start_time() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS started,
        current_database() AS db, (SELECT nspname FROM pg_namespace WHERE nspname = $1) AS schema`,
      [schema],
    )
    const row = r.rows[0]!
    return { server: `postgres:${row.system}:${row.port}:${row.started}`, database: row.db, schema: row.schema ?? schema }
  } catch (error) {
    throw wrap(error, 'reading which server this is', description)
  }
}

/**
 * An open PostgreSQL session used as a source, a target or both. Closing it ends a session it opened, and
 * gives back (never ends) a pool's client or a client the caller passed in.
 */
export class PostgresConnection implements Connection {
  readonly dialect: Dialect
  readonly description: string
  /** The schema (namespace) this connection reads and writes. */
  readonly schema: string
  #session: Session
  #inTransaction = false
  /** The exported snapshot this connection's transaction reads, when it joined one. */
  #joined: string | undefined
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

  /**
   * Begins the REPEATABLE READ READ ONLY transaction every later read runs in. `options.join` (an id from
   * another connection's {@link exportSnapshot}) makes it read that connection's snapshot
   * (`SET TRANSACTION SNAPSHOT`): the other transaction must still be open. Default: a snapshot of its own.
   */
  async snapshot(options: SnapshotOptions = {}): Promise<SnapshotInfo> {
    if (!this.#inTransaction) {
      const client = this.#session.client
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      } catch (error) {
        throw wrap(error, 'starting a snapshot', this.description)
      }
      if (options.join !== undefined) {
        try {
          await client.query(`SET TRANSACTION SNAPSHOT '${options.join.replaceAll("'", "''")}'`)
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          throw wrap(error, `joining the exported snapshot ${options.join}`, this.description)
        }
        this.#joined = options.join
      }
      this.#inTransaction = true
    }
    return { guarantee: this.#joined === undefined ? 'REPEATABLE READ READ ONLY' : `REPEATABLE READ READ ONLY, in the shared snapshot ${this.#joined}` }
  }

  /**
   * Exports the open snapshot (`pg_export_snapshot()`) for other connections' `snapshot({ join })`; it stays
   * importable while this connection's transaction is open (until `close()`). Throws a `UsageError` before
   * `snapshot()`.
   */
  async exportSnapshot(): Promise<SharedSnapshot> {
    if (!this.#inTransaction) throw new UsageError('exportSnapshot() needs the open snapshot: call snapshot() first')
    try {
      const r = await this.#session.client.query<{ id: string }>('SELECT pg_export_snapshot() AS id')
      return { id: r.rows[0]!.id }
    } catch (error) {
      throw wrap(error, 'exporting the snapshot', this.description)
    }
  }

  async count(table: TableSchema): Promise<number> {
    return countRows(this.#session.client, this.schema, table, this.description)
  }

  /** See `readPostgresTable.keyBounds`: read in the snapshot's transaction when one is open. */
  keyBounds(table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
    return readPostgresTable.keyBounds(this.#session.client, this.schema, table, this.description)
  }

  /** See `readPostgresTable.splitKeys`: sampled in the snapshot's transaction when one is open. */
  splitKeys(table: TableSchema, count: number): Promise<Value[][] | undefined> {
    return readPostgresTable.splitKeys(this.#session.client, this.schema, table, count, this.description)
  }

  /** See `readPostgresTable.pageCount`: PostgreSQL 14 and later, tables without a primary key. */
  pageCount(table: TableSchema): Promise<number | undefined> {
    return readPostgresTable.pageCount(this.#session.client, this.schema, table, this.description)
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    return tableStateOf(this.#session.client, this.schema, table, this.description)
  }

  /** See {@link identityOf}. */
  async identity(): Promise<DatabaseIdentity> {
    return identityOf(this.#session.client, this.schema, this.description)
  }

  /** What the reader needs: the session, and whether a snapshot transaction is open. */
  #reader(): ReaderSession {
    return { ...this.#session, inTransaction: () => this.#inTransaction }
  }

  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    return stallGuarded(this.#session, readPostgresTable(this.#reader(), table, options, this.description))
  }

  /**
   * The table as PostgreSQL's own CSV text, read in the open snapshot, for a PostgreSQL target's `loadCsv`
   * (see `readPostgresTable.csvText`); the reason when no snapshot is open.
   */
  async csvText(table: TableSchema): Promise<CsvText | string> {
    if (!this.#inTransaction) return 'no read snapshot is open on the PostgreSQL source'
    const text = readPostgresTable.csvText(this.#reader(), table, this.description)
    return { ...text, bytes: stallGuarded(this.#session, text.bytes) }
  }

  /**
   * Verify's engine-side hashing: per-segment sums of row hashes computed by the server (see
   * `postgresSql.segmentHashSql`), or undefined when a column is not read from its own text.
   */
  async segmentHashes(table: TableSchema, request: SegmentRequest): Promise<SegmentHashes | undefined> {
    const sql = postgresSql.segmentHashSql(table, this.schema, request)
    if (sql === undefined) return undefined
    const client = this.#session.client
    try {
      // every setting that changes a value's text is part of the rendering
      const settings = await client.query<{ r: string }>(
        `SELECT concat_ws(' ', version(), current_setting('server_encoding'), current_setting('DateStyle'),
          current_setting('TimeZone'), current_setting('IntervalStyle'), current_setting('bytea_output'), current_setting('extra_float_digits')) AS r`,
      )
      const res = await client.query<{ seg: number; sums: string; bad: string }>(sql)
      const out: SegmentHashes = { renderer: settings.rows[0]!.r, sums: new Map(), suspect: new Set(), rows: 0 }
      for (const r of res.rows) {
        out.sums.set(r.seg, r.sums)
        if (Number(r.bad) > 0) out.suspect.add(r.seg)
        out.rows += Number(r.sums.slice(0, r.sums.indexOf(':')))
      }
      return out
    } catch (error) {
      throw postgresErrors.wrap(error, `reading ${table.name} from ${this.description}`, { table: table.name })
    }
  }

  /** The rows of some segments of a `segmentHashes` request, read like `read`. */
  readSegments(table: TableSchema, request: SegmentRequest, wanted: readonly number[], options: ReadOptions): AsyncIterable<ReadBatch> {
    const { after: _after, ...fromStart } = options
    return stallGuarded(this.#session, readPostgresTable(this.#reader(), table, fromStart, this.description, postgresSql.segmentFilter(table, request, wanted)))
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (this.#inTransaction) throw new UsageError('this PostgreSQL connection holds a read snapshot; open another one as the target')
    await preparePostgresTarget(this.#session.client, this.schema, schema, options, this.description)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return stallGuardedWriter(this.#session, openPostgresWriter(this.#session.client, this.schema, table, this.description, () => this.#inTransaction))
  }

  /** Loads a table's CSV text with one `COPY … (FORMAT csv)` in a transaction left open (the writer's `loadCsv`). */
  async loadCsv(table: TableSchema, text: CsvText, options: { signal?: AbortSignal } = {}): Promise<CsvLoad | string> {
    if (this.#inTransaction) return 'this PostgreSQL connection holds a read snapshot'
    const disarm = armStall(this.#session)
    try {
      const load = await openPostgresWriter(this.#session.client, this.schema, table, this.description).loadCsv(text, options.signal)
      if (typeof load === 'string') return load
      const session = this.#session
      return {
        ...load,
        async commit() {
          const disarmCommit = armStall(session)
          try {
            await load.commit()
          } finally {
            disarmCommit()
          }
        },
      }
    } catch (error) {
      // the source's own refusal and an abort pass as they are; the server's errors keep where it stopped
      const e = error as { code?: unknown; where?: unknown }
      if (error instanceof AbortError || typeof e.code !== 'string') throw error
      const wrapped = wrap(error, `loading ${table.name} as CSV`, this.description)
      if (typeof e.where === 'string') wrapped.message += ` (${e.where})`
      throw wrapped
    } finally {
      disarm()
    }
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    try {
      return await finalizePostgresTarget(this.#session.client, this.schema, schema, options)
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

  /**
   * Runs one statement on the session and returns its rows: booleans, int2/int4 and bytea as pg parses them,
   * every other type as PostgreSQL's text (int8 and numeric exact, timestamps never a `Date`).
   */
  async query(sql: string, params: readonly Value[] = []): Promise<Record<string, unknown>[]> {
    try {
      const values = params.map((v) => (typeof v === 'bigint' ? v.toString() : v))
      const r = await this.#session.client.query({ text: sql, values, types: QUERY_TYPES })
      return r.rows ?? []
    } catch (error) {
      throw wrap(error, 'running SQL', this.description)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    // a frozen server must not hold the run's end: the stall timeout bounds the commit and the goodbye
    const disarm = armStall(this.#session)
    try {
      if (this.#inTransaction) {
        this.#inTransaction = false
        await this.#session.client.query('COMMIT').catch(() => {})
      }
      await this.#session.release().catch(() => {})
    } finally {
      disarm()
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// a Kysely instance: plain statements on one of its connections

/** The settings of {@link SETTINGS} that change a value's text (client_encoding is the driver's own). */
const TEXT_SETTINGS: readonly [string, string][] = [
  ['DateStyle', 'ISO, YMD'],
  ['TimeZone', 'UTC'],
  ['IntervalStyle', 'postgres'],
  ['bytea_output', 'hex'],
  ['extra_float_digits', '1'],
]
const KEPT_SETTINGS = [...TEXT_SETTINGS.map(([name]) => name), 'synchronous_commit']

/** A session on one connection of a caller's Kysely instance. */
interface StatementSession {
  query: PostgresQueryable['query']
  schema: string
  description: string
  /** The caller passed a transaction: dbferry runs inside it and never begins, commits or rolls it back. */
  inCallerTransaction: boolean
  /** Puts the caller's settings back and gives the connection back to its pool. */
  release(): Promise<void>
}

/**
 * Reserves one connection of the caller's Kysely instance (or uses the transaction it passed) and sets the
 * settings the text forms rely on, as {@link SETTINGS} does, one `set_config` each in a single statement
 * (drivers other than `pg` take one statement at a time). The values it had are put back on release.
 */
async function openStatementSession(db: KyselyLike, options: PostgresConnectOptions): Promise<StatementSession> {
  const held = await reserveKyselySession(db, 'the Kysely instance')
  const description = held.inCallerTransaction ? 'postgres (Kysely transaction)' : 'postgres (Kysely)'
  const query: PostgresQueryable['query'] = async (sql, params) => {
    const r = await held.query<never>(sql, params)
    return { rows: r.rows, rowCount: r.affected ?? r.rows.length }
  }
  let saved: unknown[]
  let schema: string
  try {
    const before = await query<Record<string, string>>(`SELECT ${KEPT_SETTINGS.map((n, i) => `current_setting('${n}') AS s${i}`).join(', ')}`)
    saved = KEPT_SETTINGS.map((_, i) => before.rows[0]![`s${i}`])
    await query(`SELECT ${TEXT_SETTINGS.map(([n], i) => `set_config('${n}', $${i + 1}, false)`).join(', ')}`, TEXT_SETTINGS.map(([, v]) => v))
    await query(DURABLE_COMMIT)
    schema = await resolveSchema({ query }, options.schema, options.create === true, description)
  } catch (error) {
    await held.release().catch(() => {})
    if (error instanceof SchemaError) throw error
    throw connectionError(`could not prepare the session on ${description}`, error)
  }
  return {
    query,
    schema,
    description: schema === 'public' ? description : `${description} (schema ${schema})`,
    inCallerTransaction: held.inCallerTransaction,
    async release() {
      await query(`SELECT ${KEPT_SETTINGS.map((n, i) => `set_config('${n}', $${i + 1}, false)`).join(', ')}`, saved).catch(() => {})
      await held.release()
    },
  }
}

/**
 * Runs each statement under a savepoint of the caller's transaction, so that one that fails (an index the
 * target refuses) leaves the transaction usable, as it leaves an autocommit session.
 */
function savepointed(query: PostgresQueryable['query']): PostgresQueryable {
  return {
    async query(sql, params) {
      await query('SAVEPOINT dbferry_statement')
      try {
        const r = await query(sql, params)
        await query('RELEASE SAVEPOINT dbferry_statement')
        return r
      } catch (error) {
        await query('ROLLBACK TO SAVEPOINT dbferry_statement').catch(() => {})
        throw error
      }
    },
  }
}

/**
 * A PostgreSQL database reached through a caller's Kysely instance, which gives no access to its driver:
 * every read and write is a plain statement on one of its connections. Reads `FETCH` a cursor page by page
 * (every value as its text form, decoded as COPY text is); writes send one `INSERT … SELECT FROM unnest(…)`
 * per batch, the values' text forms bound as one `text[]` per column; schema, keys, indexes and identities
 * as a URL's connection does. Slower than COPY, and the report says so. Closing it gives the connection
 * back; the Kysely instance is never destroyed. Inside the caller's transaction (a Kysely migration's `db`),
 * nothing is committed: it commits with the caller's.
 */
class PostgresStatementConnection implements Connection {
  readonly dialect: Dialect
  readonly description: string
  /** The schema (namespace) this connection reads and writes. */
  readonly schema: string
  #session: StatementSession
  #inSnapshot = false
  #closed = false

  constructor(dialect: Dialect, session: StatementSession) {
    this.dialect = dialect
    this.#session = session
    this.schema = session.schema
    this.description = session.description
  }

  #inTransaction(): boolean {
    return this.#inSnapshot || this.#session.inCallerTransaction
  }

  usageNotes(role: 'source' | 'target'): string[] {
    const caller = this.#session.inCallerTransaction ? ' inside the caller\'s transaction' : ''
    if (role === 'source') return [`source is a Kysely instance: rows read with FETCH from a cursor${caller}, not COPY`]
    const commits = this.#session.inCallerTransaction ? '; they commit when the caller\'s transaction commits' : ''
    return [`target is a Kysely instance: rows written with one INSERT … SELECT FROM unnest(…) statement per batch${caller}, not COPY${commits}`]
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    try {
      return await introspectPostgres(this.#session, this.schema, options.tables)
    } catch (error) {
      throw wrap(error, 'reading the schema', this.description)
    }
  }

  /** Begins a REPEATABLE READ READ ONLY transaction, or reads in the caller's; `options.join` is not taken (no export here). */
  async snapshot(_options: SnapshotOptions = {}): Promise<SnapshotInfo> {
    if (this.#session.inCallerTransaction) {
      // the caller's transaction began before dbferry was called: its isolation level is what the read gets
      const r = await this.#session.query<{ i: string }>("SELECT current_setting('transaction_isolation') AS i")
      return { guarantee: `the caller's transaction (${r.rows[0]?.i ?? 'unknown isolation'})` }
    }
    if (!this.#inSnapshot) {
      try {
        await this.#session.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
      } catch (error) {
        throw wrap(error, 'starting a snapshot', this.description)
      }
      this.#inSnapshot = true
    }
    return { guarantee: 'REPEATABLE READ READ ONLY' }
  }

  count(table: TableSchema): Promise<number> {
    return countRows(this.#session, this.schema, table, this.description)
  }

  /** See `readPostgresTable.keyBounds`. */
  keyBounds(table: TableSchema): Promise<{ min: Value; max: Value } | undefined> {
    return readPostgresTable.keyBounds(this.#session, this.schema, table, this.description)
  }

  tableState(table: TableSchema): Promise<SourceTableState> {
    return tableStateOf(this.#session, this.schema, table, this.description)
  }

  identity(): Promise<DatabaseIdentity> {
    return identityOf(this.#session, this.schema, this.description)
  }

  read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    const session = { query: this.#session.query, schema: this.schema, inTransaction: () => this.#inTransaction() }
    return readPostgresTable(session, table, options, this.description)
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (this.#inSnapshot) throw new UsageError('this PostgreSQL connection holds a read snapshot; open another one as the target')
    await preparePostgresTarget(this.#session, this.schema, schema, options, this.description, this.#session.inCallerTransaction)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return openPostgresWriter({ query: this.#session.query, inTransaction: () => this.#inTransaction() }, this.schema, table, this.description)
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    const client = this.#session.inCallerTransaction ? savepointed(this.#session.query) : this.#session
    try {
      return await finalizePostgresTarget(client, this.schema, schema, options)
    } catch (error) {
      throw wrap(error, 'creating indexes and keys', this.description)
    }
  }

  async execute(sql: string): Promise<void> {
    try {
      await this.#session.query(sql)
    } catch (error) {
      throw wrap(error, 'running SQL', this.description)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inSnapshot) {
      this.#inSnapshot = false
      await this.#session.query('COMMIT').catch(() => {})
    }
    await this.#session.release().catch(() => {})
  }
}

/**
 * Opens a PostgreSQL connection of `dialect` (`postgresDialect`, which passes itself: this file does not
 * import it, so the two do not form a cycle) on `target` (see {@link PostgresTarget}, or a Kysely instance
 * over `PostgresAdapter`: see {@link PostgresStatementConnection}); `options.schema` (default: the URL's
 * `?schema=`, else the server's `current_schema()`) and `options.create` (default false: create a missing
 * database or schema) as in {@link ConnectOptions}.
 */
export async function connectPostgres(target: PostgresTarget | object, options: PostgresConnectOptions, dialect: Dialect): Promise<Connection> {
  if (isKysely(target)) return new PostgresStatementConnection(dialect, await openStatementSession(target, options))
  return new PostgresConnection(dialect, await openSession(target, options, dialect))
}
