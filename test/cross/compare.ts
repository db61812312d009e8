import type { Value } from '../../src/schema/types.js'
import type { LogicalType } from '../../src/schema/types.js'

/**
 * Normalises a canonical value for comparison across engines: decimals by value (trailing zeros dropped),
 * float32 at float32 precision, JSON semantically, timestamps with offsets to UTC, bytes as hex, integers as
 * bigint. Text is compared exactly.
 */
export function normalize(v: Value | undefined, type: LogicalType): unknown {
  if (v === null || v === undefined) return null
  switch (type.kind) {
    case 'int16':
    case 'int32':
    case 'int64':
      return typeof v === 'bigint' ? v : BigInt(v as number)
    case 'decimal': {
      const s = String(v)
      return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
    }
    case 'float32':
      return Number.isNaN(v) ? 'NaN' : Math.fround(v as number)
    case 'float64':
      return Number.isNaN(v) ? 'NaN' : v
    case 'json':
      return JSON.parse(v as string)
    case 'bytes':
      return Buffer.from(v as Uint8Array).toString('hex')
    case 'timestamptz': {
      const m = /^(.*?)([+-])(\d{2}):?(\d{2})?$/.exec(v as string)
      if (!m) return v
      const ms = Date.parse(`${m[1]!.replace(' ', 'T').replace(/(\.\d{3})\d*$/, '$1')}Z`) - (m[2] === '-' ? -1 : 1) * (+m[3]! * 60 + +(m[4] ?? 0)) * 60000
      const frac = /\.(\d+)/.exec(m[1]!)?.[1] ?? ''
      return `${ms}|${frac.padEnd(6, '0').slice(3)}`
    }
    case 'time':
    case 'timestamp': {
      const s = v as string
      return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
    }
    default:
      return v
  }
}
