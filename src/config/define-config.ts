import type { FerryOptions } from '../options.js'

/**
 * The options of a config file: exactly the options of `ferry()`, so a migration written as a file and one
 * written as code are the same thing, plus `connections` for the CLI. `defineConfig` only gives the file its types.
 *
 * @example
 * // dbferry.config.ts
 * import { defineConfig, transforms as t } from 'dbferry'
 * export default defineConfig({
 *   from: 'sqlite:./storage.db',
 *   to: 'mysql://root@127.0.0.1/sahana',
 *   transforms: [t.dedupeEmails('auth_user'), t.rewriteEngine()],
 * })
 */
export type FerryConfig = FerryOptions & {
  /**
   * Named connections for the CLI: `dbferry copy legacy app` (or `from: 'legacy'` here, or
   * `DBFERRY_FROM=legacy`) uses the URL named `legacy`, so a password is never typed on a command line. A
   * value may read the environment (`process.env.APP_URL`) in a `.ts`/`.js` config. Default: none.
   *
   * @example
   * connections: { legacy: 'mysql://app:secret@old-host/app', app: process.env.APP_URL! }
   */
  connections?: Readonly<Record<string, string>>
}

/** Returns `options` unchanged, typed as {@link FerryConfig}. */
export function defineConfig(options: FerryConfig): FerryConfig {
  return options
}
