import type { ConnectOptions, BaseDialect } from '../../dialect.js'
import { FILE_CAPABILITIES, fileTypeName } from '../csv/index.js'
import { openSqlScript } from './sqlscript-connection.js'

/**
 * A SQL script as a target, for any engine in the registry: `sqlscript:./out.sql?dialect=postgres` (or
 * `mysql`, `sqlite`, `mssql`, `duckdb`): the engine's own SQL builder (`dialect.sql`) writes it. DDL with the engine's own type map, multi-row INSERTs with that engine's literal
 * escaping (MySQL backslashes, PostgreSQL standard strings, `X'…'`/`'\x…'`/`0x…` bytes), then indexes, foreign
 * keys and identity positions. Rows are fitted to the engine's limits (NUL in text, NaN) before they are
 * written, so the script loads without errors.
 */
export const sqlscript: BaseDialect = {
  name: 'sqlscript',
  capabilities: FILE_CAPABILITIES,
  connect: (target: string | object, options?: ConnectOptions) => openSqlScript(sqlscript, target, options),
}

export { SqlScriptConnection, type SqlScriptConnectOptions } from './sqlscript-connection.js'
