import { loadEngine } from './engines.js'
import * as store from './store/backup.js'
import type { BackupOptions, BackupResult } from './store/backup.js'

export type { BackupOptions, BackupResult }

/** The file an `sqlite:` URL names, as the SQLite dialect reads it; a bare path as it is. */
async function fileOf(url: string): Promise<string> {
  const sqlite = await loadEngine('sqlite')
  return sqlite.localFile?.(url) ?? ':memory:'
}

/**
 * Copies a live SQLite database (`./x.db` or `sqlite:./x.db`) to `dest` with SQLite's online backup API,
 * gzip-compressed when `gzip` is set (default: when `dest` ends in `.gz`). Loads the SQLite driver only
 * when called.
 *
 * @example
 * await backup('./storage.db', './storage.db.bak.gz')
 */
export async function backup(file: string, dest: string, options: BackupOptions = {}): Promise<BackupResult> {
  return store.backup(await fileOf(file), await fileOf(dest), options)
}

/**
 * Restores a backup made by {@link backup} (plain or gzip, detected by content) into `file`, replacing its
 * contents. Loads the SQLite driver only when called.
 *
 * @example
 * await restore('./storage.db.bak.gz', './storage.db')
 */
export async function restore(backupFile: string, file: string): Promise<BackupResult> {
  return store.restore(await fileOf(backupFile), await fileOf(file))
}
