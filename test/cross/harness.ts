import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '../../src/connect.js'
import type { Dialect } from '../../src/dialect.js'
import { ENGINE_NAMES, loadEngine } from '../../src/registry.js'
import { createMssqlDatabase, createMysqlDatabase, createPostgresDatabase, MSSQL_URL, mssqlUp, selectedDialects, serverUp, uniqueName, type TestDatabase } from '../support/servers.js'

/** How the cross-dialect suite gets a fresh database of one engine. */
export interface Harness {
  /** The engine's name in the registry. */
  name: string
  dialect: Dialect
  create(): Promise<TestDatabase>
  /**
   * What this server does with a foreign key over orphan rows, where it differs from the engine's capability
   * (the SQL Server stand-in refuses `WITH NOCHECK`, which real SQL Server accepts): probed once per run.
   * Absent: as `dialect.capabilities.unvalidatedForeignKeys` says.
   */
  unvalidatedForeignKeys?: boolean
}

/** A fresh database file in its own temporary directory, for engines whose database is one local file. */
function fileDatabase(engine: string): () => Promise<TestDatabase> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbferry-'))
    const file = join(dir, `${uniqueName('db')}.${engine}`)
    return { url: `${engine}:${file}`, name: file, async drop() { rmSync(dir, { recursive: true, force: true }) } }
  }
}

/** How to make a database on each server engine, and whether its server answers. */
const SERVERS: Record<string, { up(): Promise<boolean>; create(): Promise<TestDatabase>; unvalidatedForeignKeys?(): Promise<boolean> }> = {
  postgres: { up: () => serverUp('postgres'), create: () => createPostgresDatabase() },
  mysql: { up: () => serverUp('mysql'), create: () => createMysqlDatabase() },
  // SQL Server runs only when DBFERRY_MSSQL_URL names one
  mssql: { up: async () => MSSQL_URL !== undefined && (await mssqlUp()), create: () => createMssqlDatabase(), unvalidatedForeignKeys: mssqlTakesNocheck },
}

/** Whether this SQL Server creates a foreign key over an orphan row `WITH NOCHECK` (real SQL Server does). */
async function mssqlTakesNocheck(): Promise<boolean> {
  const db = await createMssqlDatabase('dbferry_probe')
  const { connection } = await connect(db.url)
  try {
    await connection.execute!('CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int); INSERT INTO c VALUES (1)')
    await connection.execute!('ALTER TABLE c WITH NOCHECK ADD CONSTRAINT c_p FOREIGN KEY (p) REFERENCES p (id)')
    return true
  } catch {
    return false
  } finally {
    await connection.close()
    await db.drop()
  }
}

/**
 * The harnesses of the engines this run covers: every engine of the registry (DBFERRY_DIALECTS narrows them).
 * Engines whose database is a local file (`localFile`) get a temporary file; server engines a fresh database
 * on the local server. An engine whose server is unreachable, or that the harness cannot make a database for,
 * is left out with a printed notice (global-setup already failed the run under CI=true).
 */
export async function harnesses(): Promise<Harness[]> {
  const selected = selectedDialects()
  const out: Harness[] = []
  for (const name of ENGINE_NAMES) {
    if (!selected.has(name)) continue
    let dialect: Dialect
    try {
      dialect = await loadEngine(name)
    } catch (error) {
      console.warn(`!! cross-dialect suite: ${name} could not be loaded (${error instanceof Error ? error.message : String(error)}): skipped`)
      continue
    }
    if (dialect.localFile !== undefined) {
      out.push({ name, dialect, create: fileDatabase(name) })
      continue
    }
    const server = SERVERS[name]
    if (!server) console.warn(`!! cross-dialect suite: no harness makes a ${name} database: skipped`)
    else if (await server.up()) {
      const unvalidated = await server.unvalidatedForeignKeys?.()
      out.push({ name, dialect, create: server.create, ...(unvalidated === undefined ? {} : { unvalidatedForeignKeys: unvalidated }) })
    }
    else if (name !== 'mssql' || MSSQL_URL) console.warn(`!! cross-dialect suite: ${name} server unreachable: skipped`)
  }
  return out
}
