import { randomBytes } from 'node:crypto'
import { ENGINE_NAMES } from '../../src/registry.js'

/**
 * Test databases on the local servers. Each test creates its own database with a unique name and drops it.
 * PostgreSQL: DBFERRY_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
 * MariaDB/MySQL: DBFERRY_MYSQL_URL (default mysql://root@127.0.0.1:3306/test).
 */
export const PG_URL = process.env.DBFERRY_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const MYSQL_URL = process.env.DBFERRY_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
export const MSSQL_URL = process.env.DBFERRY_MSSQL_URL

/** A database made for one test. */
export interface TestDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

export function uniqueName(prefix = 'dbferry'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

/** Creates a fresh PostgreSQL database. */
export async function createPostgresDatabase(prefix?: string): Promise<TestDatabase> {
  const pg = (await import('pg')).default
  const name = uniqueName(prefix)
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.end()
  }
  return {
    url: withDatabase(PG_URL, name),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

/** Creates a fresh MariaDB/MySQL database (utf8mb4). */
export async function createMysqlDatabase(prefix?: string): Promise<TestDatabase> {
  const mysql = await import('mysql2/promise')
  const name = uniqueName(prefix)
  const admin = await mysql.createConnection(MYSQL_URL)
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  } finally {
    await admin.end()
  }
  return {
    url: withDatabase(MYSQL_URL, name),
    name,
    async drop() {
      const c = await mysql.createConnection(MYSQL_URL)
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
      } finally {
        await c.end()
      }
    },
  }
}

/** Whether a server answers; used to skip (or, under CI=true, fail) suites. */
export async function serverUp(kind: 'postgres' | 'mysql'): Promise<boolean> {
  try {
    if (kind === 'postgres') {
      const pg = (await import('pg')).default
      const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 })
      await c.connect()
      await c.end()
    } else {
      const mysql = await import('mysql2/promise')
      const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 })
      await c.end()
    }
    return true
  } catch {
    return false
  }
}

/** The dialects the run covers: every engine of the registry; DBFERRY_DIALECTS=sqlite,postgres narrows it. */
export function selectedDialects(): Set<string> {
  const env = process.env.DBFERRY_DIALECTS
  return new Set(env ? env.split(',').map((s) => s.trim()) : ENGINE_NAMES)
}

/** Whether the SQL Server at DBFERRY_MSSQL_URL answers (false when it is not set). */
export async function mssqlUp(): Promise<boolean> {
  if (!MSSQL_URL) return false
  try {
    const mssql = (await import('mssql')).default
    const pool = new mssql.ConnectionPool({ ...parseMssqlTestUrl(MSSQL_URL), connectionTimeout: 5000 })
    await pool.connect()
    await pool.close()
    return true
  } catch {
    return false
  }
}

function parseMssqlTestUrl(url: string): { server: string; port: number; user: string; password: string; database: string; options: { encrypt: boolean; trustServerCertificate: boolean } } {
  const u = new URL(url)
  return {
    server: u.hostname,
    port: Number(u.port || 1433),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1) || 'master',
    options: { encrypt: false, trustServerCertificate: true },
  }
}

/**
 * Runs `statement` again (5 tries at most) while it fails with `tuple concurrently updated`: the SQL Server
 * stand-in (Babelfish) raises that when two sessions change its catalog at the same moment, as two CREATE
 * DATABASE from tests running side by side do.
 */
export async function retryCatalogRace<T>(statement: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await statement()
    } catch (error) {
      if (attempt >= 5 || !/tuple concurrently updated/i.test(error instanceof Error ? error.message : String(error))) throw error
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt + Math.floor(Math.random() * 200)))
    }
  }
}

/**
 * Creates a fresh database on the SQL Server at DBFERRY_MSSQL_URL. `drop()` closes dbferry's pools first (the
 * caller's job) and drops it with a plain `DROP DATABASE`, which both SQL Server and the Babelfish stand-in
 * take (the stand-in refuses `ALTER DATABASE … SET SINGLE_USER`); when sessions still hold it, it kills them
 * and tries again.
 */
export async function createMssqlDatabase(prefix?: string): Promise<TestDatabase> {
  if (!MSSQL_URL) throw new Error('DBFERRY_MSSQL_URL is not set')
  const mssql = (await import('mssql')).default
  const name = uniqueName(prefix)
  const admin = new mssql.ConnectionPool(parseMssqlTestUrl(MSSQL_URL))
  await admin.connect()
  try {
    await retryCatalogRace(() => admin.request().batch(`CREATE DATABASE [${name}]`))
  } finally {
    await admin.close()
  }
  const u = new URL(MSSQL_URL)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    name,
    async drop() {
      const pool = new mssql.ConnectionPool(parseMssqlTestUrl(MSSQL_URL!))
      await pool.connect()
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            await pool.request().batch(`IF DB_ID(N'${name}') IS NOT NULL DROP DATABASE [${name}]`)
            return
          } catch (error) {
            if (attempt >= 3) throw error
            // a session still uses it (a pool closing late): end those sessions, where the server lets us
            const r = await pool.request().query(`SELECT session_id FROM sys.dm_exec_sessions WHERE database_id = DB_ID(N'${name}') AND session_id <> @@SPID`).catch(() => ({ recordset: [] }))
            for (const { session_id } of r.recordset as { session_id: number }[]) await pool.request().batch(`KILL ${Number(session_id)}`).catch(() => {})
            await new Promise((resolve) => setTimeout(resolve, 500 * attempt))
          }
        }
      } finally {
        await pool.close()
      }
    },
  }
}
