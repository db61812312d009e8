/**
 * dbferry's own SQLite files: the journal, the temporary stores key sets spill into, and backups. They need
 * better-sqlite3, loaded only when one is opened; {@link assertStoreAvailable} checks for it up front.
 */
export { assertStoreAvailable, loadDatabase, importBetterSqlite3, type DatabaseClass, type DriverLoader, type StoreUse } from './database.js'
export { chunkedInsert, type ChunkedInsert } from './chunked-insert.js'
export { openJournalFile, SqliteJournal, JOURNAL_SCHEMA, FAILURE_KIND_CLASSES } from './journal-file.js'
export { queryJournal, type JournalCount, type JournalQuery, type JournalRow } from './journal-query.js'
export { memorySpillStore, openKeyStore, openSpillStore, type KeyValue, type SpillStore } from './key-store.js'
export { backup, restore, type BackupOptions, type BackupResult } from './backup.js'
