/**
 * A large value cut into pieces for a bulk path that sends text: a writer that made a value's whole text at once
 * (a 50 MB blob as a 100 MB hex string, a text escaped into a second string and then encoded into a third
 * buffer) held it two or three times over; made a piece at a time as the socket takes them, only the value
 * itself is held.
 */

/** Characters of a string, or bytes of a blob, per piece: 32 to 96 KiB of text on the wire. */
export const PIECE = 32 * 1024

/**
 * `s` in slices of at most `size` UTF-16 units (default {@link PIECE}), never cutting a surrogate pair, so the
 * slices, each encoded on its own, are the bytes the whole string encodes to (a lone surrogate stays lone).
 */
export function* stringPieces(s: string, size = PIECE): Generator<string> {
  for (let i = 0; i < s.length; ) {
    let j = Math.min(s.length, i + size)
    const last = s.charCodeAt(j - 1)
    if (j < s.length && j - 1 > i && last >= 0xd800 && last <= 0xdbff) j--
    yield s.slice(i, j)
    i = j
  }
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1')

/** Bytes [from, to) of `bytes` as lower-case hex digits, written straight into one Buffer of exactly that size. */
export function hexBytes(bytes: Uint8Array, from = 0, to = bytes.byteLength): Buffer {
  const out = Buffer.allocUnsafe(2 * (to - from))
  let at = 0
  for (let i = from; i < to; i++) {
    const b = bytes[i]!
    out[at++] = HEX_DIGITS[b >> 4]!
    out[at++] = HEX_DIGITS[b & 15]!
  }
  return out
}

/** `bytes` as lower-case hex digits in Buffers of at most `2 × size` bytes (default {@link PIECE}). */
export function* hexPieces(bytes: Uint8Array, size = PIECE): Generator<Buffer> {
  for (let i = 0; i < bytes.byteLength; i += size) yield hexBytes(bytes, i, Math.min(bytes.byteLength, i + size))
}
