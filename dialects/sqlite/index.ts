/**
 * `dbferry/sqlite`: the SQLite dialect (better-sqlite3) and the SQLite journal.
 */
export { sqlite, sqlitePath, type SqliteConnectOptions } from './sqlite-dialect.js'
export { SqliteConnection } from './sqlite-connection.js'
export { openSqliteJournal, SqliteJournal, JOURNAL_SCHEMA, FAILURE_KIND_CLASSES } from './sqlite-journal.js'
export { logicalFromDeclared, affinityOf, sqliteType, SQLITE_TYPE_NAMES, DECLARED_WORDS, type Affinity } from './sqlite-types.js'
export { introspectSqlite } from './sqlite-introspector.js'
export { readSqliteTable } from './sqlite-reader.js'
export { createTableSql, declaredType } from './sqlite-writer.js'
