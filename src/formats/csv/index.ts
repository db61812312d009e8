import type { ConnectOptions, BaseDialect, DialectCapabilities } from '../../dialect.js'
import { openCsv } from './csv-connection.js'
import { fileTypeName } from './csv-format.js'

/** What a CSV file can hold: any text, any number, no enforced keys. */
export const FILE_CAPABILITIES: DialectCapabilities = Object.freeze({
  transactionalDdl: false,
  bulkPath: 'file',
  maxIdentifierLength: 255,
  identifierLengthUnit: 'chars',
  schemas: false,
  enforcesForeignKeys: false,
  unvalidatedForeignKeys: false,
  textHoldsNul: true,
  floatHoldsNonFinite: true,
  maxTimestampPrecision: 6,
  concurrentSnapshotReads: true,
  // one file per table
  concurrentWrites: true,
  storesAnyValue: true,
})


/**
 * CSV files as a source and a target: `csv:./dir` (one file per table, named for the table) or
 * `csv:./table.csv`. Options go in the query (`?delimiter=;&null=\N&encoding=cp1252&header=false`) or in
 * {@link CsvConnectOptions}; see {@link CsvOptions} for every default.
 */
export const csv: BaseDialect = {
  name: 'csv',
  capabilities: FILE_CAPABILITIES,
  connect: (target: string | object, options?: ConnectOptions) => openCsv(csv, target, options),
}

export { CsvConnection, SIDECAR_NAME, type CsvConnectOptions } from './csv-connection.js'
export { CSV_DEFAULTS, type CsvOptions } from './csv-options.js'
export { fileTypeName }
export { CsvRecordParser, type CsvItem, type CsvParseOptions } from './csv-parser.js'
export { inferColumnType } from './infer-types.js'
export { detectEncoding, isValidUtf8 } from './encoding.js'
