import { describe, expect, it } from 'vitest'
import { hexBytes, hexPieces, PIECE, stringPieces } from '../../src/schema/value-pieces.js'

describe('value pieces', () => {
  it('cut a string between characters: the pieces encoded one by one are the bytes of the whole', () => {
    // a surrogate pair across the first cut, lone surrogates, and a pair at the very end
    const s = `${'a'.repeat(PIECE - 1)}😀${'b'.repeat(PIECE - 2)}\ud800x\udfff${'c'.repeat(PIECE)}😀`
    const pieces = [...stringPieces(s)]
    expect(pieces.join('')).toBe(s)
    expect(pieces[0]!.length).toBe(PIECE - 1)
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(PIECE)
    expect(Buffer.concat(pieces.map((p) => Buffer.from(p, 'utf8'))).equals(Buffer.from(s, 'utf8'))).toBe(true)
    // a piece of one unit never stops at a high surrogate it cannot pass
    expect([...stringPieces('😀x', 1)].join('')).toBe('😀x')
    expect([...stringPieces('')]).toEqual([])
  })

  it('write bytes as hex in pieces that join to the whole', () => {
    const b = Buffer.from(Array.from({ length: 3 * PIECE + 5 }, (_, i) => (i * 7919) % 256))
    const pieces = [...hexPieces(b)]
    expect(pieces.length).toBe(4)
    expect(Buffer.concat(pieces).toString('latin1')).toBe(b.toString('hex'))
    expect(hexBytes(b, 1, 3).toString('latin1')).toBe(b.subarray(1, 3).toString('hex'))
  })
})
