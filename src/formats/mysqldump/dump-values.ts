import iconv from 'iconv-lite'
import type { ColumnSchema, Value } from '../../schema/types.js'
import { ConversionFailure, makeConverter } from '../../schema/values.js'
import type { RawValue } from './insert-values.js'

/** Why a dump value did not convert: a conversion failure or a MySQL zero date. */
export type DumpValueFailure = ConversionFailure | { zeroDate: string }

/** Decodes string bytes of the dump's connection charset (`SET NAMES`). */
export type TextDecode = (bytes: Buffer) => string | undefined

const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A text decoder for a dump's `SET NAMES` charset. MySQL's `latin1` is Windows-1252. Bytes that are not valid
 * in it decode with `fallback` when given (and `onFallback` is called), else come back undefined (rejected).
 */
export function dumpTextDecoder(names: string, fallback?: string, onFallback?: () => void): TextDecode {
  const n = names.toLowerCase()
  if (n === 'latin1') return (b) => iconv.decode(b, 'cp1252')
  if (n === 'binary') return (b) => b.toString('latin1')
  if (!n.startsWith('utf8') && iconv.encodingExists(n)) return (b) => iconv.decode(b, n)
  return (b) => {
    try {
      return utf8.decode(b)
    } catch {
      if (!fallback) return undefined
      onFallback?.()
      return iconv.decode(b, fallback)
    }
  }
}

const ZERO_DATE = /^0000-00-00|^\d{4}-00-|^\d{4}-\d{2}-00/

function bytesToBigInt(b: Buffer): bigint {
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v
}

/** Builds the converter from a dump literal to a column's canonical value. */
export function dumpConverter(column: ColumnSchema, decode: TextDecode): (raw: RawValue) => Value | DumpValueFailure {
  const type = column.type
  const conv = makeConverter(type)
  const native = column.nativeType.toLowerCase()
  const isBit = native.startsWith('bit')
  const text = (b: Buffer): string | ConversionFailure => decode(b) ?? new ConversionFailure('text that is not valid in the dump\'s character set')
  return (raw) => {
    switch (raw.k) {
      case 'null':
        return null
      case 'num':
        if (type.kind === 'bytes') return Buffer.from(raw.text, 'latin1')
        return conv(raw.text)
      case 'bits':
        if (type.kind === 'bytes') {
          const hex = raw.value.toString(16)
          return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
        }
        return conv(raw.value)
      case 'word':
        return new ConversionFailure(`${raw.text} is not a value`)
      case 'hex':
      case 'str': {
        if (type.kind === 'bytes') return raw.bytes
        // bit columns come as raw bytes (older mysqldump) or b'…'
        if (isBit && (raw.k === 'hex' || raw.binary || raw.bytes.some((x) => x < 0x20))) return conv(bytesToBigInt(raw.bytes))
        if (type.kind === 'boolean' && raw.bytes.length === 1 && raw.bytes[0]! <= 1) return raw.bytes[0] === 1
        const s = text(raw.bytes)
        if (s instanceof ConversionFailure) return s
        if ((type.kind === 'date' || type.kind === 'timestamp' || type.kind === 'timestamptz') && ZERO_DATE.test(s)) return { zeroDate: s }
        return conv(s)
      }
    }
  }
}
