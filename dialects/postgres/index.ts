import { postgresDialect } from './postgres-dialect.js'

/**
 * `dbferry/postgres`: the PostgreSQL dialect (pg + pg-copy-streams). Reads with `COPY … TO STDOUT` in one
 * `REPEATABLE READ READ ONLY` snapshot, writes with `COPY … FROM STDIN`.
 */

/** The PostgreSQL dialect (the same object as {@link postgresDialect}). */
export const postgres = postgresDialect

export { postgresDialect }
export { PostgresConnection, type PoolLike, type PostgresTarget } from './postgres-connection.js'
export { postgresTypes } from './postgres-types.js'
export { postgresSql, type PostgresCopyText } from './postgres-sql.js'
export { postgresErrors } from './postgres-errors.js'
