import pg from 'pg'
import type { ConnectOptions } from '../../src/dialect.js'
import { ConnectionError, SchemaError, UsageError, redact } from '../../src/errors.js'

/**
 * Opening a session: one `pg` client with the settings every read and write relies on (ISO dates, UTC, hex
 * bytea, UTF-8), from a URL, the `PG*` environment variables, a `pg` Pool or a `pg` Client.
 */

/** The part of a `pg` Pool dbferry uses: it borrows one client and gives it back. */
export interface PoolLike {
  connect(): Promise<pg.PoolClient>
}

/** What `postgres.connect()` accepts besides a URL. */
export type PostgresTarget =
  | string
  | { pool: PoolLike; schema?: string }
  | { client: pg.Client | pg.PoolClient; schema?: string }
  | (pg.ClientConfig & { schema?: string })

/** An open session: the client, the schema it works in, and how to let go of it. */
export interface Session {
  client: pg.Client | pg.PoolClient
  schema: string
  description: string
  /** Builds a new client to the same server (for cancelling a query), or undefined for a user's client. */
  config?: pg.ClientConfig
  release(): Promise<void>
}

/** Session settings that make the text forms exact and independent of the server's defaults. */
const SETTINGS = [
  "SET DateStyle = 'ISO, YMD'",
  "SET TimeZone = 'UTC'",
  "SET IntervalStyle = 'postgres'",
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
  'SET extra_float_digits = 1',
  // a commit per batch need not wait for its WAL flush: a client crash loses nothing the server acknowledged,
  // and after a server crash resume finds the target short of its checkpoint and says so instead of guessing
  'SET synchronous_commit = off',
].join('; ')
const RESET = 'RESET DateStyle; RESET TimeZone; RESET IntervalStyle; RESET bytea_output; RESET client_encoding; RESET extra_float_digits; RESET synchronous_commit'

/** Splits `?schema=` off a URL (pg would pass unknown parameters to the server). */
function parseUrl(url: string): { config: pg.ClientConfig; schema?: string; description: string } {
  const description = redact(url)
  // `postgres:` or `postgres://` alone: everything from PG* variables
  if (/^postgres(ql)?:(\/\/)?$/i.test(url.trim())) return { config: {}, description: `postgres (from PG* environment)` }
  let u: URL
  try {
    u = new URL(url)
  } catch (cause) {
    throw new UsageError(`not a PostgreSQL URL: ${description}`, { cause: new Error(redact(String(cause))) })
  }
  const schema = u.searchParams.get('schema') ?? u.searchParams.get('currentSchema') ?? undefined
  u.searchParams.delete('schema')
  u.searchParams.delete('currentSchema')
  return { config: { connectionString: u.toString() }, schema, description }
}

function databaseOf(config: pg.ClientConfig): string | undefined {
  if (config.database) return config.database
  if (config.connectionString) {
    try {
      return decodeURIComponent(new URL(config.connectionString).pathname.slice(1)) || undefined
    } catch {
      return undefined
    }
  }
  return process.env.PGDATABASE
}

function withDatabase(config: pg.ClientConfig, database: string): pg.ClientConfig {
  if (config.connectionString) {
    const u = new URL(config.connectionString)
    u.pathname = `/${database}`
    return { ...config, connectionString: u.toString() }
  }
  return { ...config, database }
}

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

async function openClient(config: pg.ClientConfig, description: string, create: boolean): Promise<pg.Client> {
  const client = new pg.Client(config)
  client.on('error', () => {}) // surfaced by the query in flight
  try {
    await client.connect()
    return client
  } catch (cause) {
    await client.end().catch(() => {})
    const db = databaseOf(config)
    // 3D000: the database does not exist; a target may create it
    if (create && (cause as { code?: string }).code === '3D000' && db) {
      const admin = new pg.Client(withDatabase(config, 'postgres'))
      admin.on('error', () => {})
      try {
        await admin.connect()
        await admin.query(`CREATE DATABASE ${quote(db)}`)
      } catch (error) {
        if ((error as { code?: string }).code !== '42P04') {
          throw new ConnectionError(`could not create database ${db} on ${description}: ${redact(String((error as Error).message))}`, { cause: error })
        }
      } finally {
        await admin.end().catch(() => {})
      }
      return openClient(config, description, false)
    }
    throw new ConnectionError(`could not connect to ${description}: ${redact((cause as Error).message ?? String(cause))}`, { cause })
  }
}

/** Opens a session from any {@link PostgresTarget}. */
export async function openSession(target: PostgresTarget | object, options: ConnectOptions = {}): Promise<Session> {
  let client: pg.Client | pg.PoolClient
  let schema = options.schema
  let description: string
  let config: pg.ClientConfig | undefined
  let release: (restore: boolean) => Promise<void>
  if (typeof target === 'string') {
    const parsed = parseUrl(target)
    schema = parsed.schema ?? schema
    description = parsed.description
    config = parsed.config
    const c = await openClient(config, description, options.create === true)
    client = c
    release = async () => {
      await c.end()
    }
  } else if ('pool' in target && target.pool) {
    const t = target as { pool: PoolLike; schema?: string }
    schema = t.schema ?? schema
    description = 'postgres (pool)'
    try {
      client = await t.pool.connect()
    } catch (cause) {
      throw new ConnectionError(`could not get a client from the pool: ${redact((cause as Error).message ?? String(cause))}`, { cause })
    }
    const pc = client as pg.PoolClient
    release = async (restore) => {
      if (restore) await pc.query(RESET).catch(() => {})
      pc.release()
    }
  } else if ('client' in target && target.client) {
    const t = target as { client: pg.Client; schema?: string }
    schema = t.schema ?? schema
    description = 'postgres (client)'
    client = t.client
    release = async (restore) => {
      if (restore) await t.client.query(RESET).catch(() => {})
    }
  } else {
    const { schema: s, ...rest } = target as pg.ClientConfig & { schema?: string }
    schema = s ?? schema
    config = rest
    description = redact(rest.connectionString ?? `postgres://${rest.user ?? ''}@${rest.host ?? 'localhost'}/${rest.database ?? ''}`)
    const c = await openClient(config, description, options.create === true)
    client = c
    release = async () => {
      await c.end()
    }
  }
  const owned = config !== undefined
  try {
    await client.query(SETTINGS)
    if (schema === undefined) {
      const r = await client.query<{ s: string }>('SELECT current_schema() AS s')
      schema = r.rows[0]?.s ?? 'public'
    } else {
      const r = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])
      if (r.rowCount === 0) {
        if (!options.create) throw new SchemaError(`schema ${schema} does not exist on ${description}`)
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`)
      }
    }
  } catch (error) {
    await release(!owned).catch(() => {})
    if (error instanceof SchemaError) throw error
    throw new ConnectionError(`could not prepare the session on ${description}: ${redact((error as Error).message)}`, { cause: error })
  }
  return { client, schema, description: schema === 'public' ? description : `${description} (schema ${schema})`, config, release: () => release(!owned) }
}
