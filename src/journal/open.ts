import type { Journal } from './journal.js'

/**
 * Opens (or creates) a journal file. The journal is an SQLite database, so this loads the SQLite dialect
 * (and with it better-sqlite3) only when a journal file is asked for.
 */
export async function openJournal(path: string): Promise<Journal> {
  const { openSqliteJournal } = await import('../../dialects/sqlite/sqlite-journal.js')
  return openSqliteJournal(path)
}
