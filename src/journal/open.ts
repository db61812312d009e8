import { openJournalFile } from '../store/journal-file.js'
import type { Journal } from './journal.js'

/**
 * Opens (or creates) a journal file. The journal is an SQLite database (see `src/store`), so better-sqlite3
 * is loaded only when a journal file is asked for; without it this throws a `not_available` `UsageError`.
 */
export async function openJournal(path: string): Promise<Journal> {
  return openJournalFile(path)
}
