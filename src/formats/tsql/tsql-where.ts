import type { ColumnSchema, Value } from '../../schema/types.js'
import { ConversionFailure, type Converter } from '../../schema/values.js'
import type { Predicate } from './tsql-parser.js'

/** A column a WHERE clause reads: where it sits in the row, how a literal becomes its value, and its type. */
export interface WhereColumn {
  index: number
  column: ColumnSchema
  convert: Converter
}

/**
 * Evaluates a WHERE clause on a row as SQL Server would: three-valued (a comparison with NULL is unknown,
 * and only true matches), text compared ignoring case and trailing spaces (the default collation). Throws
 * a message when a literal does not convert to its column's type.
 */
export function matches(p: Predicate, row: readonly Value[], column: (name: string) => WhereColumn): boolean {
  return evaluate(p, row, column) === true
}

function evaluate(p: Predicate, row: readonly Value[], column: (name: string) => WhereColumn): boolean | null {
  switch (p.op) {
    case 'and': {
      const a = evaluate(p.left, row, column)
      if (a === false) return false
      const b = evaluate(p.right, row, column)
      return b === false ? false : a === null || b === null ? null : true
    }
    case 'or': {
      const a = evaluate(p.left, row, column)
      if (a === true) return true
      const b = evaluate(p.right, row, column)
      return b === true ? true : a === null || b === null ? null : false
    }
    case 'not': {
      const a = evaluate(p.of, row, column)
      return a === null ? null : !a
    }
    case 'null': {
      const isNull = row[column(p.column).index] === null
      return p.negated ? !isNull : isNull
    }
    case 'in': {
      const c = column(p.column)
      let result: boolean | null = false
      for (const v of p.values) {
        const r = compare(row[c.index] ?? null, literal(c, v), c.column)
        if (r === 0) {
          result = true
          break
        }
        if (r === null) result = null
      }
      return result === null ? null : p.negated ? !result : result
    }
    case 'compare': {
      const c = column(p.column)
      const r = compare(row[c.index] ?? null, literal(c, p.value), c.column)
      if (r === null) return null
      switch (p.compare) {
        case '=':
          return r === 0
        case '<>':
          return r !== 0
        case '<':
          return r < 0
        case '>':
          return r > 0
        case '<=':
          return r <= 0
        case '>=':
          return r >= 0
      }
    }
  }
}

function literal(c: WhereColumn, v: unknown): Value {
  const converted = c.convert(v as Value)
  if (converted instanceof ConversionFailure) throw new Error(`${c.column.name}: ${converted.reason}`)
  return converted
}

/** Orders two values of one column; null when either is NULL. */
function compare(a: Value, b: Value, column: ColumnSchema): number | null {
  if (a === null || b === null) return null
  if (typeof a === 'string' && typeof b === 'string') {
    if (column.type.kind === 'decimal') return Math.sign(Number(a) - Number(b))
    if (column.type.kind === 'text') {
      const x = a.replace(/ +$/, '').toLowerCase()
      const y = b.replace(/ +$/, '').toLowerCase()
      return x < y ? -1 : x > y ? 1 : 0
    }
    return a < b ? -1 : a > b ? 1 : 0
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(Buffer.from(a), Buffer.from(b))
  const x = typeof a === 'boolean' ? Number(a) : a
  const y = typeof b === 'boolean' ? Number(b) : b
  if ((typeof x === 'number' || typeof x === 'bigint') && (typeof y === 'number' || typeof y === 'bigint')) return x < y ? -1 : x > y ? 1 : 0
  const s = String(x)
  const t = String(y)
  return s < t ? -1 : s > t ? 1 : 0
}
