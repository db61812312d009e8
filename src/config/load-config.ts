import { existsSync, readFileSync } from 'node:fs'
import { dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../errors.js'
import { ENGINE_NAMES } from '../engines.js'
import type { FerryConfig } from './define-config.js'

/** A loaded config: the options of `ferry()`, where `from` and `to` may be left to the command line. */
export type LoadedConfig = Omit<FerryConfig, 'from' | 'to'> & Partial<Pick<FerryConfig, 'from' | 'to'>>

const EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'])

/** Where `import … from 'dbferry'` inside a config file should go: this very copy of dbferry. */
function selfAliases(): Record<string, string> {
  const here = dirname(fileURLToPath(import.meta.url))
  let dir = here
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dbferry') break
      } catch {
        // not ours: keep walking up
      }
    }
    dir = dirname(dir)
  }
  // running from the sources (tests, tsx) the entry is src/index.ts; from the build, dist/index.js
  const fromSources = existsSync(join(dir, 'src', 'index.ts')) && import.meta.url.endsWith('.ts')
  const entry = fromSources ? join(dir, 'src', 'index.ts') : join(dir, 'dist', 'index.js')
  if (!existsSync(entry)) return {}
  const aliases: Record<string, string> = { dbferry: entry }
  for (const d of ENGINE_NAMES) {
    const sub = fromSources ? join(dir, 'dialects', d, 'index.ts') : join(dir, 'dist', `${d}.js`)
    if (existsSync(sub)) aliases[`dbferry/${d}`] = sub
  }
  return aliases
}

/**
 * Loads a config file — `.ts`, `.mts`, `.js`, `.mjs`, `.cjs` (through jiti, so TypeScript needs no build
 * step) or `.json` — and returns its options: the default export (or the module itself), which may also be a
 * function returning the options (sync or async). `import … from 'dbferry'` inside the file resolves to the
 * dbferry that loads it, so a config works with `npx dbferry` without a local install.
 *
 * Relative `sqlite:` paths in the config are resolved by the dialects against the working directory, not
 * against the file.
 *
 * @example
 * const options = await loadConfig('dbferry.config.ts')
 * const report = await ferry(options)
 */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const file = resolve(path)
  if (!existsSync(file)) throw new UsageError(`config file ${path} does not exist`)
  const ext = extname(file).toLowerCase()
  if (!EXTENSIONS.has(ext)) throw new UsageError(`config file ${path}: use .ts, .js, .mjs or .json`)
  let value: unknown
  if (ext === '.json') {
    try {
      value = JSON.parse(readFileSync(file, 'utf8'))
    } catch (cause) {
      throw new UsageError(`config file ${path} is not valid JSON: ${(cause as Error).message}`, { cause })
    }
  } else {
    const { createJiti } = await import('jiti')
    const jiti = createJiti(import.meta.url, { alias: selfAliases(), moduleCache: false, interopDefault: true })
    try {
      value = await jiti.import(file, { default: true })
    } catch (cause) {
      throw new UsageError(`config file ${path} could not be loaded: ${(cause as Error).message}`, { cause })
    }
  }
  if (typeof value === 'function') value = await (value as () => unknown)()
  if (value === null || typeof value !== 'object') throw new UsageError(`config file ${path} must export an options object (export default defineConfig({ … }))`)
  // from/to may be left to the command line (`dbferry copy <from> <to> --config …`): the caller checks
  return value as LoadedConfig
}
