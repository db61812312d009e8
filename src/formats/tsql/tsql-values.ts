import { randomUUID } from 'node:crypto'
import type { ColumnDefault, LogicalType } from '../../schema/types.js'
import { ConversionFailure, makeConverter } from '../../schema/values.js'
import { TsqlLexer } from './tsql-lexer.js'
import { TsqlParser, type RawValue, type ValueFunction } from './tsql-parser.js'

/**
 * A column default as written (`((0))`, `(N'x')`, `(getdate())`) read as a value; `{ unsupported }` for an
 * expression the reader does not evaluate (`(suser_sname())`).
 */
export function defaultValue(sql: string): RawValue {
  const parser = new TsqlParser(new TsqlLexer())
  parser.lex.append(sql, true)
  try {
    return parser.value()
  } catch {
    return { unsupported: sql }
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** `YYYY-MM-DD HH:MM:SS.mmm` of a moment, in local time or UTC. */
function timestampText(at: Date, utc: boolean): string {
  const [y, mo, d, h, mi, s, ms] = utc
    ? [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds()]
    : [at.getFullYear(), at.getMonth() + 1, at.getDate(), at.getHours(), at.getMinutes(), at.getSeconds(), at.getMilliseconds()]
  return `${pad(y, 4)}-${pad(mo)}-${pad(d)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}`
}

/**
 * The value of a function SQL Server evaluates while it runs the script: a fresh random UUID per call for
 * `NEWID()`, the load's moment (`loadedAt`, local time or UTC) for the clock functions. Never `default`.
 */
export function callValue(fn: Exclude<ValueFunction, 'default'>, loadedAt: Date): string {
  switch (fn) {
    case 'newid':
      return randomUUID()
    case 'getutcdate':
    case 'sysutcdatetime':
      return timestampText(loadedAt, true)
    case 'sysdatetimeoffset': {
      const offset = -loadedAt.getTimezoneOffset()
      const sign = offset < 0 ? '-' : '+'
      return `${timestampText(loadedAt, false)}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
    }
    default:
      return timestampText(loadedAt, false)
  }
}

/**
 * A default as targets can create it: a constant as a value, `GETDATE()` and its kin as "now", anything
 * else as SQL Server's expression (which only a SQL Server target runs).
 */
export function portableDefault(sql: string, type: LogicalType): ColumnDefault {
  const v = defaultValue(sql)
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    if ('call' in v && v.call !== 'newid' && v.call !== 'default') return { kind: 'now' }
    return { kind: 'expression', sql, dialect: 'mssql' }
  }
  const value = makeConverter(type)(v)
  return value instanceof ConversionFailure ? { kind: 'expression', sql, dialect: 'mssql' } : { kind: 'value', value }
}
