import { mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { captureChanges } from '../../src/catchup/capture.js'
import { catchUp } from '../../src/catchup/catch-up.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { ChunkLedger, LostClaimError } from '../../src/queue/chunk-ledger.js'
import { QueueDb } from '../../src/queue/queue-db.js'
import { runWorker } from '../../src/queue/worker.js'
import type { Report } from '../../src/report.js'
import type { Row } from '../../src/schema/types.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'
import { eventsTable } from '../support/events-table.js'
import { workerBundle, type WorkerProcess } from './workers.js'

// a queue run: this process is the coordinator (ferry with `queue`), three worker processes copy the chunks;
// one is killed with SIGKILL in the middle of a chunk, and the run must still end with every row exactly once
const ROWS = 9_000
const CHUNK_ROWS = 1_000
const BATCH = 250
// SQLite source: every 2 000th row holds junk in an integer column, rejected exactly once whatever is redone
const JUNK = new Set(Array.from({ length: ROWS / 2_000 }, (_, i) => (i + 1) * 2_000 - 7))

function fixture(junk: boolean): Fixture {
  return {
    name: 'queue',
    tables: [
      eventsTable(ROWS, junk ? JUNK : undefined),
      {
        // a text key: one whole-table chunk, resumable after its key
        name: 'codes',
        columns: [
          { name: 'code', type: { kind: 'text', length: 20 }, nullable: false },
          { name: 'event_id', type: { kind: 'int64' } },
        ],
        primaryKey: ['code'],
        foreignKeys: [{ columns: ['event_id'], refTable: 'events', refColumns: ['id'], name: 'codes_event' }],
        rows: Array.from({ length: 700 }, (_, i): Row => [`c${String(i).padStart(5, '0')}`, i + 1]),
      },
      {
        // no key at all: one whole-table chunk, which starts over from empty if its worker dies
        name: 'logs',
        columns: [{ name: 'line', type: { kind: 'text' } }],
        rows: Array.from({ length: 600 }, (_, i): Row => [`log ${i}`]),
      },
    ],
  }
}

let bundle: Awaited<ReturnType<typeof workerBundle>>
const dir = mkdtempSync(join(tmpdir(), 'dbferry-queue-'))
beforeAll(async () => {
  bundle = await workerBundle()
})
afterAll(() => {
  bundle?.remove()
  rmSync(dir, { recursive: true, force: true })
})

const pgUp = await serverUp('postgres')
const myUp = await serverUp('mysql')

/** Every row of every table of a database, as JSON text per table (sorted), read through dbferry. */
async function contents(url: string, tables: readonly string[]): Promise<Record<string, string[]>> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const schema = await connection.introspect()
    const out: Record<string, string[]> = {}
    for (const name of tables) {
      const table = schema.tables.find((t) => t.name === name)!
      const rows: string[] = []
      for await (const b of connection.read(table, { batchRows: 20_000, batchBytes: 1 << 26 })) for (const r of b.rows) rows.push(JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)))
      out[name] = rows.sort()
    }
    return out
  } finally {
    await connection.close()
  }
}

/**
 * Runs a queue copy with three workers; `kill` kills the first worker to reach its second batch of a chunk
 * (SIGKILL: no goodbye, its heartbeat just stops); `onQueued` runs once the chunks are enqueued. Returns the
 * report and the workers.
 */
async function queueCopy(from: string, to: string, queue: string, kill: boolean, onQueued?: () => void): Promise<{ report: Report; workers: WorkerProcess[]; killed?: WorkerProcess }> {
  const workers: WorkerProcess[] = []
  let killed: WorkerProcess | undefined
  const report = await ferry({
    from,
    to,
    queue,
    journal: join(dir, `journal-${Math.random().toString(36).slice(2)}.sqlite`),
    batchRows: BATCH,
    chunkRows: CHUNK_ROWS,
    queueStaleSeconds: 2,
    onProgress(e) {
      if (e.type !== 'queue') return
      onQueued?.()
      for (let i = 0; i < 3; i++) {
        const w = bundle.start(queue, e.run)
        workers.push(w)
        if (kill && i === 0) {
          let batches = 0
          w.onEvent((ev) => {
            if (ev.type === 'chunk-start') batches = 0
            if (ev.type === 'chunk-batch' && ++batches === 2 && !killed) {
              killed = w
              w.process.kill('SIGKILL')
            }
          })
        }
      }
    },
  })
  await Promise.all(workers.map((w) => w.ended))
  return { report, workers, killed }
}

function expectBalanced(report: Report): void {
  expect(report.error).toBeUndefined()
  expect(report.ok).toBe(true)
  for (const t of report.tables) expect(t.read, t.name).toBe(t.written + t.rejected + t.dropped)
}

describe.skipIf(!pgUp)('queue run: a coordinator and three worker processes', () => {
  it('SQLite → PostgreSQL, the queue in the target database: a worker killed mid-chunk, its chunk goes on elsewhere once, every row exactly once', async () => {
    const src = join(dir, 'source.sqlite')
    await buildFixture(fixture(true), `sqlite:${src}`)
    const dst = await createPostgresDatabase()
    try {
      const { report, workers, killed } = await queueCopy(`sqlite:${src}`, dst.url, dst.url, true)
      expectBalanced(report)
      expect(killed).toBeDefined()
      const events = report.tables.find((t) => t.name === 'events')!
      expect(events.chunks).toBe(ROWS / CHUNK_ROWS)
      expect(events.read).toBe(ROWS)
      expect(events.rejected).toBe(JUNK.size)
      expect(events.written).toBe(ROWS - JUNK.size)
      expect(report.snapshot?.notes?.some((n) => /^1 chunk\(s\) handed to another worker/.test(n))).toBe(true)
      // the chunk the killed worker held was taken once more, by a live worker, and finished there
      const held = killed!.events.filter((e) => e.type === 'chunk-start').at(-1)!
      const redone = workers.filter((w) => w !== killed).flatMap((w) => w.events).filter((e) => e.type === 'chunk-done' && e.table === held.table && e.index === held.index)
      expect(redone).toHaveLength(1)
      const runId = held.run
      const db = await QueueDb.open(dst.url)
      try {
        const chunks = await new ChunkLedger(db, runId).all()
        expect(chunks.every((c) => c.state === 'done')).toBe(true)
        expect(chunks.filter((c) => c.attempts > 1).map((c) => [c.table, c.index])).toEqual([[held.table, held.index]])
        // the rejects every worker recorded are in the queue database, once each
        const rejects = await db.sql(`SELECT entry->>'key' AS key FROM dbferry_queue.rejects WHERE run = $1 ORDER BY 1`, [runId])
        expect(rejects.rows.map((r) => JSON.parse(String(r.key)).id).sort((a: number, b: number) => a - b)).toEqual([...JUNK].sort((a, b) => a - b))
      } finally {
        await db.close()
      }
      const expected = await contents(`sqlite:${src}`, ['codes', 'logs'])
      const got = await contents(dst.url, ['events', 'codes', 'logs'])
      expect(got.codes).toEqual(expected.codes)
      expect(got.logs).toEqual(expected.logs)
      expect(got.events!.map((r) => JSON.parse(r)[0] as number).sort((a, b) => a - b)).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => !JUNK.has(id)))
      // the finishing made the foreign key once the parent was loaded
      expect(report.constraints?.filter((c) => c.outcome === 'failed') ?? []).toEqual([])
    } finally {
      await dst.drop()
    }
  }, 180_000)

  it.skipIf(!myUp)('PostgreSQL → MariaDB, the queue in a database of its own, the source written meanwhile: every worker reads the exported snapshot, and catch-up makes the target equal', async () => {
    const src = await createPostgresDatabase()
    const dst = await createMysqlDatabase()
    const queue = await createPostgresDatabase('dbferry_queue')
    try {
      await buildFixture(fixture(false), src.url)
      const captured = await captureChanges(src.url)
      expect(captured.notCaptured.map((n) => n.table)).toEqual(['logs'])
      let writes: Promise<void> | undefined
      const { report, workers } = await queueCopy(src.url, dst.url, queue.url, false, () => (writes = writeDuringCopy(src.url)))
      await writes
      expectBalanced(report)
      expect(report.snapshot?.notes?.some((n) => n.includes('every worker reads the snapshot this process exported'))).toBe(true)
      // the chunks were shared out: more than one worker finished some
      expect(workers.filter((w) => w.events.some((e) => e.type === 'chunk-done')).length).toBeGreaterThan(1)
      const tables = ['events', 'codes']
      // the copy is the snapshot: the writes made meanwhile are not on the target yet
      expect(await contents(dst.url, tables)).not.toEqual(await contents(src.url, tables))
      const caught = await catchUp({ from: src.url, to: dst.url })
      expect(caught.clean).toBe(true)
      expect(caught.tables.find((t) => t.name === 'events')).toMatchObject({ upserted: 3, deleted: 2 })
      expect(await contents(dst.url, [...tables, 'logs'])).toEqual(await contents(src.url, [...tables, 'logs']))
    } finally {
      await Promise.all([src.drop(), dst.drop(), queue.drop()])
    }
  }, 180_000)
})

/** Changes the source while workers copy it: two updates, an insert past the end, two deletes (of a child first). */
async function writeDuringCopy(url: string): Promise<void> {
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(`UPDATE events SET label = 'changed' WHERE id IN (10, 8000)`)
    await c.query(`INSERT INTO events (id, n, label) VALUES (${ROWS + 1}, 1, 'inserted')`)
    await c.query(`DELETE FROM codes WHERE code = 'c00004'`)
    await c.query(`DELETE FROM events WHERE id IN (5, 4000)`)
  } finally {
    await c.end()
  }
}

describe.skipIf(!pgUp)('queue chunk ledger: one attempt at a time', () => {
  let queue: TestDatabase
  let db: QueueDb
  beforeAll(async () => {
    queue = await createPostgresDatabase('dbferry_queue')
    db = await QueueDb.open(queue.url)
    await db.sql(`INSERT INTO dbferry_queue.workers (id, host, pid) VALUES ('w1', 'h', 1), ('w2', 'h', 2)`)
  })
  afterAll(async () => {
    await db?.close()
    await queue?.drop()
  })

  it('a chunk done is never claimed again (a re-delivered job); a chunk held by a live worker is not taken', async () => {
    const ledger = new ChunkLedger(db, 'r1')
    await ledger.add([{ table: 't', index: 0, of: 1, bounds: { after: null, until: null } }])
    const claim = (await ledger.claim('t', 0, 'w1', 30))!
    expect(claim).toBeDefined()
    expect(await ledger.claim('t', 0, 'w2', 30)).toBeUndefined()
    await ledger.finish('t', 0, claim.attempt, { name: 't', status: 'done', read: 1, written: 1, rejected: 0, dropped: 0, inserted: 0, fixed: {}, byKind: {}, examples: [], ms: 1 })
    expect(await ledger.claim('t', 0, 'w2', 30)).toBeUndefined()
  })

  it('a worker that stopped beating loses its chunk: its next checkpoint and its finish are refused', async () => {
    const ledger = new ChunkLedger(db, 'r2')
    await ledger.add([{ table: 't', index: 0, of: 1, bounds: { after: null, until: null } }])
    const first = (await ledger.claim('t', 0, 'w1', 30))!
    await ledger.checkpoint('t', 0, first.attempt, { table: 't', lastKey: null, read: 5, written: 5, rejected: 0, dropped: 0, done: false })
    await db.sql(`UPDATE dbferry_queue.workers SET seen = now() - interval '1 minute' WHERE id = 'w1'`)
    expect(await ledger.reclaimStale(30)).toEqual([{ table: 't', index: 0, worker: 'w1' }])
    const second = (await ledger.claim('t', 0, 'w2', 30))!
    // the new attempt starts from what the first one checkpointed
    expect(second.checkpoint?.written).toBe(5)
    await expect(ledger.checkpoint('t', 0, first.attempt, { table: 't', lastKey: null, read: 9, written: 9, rejected: 0, dropped: 0, done: false })).rejects.toBeInstanceOf(LostClaimError)
    await expect(ledger.finish('t', 0, first.attempt, { name: 't', status: 'done', read: 9, written: 9, rejected: 0, dropped: 0, inserted: 0, fixed: {}, byKind: {}, examples: [], ms: 1 })).rejects.toBeInstanceOf(LostClaimError)
  })
})

describe.skipIf(!pgUp)('queue run: a chunk that fails its last retry', () => {
  it('fails the run, naming the table, the chunk and the error, after the retries', async () => {
    const src = join(dir, 'vanishing.sqlite')
    await buildFixture({ name: 'q', tables: [eventsTable(3_000)] }, `sqlite:${src}`)
    const dst = await createPostgresDatabase()
    try {
      let worker: Promise<unknown> | undefined
      const report = await ferry({
        from: `sqlite:${src}`,
        to: dst.url,
        queue: dst.url,
        queueRetries: 1,
        journal: false,
        chunkRows: 1_000,
        onProgress(e) {
          if (e.type !== 'queue') return
          // the coordinator holds the file open; a worker cannot open it any more
          renameSync(src, `${src}.gone`)
          worker = runWorker({ queue: dst.url, run: e.run, pollSeconds: 0.2 })
        },
      })
      await worker
      expect(report.ok).toBe(false)
      expect(report.error?.message).toMatch(/^events: chunk \d of 3: .*\(after 2 attempt\(s\)\)$/)
      expect(report.tables[0]).toMatchObject({ name: 'events', status: 'failed' })
    } finally {
      await dst.drop()
    }
  }, 60_000)
})
