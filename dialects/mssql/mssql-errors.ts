import type { ClassifiedError, DialectErrors, DriverErrorFields } from '../../src/dialect.js'
import type { FailureKind } from '../../src/errors.js'

/**
 * What SQL Server's errors mean. The `mssql` driver gives a server error's number, state, class (severity),
 * line, server and procedure; a lost connection shows as a code (`ESOCKET`, `ECONNRESET`, …) on the error or on
 * the tedious error it wraps. Babelfish (the test stand-in) answers many errors with number 33557097 and
 * PostgreSQL's text, so the text is read too when the number says nothing.
 */

/** The SQL Server fields kept beside the common ones: state, class (severity), line, server and procedure. */
export interface MssqlDriverFields extends DriverErrorFields {
  state?: number
  class?: number
  lineNumber?: number
  serverName?: string
  procName?: string
}

/** SQL Server error numbers and their kinds. 547 is refined by its text (FOREIGN KEY or CHECK). */
const BY_NUMBER: Readonly<Record<number, FailureKind>> = {
  515: 'not_null',
  2627: 'duplicate_key',
  2601: 'duplicate_key',
  547: 'foreign_key_violation',
  2628: 'truncation',
  8152: 'truncation',
  8115: 'out_of_range',
  220: 'out_of_range',
  232: 'out_of_range',
  517: 'out_of_range',
  1205: 'serialization_failure',
  3960: 'serialization_failure',
}

/**
 * Server texts and their kinds, for numbers the map above does not know: Babelfish's 33557097 carries
 * PostgreSQL's message (`null value in column "x" of relation "t" violates not-null constraint`).
 */
const BY_TEXT: readonly (readonly [RegExp, FailureKind])[] = [
  [/null value in column|cannot insert the value null/i, 'not_null'],
  [/duplicate key|violates unique constraint|violation of (primary|unique) key/i, 'duplicate_key'],
  [/foreign key/i, 'foreign_key_violation'],
  [/check constraint/i, 'check_violation'],
  [/value too long|would be truncated/i, 'truncation'],
  [/out of range|overflow/i, 'out_of_range'],
  [/deadlock|could not serialize|snapshot isolation transaction aborted/i, 'serialization_failure'],
  [/invalid byte sequence|character with byte sequence/i, 'invalid_encoding'],
]

/** Driver codes that mean the connection is gone (mssql's and tedious's own, and the socket's). */
const CONNECTION_CODES = new Set(['ESOCKET', 'ECONNRESET', 'ECONNCLOSED', 'ETIMEOUT', 'ECONNREFUSED', 'ENOTOPEN', 'EPIPE', 'ENOCONN'])

/** The error names of `mssql` and tedious: only these are classified. */
const DRIVER_ERRORS = new Set(['RequestError', 'ConnectionError', 'TransactionError', 'PreparedStatementError', 'MSSQLError'])

interface DriverError {
  name?: string
  code?: unknown
  number?: unknown
  state?: unknown
  class?: unknown
  lineNumber?: unknown
  serverName?: unknown
  procName?: unknown
  message?: unknown
  originalError?: DriverError & { info?: DriverError }
  cause?: DriverError
}

/** Every error of the chain that may carry a code: the error, tedious's error inside, its info and causes. */
function chain(e: DriverError): DriverError[] {
  const out: DriverError[] = []
  const seen = new Set<unknown>()
  const visit = (x: DriverError | undefined) => {
    if (!x || typeof x !== 'object' || seen.has(x)) return
    seen.add(x)
    out.push(x)
    visit(x.originalError)
    visit((x as { info?: DriverError }).info)
    visit(x.cause)
  }
  visit(e)
  return out
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)

/** The constraint, table and column a message names, in SQL Server's or PostgreSQL's wording. */
function namesIn(message: string): Pick<DriverErrorFields, 'constraint' | 'table' | 'column'> {
  const out: Pick<DriverErrorFields, 'constraint' | 'table' | 'column'> = {}
  const constraint = /constraint ["'](.+?)["']/i.exec(message) ?? /(?:KEY|CHECK) constraint '(.+?)'/i.exec(message)
  if (constraint) out.constraint = constraint[1]!
  const table = /(?:relation|on table|table) ["'](.+?)["']/i.exec(message) ?? /object ["'](.+?)["']/i.exec(message)
  if (table) out.table = table[1]!
  const column = /column ["'](.+?)["']/i.exec(message)
  if (column) out.column = column[1]!
  return out
}

function kindOf(number: number | undefined, message: string): FailureKind {
  const known = number !== undefined ? BY_NUMBER[number] : undefined
  if (known === 'foreign_key_violation') return /\bCHECK constraint\b/i.test(message) && !/FOREIGN KEY/i.test(message) ? 'check_violation' : 'foreign_key_violation'
  if (known) return known
  for (const [pattern, kind] of BY_TEXT) if (pattern.test(message)) return kind
  return 'target_rejected'
}

/** The server's fields of a driver error (number, state, class, …), from the error or the tedious error it wraps. */
function fieldsOf(e: DriverError, links: readonly DriverError[]): MssqlDriverFields {
  const pick = <T>(read: (x: DriverError) => T | undefined): T | undefined => {
    for (const x of links) {
      const v = read(x)
      if (v !== undefined) return v
    }
    return undefined
  }
  const message = str(e.message) ?? String(e)
  const number = pick((x) => num(x.number))
  const code = number !== undefined ? String(number) : pick((x) => (str(x.code) && CONNECTION_CODES.has(x.code as string) ? (x.code as string) : undefined)) ?? str(e.code)
  const fields: MssqlDriverFields = { message, ...namesIn(message) }
  if (code !== undefined) fields.code = code
  if (number !== undefined) fields.errno = number
  const state = pick((x) => num(x.state))
  if (state !== undefined) fields.state = state
  const cls = pick((x) => num(x.class))
  if (cls !== undefined) fields.class = cls
  const line = pick((x) => num(x.lineNumber))
  if (line !== undefined) fields.lineNumber = line
  const server = pick((x) => str(x.serverName))
  if (server !== undefined) fields.serverName = server
  const proc = pick((x) => str(x.procName))
  if (proc !== undefined) fields.procName = proc
  return fields
}

/**
 * Reads an error of the `mssql` driver: its kind (see {@link DialectErrors.classify}) and fields. A refused
 * row keeps the server's number as `errno` and `code`; a lost connection (`ESOCKET`, `ECONNRESET`,
 * `ECONNCLOSED`, `ETIMEOUT`, …) is `connection` with `connectionLost`; a deadlock (1205) or a snapshot
 * conflict (3960) is a retryable `serialization_failure`. Anything that is not the driver's: undefined.
 */
export const mssqlErrors: DialectErrors = Object.freeze({
  classify(error: unknown): ClassifiedError | undefined {
    if (!error || typeof error !== 'object') return undefined
    const e = error as DriverError
    const links = chain(e)
    const fromDriver = links.some((x) => (typeof x.name === 'string' && DRIVER_ERRORS.has(x.name)) || num(x.number) !== undefined)
    if (!fromDriver) return undefined
    const driver = fieldsOf(e, links)
    const lost = links.some((x) => typeof x.code === 'string' && CONNECTION_CODES.has(x.code))
    if (lost && driver.errno === undefined) return { kind: 'connection', driver, connectionLost: true, retryable: false }
    const kind = kindOf(driver.errno, driver.message)
    return { kind, driver, connectionLost: false, retryable: kind === 'serialization_failure' }
  },
})
