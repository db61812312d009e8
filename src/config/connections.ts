import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { schemeOf } from '../connect.js'
import { UsageError, redact } from '../errors.js'
import { loadConfig, type LoadedConfig } from './load-config.js'

/** The config files looked for in the working directory when a command names a connection and gives no `--config`. */
export const DEFAULT_CONFIG_FILES = ['dbferry.config.ts', 'dbferry.config.mts', 'dbferry.config.js', 'dbferry.config.mjs', 'dbferry.config.json'] as const

/** Where a connection came from, for `--verbose` (never the URL's password). */
export interface ResolvedConnection {
  /** The URL (or the driver object a config file holds). */
  spec: unknown
  /** How it was found: `command line`, `$DBFERRY_FROM`, `connection "legacy" in dbferry.config.ts`, … */
  from: string
}

/**
 * The environment variables that give `<from>` and `<to>` when the command line does not, so that a URL with
 * a password is never an argument (`ps` shows arguments, not the environment).
 */
export const CONNECTION_ENV = { from: 'DBFERRY_FROM', to: 'DBFERRY_TO' } as const

/** Whether `spec` is a connection name (a string without a URL scheme, such as `legacy`), not a URL. */
export function isConnectionName(spec: unknown): spec is string {
  return typeof spec === 'string' && spec !== '' && schemeOf(spec) === undefined
}

/**
 * The config whose `connections` name the connections: the `--config` file's, else the first
 * {@link DEFAULT_CONFIG_FILES} in `cwd` (only its `connections` are used then). Undefined when there is none.
 */
export async function connectionsConfig(cwd: string, config: { path: string; options: LoadedConfig } | undefined): Promise<{ path: string; connections: Readonly<Record<string, unknown>> } | undefined> {
  if (config) return config.options.connections ? { path: config.path, connections: config.options.connections } : undefined
  const file = DEFAULT_CONFIG_FILES.map((f) => join(cwd, f)).find((f) => existsSync(f))
  if (!file) return undefined
  const options = await loadConfig(file)
  return options.connections ? { path: file, connections: options.connections } : undefined
}

/**
 * One end of a run, in order of precedence: the command line's argument, the environment variable, the
 * config file's `from`/`to`. A name (no URL scheme) is looked up in the config's `connections` (loaded only
 * when a name needs it); a name no config defines is returned as it is, for the engine registry to refuse.
 *
 * @param loadConnections returns the config whose connections to use (see {@link connectionsConfig}).
 */
export async function resolveConnection(
  end: 'from' | 'to',
  given: { argument?: string; env: NodeJS.ProcessEnv; config?: unknown },
  loadConnections: () => Promise<{ path: string; connections: Readonly<Record<string, unknown>> } | undefined>,
): Promise<ResolvedConnection | undefined> {
  const variable = CONNECTION_ENV[end]
  const fromEnv = given.env[variable]
  const found: ResolvedConnection | undefined =
    given.argument !== undefined
      ? { spec: given.argument, from: 'command line' }
      : fromEnv !== undefined && fromEnv !== ''
        ? { spec: fromEnv, from: `$${variable}` }
        : given.config !== undefined
          ? { spec: given.config, from: `the config's ${end}` }
          : undefined
  if (!found || !isConnectionName(found.spec)) return found
  const named = await loadConnections()
  if (!named) return found
  const spec = named.connections[found.spec]
  if (spec === undefined) {
    const names = Object.keys(named.connections)
    throw new UsageError(`no connection named ${JSON.stringify(found.spec)} in ${named.path} (${names.length > 0 ? `it names ${names.join(', ')}` : 'its connections are empty'})`)
  }
  return { spec, from: `connection ${JSON.stringify(found.spec)} in ${named.path} (${found.from})` }
}

/** A resolved connection as a `--verbose` line: where it came from and the URL with its password hidden. */
export function describeConnection(end: 'from' | 'to', c: ResolvedConnection): string {
  return `${end}: ${typeof c.spec === 'string' ? redact(c.spec) : 'a driver object'} (${c.from})`
}
