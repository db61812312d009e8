import { mssqlDialect } from './mssql-dialect.js'

/**
 * `dbferry/mssql`: the SQL Server dialect (mssql / tedious). Reads from `sys.*` and streamed requests (inside
 * a SNAPSHOT transaction when the database allows it), writes with TDS bulk load or multi-row INSERT, and
 * creates indexes, foreign keys and identity seeds after the data.
 *
 * @example
 * await ferry({ from: 'mssql://sa:pw@127.0.0.1:1433/imis?encrypt=false&trustServerCertificate=true', to: 'postgres://…' })
 */
export const mssql = mssqlDialect

export { MssqlConnection, mssqlCollationFolder, parseMssqlUrl, type MssqlUrlConfig } from './mssql-dialect.js'
export { mssqlNativeType, mssqlToLogical, bulkColumnType, bulkExact, type BulkColumnType, type MssqlColumnInfo, type MssqlColumnMapping } from './mssql-types.js'
export { quoteId, qualified, createTableSql, foreignKeySql, createIndexSql, mssqlLiteral, bulkValue, insertParameter } from './mssql-sql.js'
