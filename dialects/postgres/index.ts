import { postgresDialect } from './postgres-dialect.js'

/**
 * `dbferry/postgres`: the PostgreSQL dialect (pg + pg-copy-streams). Reads with `COPY … TO STDOUT` in one
 * `REPEATABLE READ READ ONLY` snapshot, writes with `COPY … FROM STDIN`.
 */

/** The PostgreSQL dialect with default options (schema: the server's current schema). */
export const postgres = postgresDialect()

export { postgresDialect, PostgresConnection, POSTGRES_CAPABILITIES, type PostgresDialectOptions } from './postgres-dialect.js'
export type { PoolLike, PostgresTarget } from './postgres-connection.js'
export { postgresNativeType, columnDdlType } from './postgres-types.js'
export { encodeValue as encodeCopyValue } from './postgres-writer.js'
export { escapeCopyText as escapeCopy } from './postgres-copy-text.js'
