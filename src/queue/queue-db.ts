import { redact, UsageError } from '../errors.js'

/** The pg-boss queue a run's chunk jobs go through: one per run, made by its coordinator and removed at its end. */
export function runQueue(run: string): string {
  return `dbferry-run-${run}`
}

/** The slice of pg-boss dbferry uses (pg-boss 10: it runs on Node 20). */
export interface Boss {
  start(): Promise<unknown>
  stop(options?: { graceful?: boolean; wait?: boolean; timeout?: number }): Promise<void>
  createQueue(name: string, options?: Record<string, unknown>): Promise<void>
  deleteQueue(name: string): Promise<void>
  send(name: string, data: object, options?: Record<string, unknown>): Promise<string | null>
  fetch<T>(name: string, options: { includeMetadata: true; batchSize?: number }): Promise<BossJob<T>[]>
  complete(name: string, id: string, data?: object): Promise<void>
  fail(name: string, id: string, data?: object): Promise<void>
  cancel(name: string, ids: string[]): Promise<void>
  getDb(): { executeSql(text: string, values: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount?: number }> }
  on(event: 'error', handler: (error: Error) => void): unknown
}

/** A fetched job with the retry counts pg-boss keeps. */
export interface BossJob<T> {
  id: string
  data: T
  retryCount: number
  retryLimit: number
}

/**
 * The queue database: pg-boss's own schema (`pgboss`) for delivery, expiry and retries, and dbferry's schema
 * (`dbferry_queue`) for what every machine of a run shares — the run's plan, each chunk's state and
 * checkpoints, rejected rows and the workers' heartbeats.
 */
export class QueueDb {
  private constructor(
    readonly boss: Boss,
    /** The queue URL with its password masked, for messages. */
    readonly description: string,
  ) {}

  /**
   * Opens the queue database (creating both schemas when missing). pg-boss is loaded only here. `supervise`:
   * this process runs pg-boss's maintenance (expiry, archiving) — the coordinator does; workers and `status`
   * need not. Default false.
   */
  static async open(url: string, options: { supervise?: boolean } = {}): Promise<QueueDb> {
    const mod = await import('pg-boss').catch((error: unknown) => {
      throw new UsageError(`--queue needs the pg-boss package (npm install pg-boss@10): ${error instanceof Error ? error.message : String(error)}`, { code: 'not_available', cause: error })
    })
    const PgBoss = (mod as { default: new (options: object) => Boss }).default
    // no cron schedules; a few connections are enough
    const boss = new PgBoss({ connectionString: url, max: 4, application_name: 'dbferry', supervise: options.supervise === true, schedule: false })
    // pg-boss reports what fails in its own timers (maintenance, monitoring) as events, which would end the
    // process unheard; every call dbferry awaits rejects with its own error
    boss.on('error', () => {})
    await boss.start()
    const db = new QueueDb(boss, redact(url))
    await db.#ensureSchema()
    return db
  }

  /** Runs one statement on the queue database. */
  async sql(text: string, values: unknown[] = []): Promise<{ rows: Record<string, unknown>[]; rowCount: number }> {
    const r = await this.boss.getDb().executeSql(text, values)
    return { rows: r.rows, rowCount: r.rowCount ?? r.rows.length }
  }

  async #ensureSchema(): Promise<void> {
    // processes starting together race on IF NOT EXISTS: a duplicate object is the other one's, and fine
    for (const statement of SCHEMA) await this.sql(statement).catch(ignoreDuplicate)
  }

  /** Stops pg-boss (its pool and timers). */
  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, timeout: 5_000 }).catch(() => {})
  }
}

/**
 * dbferry's tables in the queue database. `chunks.attempt` fences a chunk: only the attempt that claimed it last
 * may write its checkpoints and finish it, so a worker that was given up for dead stops at its next batch.
 */
const SCHEMA = [
  `CREATE SCHEMA IF NOT EXISTS dbferry_queue`,
  `CREATE TABLE IF NOT EXISTS dbferry_queue.runs (
     id text PRIMARY KEY, created timestamptz NOT NULL DEFAULT now(), source text NOT NULL, target text NOT NULL,
     plan jsonb NOT NULL, state text NOT NULL DEFAULT 'copying', report jsonb, finished timestamptz)`,
  `CREATE TABLE IF NOT EXISTS dbferry_queue.chunks (
     run text NOT NULL, tbl text NOT NULL, idx integer NOT NULL, of integer NOT NULL, bounds jsonb NOT NULL,
     state text NOT NULL DEFAULT 'pending', job text, worker text, attempt text, attempts integer NOT NULL DEFAULT 0,
     checkpoint jsonb, report jsonb, error text, updated timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (run, tbl, idx))`,
  `CREATE TABLE IF NOT EXISTS dbferry_queue.rejects (
     id bigserial PRIMARY KEY, run text NOT NULL, tbl text NOT NULL, idx integer NOT NULL, entry jsonb NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS rejects_run ON dbferry_queue.rejects (run, tbl)`,
  `CREATE TABLE IF NOT EXISTS dbferry_queue.workers (
     id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, started timestamptz NOT NULL DEFAULT now(),
     seen timestamptz NOT NULL DEFAULT now(), run text, tbl text, idx integer, chunks integer NOT NULL DEFAULT 0)`,
]

function ignoreDuplicate(error: unknown): void {
  const code = (error as { code?: string }).code
  if (code !== '23505' && code !== '42P07' && code !== '42P06') throw error
}
