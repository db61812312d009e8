import type { BaseDialect, ConnectOptions, Connection } from './dialect.js'
import { UsageError, redact } from './errors.js'
import { isKysely, kyselyAdapterNames } from './kysely-session.js'
import { ENGINES, engineAccepting, knownSchemes, loaderFor } from './registry.js'

export { registerDialect } from './registry.js'

/** The scheme of a connection URL (`sqlite:./x.db` → `sqlite`), or undefined. */
export function schemeOf(url: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url)
  return m?.[1]!.toLowerCase()
}

/** Finds the dialect for a URL through the registry. Throws a `UsageError` for an unknown scheme. */
export async function dialectFor(url: string): Promise<BaseDialect> {
  const scheme = schemeOf(url)
  const load = scheme === undefined ? undefined : loaderFor(scheme)
  if (!load) {
    throw new UsageError(
      `cannot tell which database ${JSON.stringify(redact(url))} is: use sqlite:./file.db, postgres://…, mysql://…, mssql://…, duckdb:./file.duckdb` +
        ` or another registered scheme (${knownSchemes().join(', ')})`,
    )
  }
  return load()
}

/**
 * What `from`/`to` accept: a URL; a dbferry {@link Connection}; or a driver object the caller already holds
 * (a `pg` Pool or Client, a `mysql2` pool or connection, a better-sqlite3 Database, an `mssql` ConnectionPool,
 * a DuckDB connection), or a Kysely instance or transaction over an adapter an engine takes
 * (`Dialect.kyselyAdapters`). dbferry never closes what it did not open.
 */
export type ConnectionSpec = string | Connection | object

function isConnection(spec: object): spec is Connection {
  const c = spec as Partial<Connection>
  return typeof c.introspect === 'function' && typeof c.openWriter === 'function' && typeof c.close === 'function' && c.dialect !== undefined
}

/**
 * Opens a connection from a URL; returns the caller's dbferry connection as it is; or wraps a driver object
 * the caller holds in the engine that recognises it (`owned: false` either way: the caller closes it).
 */
export async function connect(spec: ConnectionSpec, options: ConnectOptions = {}): Promise<{ connection: Connection; owned: boolean }> {
  if (typeof spec === 'string') {
    const dialect = await dialectFor(spec)
    return { connection: await dialect.connect(spec, options), owned: true }
  }
  if (isConnection(spec)) return { connection: spec, owned: false }
  const engine = await engineAccepting(spec)
  if (!engine && isKysely(spec)) throw await kyselyRefused(spec)
  if (!engine) {
    throw new UsageError(
      'from/to: not a URL, a dbferry connection, or a driver object dbferry recognises (a pg Pool or Client, a mysql2 pool or connection, a better-sqlite3 Database, an mssql ConnectionPool, a DuckDBConnection or DuckDBInstance)',
    )
  }
  // the engine's connection over the caller's object: closing it releases what it took, never the object
  return { connection: await engine.connect(spec, options), owned: true }
}

/** The refusal of a Kysely instance whose adapter no engine takes: which adapters are taken, and what to pass instead. */
async function kyselyRefused(db: object): Promise<UsageError> {
  const taken: string[] = []
  for (const entry of ENGINES) taken.push(...((await entry.load()).kyselyAdapters ?? []))
  const adapter = kyselyAdapterNames(db)[0] ?? 'an unknown adapter'
  return new UsageError(
    `from/to: a Kysely instance over ${adapter} is not taken: dbferry takes Kysely instances over ${taken.join(', ')}; ` +
      'for another Kysely dialect, pass the driver object it was built with instead (an mssql ConnectionPool for MssqlDialect, ' +
      'a pg Pool, a mysql2 pool, a better-sqlite3 Database, a DuckDBConnection) or a URL',
  )
}
