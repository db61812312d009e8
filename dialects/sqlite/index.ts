/**
 * `dbferry/sqlite`: the SQLite dialect (better-sqlite3). The journal, spilled key stores and backups, which
 * also use SQLite files, live in the core (`src/store`).
 */
import { sqliteDialect } from './sqlite-dialect.js'

export { sqliteDialect }
/** The SQLite dialect; the same object as {@link sqliteDialect}. */
export const sqlite = sqliteDialect
export { SqliteConnection, type SqliteConnectOptions } from './sqlite-connection.js'
export { sqliteTypes, type Affinity, type SqliteTypes } from './sqlite-types.js'
export { sqliteSql } from './sqlite-sql.js'
export { sqliteErrors } from './sqlite-errors.js'
export type { SqliteReadContext } from './sqlite-reader.js'
