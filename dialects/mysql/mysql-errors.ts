import type { ClassifiedError, DialectErrors, DriverErrorFields } from '../../src/dialect.js'
import type { FailureKind } from '../../src/errors.js'

/**
 * What a mysql2 error (or a server warning after `LOAD DATA`/`INSERT`) means, in dbferry's failure kinds.
 * The server's numbers are the same on MySQL and MariaDB except where noted; mysql2 adds its own codes for
 * the socket (`PROTOCOL_CONNECTION_LOST`, `ECONNRESET`, …) and marks errors that end the connection `fatal`.
 */

/** The fields of a mysql2 error dbferry reads. */
interface Mysql2Error {
  code?: unknown
  errno?: unknown
  sqlState?: unknown
  sqlMessage?: unknown
  fatal?: unknown
  message: string
}

/** A row of `SHOW WARNINGS`. */
export interface MysqlWarning {
  Level: string
  Code: number
  Message: string
}

/** Server error and warning numbers → failure kind. Data, one line per number; anything else is `target_rejected`. */
const KIND_OF_ERRNO: Readonly<Record<number, FailureKind>> = {
  1062: 'duplicate_key', // ER_DUP_ENTRY
  1586: 'duplicate_key', // ER_DUP_ENTRY_WITH_KEY_NAME
  1048: 'not_null', // ER_BAD_NULL_ERROR
  1263: 'not_null', // ER_WARN_NULL_TO_NOTNULL
  1364: 'not_null', // ER_NO_DEFAULT_FOR_FIELD
  1264: 'out_of_range', // ER_WARN_DATA_OUT_OF_RANGE
  1690: 'out_of_range', // ER_DATA_OUT_OF_RANGE
  1265: 'truncation', // WARN_DATA_TRUNCATED
  1406: 'truncation', // ER_DATA_TOO_LONG
  1292: 'type_conversion', // ER_TRUNCATED_WRONG_VALUE (a date or number that does not parse)
  1367: 'type_conversion', // ER_ILLEGAL_VALUE_FOR_TYPE
  1411: 'type_conversion', // ER_WRONG_VALUE_FOR_TYPE
  3140: 'type_conversion', // ER_INVALID_JSON_TEXT (MySQL's json)
  1216: 'foreign_key_violation', // ER_NO_REFERENCED_ROW
  1452: 'foreign_key_violation', // ER_NO_REFERENCED_ROW_2
  1217: 'foreign_key_violation', // ER_ROW_IS_REFERENCED
  1451: 'foreign_key_violation', // ER_ROW_IS_REFERENCED_2
  3819: 'check_violation', // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  1213: 'serialization_failure', // ER_LOCK_DEADLOCK
  1205: 'serialization_failure', // ER_LOCK_WAIT_TIMEOUT
  1053: 'connection', // ER_SERVER_SHUTDOWN
  1927: 'connection', // ER_CONNECTION_KILLED (MariaDB)
  2006: 'connection', // CR_SERVER_GONE_ERROR
  2013: 'connection', // CR_SERVER_LOST
  1040: 'connection', // ER_CON_COUNT_ERROR
  1044: 'connection', // ER_DBACCESS_DENIED_ERROR
  1045: 'connection', // ER_ACCESS_DENIED_ERROR
  1049: 'connection', // ER_BAD_DB_ERROR
  1130: 'connection', // ER_HOST_NOT_PRIVILEGED
}

/** mysql2's and Node's codes for a socket that failed or closed. */
const CONNECTION_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
])

/** The kind of a server error or warning number, given its message (1366 and 1300 depend on it). */
function kindOf(errno: number, message: string): FailureKind {
  // an incorrect string value is text the column's character set cannot hold; any other incorrect value
  // (an integer, a decimal) did not convert
  if (errno === 1366 || errno === 1300) return /string value/i.test(message) ? 'invalid_encoding' : 'type_conversion'
  // MariaDB's ER_CONSTRAINT_FAILED (also its json columns' json_valid check); MySQL 8 gives 4025 to a DDL error
  if (errno === 4025) return /^CONSTRAINT /.test(message) ? 'check_violation' : 'target_rejected'
  return KIND_OF_ERRNO[errno] ?? 'target_rejected'
}

// MySQL names the column as 'c' (`Column 'c' cannot be null`, `for column 'c'`) or, in MariaDB's newer
// messages, as `db`.`t`.`c`
const COLUMN_RE = /\b(?:column|field) '([^']+)'|for column `(?:[^`]|``)*`\.`((?:[^`]|``)*)`\.`((?:[^`]|``)+)`|for column `((?:[^`]|``)+)`/i
// `for key 'PRIMARY'`, MySQL 8's `for key 't.PRIMARY'`
const KEY_RE = /for key '(?:([^'.]*)\.)?([^']+)'/
// the foreign-key message: (`db`.`child`, CONSTRAINT `fk` FOREIGN KEY (`a`) REFERENCES …
const FK_RE = /\(`(?:[^`]|``)*`\.`((?:[^`]|``)+)`, CONSTRAINT `((?:[^`]|``)+)` FOREIGN KEY \(`((?:[^`]|``)+)`\)?/
// MariaDB's `CONSTRAINT `c` failed for `db`.`t``; MySQL's `Check constraint 'c' is violated.`
const CHECK_RE = /CONSTRAINT `((?:[^`]|``)+)` failed for `(?:[^`]|``)*`\.`((?:[^`]|``)+)`|Check constraint '([^']+)' is violated/

const unq = (s: string | undefined) => s?.replace(/``/g, '`')

/** Table, column and constraint, where the server's message names them. */
function namedIn(message: string, kind: FailureKind): Pick<DriverErrorFields, 'table' | 'column' | 'constraint'> {
  const out: Pick<DriverErrorFields, 'table' | 'column' | 'constraint'> = {}
  if (kind === 'foreign_key_violation') {
    const m = FK_RE.exec(message)
    if (m) {
      out.table = unq(m[1])
      out.constraint = unq(m[2])
      // a single-column key names its column; a composite one lists several, which is no one column
      if (!m[3]!.includes('`, `')) out.column = unq(m[3])
    }
    return out
  }
  if (kind === 'duplicate_key') {
    const m = KEY_RE.exec(message)
    if (m) {
      if (m[1]) out.table = m[1]
      out.constraint = m[2]
    }
    return out
  }
  if (kind === 'check_violation') {
    const m = CHECK_RE.exec(message)
    if (m) {
      out.constraint = unq(m[1]) ?? m[3]
      if (m[2]) out.table = unq(m[2])
      // MariaDB names a column's own check (and a json column's) `table.column`
      if (out.table !== undefined && out.constraint?.startsWith(`${out.table}.`)) out.column = out.constraint.slice(out.table.length + 1)
    }
    return out
  }
  const m = COLUMN_RE.exec(message)
  if (m) {
    if (m[2] !== undefined) out.table = unq(m[2])
    out.column = m[1] ?? unq(m[3]) ?? unq(m[4])
  }
  return out
}

function isMysql2Error(error: unknown): error is Mysql2Error {
  if (!(error instanceof Error)) return false
  const e = error as Mysql2Error
  if (typeof e.errno === 'number' && (typeof e.sqlState === 'string' || typeof e.code === 'string')) return true
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true
  // mysql2's own "Can't add new command when connection is in closed state" has no code, only `fatal`
  return e.fatal === true
}

function classified(kind: FailureKind, driver: DriverErrorFields, fatal: boolean): ClassifiedError {
  return { kind: fatal ? 'connection' : kind, driver, connectionLost: fatal || kind === 'connection', retryable: kind === 'serialization_failure' }
}

/** Reads a mysql2 error (see {@link mysqlErrors}). */
function classify(error: unknown): ClassifiedError | undefined {
  if (!isMysql2Error(error)) return undefined
  const errno = typeof error.errno === 'number' ? error.errno : undefined
  const code = typeof error.code === 'string' ? error.code : undefined
  const message = typeof error.sqlMessage === 'string' ? error.sqlMessage : error.message
  const kind: FailureKind = code !== undefined && CONNECTION_CODES.has(code) ? 'connection' : errno !== undefined ? kindOf(errno, message) : 'target_rejected'
  const driver: DriverErrorFields = { message, ...namedIn(message, kind) }
  if (code !== undefined) driver.code = code
  if (errno !== undefined) driver.errno = errno
  if (typeof error.sqlState === 'string') driver.sqlState = error.sqlState
  return classified(kind, driver, error.fatal === true)
}

/** Reads a warning of `SHOW WARNINGS` the way `classify` reads an error (a warning never ends the connection). */
function classifyWarning(warning: MysqlWarning): ClassifiedError {
  // warnings name their row (`at row 3`): the position is the writer's business, not part of the message
  const message = warning.Message.replace(/ at row \d+$/, '')
  const kind = kindOf(warning.Code, message)
  return classified(kind, { errno: warning.Code, message, ...namedIn(message, kind) }, false)
}

/** What `mysqlErrors` offers beyond the contract, for the writer. */
export interface MysqlErrors extends DialectErrors {
  /** A row of `SHOW WARNINGS` (after `LOAD DATA` or an `INSERT`), read as `classify` reads an error. */
  classifyWarning(warning: MysqlWarning): ClassifiedError
}

/**
 * mysql2 errors → failure kinds: 1048 (and 1364, 1263) `not_null`; 1062/1586 `duplicate_key`; 1452/1216
 * (and 1451/1217) `foreign_key_violation`; 3819 (MySQL) and 4025 (MariaDB, which also reports invalid text in
 * its `json` columns so) `check_violation`; 1406/1265 `truncation`; 1264/1690 `out_of_range`; 1366/1300 with
 * an incorrect string value `invalid_encoding` (another incorrect value: `type_conversion`, as 1292, 1367,
 * 1411 and 3140); 1213 deadlock and 1205 lock wait timeout `serialization_failure`, retryable; lost or
 * refused connections (mysql2's `PROTOCOL_CONNECTION_LOST`, `ECONNRESET`, 2006, 2013, MariaDB's 1927
 * "Connection was killed", any error mysql2 marks `fatal`) `connection`, connectionLost; else `target_rejected`.
 * `driver` keeps `code` (`ER_DUP_ENTRY`), `errno`, `sqlState`, the server's message, and the table, column
 * or constraint where the message names them. Errors that are not mysql2's: undefined.
 */
export const mysqlErrors: MysqlErrors = Object.freeze({ classify, classifyWarning })
