import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { connect } from '../connect.js'
import type { Connection } from '../dialect.js'
import type { Checkpoint, JournalEntry } from '../journal/journal.js'
import type { CopyContext } from './copy-context.js'
import { copyTable } from './copy-table.js'
import { errorFromData, errorToData, type FromThread, type PostedContext, type ThreadStart, type ToThread } from './thread-messages.js'

/**
 * A chunk thread (`--jobs` with threads): its own source connection, in the run's snapshot where the source
 * exports one, and its own target connection, opened from the run's URLs; it copies one chunk at a time with the
 * copy's own table path (`copyTable`). Reading, converting and encoding run here, off the main thread. What must
 * stay in order with the run — checkpoints and journal records — goes to the main thread as a request, and the
 * copy waits for its answer: a checkpoint is durable before the write it announces starts, exactly as in one
 * thread. Progress goes as messages without waiting.
 */

interface Conns {
  source: Connection
  target: Connection
}

/** Requests waiting for the main thread's answer, by id. */
const waiting = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>()
let nextId = 0
let current: AbortController | undefined

function post(port: MessagePort, message: FromThread): void {
  port.postMessage(message)
}

/** Sends a request and waits for the main thread's answer (a rejection carries its error). */
function request(port: MessagePort, make: (id: number) => FromThread): Promise<void> {
  const id = nextId++
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject })
    post(port, make(id))
  })
}

/** Opens the source (joining the run's snapshot) and the target; says `joined` once the source reads its snapshot. */
async function open(port: MessagePort, start: ThreadStart): Promise<Conns> {
  const source = (await connect(start.from, { fallbackEncoding: start.fallbackEncoding })).connection
  try {
    const info = await source.snapshot(start.join === undefined ? undefined : { join: start.join })
    post(port, { type: 'joined', guarantee: info.guarantee })
    return { source, target: (await connect(start.to)).connection }
  } catch (error) {
    await source.close().catch(() => {})
    throw error
  }
}

/** Copies one chunk; the report (and, with verify, the keys of rows that will not be on the target) goes back as data. */
async function copy(port: MessagePort, conns: Conns, message: Extract<ToThread, { type: 'copy' }>): Promise<void> {
  const { ctx: posted, pair, report } = message
  const { journalRun, checkpoints, progress, missingKeys: wantKeys, ...plain } = posted
  const missingKeys: string[] | undefined = wantKeys ? [] : undefined
  current = new AbortController()
  const ctx: CopyContext = {
    ...plain,
    source: conns.source,
    target: conns.target,
    signal: current.signal,
    transformers: [],
    missingKeys,
    journal:
      journalRun === undefined
        ? undefined
        : { journal: { record: (runId: number, entries: JournalEntry[]) => request(port, (id) => ({ type: 'journal', id, runId, entries })) }, runId: journalRun },
    checkpoint: checkpoints ? (checkpoint: Checkpoint) => request(port, (id) => ({ type: 'checkpoint', id, checkpoint })) : undefined,
    onProgress: progress ? (event) => post(port, { type: 'progress', event }) : undefined,
  }
  try {
    await copyTable(ctx, pair, report, undefined)
    post(port, { type: 'done', report, missingKeys })
  } catch (error) {
    post(port, { type: 'failed', report, missingKeys, error: errorToData(error) })
  } finally {
    current = undefined
  }
}

async function run(port: MessagePort, start: ThreadStart): Promise<void> {
  let conns: Conns | undefined
  let closing = false
  const close = async () => {
    closing = true
    await Promise.all([conns?.source.close().catch(() => {}), conns?.target.close().catch(() => {})])
    post(port, { type: 'closed' })
    port.close()
  }
  // listening from the start: a `close` may come while the connections still open
  port.on('message', (message: ToThread) => {
    switch (message.type) {
      case 'copy':
        void copy(port, conns!, message)
        break
      case 'reply': {
        const w = waiting.get(message.id)
        waiting.delete(message.id)
        if (message.error) w?.reject(errorFromData(message.error))
        else w?.resolve()
        break
      }
      case 'abort':
        current?.abort()
        break
      case 'close':
        if (conns) void close()
        else closing = true
        break
    }
  })
  try {
    conns = await open(port, start)
  } catch (error) {
    post(port, { type: 'open-failed', error: errorToData(error) })
    port.close()
    return
  }
  if (closing) await close()
  else post(port, { type: 'ready' })
}

// started by thread-lanes.ts (its workerData says so); imported any other way, this file does nothing
if (!isMainThread && parentPort && (workerData as Partial<ThreadStart> | undefined)?.dbferryChunkThread === 1) {
  void run(parentPort, workerData as ThreadStart)
}
