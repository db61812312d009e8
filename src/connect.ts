import type { ConnectOptions, Connection, Dialect } from './dialect.js'
import { UsageError, redact } from './errors.js'

/**
 * How a URL's scheme finds its dialect. Loaders import the dialect's folder lazily, so the core never loads a
 * driver the run does not use. A user can register more (`registerDialect`).
 */
const loaders = new Map<string, () => Promise<Dialect>>([
  ['sqlite', async () => (await import('../dialects/sqlite/index.js')).sqlite],
  ['postgres', async () => (await import('../dialects/postgres/index.js')).postgres],
  ['postgresql', async () => (await import('../dialects/postgres/index.js')).postgres],
  ['mysql', async () => (await import('../dialects/mysql/index.js')).mysql],
  ['mariadb', async () => (await import('../dialects/mysql/index.js')).mysql],
  ['mssql', async () => (await import('../dialects/mssql/index.js')).mssql],
  ['sqlserver', async () => (await import('../dialects/mssql/index.js')).mssql],
  ['csv', async () => (await import('./formats/csv/index.js')).csv],
  ['multicsv', async () => (await import('./formats/multicsv/index.js')).multicsv],
  ['mysqldump', async () => (await import('./formats/mysqldump/index.js')).mysqldump],
  ['sqlscript', async () => (await import('./formats/sqlscript/index.js')).sqlscript],
  ['tsql', async () => (await import('./formats/tsql/index.js')).tsql],
])

/** Makes `scheme:` URLs open with `dialect` (e.g. a file format or a fifth engine). */
export function registerDialect(scheme: string, load: Dialect | (() => Promise<Dialect>)): void {
  loaders.set(scheme.toLowerCase(), typeof load === 'function' ? load : async () => load)
}

/** The scheme of a connection URL (`sqlite:./x.db` → `sqlite`), or undefined. */
export function schemeOf(url: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):/i.exec(url)
  return m?.[1]!.toLowerCase()
}

/** Finds the dialect for a URL. Throws a `UsageError` for an unknown scheme. */
export async function dialectFor(url: string): Promise<Dialect> {
  const scheme = schemeOf(url)
  const load = scheme === undefined ? undefined : loaders.get(scheme)
  if (!load) {
    throw new UsageError(
      `cannot tell which database ${JSON.stringify(redact(url))} is: use sqlite:./file.db, postgres://…, mysql://…, mssql://…` +
        ` or another registered scheme (${[...loaders.keys()].join(', ')})`,
    )
  }
  return load()
}

/** What `from`/`to` accept: a URL, or a connection the caller opened (and will close). */
export type ConnectionSpec = string | Connection

/** Opens a connection from a URL, or returns the caller's connection as it is. */
export async function connect(spec: ConnectionSpec, options: ConnectOptions = {}): Promise<{ connection: Connection; owned: boolean }> {
  if (typeof spec !== 'string') return { connection: spec, owned: false }
  const dialect = await dialectFor(spec)
  return { connection: await dialect.connect(spec, options), owned: true }
}
