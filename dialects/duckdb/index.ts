/**
 * `dbferry/duckdb`: the DuckDB dialect (`@duckdb/node-api`), its connection, type map, SQL builder and error map.
 */
import { duckdbDialect } from './duckdb-dialect.js'

/** The DuckDB dialect (the same object as {@link duckdbDialect}). */
export const duckdb = duckdbDialect
export { duckdbDialect }
export { DuckdbConnection, type DuckdbConnectionInit } from './duckdb-connection.js'
export { duckdbTypes } from './duckdb-types.js'
export { duckdbSql } from './duckdb-sql.js'
export { duckdbErrors } from './duckdb-errors.js'
