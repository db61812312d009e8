import type { Value } from '../schema/types.js'

/**
 * Encodes an ordering key for a checkpoint so it decodes to the same canonical values: bigint and bytes are
 * tagged (plain JSON would turn a bigint into a string, which sorts differently from an integer).
 */
export function encodeKey(key: readonly Value[] | undefined | null): string | null {
  if (key === undefined || key === null) return null
  return JSON.stringify(
    key.map((v) => {
      if (typeof v === 'bigint') return { $bigint: v.toString() }
      if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('hex') }
      if (typeof v === 'number' && !Number.isFinite(v)) return { $number: String(v) }
      return v
    }),
  )
}

/** Decodes {@link encodeKey}'s output. */
export function decodeKey(text: string | null | undefined): Value[] | undefined {
  if (text === null || text === undefined) return undefined
  const parsed = JSON.parse(text) as unknown[]
  return parsed.map((v) => {
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, string>
      if ('$bigint' in o) return BigInt(o.$bigint!)
      if ('$bytes' in o) return Buffer.from(o.$bytes!, 'hex')
      if ('$number' in o) return Number(o.$number)
    }
    return v as Value
  })
}
