import type { ClassifiedError, DialectErrors, DriverErrorFields } from '../../src/dialect.js'
import { ConnectionError, SchemaError, isDbferryError, type DbferryError, type FailureKind } from '../../src/errors.js'

/**
 * DuckDB's errors as `@duckdb/node-api` throws them: a plain `Error` whose message starts with DuckDB's error
 * type (`Constraint Error: …`, `Conversion Error: …`, `TransactionContext Error: …`), or, from the binding
 * and the appender, with what it was doing (`Failed to append: …`, `Failed to query: connection disconnected`,
 * `Could not convert string "x" to DECIMAL(5,2)`). The error type is not a field of its own, so it is read
 * from the message, and the constraint's table, column and key from DuckDB's fixed phrasing.
 *
 * DuckDB cannot produce `truncation`: `VARCHAR(n)` is not enforced (n is not even kept), and a decimal with
 * more fraction digits than the column is rounded, not refused.
 */

/** DuckDB's error type at the start of a message: `Constraint Error: …` → `Constraint`. */
const TYPED = /^([A-Z][A-Za-z]*(?: [A-Za-z]+)*) Error: /
/** Messages of the binding and the appender, which carry no error type. */
const BINDING = /^(?:Failed to (\w+)(?: [\w ]+)?: |Could not convert |Type \S+ with value .* can't be cast )/
/** A binding wrapper (`Failed to append: `) before DuckDB's own text. */
const WRAPPER = /^Failed to \w+(?: [\w ]+)?: /

interface Rule {
  test: RegExp
  kind: FailureKind
  connectionLost?: boolean
  retryable?: boolean
}

// first match wins: constraint kinds before the transaction wrapper that may carry them ("Failed to commit: PRIMARY KEY …")
const RULES: Rule[] = [
  { test: /NOT NULL constraint failed/i, kind: 'not_null' },
  { test: /Duplicate key|PRIMARY KEY or UNIQUE constraint violat|violates (?:primary key|unique) constraint/i, kind: 'duplicate_key' },
  { test: /foreign key constraint/i, kind: 'foreign_key_violation' },
  { test: /CHECK constraint failed/i, kind: 'check_violation' },
  { test: /UTF-?8|unicode|invalid (?:byte sequence|encoding)/i, kind: 'invalid_encoding' },
  { test: /out of range|overflow/i, kind: 'out_of_range' },
  // the Appender's cast says only "could not convert": a number that does not convert to a number type is too big
  { test: /Could not convert string ["'][-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?["'] to (?:DECIMAL|U?(?:TINY|SMALL|BIG|HUGE)?INT|U?INT\d+)/i, kind: 'out_of_range' },
  { test: /Conflict on|write-write conflict|Could not commit .*conflict|serialization/i, kind: 'serialization_failure', retryable: true },
  {
    test: /connection disconnected|connection (?:is )?closed|instance closed|database has been invalidated|^Connection Error|^FATAL Error|^IO Error: Could not (?:read|write)/i,
    kind: 'connection',
    connectionLost: true,
  },
]

/** The DuckDB error type of a message (`Constraint`), or the binding's action (`append`). */
function errorType(message: string): string | undefined {
  const inner = message.replace(WRAPPER, '')
  const typed = TYPED.exec(inner)
  if (typed) return typed[1]
  if (/^Could not convert |can't be cast /.test(inner)) return 'Conversion'
  const wrapped = /^Failed to (\w+)/.exec(message)
  return wrapped ? `Failed to ${wrapped[1]}` : undefined
}

/** What DuckDB's phrasing tells about the constraint: table, column, key text. */
function constraintFields(message: string): Partial<DriverErrorFields> {
  const out: Partial<DriverErrorFields> = {}
  const notNull = /NOT NULL constraint failed: ([^\s.]+)\.(\S+)/.exec(message)
  if (notNull) {
    out.table = notNull[1]!
    out.column = notNull[2]!
  }
  const key = /(?:Duplicate key|because key) "([^"]*)"/.exec(message) ?? /duplicate key "([^"]*)"/.exec(message)
  if (key) {
    out.detail = key[1]!
    const col = /^([^:]+): /.exec(key[1]!)
    if (col && !col[1]!.includes(',')) out.column = col[1]!
  }
  if (/violates primary key constraint/i.test(message)) out.constraint = 'PRIMARY KEY'
  else if (/violates unique constraint/i.test(message)) out.constraint = 'UNIQUE'
  const check = /CHECK constraint failed on table (\S+) with expression (.*)$/m.exec(message)
  if (check) {
    out.table = check[1]!
    out.constraint = check[2]!.trim()
  }
  return out
}

function classify(error: unknown): ClassifiedError | undefined {
  // the binding throws plain Errors; TypeError, RangeError and dbferry's own are not DuckDB's
  if (!(error instanceof Error) || Object.getPrototypeOf(error) !== Error.prototype) return undefined
  const message = error.message
  if (!TYPED.test(message) && !BINDING.test(message)) return undefined
  // what DuckDB said, without the echo of the statement (`LINE 1: …`, which holds the user's SQL) and a CSV
  // reader's dump of its options
  const text = message.split(/\n\n(?:LINE \d+:|  file = )/)[0]!.trim()
  const first = text.split('\n')[0]!
  const rule = RULES.find((r) => r.test.test(text))
  const driver: DriverErrorFields = { message: text, ...constraintFields(first) }
  const code = errorType(first)
  if (code !== undefined) driver.code = code
  return {
    kind: rule?.kind ?? 'target_rejected',
    driver,
    connectionLost: rule?.connectionLost ?? false,
    retryable: rule?.retryable ?? false,
  }
}

/**
 * A DuckDB error (or any other) as dbferry's: a lost connection (or an error that is not DuckDB's) is a
 * `ConnectionError`, anything else the engine said a `SchemaError`; both keep the driver's fields and the
 * error as `cause`. dbferry's own errors pass through.
 */
function toDbferryError(error: unknown, what: string, options: { table?: string } = {}): DbferryError {
  if (isDbferryError(error)) return error
  const c = classify(error)
  const message = `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`
  const opts = { cause: error, ...(c ? { driver: c.driver } : {}), ...(options.table === undefined ? {} : { table: options.table }) }
  return c === undefined || c.connectionLost ? new ConnectionError(message, opts) : new SchemaError(message, opts)
}

/**
 * What a DuckDB error means: `not_null`, `duplicate_key`, `foreign_key_violation`, `check_violation`,
 * `out_of_range` (Conversion/Out of Range errors), `invalid_encoding` (text that is not UTF-8),
 * `serialization_failure` (a TransactionContext conflict between two transactions; retryable), `connection`
 * (a closed connection or instance, an invalidated database; connection lost), else `target_rejected`.
 * `driver.code` is DuckDB's error type (`Constraint`, `Conversion`, `TransactionContext`) or the binding's
 * action (`Failed to query`); undefined for anything that is not a DuckDB error.
 */
export const duckdbErrors: DialectErrors & {
  /** A driver error as a `ConnectionError` (connection lost, or not DuckDB's) or a `SchemaError`, with `driver`. */
  toDbferryError(error: unknown, what: string, options?: { table?: string }): DbferryError
} = Object.freeze({ classify, toDbferryError })
