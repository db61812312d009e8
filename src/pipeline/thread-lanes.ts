import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { schemeOf } from '../connect.js'
import { UsageError } from '../errors.js'
import { loaderFor, REGISTRY } from '../registry.js'
import type { TablePair } from '../plan/table-pair.js'
import type { TableReport } from '../report.js'
import type { CopyContext } from './copy-context.js'
import { errorFromData, errorToData, type FromThread, type PostedContext, type ThreadStart, type ToThread } from './thread-messages.js'

/**
 * The main thread's side of `--jobs` with threads: N long-lived worker threads (chunk-thread.ts), each with its
 * own source and target connection, each copying one chunk at a time. The main thread keeps the journal: a
 * thread's checkpoint and journal records arrive as requests, are written here in the order they come, and are
 * answered once written (the thread's copy waits for the answer). Progress arrives as events and updates the
 * chunk's report here, which the table's progress sums.
 */

/** A chunk's copy context as copy-chunked.ts makes it: everything but the connections, which the thread has. */
export type ChunkContext = Omit<CopyContext, 'source' | 'target'>

/** Where the thread entry is and how to start it; undefined when this build has none (see {@link threadEntry}). */
export interface ThreadEntry {
  file: URL
  execArgv?: string[]
}

/**
 * The chunk thread's entry file, found beside the module that runs this code: in dist/ (`pipeline/chunk-thread.js`
 * or `.cjs`, tsup's entry, from a shared chunk in dist/ or from dist/cli/), beside it in a bundle that has it as an
 * entry, or — running the TypeScript sources (tests) — `chunk-thread.ts` loaded through jiti's register hook.
 * Undefined when none is found: the copy then stays in one thread.
 */
export function threadEntry(here: string = import.meta.url): ThreadEntry | undefined {
  const ext = /\.(cjs|mjs|js|ts)$/.exec(here.split(/[?#]/)[0]!)?.[0]
  if (ext === undefined) return undefined
  for (const rel of [`./chunk-thread${ext}`, `./pipeline/chunk-thread${ext}`, `../pipeline/chunk-thread${ext}`]) {
    const file = new URL(rel, here)
    if (!existsSync(fileURLToPath(file))) continue
    if (ext !== '.ts') return { file }
    const register = jitiRegister(here)
    return register ? { file, execArgv: ['--import', register] } : undefined
  }
  return undefined
}

function jitiRegister(here: string): string | undefined {
  try {
    const pkg = createRequire(here).resolve('jiti/package.json')
    return pathToFileURL(join(dirname(pkg), 'lib/jiti-register.mjs')).href
  } catch {
    return undefined
  }
}

/**
 * Why a run that copies with several jobs cannot copy them in threads (undefined: it can): the threads open
 * their connections from the URLs through the built-in engines, so a scheme registered at run time — which a
 * thread does not know — keeps the copy in one thread, as does a build without the thread entry.
 */
export function threadsRefusal(from: unknown, to: unknown): string | undefined {
  for (const url of [from, to]) {
    if (typeof url !== 'string') return 'the source and the target must be URLs'
    const scheme = schemeOf(url)
    const builtIn = REGISTRY.find((e) => scheme !== undefined && e.schemes.includes(scheme))
    if (!builtIn || loaderFor(scheme!) !== builtIn.load) return `${scheme}: is a scheme registered in this process, which a worker thread does not know`
  }
  if (!threadEntry()) return 'this build has no chunk thread entry (pipeline/chunk-thread.js)'
  return undefined
}

/** How long a closing thread gets to close its connections before it is terminated. */
const CLOSE_MS = 10_000

/** The chunk a thread copies now, and what its messages go to. */
interface Busy {
  ctx: ChunkContext
  report: TableReport
  resolve: () => void
  reject: (error: unknown) => void
}

/** One worker thread and the chunk it copies. */
class ChunkThread {
  readonly worker: Worker
  /** The thread's id (kept: `worker.threadId` reads -1 once it ended). */
  readonly threadId: number
  /** Chunks it copied to the end. */
  copied = 0
  #busy: Busy | undefined
  /** Settles when the chunk under way has ended (done or failed). */
  #settled: Promise<unknown> = Promise.resolve()
  #dead: Error | undefined
  #closing = false
  readonly #joined: Promise<string>
  readonly #ready: Promise<void>
  readonly #exited: Promise<void>
  #opened: { joined: (g: string) => void; ready: () => void; failed: (e: unknown) => void } | undefined

  constructor(
    entry: ThreadEntry,
    start: ThreadStart,
    private readonly onDeath: (thread: ChunkThread, error: Error) => void,
  ) {
    let joined!: (g: string) => void
    let ready!: () => void
    let failed!: (e: unknown) => void
    this.#joined = new Promise<string>((resolve, reject) => {
      joined = resolve
      failed = reject
    })
    this.#ready = new Promise<void>((resolve, reject) => {
      ready = resolve
      const f = failed
      failed = (e) => {
        f(e)
        reject(e)
      }
    })
    // an opening that failed is reported by joined() or ready(), whichever the pool awaits
    this.#joined.catch(() => {})
    this.#ready.catch(() => {})
    this.#opened = { joined, ready, failed }
    this.worker = new Worker(entry.file, { workerData: start, execArgv: entry.execArgv })
    this.threadId = this.worker.threadId
    this.#exited = new Promise((resolve) => this.worker.once('exit', () => resolve()))
    this.worker.on('message', (m: FromThread) => this.#message(m))
    this.worker.on('error', (e) => this.#die(e))
    this.worker.on('exit', (code) => this.#die(new Error(`a chunk thread ended (exit code ${code})`)))
  }

  get alive(): boolean {
    return this.#dead === undefined && !this.#closing
  }

  joined(): Promise<string> {
    return this.#joined
  }

  ready(): Promise<void> {
    return this.#ready
  }

  /** Copies one chunk in the thread; resolves with `report` holding its counts, rejects with the chunk's error. */
  copy(ctx: ChunkContext, pair: TablePair, report: TableReport): Promise<void> {
    if (this.#dead) return Promise.reject(this.#dead)
    const { journal, checkpoint, onProgress, signal, transformers, missingKeys, ...plain } = ctx
    // a run with transforms has one job (jobs.ts): a transform's processor cannot cross into a thread
    if (transformers.length > 0) return Promise.reject(new UsageError('transforms cannot run in a chunk thread'))
    const posted: PostedContext = { ...plain, journalRun: journal?.runId, checkpoints: checkpoint !== undefined, progress: onProgress !== undefined, missingKeys: missingKeys !== undefined }
    const onAbort = () => this.#send({ type: 'abort' })
    const copied = new Promise<void>((resolve, reject) => {
      this.#busy = { ctx, report, resolve, reject }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#send({ type: 'copy', ctx: posted, pair, report })
      if (signal?.aborted) onAbort()
    }).finally(() => {
      signal?.removeEventListener('abort', onAbort)
      this.#busy = undefined
    })
    this.#settled = copied.catch(() => {})
    return copied
  }

  #send(message: ToThread): void {
    if (this.#dead === undefined) this.worker.postMessage(message)
  }

  #message(m: FromThread): void {
    const busy = this.#busy
    switch (m.type) {
      case 'joined':
        this.#opened?.joined(m.guarantee)
        return
      case 'ready':
        this.#opened?.ready()
        this.#opened = undefined
        return
      case 'open-failed':
        this.#opened?.failed(errorFromData(m.error))
        this.#opened = undefined
        return
      case 'progress':
        if (!busy) return
        // the table's progress sums its chunks' reports: this chunk's counts so far are the event's
        if (m.event.type === 'batch') Object.assign(busy.report, { read: m.event.read, written: m.event.written, rejected: m.event.rejected, dropped: m.event.dropped })
        busy.ctx.onProgress?.(m.event)
        return
      case 'checkpoint':
        this.#answer(m.id, busy, (ctx) => ctx.checkpoint?.(m.checkpoint))
        return
      case 'journal':
        this.#answer(m.id, busy, (ctx) => ctx.journal?.journal.record(ctx.journal.runId, m.entries))
        return
      case 'done':
      case 'failed':
        if (!busy) return
        Object.assign(busy.report, m.report)
        if (m.missingKeys) busy.ctx.missingKeys?.push(...m.missingKeys)
        if (m.type === 'done') {
          this.copied++
          busy.resolve()
        } else busy.reject(errorFromData(m.error))
        return
      case 'closed':
        return
    }
  }

  /**
   * Answers a request once `write` has written what it asked (in this thread, in the order requests come); a
   * failure — thrown or rejected — goes back as the error the thread's copy then throws.
   */
  #answer(id: number, busy: Busy | undefined, write: (ctx: ChunkContext) => void | Promise<void> | undefined): void {
    const written = (async () => {
      if (!busy) throw new Error('a chunk thread asked to record something while it copied no chunk')
      await write(busy.ctx)
    })()
    written.then(
      () => this.#send({ type: 'reply', id }),
      (error) => this.#send({ type: 'reply', id, error: errorToData(error) }),
    )
  }

  #die(error: Error): void {
    if (this.#dead) return
    if (this.#closing && !this.#busy) {
      this.#dead = error
      return
    }
    this.#dead = error
    this.#opened?.failed(error)
    this.#opened = undefined
    this.#busy?.reject(error)
    this.onDeath(this, error)
  }

  /** Stops the chunk it copies (if any), closes its connections and ends the thread. */
  async close(): Promise<void> {
    if (this.#dead === undefined && this.#busy) {
      this.#send({ type: 'abort' })
      await this.#race(this.#settled.then(() => {}), CLOSE_MS)
    }
    this.#closing = true
    if (this.#dead === undefined) {
      this.#send({ type: 'close' })
      if (!(await this.#race(this.#exited, CLOSE_MS))) await this.worker.terminate()
    }
    await this.#exited
  }

  async #race(p: Promise<void>, ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
    try {
      return await Promise.race([p.then(() => true), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/**
 * N worker threads that copy chunks, one chunk each at a time, handed out as they come free. A thread that dies
 * (an uncaught error, an exit) fails the chunk it copied and takes no more; when none is left, every chunk
 * still waiting fails with its error.
 */
export class ChunkThreads {
  readonly #threads: ChunkThread[]
  readonly #free: ChunkThread[] = []
  readonly #waiting: { resolve: (t: ChunkThread) => void; reject: (e: unknown) => void }[] = []
  #lastDeath: Error | undefined

  private constructor(entry: ThreadEntry, start: ThreadStart, count: number) {
    this.#threads = Array.from({ length: count }, () => new ChunkThread(entry, start, (t, e) => this.#death(t, e)))
  }

  /**
   * Starts `count` threads; each opens its source (in the snapshot `start.join` names, if any) and its target.
   * Call {@link joined}, then release what holds the snapshot joinable, then {@link ready}.
   */
  static start(entry: ThreadEntry, start: Omit<ThreadStart, 'dbferryChunkThread'>, count: number): ChunkThreads {
    return new ChunkThreads(entry, { ...start, dbferryChunkThread: 1 }, count)
  }

  /** Waits until every thread's source reads its snapshot; their guarantees. Throws (threads closed) when one failed. */
  async joined(): Promise<string[]> {
    return this.#orClose(Promise.all(this.#threads.map((t) => t.joined())))
  }

  /** Waits until every thread has its target connection too. Throws (threads closed) when one failed. */
  async ready(): Promise<void> {
    await this.#orClose(Promise.all(this.#threads.map((t) => t.ready())))
    this.#free.push(...this.#threads)
  }

  async #orClose<T>(p: Promise<T>): Promise<T> {
    try {
      return await p
    } catch (error) {
      await this.close()
      throw error
    }
  }

  /** How many threads copy at once. */
  get size(): number {
    return this.#threads.length
  }

  /** Chunks each thread copied to the end, by the thread's id. */
  copiedBy(): { threadId: number; chunks: number }[] {
    return this.#threads.map((t) => ({ threadId: t.threadId, chunks: t.copied }))
  }

  /**
   * Copies a chunk on the next free thread, unless `skip()` says, once a thread is free, that it should not start
   * (another chunk failed, or the run was aborted). `report` ends holding the chunk's counts, done or failed.
   */
  async copy(ctx: ChunkContext, pair: TablePair, report: TableReport, skip: () => boolean): Promise<void> {
    const thread = await this.#acquire()
    try {
      if (skip()) return
      await thread.copy(ctx, pair, report)
    } finally {
      this.#release(thread)
    }
  }

  #acquire(): Promise<ChunkThread> {
    const t = this.#free.pop()
    if (t) return Promise.resolve(t)
    if (!this.#threads.some((x) => x.alive)) return Promise.reject(this.#lastDeath ?? new Error('no chunk thread is running'))
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }))
  }

  #release(thread: ChunkThread): void {
    if (!thread.alive) return
    const next = this.#waiting.shift()
    if (next) next.resolve(thread)
    else this.#free.push(thread)
  }

  #death(thread: ChunkThread, error: Error): void {
    this.#lastDeath = error
    const i = this.#free.indexOf(thread)
    if (i >= 0) this.#free.splice(i, 1)
    if (this.#threads.some((t) => t.alive)) return
    for (const w of this.#waiting.splice(0)) w.reject(this.#lastDeath)
  }

  /** Ends every thread (closing its connections). */
  async close(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.close()))
  }
}
