import { mssqlDialect } from './mssql-dialect.js'

/**
 * `dbferry/mssql`: the SQL Server dialect (mssql / tedious). Reads from `sys.*` and streamed requests (inside
 * a SNAPSHOT transaction when the database allows it), writes with TDS bulk load or multi-row INSERT, and
 * creates indexes, foreign keys and identity seeds after the data.
 *
 * @example
 * await ferry({ from: 'mssql://sa:pw@127.0.0.1:1433/imis?encrypt=false&trustServerCertificate=true', to: 'postgres://…' })
 */

/** The SQL Server dialect (the same object as {@link mssqlDialect}). */
export const mssql = mssqlDialect

export { mssqlDialect }
export { MssqlConnection, type MssqlUrlConfig } from './mssql-connection.js'
export type { MssqlSession, MssqlTransaction } from './mssql-sql.js'
export { mssqlTypes, type BulkColumnType, type MssqlColumnInfo, type MssqlColumnMapping, type MssqlRejectedType, type MssqlTypes } from './mssql-types.js'
export { mssqlSql, type IdentityProbe, type InsertParameter, type MssqlSql, type ParameterisedStatement, type Staging } from './mssql-sql.js'
export { mssqlErrors, type MssqlDriverFields } from './mssql-errors.js'
export type { MssqlReadPlan } from './mssql-introspector.js'
