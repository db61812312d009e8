import iconv from 'iconv-lite'
import { UsageError } from '../../errors.js'

/** What {@link detectEncoding} found. */
export interface DetectedEncoding {
  /** An iconv-lite encoding name (`utf8`, `utf16le`, `utf16be`, `cp1252`, …). */
  encoding: string
  /** How it was decided. */
  by: 'bom' | 'zero-bytes' | 'utf8-valid' | 'fallback' | 'given'
}

/** Whether `bytes` are valid UTF-8; a sequence cut off at the very end counts as valid (a sample boundary). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      i++
      continue
    }
    let need: number
    if (b >= 0xc2 && b <= 0xdf) need = 1
    else if (b >= 0xe0 && b <= 0xef) need = 2
    else if (b >= 0xf0 && b <= 0xf4) need = 3
    else return false
    if (i + need >= n) {
      // truncated at the end of the sample: check the bytes that are there
      for (let k = 1; i + k < n; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return false
      return true
    }
    for (let k = 1; k <= need; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return false
    // overlongs and surrogates
    const b1 = bytes[i + 1]!
    if (b === 0xe0 && b1 < 0xa0) return false
    if (b === 0xed && b1 > 0x9f) return false
    if (b === 0xf0 && b1 < 0x90) return false
    if (b === 0xf4 && b1 > 0x8f) return false
    i += need + 1
  }
  return true
}

/**
 * Decides a file's encoding from its first bytes, only where that is safe: a byte-order mark; UTF-16 by the
 * pattern of zero bytes that ASCII text has in it; UTF-8 when the sample is valid UTF-8. Otherwise the
 * `fallback` (e.g. `cp1252`), and without one a `UsageError` asking for `?encoding=` — a guess between
 * cp1252, latin2 and others would corrupt text silently.
 */
export function detectEncoding(sample: Uint8Array, given = 'auto', fallback?: string): DetectedEncoding {
  if (given !== 'auto' && given !== '') {
    if (!iconv.encodingExists(given)) throw new UsageError(`unknown encoding ${JSON.stringify(given)}`)
    return { encoding: normalizeEncoding(given), by: 'given' }
  }
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf8', by: 'bom' }
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf16le', by: 'bom' }
  if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf16be', by: 'bom' }
  const pairs = Math.floor(Math.min(sample.length, 4096) / 2)
  if (pairs >= 2) {
    let evenZero = 0
    let oddZero = 0
    for (let i = 0; i < pairs; i++) {
      if (sample[2 * i] === 0) evenZero++
      if (sample[2 * i + 1] === 0) oddZero++
    }
    if (oddZero > pairs * 0.4 && evenZero < pairs * 0.05) return { encoding: 'utf16le', by: 'zero-bytes' }
    if (evenZero > pairs * 0.4 && oddZero < pairs * 0.05) return { encoding: 'utf16be', by: 'zero-bytes' }
  }
  if (isValidUtf8(sample)) return { encoding: 'utf8', by: 'utf8-valid' }
  if (fallback) {
    if (!iconv.encodingExists(fallback)) throw new UsageError(`unknown fallback encoding ${JSON.stringify(fallback)}`)
    return { encoding: normalizeEncoding(fallback), by: 'fallback' }
  }
  throw new UsageError('the file is not valid UTF-8 and has no byte-order mark: say which encoding it is, e.g. ?encoding=cp1252')
}

function normalizeEncoding(e: string): string {
  const l = e.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (l === 'utf8') return 'utf8'
  if (l === 'utf16' || l === 'ucs2') return 'utf16le'
  return e
}

/** A stateful decoder (multi-byte sequences may straddle chunks); strips a leading BOM. */
export interface TextChunkDecoder {
  /** Decodes a chunk; an incomplete sequence at its end waits for the next chunk. */
  write(bytes: Buffer): string
  /** Decodes what is left at the end of the input. */
  end(): string
}

/** A chunk decoder for an encoding. UTF-8 uses the native decoder (invalid bytes become U+FFFD). */
export function textDecoder(encoding: string): TextChunkDecoder {
  if (encoding === 'utf8') {
    const d = new TextDecoder('utf-8')
    return { write: (b) => d.decode(b, { stream: true }), end: () => d.decode() }
  }
  const d = iconv.getDecoder(encoding, { stripBOM: true })
  return { write: (b) => d.write(b), end: () => d.end() ?? '' }
}

/** Encodes text for writing; UTF-8 without iconv. `bom` prefixes a byte-order mark. */
export function encodeText(text: string, encoding: string, bom = false): Buffer {
  if (encoding === 'utf8' || encoding === 'auto') return Buffer.from(bom ? '\ufeff' + text : text, 'utf8')
  return iconv.encode(text, encoding, { addBOM: bom })
}
