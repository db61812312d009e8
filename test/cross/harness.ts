import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dialectFor } from '../../src/connect.js'
import type { Dialect } from '../../src/dialect.js'
import { createMysqlDatabase, createPostgresDatabase, MSSQL_URL, selectedDialects, serverUp, uniqueName, type TestDatabase } from '../support/servers.js'

/** How the cross-dialect suite gets a fresh database of one dialect. */
export interface Harness {
  name: 'sqlite' | 'postgres' | 'mysql' | 'mssql'
  dialect: Dialect
  create(): Promise<TestDatabase>
}

async function implemented(url: string): Promise<Dialect | undefined> {
  const d = await dialectFor(url)
  try {
    d.quoteIdentifier('x')
    return d
  } catch {
    return undefined // the engine's adapter is not in this build
  }
}

/**
 * The harnesses of the dialects this run covers (DBFERRY_DIALECTS narrows them). A dialect whose server is
 * unreachable is left out with a printed notice (global-setup already failed the run under CI=true).
 */
export async function harnesses(): Promise<Harness[]> {
  const selected = selectedDialects()
  const out: Harness[] = []
  if (selected.has('sqlite')) {
    const d = await implemented('sqlite:x')
    if (d) {
      out.push({
        name: 'sqlite',
        dialect: d,
        async create() {
          const dir = mkdtempSync(join(tmpdir(), 'dbferry-'))
          const file = join(dir, `${uniqueName('db')}.db`)
          return { url: `sqlite:${file}`, name: file, async drop() { rmSync(dir, { recursive: true, force: true }) } }
        },
      })
    }
  }
  if (selected.has('postgres')) {
    const d = await implemented('postgres://x')
    if (d && (await serverUp('postgres'))) out.push({ name: 'postgres', dialect: d, create: () => createPostgresDatabase() })
    else console.warn(`!! cross-dialect suite: postgres ${d ? 'server unreachable' : 'adapter not available'}: skipped`)
  }
  if (selected.has('mysql')) {
    const d = await implemented('mysql://x')
    if (d && (await serverUp('mysql'))) out.push({ name: 'mysql', dialect: d, create: () => createMysqlDatabase() })
    else console.warn(`!! cross-dialect suite: mysql ${d ? 'server unreachable' : 'adapter not available'}: skipped`)
  }
  if (selected.has('mssql') && MSSQL_URL) {
    const d = await implemented('mssql://x')
    if (d) {
      out.push({
        name: 'mssql',
        dialect: d,
        async create() {
          const mssql = (await import('mssql')).default
          const name = uniqueName()
          const pool = await mssql.connect(MSSQL_URL!.replace(/^mssql:|^sqlserver:/, 'mssql:'))
          await pool.request().batch(`CREATE DATABASE [${name}]`)
          await pool.close()
          const u = new URL(MSSQL_URL!)
          u.pathname = `/${name}`
          return {
            url: u.toString(),
            name,
            async drop() {
              const p = await mssql.connect(MSSQL_URL!)
              await p.request().batch(`ALTER DATABASE [${name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [${name}]`)
              await p.close()
            },
          }
        },
      })
    }
  }
  return out
}
