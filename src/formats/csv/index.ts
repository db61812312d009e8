import type { ConnectOptions, Dialect, DialectCapabilities } from '../../dialect.js'
import type { LogicalType } from '../../schema/types.js'
import { openCsv } from './csv-connection.js'

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
  storesAnyValue: true,
})

/** The type name a file format shows for a logical type (no DDL is ever run on a file). */
export function fileTypeName(type: LogicalType): string {
  switch (type.kind) {
    case 'decimal':
      return type.precision === undefined ? 'decimal' : `decimal(${type.precision},${type.scale ?? 0})`
    case 'text':
      return type.length === undefined ? 'text' : `text(${type.length})`
    default:
      return type.kind
  }
}

/**
 * CSV files as a source and a target: `csv:./dir` (one file per table, named for the table) or
 * `csv:./table.csv`. Options go in the query (`?delimiter=;&null=\N&encoding=cp1252&header=false`) or in
 * {@link CsvConnectOptions}; see {@link CsvOptions} for every default.
 */
export const csv: Dialect = {
  name: 'csv',
  capabilities: FILE_CAPABILITIES,
  nativeType: fileTypeName,
  quoteIdentifier: (name) => JSON.stringify(name),
  connect: (target: string | object, options?: ConnectOptions) => openCsv(csv, target, options),
}

export { CsvConnection, SIDECAR_NAME, type CsvConnectOptions } from './csv-connection.js'
export { CSV_DEFAULTS, type CsvOptions } from './csv-options.js'
export { CsvRecordParser, type CsvItem, type CsvParseOptions } from './csv-parser.js'
export { inferColumnType } from './infer-types.js'
export { detectEncoding, isValidUtf8 } from './encoding.js'
