import { createReadStream, createWriteStream } from 'node:fs'
import { access, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import type BetterSqlite3 from 'better-sqlite3'
import { UsageError } from '../errors.js'
import { importBetterSqlite3, loadDatabase, type DatabaseClass, type DriverLoader } from './database.js'

/** Options of {@link backup}. */
export interface BackupOptions {
  /** Gzip the copy. Default: true when `dest` ends in `.gz`. */
  gzip?: boolean
}

/** What {@link backup} and {@link restore} did. */
export interface BackupResult {
  /** The file written. */
  file: string
  /** Its size in bytes. */
  bytes: number
  /** Whether it is gzip-compressed. */
  gzip: boolean
  /** Time it took, in milliseconds. */
  ms: number
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

function tempBeside(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${process.pid}-${Date.now().toString(36)}`)
}

async function isGzip(path: string): Promise<boolean> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(2)
    const { bytesRead } = await fh.read(buf, 0, 2, 0)
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b
  } finally {
    await fh.close()
  }
}

function openDatabase(Database: DatabaseClass, path: string, what: string): BetterSqlite3.Database {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true })
    // reading the schema makes a file that is not a database fail here, not half-way through the copy
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    return db
  } catch (error) {
    throw new UsageError(`${what} ${path} is not a readable SQLite database: ${(error as Error).message}`, { cause: error })
  }
}

/**
 * Copies a live SQLite database file `source` to the file `target` with SQLite's online backup API —
 * consistent even while other connections write — optionally gzip-compressed. The copy is written to a
 * temporary file beside `target` and renamed into place, so a failed backup never leaves a half-written
 * `target`. Both are file paths (`src/backup.ts` takes `sqlite:` URLs too). `load` defaults to importing
 * better-sqlite3.
 *
 * @example
 * await backup('./storage.db', './storage.db.bak.gz') // gzip inferred from .gz
 */
export async function backup(source: string, target: string, options: BackupOptions = {}, load: DriverLoader = importBetterSqlite3): Promise<BackupResult> {
  const started = Date.now()
  const gzip = options.gzip ?? /\.gz$/i.test(target)
  if (!(await exists(source))) throw new UsageError(`backup: there is no SQLite file at ${source}`)
  if (!(await exists(dirname(target)))) throw new UsageError(`backup: the folder of ${target} does not exist`)
  const Database = await loadDatabase('backup', load)
  const db = openDatabase(Database, source, 'backup: source')
  const raw = tempBeside(target, 'raw')
  try {
    await db.backup(raw)
  } catch (error) {
    await rm(raw, { force: true })
    throw new UsageError(`backup: copying ${source} failed: ${(error as Error).message}`, { cause: error })
  } finally {
    db.close()
  }
  try {
    if (gzip) {
      const packed = tempBeside(target, 'gz')
      try {
        await pipeline(createReadStream(raw), createGzip(), createWriteStream(packed))
        await rename(packed, target)
      } finally {
        await rm(packed, { force: true })
      }
    } else await rename(raw, target)
  } finally {
    await rm(raw, { force: true })
  }
  return { file: target, bytes: (await stat(target)).size, gzip, ms: Date.now() - started }
}

/**
 * Brings a backup file `from` (plain or gzip-compressed, detected by content) back into the file `target`,
 * replacing its contents through the online backup API (so a WAL-mode file and its `-wal` stay consistent).
 * `target` is created if missing. The backup is checked to be an SQLite database before `target` is touched.
 * `load` defaults to importing better-sqlite3.
 *
 * @example
 * await restore('./storage.db.bak.gz', './storage.db')
 */
export async function restore(from: string, target: string, load: DriverLoader = importBetterSqlite3): Promise<BackupResult> {
  const started = Date.now()
  if (!(await exists(from))) throw new UsageError(`restore: there is no backup at ${from}`)
  if (!(await exists(dirname(target)))) throw new UsageError(`restore: the folder of ${target} does not exist`)
  const Database = await loadDatabase('backup', load)
  const gzip = await isGzip(from)
  let plain = from
  if (gzip) {
    plain = tempBeside(target, 'unpacked')
    try {
      await pipeline(createReadStream(from), createGunzip(), createWriteStream(plain))
    } catch (error) {
      await rm(plain, { force: true })
      throw new UsageError(`restore: ${from} is not a valid gzip file: ${(error as Error).message}`, { cause: error })
    }
  }
  try {
    const db = openDatabase(Database, plain, 'restore: backup')
    try {
      await db.backup(target)
    } catch (error) {
      throw new UsageError(`restore: writing ${target} failed: ${(error as Error).message}`, { cause: error })
    } finally {
      db.close()
    }
  } finally {
    if (gzip) await rm(plain, { force: true })
  }
  return { file: target, bytes: (await stat(target)).size, gzip, ms: Date.now() - started }
}
