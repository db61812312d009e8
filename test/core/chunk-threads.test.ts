import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { connect, registerDialect } from '../../src/connect.js'
import { loaderFor } from '../../src/registry.js'
import { DbferryError, SchemaError } from '../../src/errors.js'
import { ferry, MemoryJournal } from '../../src/ferry.js'
import type { Report } from '../../src/report.js'
import { copyTable, emptyTableReport } from '../../src/pipeline/copy-table.js'
import { ChunkThreads, threadEntry, threadsRefusal, type ChunkContext } from '../../src/pipeline/thread-lanes.js'
import { eventsTable } from '../support/events-table.js'
import { createPostgresDatabase, serverUp, type TestDatabase } from '../support/servers.js'

// --jobs with threads: the chunks of a split table are copied in worker threads, each with its own connections;
// the journal, the progress and the report stay in the main thread. Every case runs the same SQLite `events`
// table (its integer key splits it) into PostgreSQL.
const ROWS = 8_000
const CHUNK_ROWS = 1_000
const JUNK = new Set([1_500, 4_500, 7_000])
const EXPECTED = Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => !JUNK.has(id))

const pgUp = await serverUp('postgres')
const dir = mkdtempSync(join(tmpdir(), 'dbferry-threads-'))
const source = `sqlite:${join(dir, 'source.db')}`
const made: TestDatabase[] = []
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()))
  rmSync(dir, { recursive: true, force: true })
})

async function target(): Promise<TestDatabase> {
  const d = await createPostgresDatabase()
  made.push(d)
  return d
}

async function onTarget<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.end()
  }
}

const ids = (url: string) => onTarget(url, async (c) => (await c.query<{ id: string }>('SELECT id FROM events ORDER BY id')).rows.map((r) => Number(r.id)))
const threadNote = (r: Report) => r.snapshot?.notes?.find((n) => /chunk\(s\) copied in worker threads/.test(n))

describe.skipIf(!pgUp)('--jobs with threads', () => {
  beforeAll(() => buildFixture({ name: 'threads', tables: [eventsTable(ROWS, JUNK)] }, source))

  describe('a copy in threads and the same copy in one thread', () => {
    const runs: Record<'threads' | 'lanes', { report: Report; journal: MemoryJournal; url: string }> = {} as never
    beforeAll(async () => {
      for (const threads of [true, false]) {
        const dst = await target()
        const journal = new MemoryJournal()
        const report = await ferry({ from: source, to: dst.url, jobs: 2, chunkRows: CHUNK_ROWS, batchRows: 250, threads, journal })
        runs[threads ? 'threads' : 'lanes'] = { report, journal, url: dst.url }
      }
    })

    it('copies every chunk in a worker thread, and the report says which thread copied how many', () => {
      const { report } = runs.threads
      expect(report.error).toBeUndefined()
      expect(report.tables[0]!.chunks).toBe(ROWS / CHUNK_ROWS)
      const note = threadNote(report)
      const by = [...(note ?? '').matchAll(/thread (\d+): (\d+)/g)].map((m) => ({ id: Number(m[1]), chunks: Number(m[2]) }))
      expect(note).toMatch(/^--jobs 2: 8 chunk\(s\) copied in worker threads/)
      expect(by).toHaveLength(2)
      // threads of their own: not this (the main) thread, and not one thread twice
      expect(by.every((t) => t.id !== threadId)).toBe(true)
      expect(new Set(by.map((t) => t.id)).size).toBe(2)
      expect(by.reduce((n, t) => n + t.chunks, 0)).toBe(ROWS / CHUNK_ROWS)
      expect(threadNote(runs.lanes.report)).toBeUndefined()
    })

    it('writes the same rows, counts and journal as the copy in one thread', async () => {
      const [t, l] = [runs.threads, runs.lanes]
      expect(l.report.error).toBeUndefined()
      const counts = (r: Report) => r.tables.map(({ name, status, read, written, rejected, dropped, chunks, byKind }) => ({ name, status, read, written, rejected, dropped, chunks, byKind }))
      expect(counts(t.report)).toEqual(counts(l.report))
      expect(counts(t.report)[0]).toMatchObject({ status: 'done', read: ROWS, written: EXPECTED.length, rejected: JUNK.size })
      expect(await ids(t.url)).toEqual(EXPECTED)
      expect(await ids(l.url)).toEqual(EXPECTED)
      const entries = (j: MemoryJournal) => j.entries.map(({ runId: _r, ...e }) => e).sort((a, b) => String(a.key).localeCompare(String(b.key)))
      expect(entries(t.journal)).toEqual(entries(l.journal))
      // every chunk ended with its checkpoint recorded as done, as the table's checkpoint says
      const last = t.journal.checkpoints.filter((c) => c.table === 'events').at(-1)!
      expect(last.done).toBe(true)
      expect(last.written).toBe(EXPECTED.length)
    })

    it('journals a row a thread rejected with its table, key, column and value', () => {
      const rejected = runs.threads.journal.entries.filter((e) => e.action === 'rejected')
      expect(rejected.map((e) => [e.table, e.kind, e.key, e.column]).sort()).toEqual([...JUNK].map((id) => ['events', 'type_conversion', JSON.stringify({ id }), 'n']).sort())
      for (const e of rejected) expect(JSON.parse(e.row!)).toMatchObject({ n: 'not-a-number' })
    })
  })

  it('a thread that fails comes back with the typed error a copy in the main thread throws, with its fields', async () => {
    // the target has no `events` table: the write fails with the server's error, wrapped by the writer
    const dst = await target()
    const { connection: src } = await connect(source)
    const { connection: tgt } = await connect(dst.url)
    await src.snapshot()
    const table = (await src.introspect()).tables.find((t) => t.name === 'events')!
    const pair = { source: table, target: table }
    const ctx: ChunkContext = { batchRows: 500, batchBytes: 1 << 20, maxExamples: 5, fit: {}, transformers: [], after: [2_000], until: [3_000] }
    const inMain = emptyTableReport(pair)
    const inThread = emptyTableReport(pair)
    let mainError: unknown
    try {
      await copyTable({ ...ctx, source: src, target: tgt }, pair, inMain, undefined).catch((e) => (mainError = e))
    } finally {
      await Promise.all([src.close(), tgt.close()])
    }
    const threads = ChunkThreads.start(threadEntry()!, { from: source, to: dst.url }, 1)
    let threadError: unknown
    try {
      await threads.joined()
      await threads.ready()
      await threads.copy(ctx, pair, inThread, () => false).catch((e) => (threadError = e))
    } finally {
      await threads.close()
    }
    expect(mainError).toBeInstanceOf(SchemaError)
    expect(threadError).toBeInstanceOf(SchemaError)
    const fields = (e: unknown) => {
      const d = e as DbferryError
      return { name: d.name, code: d.code, message: d.message, table: d.table, key: d.key, column: d.column, driver: d.driver, cause: (d.cause as Error | undefined)?.message }
    }
    expect(fields(threadError)).toEqual(fields(mainError))
    expect(fields(threadError)).toMatchObject({ code: 'schema', table: 'events', driver: { sqlState: '42P01' } })
    expect(inThread.status).toBe('failed')
    expect(inThread.error).toBe(inMain.error)
  })

  it('a chunk that fails in a thread fails its table with the typed error, and the other chunks stop starting', async () => {
    const dst = await target()
    await ferry({ from: source, to: dst.url, schemaOnly: true })
    // the server refuses one row of the fifth chunk with an error that is not about the row's data
    await onTarget(dst.url, (c) =>
      c.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 4200 THEN RAISE EXCEPTION 'refused %', NEW.id; END IF; RETURN NEW; END $$;
               CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()`),
    )
    const report = await ferry({ from: source, to: dst.url, dataOnly: true, jobs: 2, chunkRows: CHUNK_ROWS, batchRows: 250, threads: true, journal: false })
    expect(report.ok).toBe(false)
    // a SchemaError in the thread is one here: its failure kind, not a plain error's
    expect(report.error?.code).toBe('schema')
    expect(report.error?.message).toMatch(/refused 4200/)
    const t = report.tables[0]!
    expect(t.status).toBe('failed')
    expect(t.error).toMatch(/^chunk 5 of 8: .*refused 4200/)
    expect(t.written).toBeLessThan(EXPECTED.length)
  })

  it('an abort stops the threads (their connections are closed when ferry returns), and --resume then copies the rest exactly', async () => {
    const dst = await target()
    const journal = join(dir, 'abort.sqlite')
    const controller = new AbortController()
    const aborted = await ferry({
      from: source,
      to: dst.url,
      jobs: 2,
      chunkRows: CHUNK_ROWS,
      batchRows: 100,
      threads: true,
      journal,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === 'batch' && e.read >= 1_500) controller.abort()
      },
    })
    expect(aborted.error?.code).toBe('aborted')
    expect(aborted.tables[0]!.status).toBe('failed')
    // the abort reached the threads inside their chunks: the first two chunks (1 999 rows) did not run to their end
    expect(aborted.tables[0]!.written).toBeLessThan(2 * CHUNK_ROWS - 1)
    const sessions = await onTarget(dst.url, async (c) => Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows[0]!.n))
    expect(sessions).toBe(0)
    const resumed = await ferry({ from: source, to: dst.url, jobs: 2, chunkRows: CHUNK_ROWS, batchRows: 100, threads: true, journal, resume: true })
    expect(resumed.error).toBeUndefined()
    expect(resumed.tables[0]).toMatchObject({ status: 'done', read: ROWS, written: EXPECTED.length, rejected: JUNK.size })
    expect(await ids(dst.url)).toEqual(EXPECTED)
  })

  it('keeps the jobs in the main thread, and says why, where a thread could not open the URLs', async () => {
    const dst = await target()
    expect(threadsRefusal(source, dst.url)).toBeUndefined()
    expect(threadsRefusal({}, dst.url)).toBe('the source and the target must be URLs')
    // a scheme registered in this process: a worker thread has only the built-in registry
    registerDialect('pgthreads', () => loaderFor('postgres')!())
    const url = dst.url.replace(/^postgres(ql)?:/, 'pgthreads:')
    expect(threadsRefusal(source, url)).toMatch(/^pgthreads: is a scheme registered in this process/)
    const report = await ferry({ from: source, to: url, jobs: 2, chunkRows: CHUNK_ROWS, threads: true, journal: false })
    expect(report.error).toBeUndefined()
    expect(report.snapshot?.notes).toContain('--threads ignored: pgthreads: is a scheme registered in this process, which a worker thread does not know')
    expect(threadNote(report)).toBeUndefined()
    expect(report.tables[0]).toMatchObject({ status: 'done', chunks: ROWS / CHUNK_ROWS, written: EXPECTED.length })
    expect(await ids(dst.url)).toEqual(EXPECTED)
  })
})
