import type { FerryOptions } from '../options.js'

/**
 * The options of a config file: exactly the options of `ferry()`, so a migration written as a file and one
 * written as code are the same thing. `defineConfig` only gives the file its types.
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
export type FerryConfig = FerryOptions

/** Returns `options` unchanged, typed as {@link FerryConfig}. */
export function defineConfig(options: FerryConfig): FerryConfig {
  return options
}
