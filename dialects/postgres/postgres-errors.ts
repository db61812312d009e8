import { ConnectionError, SchemaError, isDbferryError } from '../../src/errors.js'

/**
 * Turns a driver error into dbferry's: SQLSTATE class 08 (connection), 57P (the server shut the session
 * down) and errors with no SQLSTATE (sockets) are connection errors; other server errors are schema errors.
 * The driver error stays as `cause` with every field the server sent.
 */
export function toDbferryError(error: unknown, what: string, options: { table?: string } = {}): Error {
  if (isDbferryError(error)) return error
  const e = error as { code?: unknown; message?: unknown }
  const message = `${what}: ${typeof e.message === 'string' ? e.message : String(error)}`
  const opts = options.table === undefined ? { cause: error } : { cause: error, table: options.table }
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && !e.code.startsWith('08') && !e.code.startsWith('57P')) {
    return new SchemaError(message, opts)
  }
  return new ConnectionError(message, opts)
}
