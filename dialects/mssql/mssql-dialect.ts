import type { CollationFolder, ConnectOptions, Connection, Dialect } from '../../src/dialect.js'
import { requireDriver } from '../../src/drivers.js'
import { mssqlErrors } from './mssql-errors.js'
import { mssqlChanges } from './mssql-changes.js'
import { mssqlSql } from './mssql-sql.js'
import { mssqlTypes } from './mssql-types.js'

const ACCENTS = /[\u0300-\u036f]/g

/**
 * The folding a SQL Server collation applies in unique keys: trailing spaces never count; `_CI` folds case,
 * `_AI` folds accents. Without a collation, the usual default (`SQL_Latin1_General_CP1_CI_AS`) is assumed.
 */
function collationFolder(collation: string | undefined): CollationFolder {
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

/**
 * The SQL Server dialect (mssql / tedious). Reads from `sys.*` and streamed requests (inside a SNAPSHOT
 * transaction when the database allows it), writes with TDS bulk load or parameterised multi-row INSERT, and
 * creates indexes, foreign keys and identity seeds after the data. `connect` takes a `mssql://` or
 * `sqlserver://` URL, or an `mssql` ConnectionPool the caller holds, which it never closes.
 *
 * @example
 * const conn = await mssqlDialect.connect('mssql://sa:pw@127.0.0.1:1433/imis?encrypt=false&trustServerCertificate=true')
 */
export const mssqlDialect: Dialect = Object.freeze({
  name: 'mssql',
  // change capture for a short cut-over (captureChanges, catchUp, cutover)
  changes: mssqlChanges,
  capabilities: Object.freeze({
    transactionalDdl: true,
    bulkPath: 'tds-bulk',
    maxIdentifierLength: mssqlSql.maxIdentifier,
    identifierLengthUnit: 'chars',
    schemas: true,
    enforcesForeignKeys: true,
    unvalidatedForeignKeys: true,
    textHoldsNul: true,
    floatHoldsNonFinite: false,
    maxTimestampPrecision: 7,
    concurrentSnapshotReads: false,
    // a pooled connection per job, each in a transaction of its own
    parallelConnections: { reads: true, writes: true },
    // six round trips a batch (begin, stage, insert bulk, the rows, INSERT … SELECT, commit): 200 000 rows from
    // SQLite took 3.8–3.9 s in batches of 10 000 against 4.3–4.5 s in batches of 5 000, 20 000 no faster
    preferredBatchRows: 10_000,
    storesAnyValue: false,
    // the default collation compares names without case
    caseInsensitiveIdentifiers: true,
    maxColumns: 1024,
  } as const),
  types: mssqlTypes,
  sql: mssqlSql,
  errors: mssqlErrors,
  drivers: Object.freeze(['mssql']),
  /**
   * An `mssql` ConnectionPool: `request`, `connect` and `close` methods and a `config` naming a `server`
   * (the driver is not loaded).
   */
  accepts(target: unknown): boolean {
    const p = target as Record<string, unknown> | null
    if (typeof p !== 'object' || p === null) return false
    const config = p.config as Record<string, unknown> | null | undefined
    return (
      typeof p.request === 'function' &&
      typeof p.connect === 'function' &&
      typeof p.close === 'function' &&
      typeof config === 'object' &&
      config !== null &&
      typeof config.server === 'string'
    )
  },
  collationFolder,
  async connect(target: string | object, options: ConnectOptions = {}): Promise<Connection> {
    const { connectMssql } = await requireDriver(mssqlDialect.drivers, 'the SQL Server dialect', () => import('./mssql-connection.js'))
    return connectMssql(target, options, mssqlDialect)
  },
})
