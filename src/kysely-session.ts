import { requireDriver } from './drivers.js'
import { ConnectionError, redact } from './errors.js'

/**
 * A Kysely instance the caller holds, used through Kysely's public API only. Kysely keeps its driver and pool
 * in private fields, so dbferry cannot reach the bulk paths (COPY, LOAD DATA) through it: an engine that takes
 * one runs plain statements on one reserved connection (see {@link reserveKyselySession}). Nothing here names
 * an engine: each engine's `accepts` says which Kysely adapters it takes ({@link Dialect.kyselyAdapters}).
 */

/** The part of a Kysely instance (or transaction) dbferry uses, duck-typed so that kysely stays unloaded. */
export interface KyselyLike {
  connection(): { execute<T>(callback: (db: KyselyLike) => Promise<T>): Promise<T> }
  getExecutor(): { readonly adapter: object }
  withoutPlugins(): KyselyLike
  executeQuery(query: unknown): Promise<{ rows: unknown[]; numAffectedRows?: bigint }>
  readonly isTransaction?: boolean
}

/** Whether `target` is a Kysely instance or transaction: it has `connection`, `getExecutor` and `selectFrom`. */
export function isKysely(target: unknown): target is KyselyLike {
  if (typeof target !== 'object' || target === null) return false
  const t = target as Record<string, unknown>
  return typeof t.connection === 'function' && typeof t.getExecutor === 'function' && typeof t.selectFrom === 'function' && typeof t.withoutPlugins === 'function'
}

/**
 * The class names of a Kysely instance's dialect adapter and of the classes it extends
 * (`['NeonAdapter', 'PostgresAdapter', 'DialectAdapterBase']`), so that a third-party dialect built on a
 * built-in adapter is recognised as that adapter's engine. Empty for anything else.
 */
export function kyselyAdapterNames(target: unknown): string[] {
  if (!isKysely(target)) return []
  let adapter: object
  try {
    adapter = target.getExecutor().adapter
  } catch {
    return []
  }
  const names: string[] = []
  for (let p = Object.getPrototypeOf(adapter) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const name = (p as { constructor?: { name?: unknown } }).constructor?.name
    if (typeof name === 'string' && name !== '') names.push(name)
  }
  return names
}

/** Whether `target` is a Kysely instance whose adapter is (or extends) one of `adapters` (`['PostgresAdapter']`). */
export function acceptsKysely(target: unknown, adapters: readonly string[]): boolean {
  return kyselyAdapterNames(target).some((n) => adapters.includes(n))
}

/** The result of one statement on a {@link KyselySession}. */
export interface KyselyResult<R> {
  /** The rows, as objects keyed by column name, with the values the caller's driver parsed. */
  rows: R[]
  /** Rows an INSERT, UPDATE or DELETE changed, as the driver reports them; undefined for other statements. */
  affected: number | undefined
}

/**
 * One connection of a caller's Kysely instance, held for a whole run: every statement runs on it, in order.
 * Statements run without the instance's plugins (a `CamelCasePlugin` would rename the catalogue's columns).
 */
export interface KyselySession {
  /** The adapter's class names, most derived first (see {@link kyselyAdapterNames}). */
  readonly adapters: readonly string[]
  /**
   * The caller passed a transaction (a Kysely migration's `db` on an engine with transactional DDL): statements
   * run inside it, dbferry must not begin, commit or roll it back, and what it writes commits with it.
   */
  readonly inCallerTransaction: boolean
  /** Runs one statement with bound parameters (`$1` or `?`, as the engine writes them). */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<KyselyResult<R>>
  /** Gives the connection back to the caller's pool; never destroys the Kysely instance. Idempotent. */
  release(): Promise<void>
}

type CompiledQueryModule = { CompiledQuery: { raw(sql: string, parameters?: unknown[]): unknown } }

/** Options of {@link reserveKyselySession}. */
export interface ReserveOptions {
  /**
   * The instance has one connection (Kysely's SQLite driver holds a mutex): a second session of it while one is
   * held (verify after a run, with the run's connections still open) shares that connection instead of
   * waiting for it forever; the connection goes back when the last session sharing it is released. Default false.
   */
  share?: boolean
}

/** The connection each instance reserved with `share` (being reserved, or held), and how many sessions use it. */
const shared = new WeakMap<object, { reserved: Promise<{ conn: KyselyLike; letGo(): Promise<void> }>; users: number }>()

/**
 * Reserves one connection of the caller's Kysely instance with `db.connection().execute(…)`: the callback
 * hands the connection over and stays pending until {@link KyselySession.release}, which lets it return, so
 * Kysely gives the connection back to its pool. A transaction (`db.isTransaction`) is already one connection
 * and is used as it is. Throws a `ConnectionError` when no connection can be had. `description` names it in
 * errors.
 */
export async function reserveKyselySession(db: KyselyLike, description: string, options: ReserveOptions = {}): Promise<KyselySession> {
  const { CompiledQuery } = await requireDriver<CompiledQueryModule>(['kysely'], 'a Kysely instance', () => import('kysely') as Promise<CompiledQueryModule>)
  const adapters = kyselyAdapterNames(db)
  const session = (conn: KyselyLike, inCallerTransaction: boolean, release: () => Promise<void>): KyselySession => {
    const plain = conn.withoutPlugins()
    return {
      adapters,
      inCallerTransaction,
      async query<R>(sql: string, params: readonly unknown[] = []) {
        const r = await plain.executeQuery(CompiledQuery.raw(sql, [...params]))
        return { rows: r.rows as R[], affected: r.numAffectedRows === undefined ? undefined : Number(r.numAffectedRows) }
      },
      release,
    }
  }
  if (db.isTransaction === true) return session(db, true, async () => {})
  if (options.share) return sharedSession(db, description, (conn, release) => session(conn, false, release))
  const { conn, letGo } = await reserveConnection(db, description)
  let released = false
  return session(conn, false, async () => {
    if (released) return
    released = true
    await letGo()
  })
}

/** A session on the connection `db` reserved for sharing (see {@link ReserveOptions.share}), reserving it first when none is. */
async function sharedSession(
  db: KyselyLike,
  description: string,
  session: (conn: KyselyLike, release: () => Promise<void>) => KyselySession,
): Promise<KyselySession> {
  // the entry is there before the connection is: a second session waits for the same reservation
  let entry = shared.get(db)
  if (!entry) {
    entry = { reserved: reserveConnection(db, description), users: 0 }
    shared.set(db, entry)
  }
  const e = entry
  e.users++
  let held: { conn: KyselyLike; letGo(): Promise<void> }
  try {
    held = await e.reserved
  } catch (error) {
    if (--e.users === 0) shared.delete(db)
    throw error
  }
  let released = false
  return session(held.conn, async () => {
    if (released) return
    released = true
    if (--e.users > 0) return
    shared.delete(db)
    await held.letGo()
  })
}

/**
 * Reserves one connection of `db`: the callback of `db.connection().execute(…)` hands it over and stays pending
 * until `letGo`, which lets it return.
 */
async function reserveConnection(db: KyselyLike, description: string): Promise<{ conn: KyselyLike; letGo(): Promise<void> }> {
  let handOver!: (conn: KyselyLike) => void
  let refuse!: (error: unknown) => void
  const reserved = new Promise<KyselyLike>((resolve, reject) => {
    handOver = resolve
    refuse = reject
  })
  let letGo!: () => void
  const held = new Promise<void>((resolve) => {
    letGo = resolve
  })
  const done = db
    .connection()
    .execute(async (conn) => {
      handOver(conn)
      await held
    })
    .catch((error: unknown) => refuse(error))
  let conn: KyselyLike
  try {
    conn = await reserved
  } catch (cause) {
    throw new ConnectionError(`could not get a connection from ${description}: ${redact(cause instanceof Error ? cause.message : String(cause))}`, { cause })
  }
  return {
    conn,
    async letGo() {
      letGo()
      await done
    },
  }
}
