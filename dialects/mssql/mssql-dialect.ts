import type {
  CollationFolder,
  ConnectOptions,
  Connection,
  ConstraintProblem,
  Dialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SnapshotInfo,
  SourceTableState,
  TableWriter,
} from '../../src/dialect.js'
import { ConnectionError, SchemaError, UsageError, redact } from '../../src/errors.js'
import { stateJson } from '../../src/schema/rows.js'
import type { DatabaseSchema, TableSchema } from '../../src/schema/types.js'
import { sql } from './mssql-driver.js'
import { introspectMssql, type MssqlReadPlan } from './mssql-introspector.js'
import { readMssql } from './mssql-reader.js'
import { MSSQL_MAX_IDENTIFIER, maxKeySql, qualified, quoteId } from './mssql-sql.js'
import { mssqlNativeType } from './mssql-types.js'
import { finalizeMssql, MssqlTableWriter, prepareMssqlTarget } from './mssql-writer.js'

/** Connection settings parsed from a `mssql://` / `sqlserver://` URL. */
export interface MssqlUrlConfig {
  config: sql.config
  /** The schema to read or write; `?schema=` in the URL, else `dbo`. */
  schema: string
}

function flag(v: string | null, fallback: boolean): boolean {
  if (v === null) return fallback
  return /^(1|true|yes|on)$/i.test(v)
}

/**
 * Parses `mssql://user:password@host:port/database?encrypt=false&trustServerCertificate=true&schema=s`.
 * Defaults: port 1433, database `master`, encrypt true, trustServerCertificate false, schema `dbo`. The
 * connection always runs with `useUTC: true` (dbferry never lets a `Date` carry local time) and no request
 * timeout (long reads and bulk loads are normal here).
 */
export function parseMssqlUrl(url: string): MssqlUrlConfig {
  let u: URL
  try {
    u = new URL(url.replace(/^sqlserver:/i, 'mssql:'))
  } catch (e) {
    throw new UsageError(`not a SQL Server URL: ${redact(url)}`, { cause: e })
  }
  const q = u.searchParams
  const instanceName = q.get('instanceName') ?? undefined
  const config: sql.config = {
    server: decodeURIComponent(u.hostname) || 'localhost',
    ...(u.port ? { port: Number(u.port) } : instanceName ? {} : { port: 1433 }),
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'master',
    requestTimeout: 0,
    connectionTimeout: Number(q.get('connectTimeout') ?? 15000),
    pool: { max: 4, min: 0 },
    options: {
      encrypt: flag(q.get('encrypt'), true),
      trustServerCertificate: flag(q.get('trustServerCertificate'), false),
      useUTC: true,
      ...(instanceName ? { instanceName } : {}),
    },
  }
  return { config, schema: q.get('schema') ?? 'dbo' }
}

const ACCENTS = /[\u0300-\u036f]/g

/**
 * The folding a SQL Server collation applies in unique keys: trailing spaces never count; `_CI` folds case,
 * `_AI` folds accents. Without a collation, the usual default (`SQL_Latin1_General_CP1_CI_AS`) is assumed.
 */
export function mssqlCollationFolder(collation: string | undefined): CollationFolder {
  const c = (collation ?? 'SQL_Latin1_General_CP1_CI_AS').toUpperCase()
  const ci = !/_CS(_|$)/.test(c) && !/_BIN2?$/.test(c)
  const ai = /_AI(_|$)/.test(c)
  return (value: string) => {
    let v = value.replace(/ +$/, '')
    if (ci) v = v.toLowerCase()
    if (ai) v = v.normalize('NFD').replace(ACCENTS, '')
    return v
  }
}

/** An open SQL Server database (a pool the connection owns, or one the caller passed in). */
export class MssqlConnection implements Connection {
  readonly description: string
  /** Explicit mappings, computed columns not copied: filled by `introspect`. */
  readonly notes: string[] = []
  #transaction: sql.Transaction | undefined
  #plans = new Map<string, MssqlReadPlan>()
  // the introspected column order of each table, so reads of narrowed tables find their expressions
  #fullColumns = new Map<string, string[]>()

  constructor(
    readonly dialect: Dialect,
    readonly pool: sql.ConnectionPool,
    readonly schemaName: string,
    readonly owned: boolean,
    description: string,
  ) {
    this.description = description
  }

  #request = (): sql.Request => (this.#transaction ? new sql.Request(this.#transaction) : this.pool.request())

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    try {
      const r = await introspectMssql(this.#request, this.schemaName, options.tables ? new Set(options.tables) : undefined)
      for (const [k, v] of r.plans) this.#plans.set(k, v)
      for (const t of r.schema.tables) this.#fullColumns.set(t.name, t.columns.map((c) => c.name))
      for (const n of r.notes) if (!this.notes.includes(n)) this.notes.push(n)
      return r.schema
    } catch (error) {
      if (error instanceof SchemaError) throw error
      throw new SchemaError(`could not read the schema of ${this.description}: ${(error as Error).message}`, { cause: error })
    }
  }

  async snapshot(): Promise<SnapshotInfo> {
    const res = await this.pool.request().query('SELECT snapshot_isolation_state AS s FROM sys.databases WHERE name = DB_NAME()')
    if (Number(res.recordset[0]?.s) === 1) {
      const tx = new sql.Transaction(this.pool)
      await tx.begin(sql.ISOLATION_LEVEL.SNAPSHOT)
      this.#transaction = tx
      // a SNAPSHOT transaction's view starts at its first data access
      await new sql.Request(tx).query(`SELECT TOP (1) 1 AS x FROM sys.objects`)
      // notes is the same array introspect() fills, so the report shows the mappings too
      return { guarantee: 'SNAPSHOT isolation: one transaction, every table read as of the same moment', notes: this.notes }
    }
    return {
      guarantee:
        'READ COMMITTED per statement: ALLOW_SNAPSHOT_ISOLATION is OFF on this database, so rows changed during the run may be seen in one table and not in another (turn it on, or stop writes, for a consistent copy)',
      notes: this.notes,
    }
  }

  async count(table: TableSchema): Promise<number> {
    const res = await this.#request().query(`SELECT COUNT_BIG(*) AS n FROM ${qualified(table, this.schemaName)}`)
    return Number(res.recordset[0]?.n ?? 0)
  }

  async tableState(table: TableSchema): Promise<SourceTableState> {
    const rows = await this.count(table)
    const sql = maxKeySql(table, this.schemaName)
    if (!sql) return { rows }
    const last = (await this.#request().query(sql)).recordset[0] as Record<string, unknown> | undefined
    return last ? { rows, maxKey: stateJson(Object.values(last)) } : { rows }
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    let plan = this.#plans.get(table.origin ?? table.name) ?? this.#plans.get(table.name)
    if (!plan) {
      await this.introspect({ tables: [table.name] })
      plan = this.#plans.get(table.name)
    }
    if (!plan) throw new SchemaError(`no table ${table.name} in ${this.description}`, { table: table.name })
    // the engine may narrow the columns: select by name
    const full = this.#fullColumns.get(table.name)
    const aligned: MssqlReadPlan = full
      ? { selects: table.columns.map((c) => plan!.selects[full.indexOf(c.name)] ?? '{col}'), codePages: table.columns.map((c) => plan!.codePages[full.indexOf(c.name)]) }
      : plan
    yield* readMssql(this.#request, table, aligned, options, this.schemaName)
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    await prepareMssqlTarget(this.#request, schema, options, this.schemaName)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    return new MssqlTableWriter(this.#request, table, this.schemaName)
  }

  async finalize(schema: DatabaseSchema, options: FinalizeOptions): Promise<ConstraintProblem[]> {
    return finalizeMssql(this.#request, schema, options, this.schemaName)
  }

  async execute(text: string): Promise<void> {
    await this.#request().batch(text)
  }

  async close(): Promise<void> {
    const tx = this.#transaction
    this.#transaction = undefined
    if (tx) await tx.commit().catch(() => tx.rollback().catch(() => {}))
    if (this.owned) await this.pool.close()
  }
}

function isPool(x: unknown): x is sql.ConnectionPool {
  return x instanceof sql.ConnectionPool || (typeof x === 'object' && x !== null && typeof (x as { request?: unknown }).request === 'function' && typeof (x as { connect?: unknown }).connect === 'function')
}

/** The SQL Server dialect (mssql / tedious). */
export const mssqlDialect: Dialect = {
  name: 'mssql',
  capabilities: {
    transactionalDdl: true,
    bulkPath: 'tds-bulk',
    maxIdentifierLength: MSSQL_MAX_IDENTIFIER,
    identifierLengthUnit: 'chars',
    schemas: true,
    enforcesForeignKeys: true,
    unvalidatedForeignKeys: true,
    textHoldsNul: true,
    floatHoldsNonFinite: false,
    maxTimestampPrecision: 7,
    concurrentSnapshotReads: false,
    storesAnyValue: false,
  },
  nativeType: mssqlNativeType,
  quoteIdentifier: quoteId,
  collationFolder: mssqlCollationFolder,
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    if (typeof target !== 'string') {
      if (!isPool(target)) throw new UsageError('mssql connect takes a mssql:// URL or an mssql ConnectionPool')
      const pool = target
      if (!pool.connected) await pool.connect()
      return new MssqlConnection(mssqlDialect, pool, options.schema ?? 'dbo', false, 'SQL Server (a pool passed in)')
    }
    const { config, schema } = parseMssqlUrl(target)
    const pool = new sql.ConnectionPool(config)
    try {
      await pool.connect()
    } catch (error) {
      throw new ConnectionError(`cannot connect to SQL Server at ${redact(target)}: ${(error as Error).message}`, { cause: error })
    }
    return new MssqlConnection(mssqlDialect, pool, options.schema ?? schema, true, redact(target))
  },
}
