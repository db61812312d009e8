import type { SegmentRequest } from '../dialect.js'
import { SchemaError } from '../errors.js'
import type { ColumnSchema, TableSchema } from '../schema/types.js'

/**
 * Pieces the dialects' engine-side hashing queries share (see `Connection.segmentHashes`): checking a request,
 * the literal list of wanted segments, and the condition that flags rows a reader would reject.
 */

/** Throws a `SchemaError` unless the request's segment count is a power of two up to 65 536. */
export function checkSegments(request: SegmentRequest): void {
  const n = request.segments
  if (!Number.isInteger(n) || n < 1 || n > 65536 || (n & (n - 1)) !== 0) throw new SchemaError(`segment count ${n} is not a power of two up to 65536`)
}

/** The wanted segments as SQL integer literals (spliced, never bound: COPY takes no parameters), each checked. */
export function segmentLiterals(request: SegmentRequest, wanted: readonly number[]): string[] {
  checkSegments(request)
  return wanted.map((w) => {
    if (!Number.isInteger(w) || w < 0 || w >= request.segments) throw new SchemaError(`segment ${w} is out of range`)
    return String(w)
  })
}

/**
 * One SQL condition that holds when any of the request's columns holds a value its reader would reject,
 * from each column's own condition (`'false'` for a column whose reader rejects nothing); `'false'` when
 * none can, and undefined when a column cannot be hashed by the server at all.
 */
export function rejectedRowCondition(table: TableSchema, request: SegmentRequest, condition: (column: ColumnSchema) => string | undefined): string | undefined {
  checkSegments(request)
  const conditions: string[] = []
  for (const i of request.columns) {
    const c = condition(table.columns[i]!)
    if (c === undefined) return undefined
    if (c !== 'false') conditions.push(`(${c})`)
  }
  return conditions.length === 0 ? 'false' : conditions.join(' OR ')
}
