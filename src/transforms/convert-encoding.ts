import iconv from 'iconv-lite'
import { RowError, UsageError } from '../errors.js'
import { rowKey } from '../schema/rows.js'
import type { TableSchema } from '../schema/types.js'
import { requireColumn, tableMatches } from './match.js'
import type { Transform } from './transform.js'

/** Options of {@link convertEncoding}. */
export interface ConvertEncodingOptions {
  /** The table, by source or target name. */
  table: string
  /** The text columns to repair, by source or target name. */
  columns: readonly string[]
  /** The encoding the stored bytes really are in, e.g. `utf8`, `cp1252`, `cp850`, `koi8-r` (any iconv-lite name). */
  from: string
  /**
   * How the source driver decoded those bytes into the strings dbferry got. Default `latin1` (one character
   * per byte — what MySQL `latin1` columns and byte-per-char readers give). MySQL's `latin1` is really `cp1252`.
   */
  readAs?: string
}

/**
 * Row transform repairing text that was stored in one encoding and read as another ("mojibake", e.g.
 * `MÃ©decins` for `Médecins`): each string is turned back into its bytes with `readAs` and decoded with
 * `from` (iconv-lite). Byte values (`Uint8Array`) in the columns are decoded with `from` directly. A value
 * whose bytes are not valid in `from` rejects the row (`invalid_encoding`); changed values are counted.
 *
 * @example
 * // a MySQL latin1 column that actually holds UTF-8 bytes
 * t.convertEncoding({ table: 'or_organisation', columns: ['name'], from: 'utf8', readAs: 'cp1252' })
 */
export function convertEncoding(options: ConvertEncodingOptions): Transform {
  const readAs = options.readAs ?? 'latin1'
  for (const e of [options.from, readAs]) {
    if (!iconv.encodingExists(e)) throw new UsageError(`convertEncoding: unknown encoding ${JSON.stringify(e)}`)
  }
  const name = `convertEncoding(${options.table}: ${readAs} → ${options.from})`
  return {
    name,
    table(table: TableSchema) {
      if (!tableMatches(table, options.table)) return undefined
      const idx = options.columns.map((c) => requireColumn(table, c, name))
      return {
        batch(rows, out) {
          const kept = []
          next: for (const row of rows) {
            let copy: typeof row | undefined
            for (const i of idx) {
              const v = row[i]
              let bytes: Buffer
              if (typeof v === 'string') {
                // eslint-disable-next-line no-control-regex
                if (/^[\x00-\x7f]*$/.test(v)) continue // ASCII reads the same in every encoding here
                bytes = iconv.encode(v, readAs)
                if (iconv.decode(bytes, readAs) !== v) {
                  out.reject(new RowError('invalid_encoding', `${table.name}.${table.columns[i]!.name}: the text cannot be ${readAs} bytes`, { table: table.name, key: rowKey(table, row), column: table.columns[i]!.name, value: v, row }))
                  continue next
                }
              } else if (v instanceof Uint8Array) bytes = Buffer.from(v)
              else continue
              const decoded = iconv.decode(bytes, options.from)
              if (decoded.includes('\uFFFD') && !(typeof v === 'string' && v.includes('\uFFFD'))) {
                out.reject(new RowError('invalid_encoding', `${table.name}.${table.columns[i]!.name}: the bytes are not valid ${options.from}`, { table: table.name, key: rowKey(table, row), column: table.columns[i]!.name, value: v, row }))
                continue next
              }
              if (decoded === v) continue
              copy ??= row.slice()
              copy[i] = decoded
              out.fix(table.columns[i]!.name)
            }
            kept.push(copy ?? row)
          }
          return kept
        },
      }
    },
  }
}
