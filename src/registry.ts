import type { BaseDialect, Dialect } from './dialect.js'
import { ENGINES } from './engines.js'

export { ENGINE_NAMES, ENGINES, engineAccepting, loadEngine, type EngineEntry } from './engines.js'

/**
 * Every engine and file format dbferry knows, by URL scheme, with a lazy loader: the engines of
 * `src/engines.ts` and the file formats of `src/formats/`. The core finds what a URL opens only here, so it
 * never loads a driver the run does not use.
 */
export interface RegistryEntry {
  /** The engine's or format's name (`sqlite`, `csv`, …). */
  readonly name: string
  /** `engine`: a folder under `dialects/` (a {@link Dialect}). `format`: a file format under `src/formats/`. */
  readonly kind: 'engine' | 'format'
  /** URL schemes that open it (`postgres`, `postgresql`), lower case. */
  readonly schemes: readonly string[]
  load(): Promise<BaseDialect>
}

const format = (name: string, load: () => Promise<BaseDialect>): RegistryEntry => ({ name, kind: 'format', schemes: [name], load })

/** The built-in engines and file formats. */
export const REGISTRY: readonly RegistryEntry[] = Object.freeze([
  ...ENGINES.map((e): RegistryEntry => ({ name: e.name, kind: 'engine', schemes: [e.name, ...e.aliases], load: e.load })),
  format('csv', async () => (await import('./formats/csv/index.js')).csv),
  format('multicsv', async () => (await import('./formats/multicsv/index.js')).multicsv),
  format('mysqldump', async () => (await import('./formats/mysqldump/index.js')).mysqldump),
  format('sqlscript', async () => (await import('./formats/sqlscript/index.js')).sqlscript),
  format('tsql', async () => (await import('./formats/tsql/index.js')).tsql),
])

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
