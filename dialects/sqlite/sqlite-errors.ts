import type { ClassifiedError, DialectErrors, DriverErrorFields } from '../../src/dialect.js'
import type { FailureKind } from '../../src/errors.js'

/**
 * What better-sqlite3's errors mean. The engine's errors are `SqliteError`s with an extended result code
 * (`SQLITE_CONSTRAINT_UNIQUE`) and a message that names the table and columns; the driver itself throws a
 * few plain errors around binding and closed handles, recognised by their exact text.
 *
 * SQLite never reports a number out of range or text in a bad encoding: a column takes any value of its
 * affinity and text is stored as given. Out of range comes only from the driver, for a bigint past 64 bits.
 * A STRICT table refusing a value's storage class (`SQLITE_CONSTRAINT_DATATYPE`), like a non-integer for a
 * rowid (`SQLITE_MISMATCH`), is `type_conversion`: the value is not of the column's type.
 */

/** Extended result codes (or their primary code, for prefixes ending in `_`) and the kind they mean. */
const KINDS: ReadonlyArray<readonly [string, FailureKind]> = [
  ['SQLITE_CONSTRAINT_NOTNULL', 'not_null'],
  ['SQLITE_CONSTRAINT_UNIQUE', 'duplicate_key'],
  ['SQLITE_CONSTRAINT_PRIMARYKEY', 'duplicate_key'],
  ['SQLITE_CONSTRAINT_ROWID', 'duplicate_key'],
  ['SQLITE_CONSTRAINT_FOREIGNKEY', 'foreign_key_violation'],
  ['SQLITE_CONSTRAINT_CHECK', 'check_violation'],
  ['SQLITE_CONSTRAINT_DATATYPE', 'type_conversion'],
  ['SQLITE_MISMATCH', 'type_conversion'],
  ['SQLITE_TOOBIG', 'truncation'],
  // another connection holds the lock (BUSY), or this one's own statement or shared cache does (LOCKED)
  ['SQLITE_BUSY', 'serialization_failure'],
  ['SQLITE_LOCKED', 'serialization_failure'],
  // the file went away, cannot be opened, or is not a database: nothing more can be read or written
  ['SQLITE_IOERR', 'connection'],
  ['SQLITE_CANTOPEN', 'connection'],
  ['SQLITE_NOTADB', 'connection'],
]

/** better-sqlite3's own errors (no result code), by their exact message. */
const DRIVER_MESSAGES: ReadonlyArray<readonly [new (...args: never[]) => Error, string, FailureKind]> = [
  [TypeError, 'The database connection is not open', 'connection'],
  // binding: a bigint past 64 bits (or a string or buffer past SQLite's 1 GB limit)
  [RangeError, 'The bound string, buffer, or bigint is too big', 'out_of_range'],
  [TypeError, 'SQLite3 can only bind numbers, strings, bigints, buffers, and null', 'target_rejected'],
]

function kindOfCode(code: string): FailureKind {
  for (const [prefix, kind] of KINDS) if (code === prefix || code.startsWith(`${prefix}_`)) return kind
  return 'target_rejected'
}

/**
 * Table, columns and constraint from the message: `NOT NULL constraint failed: t.c`, `UNIQUE constraint
 * failed: t.a, t.b`, `cannot store TEXT value in INTEGER column t.c`, `CHECK constraint failed: name`. A
 * column is named only when the message names exactly one.
 */
function parseMessage(message: string): Pick<DriverErrorFields, 'table' | 'column' | 'constraint'> {
  const check = /^CHECK constraint failed: (.+)$/.exec(message)
  if (check) return { constraint: check[1]! }
  const list = /^(?:NOT NULL|UNIQUE) constraint failed: (.+)$/.exec(message)?.[1] ?? /^cannot store \w+ value in \w+ column (.+)$/.exec(message)?.[1]
  if (list === undefined) return {}
  const parts = list.split(', ').map((p) => {
    const dot = p.lastIndexOf('.')
    return dot < 0 ? { column: p } : { table: p.slice(0, dot), column: p.slice(dot + 1) }
  })
  const out: Pick<DriverErrorFields, 'table' | 'column'> = {}
  if (parts[0]?.table !== undefined) out.table = parts[0].table
  if (parts.length === 1) out.column = parts[0]!.column
  return out
}

function classify(error: unknown): ClassifiedError | undefined {
  if (!(error instanceof Error)) return undefined
  const code = (error as { code?: unknown }).code
  if (error.name === 'SqliteError' && typeof code === 'string') {
    const kind = kindOfCode(code)
    return { kind, driver: { code, message: error.message, ...parseMessage(error.message) }, connectionLost: kind === 'connection', retryable: kind === 'serialization_failure' }
  }
  const known = DRIVER_MESSAGES.find(([type, message]) => error instanceof type && error.message === message)
  if (!known) return undefined
  const kind = known[2]
  return { kind, driver: { message: error.message }, connectionLost: kind === 'connection', retryable: false }
}

/**
 * Reads better-sqlite3's errors: constraint codes become `not_null`, `duplicate_key`, `foreign_key_violation`
 * and `check_violation`; `SQLITE_TOOBIG` `truncation`; `SQLITE_BUSY`/`SQLITE_LOCKED` a retryable
 * `serialization_failure`; I/O errors, a file that cannot be opened or is not a database, and a closed
 * handle `connection`; any other engine error `target_rejected`. Undefined for errors that are not the
 * driver's.
 *
 * @example
 * sqliteErrors.classify(e) // { kind: 'not_null', driver: { code: 'SQLITE_CONSTRAINT_NOTNULL', table: 't', column: 'c', message }, … }
 */
export const sqliteErrors: DialectErrors & { driverOf(error: unknown): { driver?: DriverErrorFields } } = Object.freeze({
  classify,
  /** The driver's fields of `error` as options of a dbferry error (`{ driver }`), or `{}` when it is not the driver's. */
  driverOf(error: unknown): { driver?: DriverErrorFields } {
    const c = classify(error)
    return c ? { driver: c.driver } : {}
  },
})
