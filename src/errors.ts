/**
 * dbferry's errors. Each class carries a stable failure-kind `code`; the journal's catalogue of kinds is built
 * from {@link FAILURE_KINDS}, which lists every code these classes can carry. Driver errors are kept as
 * `cause` with all their fields; credentials never appear in a message (see {@link redact}).
 */

/** Every failure kind dbferry can report, with a one-line description. The journal's catalogue. */
export const FAILURE_KINDS = {
  // run-level
  connection: 'Could not connect to, or lost the connection to, a database.',
  schema: 'The schema could not be read, mapped or created on the target.',
  usage: 'Bad options or command-line arguments.',
  not_available: 'The requested dialect or feature is not available in this build.',
  target_exists: 'The target table already exists and the mode does not allow touching it.',
  preflight: 'The preflight found problems and the run was told to stop on them.',
  transform: 'A transform threw an error.',
  accounting: 'Row accounting did not balance (a bug in dbferry).',
  aborted: 'The run was aborted.',
  constraint_creation: 'An index, key or foreign key could not be created after the data was loaded.',
  source_changed: 'The source changed between an interrupted run and its resume (row count, largest key or file).',
  // row-level
  type_conversion: 'A value could not be converted to the column\'s logical type.',
  invalid_encoding: 'Text was not valid in its declared encoding and no fallback decoded it.',
  nul_in_text: 'Text contains a NUL character the target cannot store.',
  out_of_range: 'A number or date is outside what the target column can hold.',
  truncation: 'A value is longer than the target column allows.',
  not_null: 'NULL in a column the target declares NOT NULL.',
  duplicate_key: 'The row collides with an earlier row on a primary or unique key.',
  foreign_key_violation: 'The target refused the row because a foreign key it enforces points at no row.',
  check_violation: 'The target refused the row because of a CHECK constraint.',
  serialization_failure: 'A deadlock or serialization failure; running the statement again may succeed.',
  zero_date: 'A MySQL zero date (0000-00-00) was found.',
  dangling_foreign_key: 'A foreign key value points at a parent row that does not exist.',
  duplicate_dropped: 'A duplicate row was dropped by dedupe.',
  filtered: 'A row was dropped by a filter transform.',
  target_rejected: 'The target database rejected the row.',
  malformed_record: 'A record in a file could not be parsed.',
} as const

/** A stable failure-kind code; see {@link FAILURE_KINDS}. */
export type FailureKind = keyof typeof FAILURE_KINDS

/** Where a problem is: the table, the row's key (key column values, SQLite's rowid, or a file's line) and the column. */
export interface ErrorLocation {
  /** The table concerned. Absent: no one table. */
  table?: string
  /**
   * The row's key: key column values by name (`{ id: 7 }`, from the primary key or else the first unique key), or
   * text where a file has no key (`line 12`). Absent: no row, or a table without a key.
   */
  key?: Record<string, unknown> | string
  /** The column at fault. Absent: the whole row or table. */
  column?: string
}

/**
 * Where a URL starts in text (`postgres://`, `mysql+ssl://`…). A URL runs to the next one or to the end of
 * the line, not to a space: users paste passwords with spaces, and drivers accept them.
 */
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\r\n]*?)(?=\b[a-z][a-z0-9+.-]*:\/\/|[\r\n]|$)/gi

/** A host with an optional numeric port (`db`, `127.0.0.1:9`, `[::1]:5432`), or nothing (`sqlite:///x`). */
const HOST_PORT = /^(\[[0-9a-f:.]*\]|[^:[\]]*)(:\d*)?$/i

/**
 * A key/value password (`password=…`, `;Password = …`, `PWD=`, `sslpassword=`, `pass=`). Its value is quoted
 * ('…', "…", or \"…\" inside a JSON string), braced ({…}, ODBC) or runs to the next `;`, `&` or line end: a space
 * does not end a password.
 */
const KV_PASSWORD = /\b(\w*(?:password|passwd|pwd)|pass)(\s*=\s*)(\\"(?:(?!\\")[^\r\n])*\\"|"(?:[^"]|"")*"|'(?:[^']|'')*'|\{(?:[^}]|\}\})*\}|[^;&\r\n]*)/gi

/**
 * Masks the password of one URL (the text after `scheme://`) the way the drivers read it: the userinfo ends
 * at the LAST `@`, so `u:p@ss@host`, `u:pa/ss@host` and `u:pa ss@host` all lose the whole password. A URL
 * with no userinfo whose authority is no `host[:port]` (e.g. `u:secret`) does not parse: only `…` is kept.
 */
function redactAfterScheme(rest: string): string {
  const at = rest.lastIndexOf('@')
  if (at >= 0) {
    const userinfo = rest.slice(0, at)
    const colon = userinfo.indexOf(':')
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon)
    // a `/`, `?`, `#` or space before the colon means this `@` is past the host (in a path, a query or prose)
    if (colon >= 0 && !/[/?#\s]/.test(user)) return `${user}:***${rest.slice(at)}`
  }
  const authority = /^[^/?#\s]*/.exec(rest)![0]
  return at < 0 && !HOST_PORT.test(authority) ? '…' : rest
}

/**
 * Masks passwords in text: in URLs (`user:***@`, whatever characters the password holds; a URL that does
 * not parse becomes `scheme://…`) and in key/value strings (`password=***`, `Pwd=***`). Idempotent.
 */
export function redact(text: string): string {
  return text
    .replace(URL_IN_TEXT, (_all, scheme: string, rest: string) => scheme + redactAfterScheme(rest))
    .replace(KV_PASSWORD, '$1$2***')
}

/**
 * A driver error's own fields (SQLSTATE, errno, constraint, detail…), as a dialect's error map read them; see
 * `DriverErrorFields` in the dialect contract. Credentials are redacted.
 */
export interface DriverFields {
  /**
   * The driver's error code as text: PostgreSQL SQLSTATE, mysql2 `ER_…`, SQLite `SQLITE_CONSTRAINT_UNIQUE`, SQL
   * Server's number, DuckDB's error type.
   */
  code?: string
  /** The five-character SQLSTATE, where the driver gives one (PostgreSQL, MySQL/MariaDB). */
  sqlState?: string
  /** The numeric error number (MySQL/MariaDB errno, SQL Server's error number). */
  errno?: number
  /** The constraint or index the engine names. */
  constraint?: string
  /** The schema (namespace) the engine names. */
  schema?: string
  /** The table the engine names. */
  table?: string
  /** The column the engine names. */
  column?: string
  /** The engine's detail text (PostgreSQL `DETAIL`, e.g. `Key (id)=(7) already exists.`). */
  detail?: string
  /** The driver's message. */
  message: string
}

/** The driver's fields with every string redacted (a URL or `password=` in a message or detail). */
export function redactDriverFields(fields: DriverFields): DriverFields {
  const out: DriverFields = { message: redact(fields.message) }
  for (const [k, v] of Object.entries(fields) as [keyof DriverFields, unknown][]) {
    if (k === 'message' || v === undefined) continue
    ;(out as unknown as Record<string, unknown>)[k] = typeof v === 'string' ? redact(v) : v
  }
  return out
}

/** The base class of every error dbferry throws or records. */
export class DbferryError extends Error {
  /** The failure-kind code. */
  readonly code: FailureKind
  /** The table concerned (see {@link ErrorLocation.table}). Absent: no one table. */
  readonly table?: string
  /** The row's key (see {@link ErrorLocation.key}). Absent: no row, or a table without a key. */
  readonly key?: Record<string, unknown> | string
  /** The column at fault. Absent: the whole row or table. */
  readonly column?: string
  /** The driver's own fields when a driver error is behind this one (credentials redacted). Default: absent. */
  readonly driver?: DriverFields

  constructor(code: FailureKind, message: string, options: ErrorLocation & { cause?: unknown; driver?: DriverFields } = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    if (options.table !== undefined) this.table = options.table
    if (options.key !== undefined) this.key = options.key
    if (options.column !== undefined) this.column = options.column
    if (options.driver !== undefined) this.driver = redactDriverFields(options.driver)
  }
}

/** One table whose source differs from what the interrupted run read. */
export interface SourceChange {
  /** The source table's name. */
  table: string
  /** The fields that differ, with the interrupted run's value and the current one. */
  fields: { field: string; before: unknown; now: unknown }[]
}

/**
 * Resume found that the source changed since the interrupted run: continuing after the last key would merge
 * two different states of the data. `changes` lists every changed table.
 */
export class SourceChangedError extends DbferryError {
  /** Every changed table, with the fields that differ; `table` names the first. */
  readonly changes: readonly SourceChange[]
  constructor(changes: readonly SourceChange[]) {
    const what = changes
      .map((c) => `${c.table}: ${c.fields.map((f) => `${f.field} ${JSON.stringify(f.before)} → ${JSON.stringify(f.now)}`).join(', ')}`)
      .join('; ')
    super('source_changed', `cannot resume: the source changed since the interrupted run (${what}); use mode recreate to start over`, { table: changes[0]?.table })
    this.changes = changes
  }
}

/** A database could not be reached, or the connection dropped. Keeps the driver's error as `cause`. */
export class ConnectionError extends DbferryError {
  constructor(message: string, options: ErrorLocation & { cause?: unknown; driver?: DriverFields } = {}) {
    super('connection', message, options)
  }
}

/** The schema could not be read, mapped or created. */
export class SchemaError extends DbferryError {
  constructor(
    message: string,
    options: ErrorLocation & { cause?: unknown; driver?: DriverFields; code?: 'schema' | 'target_exists' | 'constraint_creation' } = {},
  ) {
    super(options.code ?? 'schema', message, options)
  }
}

/** Bad options or arguments (CLI exit code 2). */
export class UsageError extends DbferryError {
  constructor(message: string, options: { cause?: unknown; code?: 'usage' | 'not_available' } = {}) {
    super(options.code ?? 'usage', message, options)
  }
}

/** A transform threw; names the transform. */
export class TransformError extends DbferryError {
  /** The transform's name (`dedupe(auth_user.email)`), also the message's prefix. */
  readonly transform: string
  constructor(transform: string, message: string, options: ErrorLocation & { cause?: unknown } = {}) {
    super('transform', `transform ${transform}: ${message}`, options)
    this.transform = transform
  }
}

/** The preflight found problems and `onPreflight: 'stop'` was set. */
export class PreflightError extends DbferryError {
  /** The issues that stopped the run (`PreflightIssue`s from `src/plan/preflight.ts`); the message names the first three. */
  readonly issues: readonly unknown[]
  constructor(message: string, issues: readonly unknown[]) {
    super('preflight', message)
    this.issues = issues
  }
}

/** The run was aborted through its AbortSignal. */
export class AbortError extends DbferryError {
  constructor(message = 'the run was aborted') {
    super('aborted', message)
  }
}

/** Row accounting did not balance: always a bug. */
export class AccountingError extends DbferryError {
  constructor(message: string, options: ErrorLocation = {}) {
    super('accounting', message, options)
  }
}

/** Row-level failure kinds. */
export type RowFailureKind = Extract<
  FailureKind,
  | 'type_conversion'
  | 'invalid_encoding'
  | 'nul_in_text'
  | 'out_of_range'
  | 'truncation'
  | 'not_null'
  | 'duplicate_key'
  | 'foreign_key_violation'
  | 'check_violation'
  | 'serialization_failure'
  | 'zero_date'
  | 'dangling_foreign_key'
  | 'duplicate_dropped'
  | 'filtered'
  | 'target_rejected'
  | 'malformed_record'
  | 'transform'
>

/**
 * One row that could not be written, or was deliberately dropped. Names the table, the row's key and the
 * column, and keeps the source row (as canonical values, or raw for malformed records).
 */
export class RowError extends DbferryError {
  /** The row-level failure kind. */
  declare readonly code: RowFailureKind
  /** The offending value, when one column is at fault. */
  readonly value?: unknown
  /** The whole source row. */
  readonly row?: readonly unknown[]

  constructor(
    code: RowFailureKind,
    message: string,
    options: ErrorLocation & { cause?: unknown; driver?: DriverFields; value?: unknown; row?: readonly unknown[] } = {},
  ) {
    super(code, message, options)
    if ('value' in options) this.value = options.value
    if (options.row !== undefined) this.row = options.row
  }
}

/** Whether an error is one of dbferry's. */
export function isDbferryError(error: unknown): error is DbferryError {
  return error instanceof DbferryError
}
