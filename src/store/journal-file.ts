import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import type { SourceTableState } from '../dialect.js'
import { ConnectionError, FAILURE_KINDS, type FailureKind } from '../errors.js'
import type { Checkpoint, Journal, JournalEntry, JournalRun } from '../journal/journal.js'
import { chunkedInsert } from './chunked-insert.js'
import { importBetterSqlite3, loadDatabase, type DriverLoader } from './database.js'

/** The error class that carries each failure-kind code (the journal's `failure_kind.name`). */
// every kind named (not Partial): a new failure kind does not compile until it says which class carries it
export const FAILURE_KIND_CLASSES: Readonly<Record<FailureKind, string>> = {
  connection: 'ConnectionError',
  schema: 'SchemaError',
  target_exists: 'SchemaError',
  constraint_creation: 'SchemaError',
  source_changed: 'SourceChangedError',
  usage: 'UsageError',
  not_available: 'UsageError',
  preflight: 'PreflightError',
  transform: 'TransformError',
  accounting: 'AccountingError',
  aborted: 'AbortError',
  type_conversion: 'RowError',
  invalid_encoding: 'RowError',
  nul_in_text: 'RowError',
  out_of_range: 'RowError',
  truncation: 'RowError',
  not_null: 'RowError',
  duplicate_key: 'RowError',
  foreign_key_violation: 'RowError',
  check_violation: 'RowError',
  serialization_failure: 'RowError',
  zero_date: 'RowError',
  dangling_foreign_key: 'RowError',
  duplicate_dropped: 'RowError',
  filtered: 'RowError',
  target_rejected: 'RowError',
  malformed_record: 'RowError',
}

/** Kinds of journal entries that are not failures: rows a transform repaired, added or pointed elsewhere. */
const EVENT_KINDS: Readonly<Record<'fixed' | 'inserted' | 'remapped', string>> = {
  fixed: 'A value was repaired on the way (re-decoded text, collapsed lines, a key set to NULL).',
  inserted: 'A row was added by a transform (e.g. a stub parent for dangling foreign keys).',
  remapped: 'A foreign key was pointed at another row (e.g. the row dedupe kept).',
}

/** The journal's schema. Plain SQL over it answers "how many of each kind since date X". */
export const JOURNAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS failure_kind (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  target TEXT NOT NULL,
  options TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  ok INTEGER,
  report TEXT
);
CREATE TABLE IF NOT EXISTS entry (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES run (id),
  table_name TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('rejected', 'dropped', 'fixed', 'inserted', 'remapped')),
  kind TEXT NOT NULL REFERENCES failure_kind (code),
  key TEXT,
  column_name TEXT,
  message TEXT NOT NULL,
  row_json TEXT,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entry_kind_created ON entry (kind, created_at);
CREATE INDEX IF NOT EXISTS entry_created ON entry (created_at);
CREATE INDEX IF NOT EXISTS entry_run_table ON entry (run_id, table_name);
CREATE TABLE IF NOT EXISTS checkpoint (
  run_id INTEGER NOT NULL REFERENCES run (id),
  table_name TEXT NOT NULL,
  last_key TEXT,
  read INTEGER NOT NULL,
  written INTEGER NOT NULL,
  rejected INTEGER NOT NULL,
  dropped INTEGER NOT NULL,
  done INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (run_id, table_name)
);
CREATE TABLE IF NOT EXISTS source_state (
  run_id INTEGER NOT NULL REFERENCES run (id),
  table_name TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (run_id, table_name)
);
`

/** The journal as an SQLite file. Created by {@link openJournalFile}. */
export class SqliteJournal implements Journal {
  readonly location: string
  readonly #db: BetterSqlite3.Database
  readonly #insertEntries: (runId: number, entries: readonly JournalEntry[]) => void
  readonly #upsertCheckpoint: BetterSqlite3.Statement
  #closed = false

  constructor(db: BetterSqlite3.Database, location: string) {
    this.#db = db
    this.location = location
    const insert = chunkedInsert(db, 'INSERT INTO entry (run_id, table_name, action, kind, key, column_name, message, row_json, source, created_at)', 10, 64)
    const ensureKind = db.prepare("INSERT OR IGNORE INTO failure_kind (code, name, description) VALUES (?, 'unknown', 'a kind this version of dbferry does not list')")
    // one transaction per batch of entries: the engine records once per batch
    this.#insertEntries = db.transaction((runId: number, entries: readonly JournalEntry[]) => {
      const now = new Date().toISOString()
      for (const e of entries) {
        if (!(e.kind in FAILURE_KINDS) && !(e.kind in EVENT_KINDS)) ensureKind.run(e.kind)
        insert.value(runId)
        insert.value(e.table)
        insert.value(e.action)
        insert.value(e.kind)
        insert.value(e.key ?? null)
        insert.value(e.column ?? null)
        insert.value(e.message)
        insert.value(e.row ?? null)
        insert.value(e.source)
        insert.value(now)
      }
      insert.finish()
    })
    this.#upsertCheckpoint = db.prepare(
      `INSERT INTO checkpoint (run_id, table_name, last_key, read, written, rejected, dropped, done, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, table_name) DO UPDATE SET last_key = excluded.last_key, read = excluded.read,
         written = excluded.written, rejected = excluded.rejected, dropped = excluded.dropped, done = excluded.done,
         updated_at = excluded.updated_at`,
    )
  }

  startRun(run: JournalRun): number {
    const r = this.#db
      .prepare('INSERT INTO run (source, target, options, started_at) VALUES (?, ?, ?, ?)')
      .run(run.source, run.target, run.options ?? null, run.startedAt)
    return Number(r.lastInsertRowid)
  }

  record(runId: number, entries: readonly JournalEntry[]): void {
    if (entries.length > 0) this.#insertEntries(runId, entries)
  }

  checkpoint(runId: number, c: Checkpoint): void {
    this.#upsertCheckpoint.run(runId, c.table, c.lastKey, c.read, c.written, c.rejected, c.dropped, c.done ? 1 : 0, new Date().toISOString())
  }

  sourceStates(runId: number, states: readonly { table: string; state: SourceTableState }[]): void {
    const put = this.#db.prepare('INSERT OR REPLACE INTO source_state (run_id, table_name, state) VALUES (?, ?, ?)')
    this.#db.transaction(() => {
      for (const s of states) put.run(runId, s.table, JSON.stringify(s.state))
    })()
  }

  /**
   * The checkpoints of the latest run between the same source and target when it did not finish well;
   * undefined when it did (a later successful run supersedes every interrupted one before it) or none ran.
   */
  resumePoint(run: JournalRun): Checkpoint[] | undefined {
    const latest = this.#db
      .prepare('SELECT id, finished_at, ok FROM run WHERE source = ? AND target = ? ORDER BY id DESC LIMIT 1')
      .get(run.source, run.target) as { id: number; finished_at: string | null; ok: number | null } | undefined
    if (latest === undefined || (latest.finished_at !== null && latest.ok === 1)) return undefined
    const id = latest.id
    const rows = this.#db
      .prepare(
        `SELECT c.table_name, c.last_key, c.read, c.written, c.rejected, c.dropped, c.done, s.state
         FROM checkpoint c LEFT JOIN source_state s ON s.run_id = c.run_id AND s.table_name = c.table_name
         WHERE c.run_id = ? ORDER BY c.table_name`,
      )
      .all(id) as { table_name: string; last_key: string | null; read: number; written: number; rejected: number; dropped: number; done: number; state: string | null }[]
    return rows.map((r) => ({
      ...(r.state === null ? {} : { sourceState: JSON.parse(r.state) as SourceTableState }),
      table: r.table_name,
      lastKey: r.last_key,
      read: r.read,
      written: r.written,
      rejected: r.rejected,
      dropped: r.dropped,
      done: r.done === 1,
    }))
  }

  finishRun(runId: number, summary: { ok: boolean; report: string }): void {
    this.#db.prepare('UPDATE run SET finished_at = ?, ok = ?, report = ? WHERE id = ?').run(new Date().toISOString(), summary.ok ? 1 : 0, summary.report, runId)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#db.close()
  }
}

/**
 * Opens (or creates) a journal file: tables `failure_kind` (filled from the error classes' codes, plus the
 * `fixed`/`inserted`/`remapped` events), `run`, `entry` and `checkpoint`. Throws a `ConnectionError` naming
 * the path when it cannot be created or is not a journal-compatible SQLite file, and a `not_available`
 * `UsageError` when better-sqlite3 is not installed (`load` defaults to importing it).
 *
 * @example
 * const journal = await openJournalFile('./dbferry-journal.sqlite')
 * // SELECT kind, count(*) FROM entry WHERE created_at >= '2026-01-01' GROUP BY kind
 */
export async function openJournalFile(path: string, load: DriverLoader = importBetterSqlite3): Promise<SqliteJournal> {
  const Database = await loadDatabase('the journal', load)
  const memory = path === ':memory:'
  if (!memory) {
    const dir = dirname(resolve(path))
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConnectionError(`cannot create the journal ${path}: ${dir} is not a directory`)
  }
  let db: BetterSqlite3.Database | undefined
  try {
    db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.pragma('foreign_keys = ON')
    db.exec(JOURNAL_SCHEMA)
    const kind = db.prepare(
      'INSERT INTO failure_kind (code, name, description) VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET name = excluded.name, description = excluded.description',
    )
    db.transaction(() => {
      for (const [code, description] of Object.entries(FAILURE_KINDS)) kind.run(code, FAILURE_KIND_CLASSES[code as FailureKind], description)
      for (const [code, description] of Object.entries(EVENT_KINDS)) kind.run(code, 'event', description)
    })()
  } catch (error) {
    db?.close()
    throw new ConnectionError(`cannot open the journal ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  return new SqliteJournal(db, memory ? ':memory:' : path)
}
