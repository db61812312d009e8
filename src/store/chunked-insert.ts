import type BetterSqlite3 from 'better-sqlite3'

/** Values added one at a time, inserted `rows` rows to a statement; see {@link chunkedInsert}. */
export interface ChunkedInsert {
  /** The next value, in column order, row after row. */
  value(v: unknown): void
  /** Inserts the rows that do not fill a whole statement, one by one. Call it before the transaction ends. */
  finish(): void
}

/**
 * Inserts rows of `width` values many to a statement: a statement run costs about as much as the row it adds,
 * so scratch tables (the journal, spilled key stores) write `rows` rows per run. `head` is the statement up to
 * `VALUES`. Rows of one statement are written in order, so `INSERT OR REPLACE` keeps a key's last value as
 * row by row would. Runs inside the caller's transaction. (The table writer has its own: it falls back to
 * single rows to find the one a target refuses.)
 */
export function chunkedInsert(db: BetterSqlite3.Database, head: string, width: number, rows: number): ChunkedInsert {
  const tuple = `(${new Array(width).fill('?').join(', ')})`
  const one = db.prepare(`${head} VALUES ${tuple}`)
  const many = db.prepare(`${head} VALUES ${new Array(rows).fill(tuple).join(', ')}`)
  const params: unknown[] = new Array(width * rows)
  let k = 0
  return {
    value(v) {
      params[k++] = v
      if (k === params.length) {
        many.run(params)
        k = 0
      }
    },
    finish() {
      for (let i = 0; i < k; i += width) one.run(params.slice(i, i + width))
      k = 0
    },
  }
}
