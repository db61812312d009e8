import { describe, expect, it } from 'vitest'
import type { ColumnSchema, LogicalType } from '../../src/schema/types.js'
import { hash64, RowHasher, SegmentSums } from '../../src/verify/hash.js'
import { columnNormalizer, numberText, stableJson, timeToken, toleranceFor } from '../../src/verify/normalize.js'

const col = (type: LogicalType, name = 'c'): ColumnSchema => ({ name, type, nativeType: '', nullable: true })

describe('normalisation of canonical values', () => {
  it('compares numbers by value across boolean, integer, decimal and float columns', () => {
    const n = columnNormalizer(col({ kind: 'boolean' }), col({ kind: 'int16' }))
    expect(n.token(true)).toBe(n.token(1))
    expect(n.token(false)).toBe(n.token(0))
    const d = columnNormalizer(col({ kind: 'decimal', precision: 10, scale: 2 }), col({ kind: 'decimal', precision: 12, scale: 4 }))
    expect(d.token('1.50')).toBe(d.token('1.5000'))
    expect(d.token('-0.00')).toBe(d.token('0'))
    expect(d.token('1.50')).not.toBe(d.token('1.51'))
    const big = columnNormalizer(col({ kind: 'int64' }), col({ kind: 'decimal', precision: 20, scale: 0 }))
    expect(big.token(9223372036854775807n)).toBe(big.token('9223372036854775807'))
    expect(big.token(9007199254740993n)).not.toBe(big.token(9007199254740992))
    expect(numberText(1e-7)).toBe('0.0000001')
    expect(numberText('1E3')).toBe('1000')
  })

  it('keeps NaN and ±Infinity distinct and equal to their text forms', () => {
    const f = columnNormalizer(col({ kind: 'float64' }), col({ kind: 'float64' }))
    expect(f.token(NaN)).toBe(f.token('NaN'))
    expect(f.token(Infinity)).toBe(f.token('Infinity'))
    expect(f.token(-Infinity)).toBe(f.token('-Infinity'))
    expect(new Set([f.token(NaN), f.token(Infinity), f.token(-Infinity), f.token(null)]).size).toBe(4)
  })

  it('compares float32 columns at float32 precision, and floats within an epsilon when asked', () => {
    const f32 = columnNormalizer(col({ kind: 'float64' }), col({ kind: 'float32' }))
    expect(f32.token(1.1)).toBe(f32.token(Math.fround(1.1)))
    const exact = columnNormalizer(col({ kind: 'float64' }), col({ kind: 'float64' }))
    expect(exact.equal(exact.token(1), exact.token(1.0000001))).toBe(false)
    const loose = columnNormalizer(col({ kind: 'float64' }), col({ kind: 'float64' }), { floatEpsilon: 1e-6 })
    expect(loose.equal(loose.token(1), loose.token(1.0000001))).toBe(true)
    expect(loose.equal(loose.token(1), loose.token(1.00001))).toBe(false)
    // values further apart than epsilon never share a hash cell
    expect(loose.hashToken(1)).not.toBe(loose.hashToken(1.000002))
  })

  it('compares timestamps in UTC at the smaller precision, rounding like the engines do', () => {
    const ts = columnNormalizer(col({ kind: 'timestamptz', precision: 6 }), col({ kind: 'timestamp', precision: 6 }))
    expect(ts.token('2024-03-01 12:00:00+02:00')).toBe(ts.token('2024-03-01 10:00:00'))
    expect(ts.token('2024-03-01T10:00:00Z')).toBe(ts.token('2024-03-01 10:00:00.000000'))
    expect(ts.token('2024-03-01 10:00:00.000001')).not.toBe(ts.token('2024-03-01 10:00:00'))
    const p0 = columnNormalizer(col({ kind: 'timestamp', precision: 6 }), col({ kind: 'timestamp', precision: 0 }))
    expect(p0.token('2024-12-31 23:59:59.5')).toBe(p0.token('2025-01-01 00:00:00'))
    expect(p0.token('2024-12-31 23:59:59.4')).toBe(p0.token('2024-12-31 23:59:59'))
    const dates = columnNormalizer(col({ kind: 'date' }), col({ kind: 'timestamp' }))
    expect(dates.token('1900-02-28')).toBe(dates.token('1900-02-28 00:00:00'))
    expect(timeToken('0001-01-01 00:00:00', 6)).not.toBe(timeToken('0001-01-02 00:00:00', 6))
    // what does not parse (a MySQL zero date) is compared as text, not dropped
    expect(ts.token('0000-00-00 00:00:00')).toContain('0000-00-00')
  })

  it('compares JSON by value, UUIDs without case, bytes and text exactly', () => {
    const j = columnNormalizer(col({ kind: 'json' }), col({ kind: 'text' }))
    expect(j.token('{"b":1, "a":[1,2]}')).toBe(j.token('{"a": [1, 2], "b": 1}'))
    expect(stableJson({ z: 1, a: { y: 2, b: 3 } })).toBe('{"a":{"b":3,"y":2},"z":1}')
    const u = columnNormalizer(col({ kind: 'uuid' }), col({ kind: 'uuid' }))
    expect(u.token('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')).toBe(u.token('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'))
    const t = columnNormalizer(col({ kind: 'text' }), col({ kind: 'text' }))
    expect(t.token('a ')).not.toBe(t.token('a'))
    expect(t.token('A')).not.toBe(t.token('a'))
    // text holding digits is text, never equal to a number
    expect(t.token('1')).not.toBe(t.token(1))
    const b = columnNormalizer(col({ kind: 'bytes' }), col({ kind: 'bytes' }))
    expect(b.token(Buffer.from([1, 2]))).toBe(b.token(new Uint8Array([1, 2])))
    expect(b.token(Buffer.from([1, 2]))).not.toBe(b.token(Buffer.from([1, 3])))
  })

  it('applies text tolerances, and trims char(n) padding by itself', () => {
    const loose = columnNormalizer(col({ kind: 'text' }), col({ kind: 'text' }), { trimTrailingSpaces: true, caseInsensitive: true })
    expect(loose.token('Médecins  ')).toBe(loose.token('médecins'))
    const fixed = columnNormalizer(col({ kind: 'text', length: 5, fixed: true }), col({ kind: 'text' }))
    expect(fixed.token('ab   ')).toBe(fixed.token('ab'))
    expect(toleranceFor({ '*': { caseInsensitive: true }, 't.c': { trimTrailingSpaces: true } }, 't', 'c')).toEqual({ caseInsensitive: true, trimTrailingSpaces: true })
  })

  it('length-prefixes text so tokens joined into a row cannot run together', () => {
    const t = columnNormalizer(col({ kind: 'text' }), col({ kind: 'text' }))
    expect(t.token('a\u0000s1:b')).not.toBe(t.token('a') + '\u0000' + t.token('b'))
  })
})

describe('segment sums', () => {
  it('are independent of row order and find exactly the differing segments', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => [`k${i}`, `v${i}`] as const)
    const a = new SegmentSums(64)
    const b = new SegmentSums(64)
    const keyOf = (k: string) => hash64(k, 7)[0]
    for (const [k, v] of rows) a.add(keyOf(k), ...hash64(k + v))
    for (const [k, v] of [...rows].reverse()) b.add(keyOf(k), ...hash64(k + (k === 'k500' ? 'changed' : v)))
    const diff = a.differingSegments(b)
    expect([...diff]).toEqual([keyOf('k500') & 63])
    const c = new SegmentSums(64)
    for (const [k, v] of rows) c.add(keyOf(k), ...hash64(k + v))
    expect(a.differingSegments(c).size).toBe(0)
  })

  it('hashes a row part by part, keeping part boundaries', () => {
    const h = new RowHasher()
    const of = (...parts: string[]) => {
      h.reset()
      for (const p of parts) h.update(p)
      h.finish()
      return [h.lo, h.hi]
    }
    expect(of('ab', 'c')).toEqual(of('ab', 'c'))
    expect(of('ab', 'c')).not.toEqual(of('a', 'bc'))
    expect(of('x', 'y')).not.toEqual(of('y', 'x'))
  })
})
