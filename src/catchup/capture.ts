import type { ConnectionSpec } from '../connect.js'
import { SchemaError } from '../errors.js'
import { checkSelection, isSelected, type TableSelection } from '../schema/select.js'
import { CHANGE_TABLE } from './names.js'
import { captureSession, isChangeTable, openWritable, type CaptureSession } from './session.js'

/** Options of {@link captureChanges}. */
export interface CaptureOptions {
  /**
   * The tables to capture: names, or a selection as `ferry`'s `tables` takes it. Default: every table of the
   * source (the change table itself never).
   */
  tables?: readonly string[] | TableSelection
}

/** A table that is not captured, and why. */
export interface NotCaptured {
  /** The table's name on the source. */
  table: string
  /** Why it is not captured. */
  reason: string
}

/** What {@link captureChanges} installed. */
export interface CaptureReport {
  /** The source as it displays (no password). */
  source: string
  /** What records the changes on this engine. */
  mechanism: string
  /** The change table (`dbferry_changes`). */
  changeTable: string
  /** Tables whose changes are now recorded. */
  captured: string[]
  /** Tables left out, each with its reason (a table without a primary key). */
  notCaptured: NotCaptured[]
}

/** What {@link removeCapture} removed. */
export interface RemoveCaptureReport {
  /** The source as it displays (no password). */
  source: string
  /** The capture triggers dropped, as `table.trigger`. */
  triggers: string[]
  /** Whether a change table was there and is now dropped. */
  changeTableDropped: boolean
  /** Change entries the dropped table still held (changes no catch-up applied). */
  pendingChanges: number
}

const NO_KEY = 'it has no primary key, so a changed row cannot be found again: copy it again at cut-over, or give it a primary key and capture again'

/**
 * Starts recording changes on a live source: creates the change table `dbferry_changes` in the source and
 * installs, on every chosen table with a primary key, triggers that add the key of each inserted, updated or
 * deleted row to it (PostgreSQL: row triggers calling a plpgsql function; MySQL/MariaDB: three AFTER triggers
 * per table; SQL Server: one AFTER INSERT, UPDATE, DELETE trigger; SQLite: three AFTER triggers). Run it before
 * the bulk copy, then `ferry()` (leaving `dbferry_changes` out), then {@link catchUp} as often as you like, then
 * {@link cutover}. Running it again reinstalls the triggers and keeps the entries recorded so far.
 *
 * Tables without a primary key are not captured; the report lists each with the reason. Throws a `UsageError`
 * for an engine that cannot capture (DuckDB, file formats) or a table name the source does not have.
 *
 * @example
 * const r = await captureChanges('postgres://postgres@127.0.0.1/app')
 * for (const n of r.notCaptured) console.warn(`${n.table}: ${n.reason}`)
 */
export async function captureChanges(source: ConnectionSpec, options: CaptureOptions = {}): Promise<CaptureReport> {
  const session = await captureSession(await openWritable(source, 'capture'))
  try {
    const schema = await session.connection.introspect()
    const names = schema.tables.map((t) => t.name).filter((n) => !isChangeTable(n))
    const selection = selectionOf(options.tables)
    checkSelection(names, selection)
    const report: CaptureReport = { source: session.connection.description, mechanism: session.changes.mechanism, changeTable: CHANGE_TABLE, captured: [], notCaptured: [] }
    await session.run(session.changes.createChangeTable(session.schema))
    for (const table of schema.tables) {
      if (isChangeTable(table.name) || !isSelected(table.name, selection)) continue
      if (!table.primaryKey || table.primaryKey.columns.length === 0) {
        report.notCaptured.push({ table: table.name, reason: NO_KEY })
        continue
      }
      await session.run(session.changes.install(table, session.schema))
      report.captured.push(table.name)
    }
    return report
  } finally {
    await session.close()
  }
}

/**
 * Stops recording changes: drops every capture trigger and the change table from the source (what
 * {@link cutover} does at its end), whether or not a catch-up applied the entries still in it (counted in the
 * report). Nothing fails when capture is not installed.
 *
 * @example
 * await removeCapture('mysql://root@127.0.0.1/app')
 */
export async function removeCapture(source: ConnectionSpec): Promise<RemoveCaptureReport> {
  const session = await captureSession(await openWritable(source, 'capture --remove'))
  try {
    return await removeFrom(session)
  } finally {
    await session.close()
  }
}

/** Drops the capture triggers and the change table through an open session. */
export async function removeFrom(session: CaptureSession): Promise<RemoveCaptureReport> {
  const { changes, schema } = session
  const report: RemoveCaptureReport = { source: session.connection.description, triggers: [], changeTableDropped: false, pendingChanges: 0 }
  const present = await session.query(changes.listTriggers(schema))
  const tables = [...new Set(present.map((r) => String(r.table_name)))]
  for (const table of tables) await session.run(changes.remove(table, schema))
  // what the per-table removal did not reach (a trigger of a table renamed since) is left and reported by name
  const left = new Set((await session.query(changes.listTriggers(schema))).map((r) => `${String(r.table_name)}.${String(r.trigger_name)}`))
  report.triggers = present.map((r) => `${String(r.table_name)}.${String(r.trigger_name)}`).filter((t) => !left.has(t))
  if (await session.changeTableExists()) {
    const [row] = await session.query(`SELECT COUNT(*) AS n FROM ${session.connection.dialect.sql!.tableName({ name: CHANGE_TABLE }, schema)}`)
    report.pendingChanges = Number(row?.n ?? Object.values(row ?? {})[0] ?? 0)
    await session.run(changes.dropChangeTable(schema))
    report.changeTableDropped = true
  }
  if (left.size > 0) throw new SchemaError(`capture triggers left on ${session.connection.description}: ${[...left].join(', ')}`, { table: [...left][0]!.split('.')[0] })
  return report
}

/** `['a', 'b']` as `{ include: ['a', 'b'] }`; a selection as it is. */
export function selectionOf(tables: readonly string[] | TableSelection | undefined): TableSelection | undefined {
  if (tables === undefined) return undefined
  if (Array.isArray(tables)) return tables.length > 0 ? { include: tables as readonly string[] } : undefined
  return tables as TableSelection
}
