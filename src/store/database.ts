import type BetterSqlite3 from 'better-sqlite3'
import { requireDriver } from '../drivers.js'

/**
 * The store's SQLite files (the journal, spilled key sets, backups) are opened with better-sqlite3, an
 * optional package: it is loaded here, the first time one is needed, and its absence is a `not_available`
 * usage error that names the package and what needed it.
 */

/** better-sqlite3's Database class. */
export type DatabaseClass = typeof BetterSqlite3

/** What needs the store: named in the error when better-sqlite3 is missing. */
export type StoreUse = 'the journal' | 'spilling keys to disk' | 'backup' | 'reading a journal'

/** Loads the better-sqlite3 module (an `import()`); replaced in tests to simulate a missing package. */
export type DriverLoader = () => Promise<{ default: DatabaseClass }>

/** What a use can do instead of installing the package; the others need the package itself. */
const HINTS: Readonly<Partial<Record<StoreUse, string>>> = {
  'the journal': 'or run without a journal: --no-journal',
}

const PACKAGES = ['better-sqlite3'] as const

/** The default loader: the installed better-sqlite3. */
export const importBetterSqlite3: DriverLoader = () => import('better-sqlite3')

/**
 * better-sqlite3's Database class, loaded on first use (`load`, default {@link importBetterSqlite3}). Throws a
 * `not_available` `UsageError` naming the package and `what` needed it when it is not installed.
 */
export async function loadDatabase(what: StoreUse, load: DriverLoader = importBetterSqlite3): Promise<DatabaseClass> {
  const module = await requireDriver(PACKAGES, what, load, HINTS[what])
  return module.default
}

/**
 * Checks that the store can be used for `what` (better-sqlite3 loads), so a run fails before it creates
 * anything on the target rather than half-way through. Throws the `not_available` `UsageError` of
 * {@link loadDatabase}. `load` defaults to {@link importBetterSqlite3}.
 *
 * @example
 * await assertStoreAvailable('the journal') // before the run touches the target
 */
export async function assertStoreAvailable(what: StoreUse, load: DriverLoader = importBetterSqlite3): Promise<void> {
  await loadDatabase(what, load)
}
