import { collapseMultiline } from './collapse-multiline.js'
import { convertEncoding } from './convert-encoding.js'
import { dedupe, dedupeEmails } from './dedupe.js'
import { filterRows } from './filter-rows.js'
import { fixDanglingForeignKeys } from './fix-dangling-foreign-keys.js'
import { mapColumn } from './map-column.js'
import { foldCase, foldCaseAndAccents, makeFolding, nfkc, trimText } from './normalize.js'
import { overrideType } from './override-type.js'
import { rename } from './rename.js'
import { rewriteCharset, rewriteEngine } from './rewrite-engine.js'
import { tables } from './tables.js'

/**
 * Every built-in transform, as one namespace object.
 *
 * @example
 * import { ferry, transforms as t } from 'dbferry'
 * await ferry({ from, to, transforms: [t.dedupeEmails('auth_user'), t.rewriteEngine()] })
 */
export const transforms = Object.freeze({
  dedupe,
  dedupeEmails,
  collapseMultiline,
  fixDanglingForeignKeys,
  rewriteEngine,
  rewriteCharset,
  rename,
  tables,
  filterRows,
  mapColumn,
  overrideType,
  convertEncoding,
  /** Text foldings for `dedupe`'s `normalize` and for your own functions. */
  fold: Object.freeze({ case: foldCase, caseAndAccents: foldCaseAndAccents, trim: trimText, nfkc, make: makeFolding }),
})

export { collapseMultiline, type CollapseMultilineOptions } from './collapse-multiline.js'
export { convertEncoding, type ConvertEncodingOptions } from './convert-encoding.js'
export { compareValues, dedupe, dedupeEmails, type DedupeOptions, type KeepRule, type RowObject } from './dedupe.js'
export { filterRows, type FilterRowsOptions } from './filter-rows.js'
export {
  DanglingForeignKeyError,
  fixDanglingForeignKeys,
  placeholderValue,
  type DanglingRow,
  type DanglingStrategy,
  type FixDanglingForeignKeysOptions,
  type ForeignKeyStrategy,
  type StubFunction,
  type StubInfo,
} from './fix-dangling-foreign-keys.js'
export { createKeyMap, createKeySet, DEFAULT_MAX_IN_MEMORY, MemoryKeySet, SpillingKeyMap, SpillingKeySet, type KeyMap, type KeySetOptions, type KeyValue } from './key-set.js'
export { mapColumn, type MapColumnOptions } from './map-column.js'
export { foldCase, foldCaseAndAccents, makeFolding, nfkc, trimText, type Folding, type NormalizeOption } from './normalize.js'
export { overrideType, type OverrideTypeOptions } from './override-type.js'
export { rename, type RenameOptions } from './rename.js'
export { rewriteCharset, rewriteEngine, type RewriteCharsetOptions, type RewriteEngineOptions } from './rewrite-engine.js'
export { tables, type TablesOptions } from './tables.js'
export type * from './transform.js'
