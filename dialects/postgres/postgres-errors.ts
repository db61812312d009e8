import type { ClassifiedError, DialectErrors } from '../../src/dialect.js'
import { ConnectionError, DbferryError, SchemaError, isDbferryError, type DriverFields, type FailureKind } from '../../src/errors.js'

/**
 * What `pg`'s errors mean. A server error is pg-protocol's `DatabaseError`: a five-character SQLSTATE `code`
 * and every field the server sent (`constraint`, `table`, `column`, `schema`, `detail`, `where`…). A lost
 * socket is a Node system error (`ECONNRESET`…) or pg's own `Connection terminated…` error, with no SQLSTATE.
 */

/** SQLSTATEs that name one failure kind. */
const BY_SQLSTATE: Readonly<Record<string, FailureKind>> = {
  '23502': 'not_null',
  '23505': 'duplicate_key',
  '23503': 'foreign_key_violation',
  '23514': 'check_violation',
  '22001': 'truncation',
  '22003': 'out_of_range',
  '22008': 'out_of_range',
  '22021': 'invalid_encoding',
  '22P05': 'invalid_encoding',
  '40001': 'serialization_failure',
  '40P01': 'serialization_failure',
  // the server ended the session: admin shutdown, crash shutdown, cannot connect now
  '57P01': 'connection',
  '57P02': 'connection',
  '57P03': 'connection',
}

/** Socket errors of a connection that is gone. */
const SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED'])

/** pg's own errors for a client whose connection ended (they carry no code). */
const LOST_MESSAGE = /^(Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|Connection ended)/

const SQLSTATE = /^[0-9A-Z]{5}$/

/** A string field of a driver error, if it has one. */
function field(error: object, name: string): string | undefined {
  const v = (error as Record<string, unknown>)[name]
  return typeof v === 'string' && v !== '' ? v : undefined
}

/** The driver's fields (`schema` beside the contract's, since PostgreSQL names it). */
function driverFields(error: Error): DriverFields & { schema?: string } {
  const out: DriverFields & { schema?: string } = { message: error.message }
  const code = field(error, 'code')
  if (code !== undefined) out.code = code
  if (code !== undefined && SQLSTATE.test(code)) out.sqlState = code
  const errno = (error as { errno?: unknown }).errno
  if (typeof errno === 'number') out.errno = errno
  for (const name of ['constraint', 'table', 'column', 'detail', 'schema'] as const) {
    const v = field(error, name)
    if (v !== undefined) out[name] = v
  }
  return out
}

/** What `error` means, or undefined when it is not one of pg's (a bug, a TypeError, dbferry's own). */
function classify(error: unknown): ClassifiedError | undefined {
  if (!(error instanceof Error) || isDbferryError(error)) return undefined
  const code = field(error, 'code')
  let kind: FailureKind
  if (code !== undefined && SQLSTATE.test(code) && 'severity' in error) {
    // class 08: connection exceptions
    kind = BY_SQLSTATE[code] ?? (code.startsWith('08') ? 'connection' : 'target_rejected')
  } else if ((code !== undefined && SOCKET_CODES.has(code)) || LOST_MESSAGE.test(error.message)) {
    kind = 'connection'
  } else {
    return undefined
  }
  return { kind, driver: driverFields(error), connectionLost: kind === 'connection', retryable: kind === 'serialization_failure' }
}

/**
 * The 1-based line of a COPY into `relname` that a server error names (`COPY t, line 12, column x: …`), if
 * any: the writer isolates the row it refused from it.
 */
function copyLine(error: unknown, relname: string): number | undefined {
  const where = (error as { where?: unknown } | undefined)?.where
  if (typeof where !== 'string') return undefined
  // the context is `COPY <relname>, line <n>`: anchor on the known name, since a name may contain ", line"
  const at = where.indexOf(`COPY ${relname}, line `)
  if (at < 0) return undefined
  const m = /^\d+/.exec(where.slice(at + relname.length + 12))
  return m ? Number(m[0]) : undefined
}

/**
 * Turns an error of an operation (`what`: `writing t on postgres://…`) into dbferry's, keeping the driver's
 * error as `cause` and its fields as `driver`: a lost connection (and, as before, anything that is not a
 * server error) is a `ConnectionError`, a deadlock or serialization failure a `serialization_failure`, any
 * other server error a `SchemaError`. dbferry's own errors pass unchanged.
 */
function wrap(error: unknown, what: string, options: { table?: string } = {}): Error {
  if (isDbferryError(error)) return error
  const read = classify(error)
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`
  const opts = { cause: error, ...(options.table === undefined ? {} : { table: options.table }), ...(read ? { driver: read.driver } : {}) }
  if (read === undefined || read.connectionLost) return new ConnectionError(message, opts)
  if (read.retryable) return new DbferryError('serialization_failure', message, opts)
  return new SchemaError(message, opts)
}

/**
 * PostgreSQL's error map (see {@link DialectErrors}): SQLSTATE → failure kind, with `wrap` (an operation's
 * error as dbferry's) and `copyLine` (the COPY line a server error names) for the other files of the dialect.
 */
export const postgresErrors: DialectErrors & {
  wrap(error: unknown, what: string, options?: { table?: string }): Error
  copyLine(error: unknown, relname: string): number | undefined
} = Object.freeze({ classify, wrap, copyLine })
