import { importBetterSqlite3, loadDatabase, type DriverLoader } from './database.js'

/** Filters of {@link queryJournal}. */
export interface JournalQuery {
  /** Only entries of these kinds (`duplicate_key`, `fixed`, …). Absent or empty: every kind. */
  kinds?: readonly string[]
  /** Only entries of these (target) tables. Absent or empty: every table. */
  tables?: readonly string[]
  /** Only entries of these actions (`rejected`, `dropped`, `fixed`, `inserted`, `remapped`). Absent or empty: every action. */
  actions?: readonly string[]
  /** A run id, or `last` for the latest run. */
  run?: number | 'last'
  /** Entries created at or after this ISO date/time. */
  since?: string
  /** Most entries returned, first ones first (counts are not limited). Default: all. */
  limit?: number
}

/** One journal entry as stored. */
export interface JournalRow {
  /** The entry's id, in the order entries were recorded. */
  id: number
  /** The run that recorded it. */
  run_id: number
  /** {@link JournalEntry.table}. */
  table_name: string
  /** {@link JournalEntry.action}. */
  action: string
  /** {@link JournalEntry.kind}. */
  kind: string
  /** {@link JournalEntry.key}; null when absent. */
  key: string | null
  /** {@link JournalEntry.column}; null when absent. */
  column_name: string | null
  /** {@link JournalEntry.message}. */
  message: string
  /** {@link JournalEntry.row}; null when absent. */
  row_json: string | null
  /** {@link JournalEntry.source}. */
  source: string
  /** When it was recorded (ISO 8601, UTC). */
  created_at: string
}

/** Counts per run, table, action and kind. */
export interface JournalCount {
  /** The run. */
  run_id: number
  /** The table. */
  table_name: string
  /** The action. */
  action: string
  /** The kind. */
  kind: string
  /** How many entries match (all of them, whatever `limit`). */
  n: number
}

/**
 * Reads entries of a journal file, read-only, filtered by kind, table, action, run and date (default: every
 * entry). Values are parameters; the filters only choose which `?` placeholders appear. Throws a
 * `not_available` `UsageError` when better-sqlite3 is not installed (`load` defaults to importing it), and the
 * driver's error when the file is not a journal.
 */
export async function queryJournal(path: string, q: JournalQuery = {}, load: DriverLoader = importBetterSqlite3): Promise<{ entries: JournalRow[]; counts: JournalCount[] }> {
  const Database = await loadDatabase('reading a journal', load)
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const where: string[] = []
    const params: unknown[] = []
    const inList = (column: string, values: readonly string[] | undefined) => {
      if (!values || values.length === 0) return
      where.push(`${column} IN (${values.map(() => '?').join(', ')})`)
      params.push(...values)
    }
    inList('kind', q.kinds)
    inList('table_name', q.tables)
    inList('action', q.actions)
    if (q.run === 'last') where.push('run_id = (SELECT max(id) FROM run)')
    else if (q.run !== undefined) {
      where.push('run_id = ?')
      params.push(q.run)
    }
    if (q.since !== undefined) {
      where.push('created_at >= ?')
      params.push(q.since)
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : ''
    const entries = db.prepare(`SELECT id, run_id, table_name, action, kind, key, column_name, message, row_json, source, created_at FROM entry ${filter} ORDER BY id${limit}`).all(...params) as JournalRow[]
    const counts = db
      .prepare(`SELECT run_id, table_name, action, kind, count(*) AS n FROM entry ${filter} GROUP BY run_id, table_name, action, kind ORDER BY run_id, table_name, action, kind`)
      .all(...params) as JournalCount[]
    return { entries, counts }
  } finally {
    db.close()
  }
}
