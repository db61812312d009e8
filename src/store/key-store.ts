import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chunkedInsert } from './chunked-insert.js'
import { importBetterSqlite3, loadDatabase, type DriverLoader } from './database.js'
import { DbferryError } from '../errors.js'

/** What a key map maps keys to: strings, or numbers (held without allocating when small integers). */
export type KeyValue = string | number

/** The SQLite-backed store a key set or map spills into (see {@link openKeyStore}). */
export interface SpillStore {
  /** Stores each entry `each` hands to its callback; a key stored again takes the later value. */
  put(each: (entry: (key: string, value: KeyValue) => void) => void): void
  /** The value as it was stored: strings as strings, numbers as numbers (`-0` as `0`). */
  get(key: string): KeyValue | undefined
  /** Whether the key is stored. */
  has(key: string): boolean
  /** Closes and deletes the temporary file. */
  close(): void
}

// a number SQLite cannot keep as a REAL (NaN would become NULL) is stored as a blob of its text; strings and
// other numbers keep their own storage class in the untyped value column, so they need no tag
function encodeValue(v: KeyValue): KeyValue | Buffer {
  return typeof v === 'number' && !Number.isFinite(v) ? Buffer.from(String(v)) : v
}

function decodeValue(v: unknown): KeyValue | undefined {
  return v instanceof Uint8Array ? Number(Buffer.from(v).toString()) : (v as KeyValue | undefined)
}

/**
 * Opens a temporary SQLite file holding key → value (string or number), for key sets and maps that outgrow memory.
 * The file lives in the OS temp directory and is deleted on `close()`. No journal and no fsync: the file is
 * scratch space, rebuilt by the next run if this one dies. Throws a `not_available` `UsageError` when
 * better-sqlite3 is not installed (`load` defaults to importing it).
 */
export async function openKeyStore(load: DriverLoader = importBetterSqlite3): Promise<SpillStore> {
  const Database = await loadDatabase('spilling keys to disk', load)
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-keys-'))
  const db = new Database(join(dir, 'keys.sqlite'))
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.pragma('cache_size = -16000') // 16 MB page cache
  // `v` has no type, so no affinity: a string stays TEXT and a number REAL, as they were bound
  db.exec('CREATE TABLE k (k TEXT PRIMARY KEY, v NOT NULL) WITHOUT ROWID')
  const insert = chunkedInsert(db, 'INSERT OR REPLACE INTO k (k, v)', 2, 128)
  const select = db.prepare('SELECT v FROM k WHERE k = ?').pluck()
  const putAll = db.transaction((each: (entry: (key: string, value: KeyValue) => void) => void) => {
    each((k, v) => {
      insert.value(k)
      insert.value(encodeValue(v))
    })
    insert.finish()
  })
  let open = true
  return {
    put(each) {
      putAll(each)
    },
    get(key) {
      return decodeValue(select.get(key))
    },
    has(key) {
      return select.get(key) !== undefined
    },
    close() {
      if (!open) return
      open = false
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Entries one `Map` of {@link memorySpillStore} holds: below V8's limit of 2^24 entries a `Map`. */
const SHARD_ENTRIES = 1 << 23

/**
 * A {@link SpillStore} held in memory: `Map`s of at most 2^23 entries each (one `Map` stops at 2^24). Used where
 * better-sqlite3 is not installed, so a key set that outgrows `maxInMemory` keeps working with more memory
 * instead of failing half-way through a copy whose target is already written.
 */
export function memorySpillStore(): SpillStore {
  const shards: Map<string, KeyValue>[] = [new Map()]
  const find = (key: string) => shards.find((m) => m.has(key))
  return {
    put(each) {
      each((k, v) => {
        const shard = find(k) ?? shards[shards.length - 1]!
        if (shard.size >= SHARD_ENTRIES && !shard.has(k)) shards.push(new Map([[k, Object.is(v, -0) ? 0 : v]]))
        else shard.set(k, Object.is(v, -0) ? 0 : v)
      })
    },
    get(key) {
      return find(key)?.get(key)
    },
    has(key) {
      return find(key) !== undefined
    },
    close() {
      shards.length = 0
    },
  }
}

/**
 * The store a key set spills into: a temporary SQLite file ({@link openKeyStore}), or, when better-sqlite3 is not
 * installed, {@link memorySpillStore} (`onDisk` false). Other failures (a full temp directory) are thrown.
 * `load` defaults to importing better-sqlite3.
 */
export async function openSpillStore(load: DriverLoader = importBetterSqlite3): Promise<{ store: SpillStore; onDisk: boolean }> {
  try {
    return { store: await openKeyStore(load), onDisk: true }
  } catch (error) {
    if (!(error instanceof DbferryError) || error.code !== 'not_available') throw error
    return { store: memorySpillStore(), onDisk: false }
  }
}
