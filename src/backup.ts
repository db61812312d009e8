import type { BackupOptions, BackupResult } from '../dialects/sqlite/sqlite-backup.js'

export type { BackupOptions, BackupResult }

/**
 * Copies a live SQLite database (`./x.db` or `sqlite:./x.db`) to `dest` with SQLite's online backup API,
 * gzip-compressed when `gzip` is set (default: when `dest` ends in `.gz`). Loads the SQLite driver only
 * when called.
 *
 * @example
 * await backup('./storage.db', './storage.db.bak.gz')
 */
export async function backup(file: string, dest: string, options: BackupOptions = {}): Promise<BackupResult> {
  const m = await import('../dialects/sqlite/sqlite-backup.js')
  return m.backup(file, dest, options)
}

/**
 * Restores a backup made by {@link backup} (plain or gzip, detected by content) into `file`, replacing its
 * contents. Loads the SQLite driver only when called.
 *
 * @example
 * await restore('./storage.db.bak.gz', './storage.db')
 */
export async function restore(backupFile: string, file: string): Promise<BackupResult> {
  const m = await import('../dialects/sqlite/sqlite-backup.js')
  return m.restore(backupFile, file)
}
