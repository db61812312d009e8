import { randomUUID } from 'node:crypto'
import { DbferryError } from '../errors.js'
import type { Checkpoint, JournalEntry } from '../journal/journal.js'
import type { TableReport } from '../report.js'
import type { QueueDb } from './queue-db.js'

/** A chunk's row in the queue database, as the coordinator reads it. */
export interface ChunkRow {
  table: string
  index: number
  of: number
  state: 'pending' | 'running' | 'done' | 'failed' | 'cancelled'
  job?: string
  worker?: string
  attempts: number
  checkpoint?: Checkpoint
  report?: TableReport
  error?: string
}

/** A chunk's bounds as stored (encoded keys, see journal/keys.ts). */
export interface StoredBounds {
  after: string | null
  until: string | null
}

/** The attempt a worker holds on a chunk: what it starts from, and the token that fences its writes. */
export interface Claim {
  attempt: string
  /** The checkpoint an earlier attempt left; absent: the chunk starts from its beginning. */
  checkpoint?: Checkpoint
  bounds: StoredBounds
  of: number
}

/** A worker wrote to a chunk it no longer holds: another attempt took it over (the worker was thought dead). */
export class LostClaimError extends DbferryError {
  constructor(table: string, index: number) {
    super('aborted', `chunk ${index + 1} of ${table} was handed to another worker (this one missed its heartbeats): stopping it here`, { table })
  }
}

/**
 * Each chunk's state in the queue database: claimed by one attempt at a time, its checkpoints and its end
 * written only by that attempt (`WHERE attempt = …`), so whatever pg-boss delivers twice, one attempt's work
 * counts and a chunk that is done is never copied again.
 */
export class ChunkLedger {
  constructor(
    private readonly db: QueueDb,
    readonly run: string,
  ) {}

  /** Records the run's chunks, pending (their jobs are sent after, see {@link setJob}). */
  async add(chunks: readonly { table: string; index: number; of: number; bounds: StoredBounds }[]): Promise<void> {
    for (const c of chunks) {
      await this.db.sql(`INSERT INTO dbferry_queue.chunks (run, tbl, idx, of, bounds) VALUES ($1, $2, $3, $4, $5)`, [this.run, c.table, c.index, c.of, JSON.stringify(c.bounds)])
    }
  }

  /**
   * Takes a chunk for `worker`: one that is pending, or running on a worker whose heartbeat is older than
   * `staleSeconds`. Undefined when it is done, failed, cancelled, or held by a live worker (a duplicate delivery).
   */
  async claim(table: string, index: number, worker: string, staleSeconds: number): Promise<Claim | undefined> {
    const attempt = randomUUID()
    const r = await this.db.sql(
      `UPDATE dbferry_queue.chunks SET state = 'running', worker = $4, attempt = $5, attempts = attempts + 1, updated = now()
        WHERE run = $1 AND tbl = $2 AND idx = $3
          AND (state = 'pending' OR (state = 'running' AND NOT EXISTS (
                SELECT 1 FROM dbferry_queue.workers w WHERE w.id = chunks.worker AND w.seen > now() - make_interval(secs => $6))))
        RETURNING checkpoint, bounds, of`,
      [this.run, table, index, worker, attempt, staleSeconds],
    )
    const row = r.rows[0]
    if (!row) return undefined
    return { attempt, checkpoint: (row.checkpoint as Checkpoint | null) ?? undefined, bounds: row.bounds as StoredBounds, of: Number(row.of) }
  }

  /** Writes the chunk's checkpoint; throws {@link LostClaimError} when the attempt no longer holds it. */
  async checkpoint(table: string, index: number, attempt: string, cp: Checkpoint): Promise<void> {
    const r = await this.db.sql(`UPDATE dbferry_queue.chunks SET checkpoint = $4, updated = now() WHERE run = $1 AND tbl = $2 AND idx = $3 AND attempt = $5 AND state = 'running'`, [this.run, table, index, JSON.stringify(cp), attempt])
    if (r.rowCount === 0) throw new LostClaimError(table, index)
  }

  /** Marks the chunk done with its report; throws {@link LostClaimError} when the attempt no longer holds it. */
  async finish(table: string, index: number, attempt: string, report: TableReport): Promise<void> {
    const r = await this.db.sql(`UPDATE dbferry_queue.chunks SET state = 'done', report = $4, error = NULL, updated = now() WHERE run = $1 AND tbl = $2 AND idx = $3 AND attempt = $5 AND state = 'running'`, [this.run, table, index, JSON.stringify(report), attempt])
    if (r.rowCount === 0) throw new LostClaimError(table, index)
  }

  /**
   * Gives a chunk up after a failed attempt: `pending` again for the queue's next retry, or `failed` with the
   * error after the last one. Only the attempt that holds it.
   */
  async release(table: string, index: number, attempt: string, error: string, final: boolean): Promise<void> {
    await this.db.sql(`UPDATE dbferry_queue.chunks SET state = $4, worker = NULL, error = $5, updated = now() WHERE run = $1 AND tbl = $2 AND idx = $3 AND attempt = $6 AND state = 'running'`, [this.run, table, index, final ? 'failed' : 'pending', error, attempt])
  }

  /**
   * Hands back to the queue every running chunk whose worker's heartbeat is older than `staleSeconds`: the
   * chunk becomes pending with a new job (returned), and the old attempt is fenced off.
   */
  async reclaimStale(staleSeconds: number): Promise<{ table: string; index: number; worker: string }[]> {
    const r = await this.db.sql(
      `UPDATE dbferry_queue.chunks c SET state = 'pending', attempt = NULL, updated = now()
        WHERE c.run = $1 AND c.state = 'running'
          AND NOT EXISTS (SELECT 1 FROM dbferry_queue.workers w WHERE w.id = c.worker AND w.seen > now() - make_interval(secs => $2))
        RETURNING tbl, idx, worker`,
      [this.run, staleSeconds],
    )
    return r.rows.map((row) => ({ table: String(row.tbl), index: Number(row.idx), worker: String(row.worker) }))
  }

  /** Records the job that now carries a chunk. */
  async setJob(table: string, index: number, job: string): Promise<void> {
    await this.db.sql(`UPDATE dbferry_queue.chunks SET job = $4 WHERE run = $1 AND tbl = $2 AND idx = $3`, [this.run, table, index, job])
  }

  /** Cancels every chunk not yet taken (a failed run); returns their jobs. */
  async cancelPending(): Promise<string[]> {
    const r = await this.db.sql(`UPDATE dbferry_queue.chunks SET state = 'cancelled', updated = now() WHERE run = $1 AND state = 'pending' RETURNING job`, [this.run])
    return r.rows.map((row) => row.job).filter((j): j is string => typeof j === 'string')
  }

  /** Every chunk of the run. */
  async all(): Promise<ChunkRow[]> {
    const r = await this.db.sql(`SELECT tbl, idx, of, state, job, worker, attempts, checkpoint, report, error FROM dbferry_queue.chunks WHERE run = $1 ORDER BY tbl, idx`, [this.run])
    return r.rows.map((row) => ({
      table: String(row.tbl),
      index: Number(row.idx),
      of: Number(row.of),
      state: row.state as ChunkRow['state'],
      job: (row.job as string | null) ?? undefined,
      worker: (row.worker as string | null) ?? undefined,
      attempts: Number(row.attempts),
      checkpoint: (row.checkpoint as Checkpoint | null) ?? undefined,
      report: (row.report as TableReport | null) ?? undefined,
      error: (row.error as string | null) ?? undefined,
    }))
  }

  /** Records a chunk's rejected, dropped and fixed rows (the run's shared journal of rejects). */
  async record(table: string, index: number, entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return
    await this.db.sql(`INSERT INTO dbferry_queue.rejects (run, tbl, idx, entry) SELECT $1, $2, $3, e FROM jsonb_array_elements($4::jsonb) AS e`, [this.run, table, index, JSON.stringify(entries)])
  }

  /** The keys of a table's rejected and dropped rows (verify's expected differences). */
  async missingKeys(table: string): Promise<string[]> {
    const r = await this.db.sql(`SELECT entry->>'key' AS key FROM dbferry_queue.rejects WHERE run = $1 AND tbl = $2 AND entry->>'action' IN ('rejected', 'dropped') AND entry ? 'key'`, [this.run, table])
    return r.rows.map((row) => String(row.key))
  }
}
