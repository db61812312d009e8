import {
  AbortError,
  AccountingError,
  ConnectionError,
  DbferryError,
  PreflightError,
  RowError,
  SchemaError,
  SourceChangedError,
  TransformError,
  UsageError,
  type DriverFields,
  type FailureKind,
  type RowFailureKind,
  type SourceChange,
} from '../errors.js'
import type { Checkpoint, JournalEntry } from '../journal/journal.js'
import type { TablePair } from '../plan/table-pair.js'
import type { TableReport } from '../report.js'
import type { CopyContext } from './copy-context.js'
import type { ProgressEvent } from './progress.js'

/**
 * The messages between the main thread and a chunk thread (see chunk-thread.ts and thread-lanes.ts). Everything
 * crosses by structured clone, so only data does: a chunk's copy context without its connections and callbacks,
 * its report, and errors as {@link ErrorData} (an error's class and fields do not survive a clone).
 */

/** What a thread is started with (`workerData`). */
export interface ThreadStart {
  /** Marks the data as dbferry's, so that the entry file started some other way does nothing. */
  dbferryChunkThread: 1
  from: string
  to: string
  fallbackEncoding?: string
  /** The run's exported snapshot to read in. Absent: the thread's source starts a snapshot of its own. */
  join?: string
}

/** The plain-data part of a chunk's copy context; the callbacks it had are flags here and messages in use. */
export type PostedContext = Omit<CopyContext, 'source' | 'target' | 'journal' | 'checkpoint' | 'onProgress' | 'signal' | 'transformers' | 'missingKeys'> & {
  /** The journal's run id when the chunk records rejects. Absent: no journal. */
  journalRun?: number
  checkpoints: boolean
  progress: boolean
  missingKeys: boolean
}

/** Main thread → chunk thread. */
export type ToThread =
  | { type: 'copy'; ctx: PostedContext; pair: TablePair; report: TableReport }
  | { type: 'abort' }
  | { type: 'reply'; id: number; error?: ErrorData }
  | { type: 'close' }

/** Chunk thread → main thread. */
export type FromThread =
  | { type: 'joined'; guarantee: string }
  | { type: 'ready' }
  | { type: 'open-failed'; error: ErrorData }
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'checkpoint'; id: number; checkpoint: Checkpoint }
  | { type: 'journal'; id: number; runId: number; entries: JournalEntry[] }
  | { type: 'done'; report: TableReport; missingKeys?: string[] }
  | { type: 'failed'; report: TableReport; missingKeys?: string[]; error: ErrorData }
  | { type: 'closed' }

/** An error as data: its class name, message, stack, every own field that clones, and its cause. */
export interface ErrorData {
  name: string
  message: string
  /** Whether it was one of dbferry's errors (a subclass this side does not know comes back as a `DbferryError`). */
  dbferry: boolean
  stack?: string
  fields: Record<string, unknown>
  cause?: ErrorData | { value: unknown }
}

/** An error (or anything thrown) as {@link ErrorData}: the fields a clone keeps, the rest dropped. */
export function errorToData(error: unknown, depth = 0): ErrorData {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), dbferry: false, fields: { thrown: cloneable(error) } }
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(error)) {
    if (k === 'cause') continue
    const c = cloneable(v)
    if (c !== undefined) fields[k] = c
  }
  const data: ErrorData = { name: error.name, message: error.message, dbferry: error instanceof DbferryError, stack: error.stack, fields }
  if ('cause' in error && error.cause !== undefined && depth < 4) {
    data.cause = error.cause instanceof Error ? errorToData(error.cause, depth + 1) : { value: cloneable(error.cause) }
  }
  return data
}

/** A value that survives a structured clone as it is, else undefined (functions, class instances that lose their class). */
function cloneable(v: unknown): unknown {
  if (v === null || ['string', 'number', 'boolean', 'bigint', 'undefined'].includes(typeof v)) return v
  if (v instanceof Uint8Array || v instanceof Date || v instanceof RegExp) return v
  if (Array.isArray(v)) return v.map(cloneable)
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, cloneable(x)]))
  }
  return undefined
}

/**
 * The error {@link errorToData} described, rebuilt on this side: dbferry's classes as themselves (with their code,
 * table, key, column, value, row and driver fields), any other error as an `Error` with its name and fields.
 */
export function errorFromData(data: ErrorData): Error {
  const f = data.fields
  const cause = data.cause === undefined ? undefined : 'value' in data.cause ? data.cause.value : errorFromData(data.cause)
  const where = { table: f.table as string | undefined, key: f.key as Record<string, unknown> | string | undefined, column: f.column as string | undefined, cause, driver: f.driver as DriverFields | undefined }
  let error: Error
  switch (data.name) {
    case 'ConnectionError':
      error = new ConnectionError(data.message, where)
      break
    case 'SchemaError':
      error = new SchemaError(data.message, { ...where, code: f.code as 'schema' | 'target_exists' | 'constraint_creation' | undefined })
      break
    case 'UsageError':
      error = new UsageError(data.message, { cause, code: f.code as 'usage' | 'not_available' | undefined })
      break
    case 'TransformError':
      error = new TransformError(String(f.transform), data.message.replace(`transform ${String(f.transform)}: `, ''), where)
      break
    case 'PreflightError':
      error = new PreflightError(data.message, (f.issues as unknown[] | undefined) ?? [])
      break
    case 'AbortError':
      error = new AbortError(data.message)
      break
    case 'AccountingError':
      error = new AccountingError(data.message, where)
      break
    case 'SourceChangedError':
      error = new SourceChangedError((f.changes as SourceChange[] | undefined) ?? [])
      break
    case 'RowError':
      error = new RowError(f.code as RowFailureKind, data.message, { ...where, ...('value' in data.fields ? { value: f.value } : {}), row: f.row as unknown[] | undefined })
      break
    default:
      if (data.dbferry) {
        error = new DbferryError(f.code as FailureKind, data.message, where)
        error.name = data.name
      } else {
        error = new Error(data.message, cause === undefined ? undefined : { cause })
        error.name = data.name
        for (const [k, v] of Object.entries(data.fields)) (error as unknown as Record<string, unknown>)[k] = v
      }
  }
  // the thread's stack says where it failed; the message and fields are the error's own (already redacted there)
  if (data.stack) error.stack = data.stack
  return error
}
