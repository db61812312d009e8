import type { BaseDialect } from '../../dialect.js'
import { UsageError } from '../../errors.js'
import { loadEngine } from '../../engines.js'
import { TsqlSource, scriptPath } from './tsql-source.js'

export { TsqlSource, detectEncoding, scriptStatements, columnTypeOf, type SkippedStatement } from './tsql-source.js'

/**
 * T-SQL scripts ("Generate Scripts" output with data) as a read-only source: `tsql:./script.sql`. UTF-8 or
 * UTF-16 (LE/BE), with or without BOM, any size (streamed). Writing to a script is not supported.
 */
export const tsql: BaseDialect = {
  name: 'tsql',
  capabilities: {
    transactionalDdl: false,
    bulkPath: 'file',
    maxIdentifierLength: 128,
    identifierLengthUnit: 'chars',
    schemas: true,
    enforcesForeignKeys: false,
    unvalidatedForeignKeys: false,
    textHoldsNul: true,
    floatHoldsNonFinite: false,
    maxTimestampPrecision: 7,
    concurrentSnapshotReads: false,
    storesAnyValue: false,
  },
  async connect(target) {
    if (typeof target !== 'string') throw new UsageError('tsql: takes a file URL, e.g. tsql:./dump.sql')
    // SQL Server's type map reads the declarations; it loads no driver
    return new TsqlSource(tsql, scriptPath(target), (await loadEngine('mssql')).types)
  },
}
