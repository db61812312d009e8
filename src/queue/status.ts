import { ChunkLedger } from './chunk-ledger.js'
import { QueueDb } from './queue-db.js'

/** One table of a queue run, as `dbferry status` shows it. */
export interface QueueTableStatus {
  table: string
  chunks: number
  /** Chunks by state (`pending`, `running`, `done`, `failed`, `cancelled`). */
  states: Record<string, number>
  /** Rows read, written, rejected and dropped so far (done chunks' reports, the others' last checkpoints). */
  read: number
  written: number
  rejected: number
  dropped: number
  /** Attempts beyond the first, summed over the chunks (a chunk redone after its worker died counts 1). */
  retries: number
}

/** A queue run, as `dbferry status` shows it. */
export interface QueueRunStatus {
  id: string
  created: string
  /** `copying`, `copied` (the coordinator went on to finish), or `failed`. */
  state: string
  source: string
  target: string
  tables: QueueTableStatus[]
}

/** What a queue database holds: its runs (newest first) and the workers beating now. */
export interface QueueStatus {
  runs: QueueRunStatus[]
  workers: { id: string; host: string; pid: number; seenSecondsAgo: number; run?: string; table?: string; chunk?: number }[]
}

/**
 * The state of a queue database's runs (`run`: only that one; default the 10 newest) and of its workers, read
 * from the tables every coordinator and worker writes.
 */
export async function queueStatus(queue: string, run?: string): Promise<QueueStatus> {
  const db = await QueueDb.open(queue)
  try {
    const runs = await db.sql(
      run === undefined
        ? `SELECT id, created::text, state, source, target FROM dbferry_queue.runs ORDER BY created DESC LIMIT 10`
        : `SELECT id, created::text, state, source, target FROM dbferry_queue.runs WHERE id = $1`,
      run === undefined ? [] : [run],
    )
    const out: QueueStatus = { runs: [], workers: [] }
    for (const r of runs.rows) {
      const chunks = await new ChunkLedger(db, String(r.id)).all()
      const tables = new Map<string, QueueTableStatus>()
      for (const c of chunks) {
        const t = tables.get(c.table) ?? { table: c.table, chunks: 0, states: {}, read: 0, written: 0, rejected: 0, dropped: 0, retries: 0 }
        t.chunks++
        t.states[c.state] = (t.states[c.state] ?? 0) + 1
        const counts = c.report ?? c.checkpoint
        if (counts) {
          t.read += counts.read
          t.written += counts.written
          t.rejected += counts.rejected
          t.dropped += counts.dropped
        }
        t.retries += Math.max(0, c.attempts - 1)
        tables.set(c.table, t)
      }
      out.runs.push({ id: String(r.id), created: String(r.created), state: String(r.state), source: String(r.source), target: String(r.target), tables: [...tables.values()] })
    }
    const workers = await db.sql(`SELECT id, host, pid, extract(epoch FROM now() - seen)::float8 AS ago, run, tbl, idx FROM dbferry_queue.workers ORDER BY started`)
    out.workers = workers.rows.map((w) => ({
      id: String(w.id),
      host: String(w.host),
      pid: Number(w.pid),
      seenSecondsAgo: Math.round(Number(w.ago)),
      ...(w.run ? { run: String(w.run), table: String(w.tbl), chunk: Number(w.idx) } : {}),
    }))
    return out
  } finally {
    await db.close()
  }
}

/** A queue status as text: a block per run, a line per table, then the workers. */
export function formatQueueStatus(status: QueueStatus): string {
  const lines: string[] = []
  if (status.runs.length === 0) lines.push('no runs in this queue')
  for (const r of status.runs) {
    lines.push(`run ${r.id} (${r.state}, created ${r.created}): ${r.source} → ${r.target}`)
    for (const t of r.tables) {
      const states = Object.entries(t.states).map(([s, n]) => `${n} ${s}`).join(', ')
      lines.push(`  ${t.table}: ${t.chunks} chunk(s): ${states}; ${t.read} read, ${t.written} written, ${t.rejected} rejected, ${t.dropped} dropped${t.retries > 0 ? `; ${t.retries} retried` : ''}`)
    }
  }
  lines.push(`workers: ${status.workers.length}`)
  for (const w of status.workers) lines.push(`  ${w.id} (seen ${w.seenSecondsAgo} s ago)${w.run ? `: run ${w.run}, ${w.table} chunk ${w.chunk! + 1}` : ': idle'}`)
  return lines.join('\n')
}
