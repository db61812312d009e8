import type { ConnectOptions, BaseDialect } from '../../dialect.js'
import { FILE_CAPABILITIES, fileTypeName } from '../csv/index.js'
import { openMysqldump } from './mysqldump-connection.js'

/**
 * A mysqldump file as a source: `mysqldump:./dump.sql`. Streamed (any size): `CREATE TABLE` statements give
 * the schema (MySQL types mapped by the MySQL dialect's type map; engine, charset and collation kept),
 * extended `INSERT`s give the rows with MySQL's string escapes. Text is decoded in the dump's `SET NAMES`
 * charset (utf8mb4 when absent); `fallbackEncoding` decodes bytes that are not valid in it.
 */
export const mysqldump: BaseDialect = {
  name: 'mysqldump',
  capabilities: { ...FILE_CAPABILITIES, concurrentSnapshotReads: true },
  connect: (target: string | object, options?: ConnectOptions) => openMysqldump(mysqldump, target, options),
}

export { MysqldumpConnection, classifyStatement, dumpStatements, type MysqldumpConnectOptions } from './mysqldump-connection.js'
export { StatementSplitter, type DumpStatement } from './statement-splitter.js'
export { parseCreateTable } from './create-table.js'
export { rewriteDump, type RewriteDumpOptions, type RewriteDumpResult } from './rewrite-dump.js'
