import type { Dialect } from './dialect.js'

/**
 * The engines: one line each, naming its folder under `dialects/`, the URL schemes that open it, and a lazy
 * loader of its `<d>-dialect.ts` (which loads no driver). This is the one file under `src/` that names a file
 * under `dialects/`; adding an engine is a folder there and a line here. The file formats (which use the
 * engines' type maps and SQL builders) and the scheme lookup are in `src/registry.ts`.
 */
export interface EngineEntry {
  /** The engine's name: its folder, its subpath export `dbferry/<name>`, and a URL scheme. */
  readonly name: string
  /** URL schemes that open it besides its name (`postgresql`), lower case. */
  readonly aliases: readonly string[]
  load(): Promise<Dialect>
}

/** The built-in engines. */
export const ENGINES: readonly EngineEntry[] = Object.freeze([
  { name: 'sqlite', aliases: [], load: async () => (await import('../dialects/sqlite/sqlite-dialect.js')).sqliteDialect },
  { name: 'postgres', aliases: ['postgresql'], load: async () => (await import('../dialects/postgres/postgres-dialect.js')).postgresDialect },
  { name: 'mysql', aliases: ['mariadb'], load: async () => (await import('../dialects/mysql/mysql-dialect.js')).mysqlDialect },
  { name: 'mssql', aliases: ['sqlserver'], load: async () => (await import('../dialects/mssql/mssql-dialect.js')).mssqlDialect },
  { name: 'duckdb', aliases: [], load: async () => (await import('../dialects/duckdb/duckdb-dialect.js')).duckdbDialect },
])

/** The names of the built-in engines (`sqlite`, `postgres`, …), in registry order. */
export const ENGINE_NAMES: readonly string[] = Object.freeze(ENGINES.map((e) => e.name))

/** Loads a built-in engine by its name or an alias (`loadEngine('mssql')`), e.g. for a file format that uses its type map. */
export async function loadEngine(name: string): Promise<Dialect> {
  const wanted = name.toLowerCase()
  const entry = ENGINES.find((e) => e.name === wanted || e.aliases.includes(wanted))
  if (!entry) throw new Error(`no engine named ${JSON.stringify(name)} (${ENGINE_NAMES.join(', ')})`)
  return entry.load()
}

/** The engine whose `accepts` recognises a driver object the caller holds (a pool, a client, a database handle). */
export async function engineAccepting(target: object): Promise<Dialect | undefined> {
  for (const entry of ENGINES) {
    const d = await entry.load()
    if (d.accepts(target)) return d
  }
  return undefined
}
