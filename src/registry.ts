import type { BaseDialect, Dialect } from './dialect.js'

/**
 * Every engine and file format dbferry knows, by name, with the URL schemes that open it and a lazy loader.
 * This is the one place under `src/` that names a file under `dialects/`: the core reaches an engine only
 * through these loaders, so it never loads a driver the run does not use. Adding an engine is a folder under
 * `dialects/` and one line here.
 */
export interface RegistryEntry {
  /** The engine's or format's name (`sqlite`, `csv`, …); also its folder and its subpath export `dbferry/<name>`. */
  readonly name: string
  /** `engine`: a folder under `dialects/` (a {@link Dialect}). `format`: a file format under `src/formats/`. */
  readonly kind: 'engine' | 'format'
  /** URL schemes that open it (`postgres`, `postgresql`), lower case. */
  readonly schemes: readonly string[]
  /** Loads the dialect object; an engine's `<d>-dialect.ts` loads no driver. */
  load(): Promise<BaseDialect>
}

const engine = (name: string, schemes: string[], load: () => Promise<Dialect>): RegistryEntry => ({ name, kind: 'engine', schemes: [name, ...schemes], load })
const format = (name: string, load: () => Promise<BaseDialect>): RegistryEntry => ({ name, kind: 'format', schemes: [name], load })

/** The built-in engines and formats. */
export const REGISTRY: readonly RegistryEntry[] = Object.freeze([
  engine('sqlite', [], async () => (await import('../dialects/sqlite/sqlite-dialect.js')).sqliteDialect),
  engine('postgres', ['postgresql'], async () => (await import('../dialects/postgres/postgres-dialect.js')).postgresDialect),
  engine('mysql', ['mariadb'], async () => (await import('../dialects/mysql/mysql-dialect.js')).mysqlDialect),
  engine('mssql', ['sqlserver'], async () => (await import('../dialects/mssql/mssql-dialect.js')).mssqlDialect),
  engine('duckdb', [], async () => (await import('../dialects/duckdb/duckdb-dialect.js')).duckdbDialect),
  format('csv', async () => (await import('./formats/csv/index.js')).csv),
  format('multicsv', async () => (await import('./formats/multicsv/index.js')).multicsv),
  format('mysqldump', async () => (await import('./formats/mysqldump/index.js')).mysqldump),
  format('sqlscript', async () => (await import('./formats/sqlscript/index.js')).sqlscript),
  format('tsql', async () => (await import('./formats/tsql/index.js')).tsql),
])

/** The names of the built-in engines (`sqlite`, `postgres`, …), in registry order. */
export const ENGINE_NAMES: readonly string[] = REGISTRY.filter((e) => e.kind === 'engine').map((e) => e.name)

const byScheme = new Map<string, () => Promise<BaseDialect>>()
for (const entry of REGISTRY) for (const s of entry.schemes) byScheme.set(s, entry.load)

/** Makes `scheme:` URLs open with `dialect` (a file format of your own, or another engine). */
export function registerDialect(scheme: string, load: BaseDialect | (() => Promise<BaseDialect>)): void {
  byScheme.set(scheme.toLowerCase(), typeof load === 'function' ? load : async () => load)
}

/** Every scheme that opens something, built-in or registered. */
export function knownSchemes(): string[] {
  return [...byScheme.keys()]
}

/** The loader for a scheme (or an engine's name), or undefined. */
export function loaderFor(scheme: string): (() => Promise<BaseDialect>) | undefined {
  return byScheme.get(scheme.toLowerCase())
}

/** Whether a registry object is an engine (has a type map, a SQL builder and an error map). */
export function isEngine(d: BaseDialect): d is Dialect {
  return d.types !== undefined && d.sql !== undefined && d.errors !== undefined && 'accepts' in d
}

/** Loads a built-in engine by name (`loadEngine('mssql')`), e.g. for a file format that uses its type map. */
export async function loadEngine(name: string): Promise<Dialect> {
  const entry = REGISTRY.find((e) => e.kind === 'engine' && e.schemes.includes(name.toLowerCase()))
  if (!entry) throw new Error(`no engine named ${JSON.stringify(name)} in the registry (${ENGINE_NAMES.join(', ')})`)
  const d = await entry.load()
  if (!isEngine(d)) throw new Error(`registry entry ${entry.name} is not an engine`)
  return d
}

/** The engines whose `accepts` recognises a driver object the caller holds (a pool, a client, a Kysely instance). */
export async function engineAccepting(target: object): Promise<Dialect | undefined> {
  for (const entry of REGISTRY) {
    if (entry.kind !== 'engine') continue
    const d = await entry.load()
    if (isEngine(d) && d.accepts(target)) return d
  }
  return undefined
}
