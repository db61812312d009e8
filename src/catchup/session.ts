import { existsSync } from 'node:fs'
import { connect, dialectFor, type ConnectionSpec } from '../connect.js'
import type { ChangeCaptureSql, Connection, Dialect } from '../dialect.js'
import { UsageError } from '../errors.js'
import type { Value } from '../schema/types.js'
import { CHANGE_TABLE } from './names.js'

/** A source opened for change capture: its connection, its engine's capture SQL and the schema its tables are in. */
export interface CaptureSession {
  /** The source connection. */
  readonly connection: Connection
  /** Whether this session opened the connection (and closes it). */
  readonly owned: boolean
  /** The engine's change-capture SQL. */
  readonly changes: ChangeCaptureSql
  /** The namespace the tables are in on engines with schemas; undefined: the session's default. */
  readonly schema: string | undefined
  /** Runs one statement and returns its rows. */
  query(sql: string, params?: readonly Value[]): Promise<Record<string, unknown>[]>
  /** Runs statements in order. */
  run(statements: readonly string[]): Promise<void>
  /** Whether the change table exists. */
  changeTableExists(): Promise<boolean>
  /** Closes the connection when this session opened it. */
  close(): Promise<void>
}

/**
 * Opens a connection that may write: a URL of a local file engine (SQLite) opens the file for writing, which
 * must exist (a capture never creates a database); a server URL opens as usual; a connection or driver object
 * the caller holds is used as it is and left open.
 */
export async function openWritable(spec: ConnectionSpec, role: string): Promise<{ connection: Connection; owned: boolean }> {
  if (typeof spec !== 'string') return connect(spec)
  const dialect = await dialectFor(spec)
  const file = dialect.localFile?.(spec)
  if (file !== undefined && !existsSync(file)) throw new UsageError(`${role}: no database file ${file}`)
  // a file engine opens a source read-only unless asked to create: the file exists, so this only makes it writable
  return connect(spec, file !== undefined ? { create: true } : {})
}

/** Wraps an open connection for capture, or throws a `UsageError` when its engine cannot capture changes. */
export async function captureSession(opened: { connection: Connection; owned: boolean }): Promise<CaptureSession> {
  const { connection, owned } = opened
  const changes = (connection.dialect as Partial<Dialect>).changes
  const query = connection.query?.bind(connection)
  if (!changes || !query) {
    if (owned) await connection.close().catch(() => {})
    throw new UsageError(
      changes
        ? `${connection.description}: this kind of connection (a Kysely instance) cannot run the statements change capture needs; pass a URL or the driver's own pool`
        : `${connection.dialect.name} (${connection.description}) cannot capture changes: only SQLite, PostgreSQL, MySQL/MariaDB and SQL Server sources can`,
    )
  }
  const schema = connection.dialect.capabilities.schemas ? (await connection.identity?.())?.schema : undefined
  return {
    connection,
    owned,
    changes,
    schema,
    query,
    async run(statements) {
      for (const s of statements) await query(s)
    },
    async changeTableExists() {
      return (await query(changes.changeTableExists(schema))).length > 0
    },
    async close() {
      if (owned) await connection.close()
    },
  }
}

/** Whether a table is the change table itself (never captured, copied or compared). */
export function isChangeTable(name: string): boolean {
  return name.toLowerCase() === CHANGE_TABLE
}
