import type { ConnectOptions, BaseDialect } from '../../dialect.js'
import { FILE_CAPABILITIES, fileTypeName } from '../csv/index.js'
import { openMultiCsv } from './multicsv-connection.js'

/**
 * One file holding many tables in web2py's export format (`TABLE <name>`, a CSV header of `table.column`
 * names, rows, a blank line, …, `END`), as a source and a target: `multicsv:./export.csv`. NULL is
 * `<NULL>`, lines end with CRLF and booleans are `True`/`False`, as web2py writes them; a table's `id`
 * column is its primary key. Options as for `csv:` in the query.
 */
export const multicsv: BaseDialect = {
  name: 'multicsv',
  capabilities: FILE_CAPABILITIES,
  connect: (target: string | object, options?: ConnectOptions) => openMultiCsv(multicsv, target, options),
}

export { MultiCsvConnection, MULTICSV_DEFAULTS, type MultiCsvConnectOptions } from './multicsv-connection.js'
export { readMultiCsv, columnName, type MultiCsvEvent } from './multicsv-reader.js'
