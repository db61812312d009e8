import { connect, dialectFor, type ConnectionSpec } from '../connect.js'
import { UsageError } from '../errors.js'
import { MSSQL_COMPAT_FUNCTIONS, mssqlPostgresCompatSql } from './mssql-postgres.js'

/** Which engine's behaviour a pack reproduces. */
export type CompatPack = 'mssql'

/** Options of {@link installCompat}. */
export interface InstallCompatOptions {
  /** The schema the functions go into. Default `mssql` (call them as `mssql.datediff(…)`). */
  schema?: string
}

/** What {@link installCompat} did. */
export interface InstallCompatResult {
  /** The pack installed. */
  pack: CompatPack
  /** The schema the functions went into. */
  schema: string
  /** The functions' names, without the schema (`datediff`, `isnull`, …). */
  functions: readonly string[]
  /** How many SQL statements were run. */
  statements: number
}

/** The engine each pack's SQL is written for: its functions are PL/pgSQL. */
const PACK_ENGINE: Readonly<Record<CompatPack, string>> = { mssql: 'postgres' }

function refuseOtherEngine(pack: CompatPack, engine: string): void {
  if (engine !== PACK_ENGINE[pack]) throw new UsageError(`the ${pack} compatibility pack is for ${PACK_ENGINE[pack]} targets, not ${engine}`)
}

/**
 * Installs a compatibility pack on a PostgreSQL target: functions with another engine's names and behaviour
 * (for `mssql`: year, month, day, quarter, eomonth, datename, datepart, dateadd, datediff, getdate, isnull,
 * len, charindex) in their own schema. Idempotent. `target` is a `postgres://` URL or an open PostgreSQL
 * connection (which stays open).
 *
 * @example
 * await installCompat('postgres://postgres@127.0.0.1/imis', 'mssql')            // schema "mssql"
 * await installCompat(conn, 'mssql', { schema: 'tsql' })
 */
export async function installCompat(target: ConnectionSpec, pack: CompatPack, options: InstallCompatOptions = {}): Promise<InstallCompatResult> {
  if (pack !== 'mssql') throw new UsageError(`unknown compatibility pack ${JSON.stringify(pack)}: the one available is mssql`)
  const schema = options.schema ?? 'mssql'
  if (schema.trim() === '') throw new UsageError('the compatibility schema name is empty')
  // a URL of another engine is refused before anything is opened (or created)
  if (typeof target === 'string') refuseOtherEngine(pack, (await dialectFor(target)).name)
  const { connection, owned } = await connect(target, { create: false })
  try {
    refuseOtherEngine(pack, connection.dialect.name)
    if (!connection.execute) throw new UsageError(`${connection.description} cannot run SQL statements`)
    const statements = mssqlPostgresCompatSql(schema)
    for (const sql of statements) await connection.execute(sql)
    return { pack, schema, functions: MSSQL_COMPAT_FUNCTIONS, statements: statements.length }
  } finally {
    if (owned) await connection.close()
  }
}
