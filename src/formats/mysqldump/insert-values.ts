/**
 * Parses the rows of an `INSERT … VALUES (…),(…)` statement at the byte level, with MySQL's string rules:
 * backslash escapes `\0 \' \" \b \n \r \t \Z \\` (and `\%`, `\_`, which keep their backslash), doubled
 * quotes, charset introducers (`_binary'…'`, `_utf8mb4'…'`), hex (`0x…`, `X'…'`), bits (`b'…'`), NULL and
 * numbers. Strings stay bytes here; the reader decodes them per column type.
 */

/** One literal of a row. */
export type RawValue =
  | { k: 'null' }
  | { k: 'num'; text: string }
  | { k: 'str'; bytes: Buffer; binary: boolean }
  | { k: 'hex'; bytes: Buffer }
  | { k: 'bits'; value: bigint }
  | { k: 'word'; text: string }

/** The head of an INSERT: its table, optional column list, and where the VALUES list starts. */
export interface InsertHead {
  table: string
  columns?: string[]
  /** Index of the first byte after `VALUES`. */
  valuesAt: number
}

const NULL_V: RawValue = { k: 'null' }

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d
}

function isWordByte(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b === 0x24 || b >= 0x80)
}

/** A syntax problem in a VALUES list, with the byte index it was found at. */
export class ValuesSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message)
  }
}

export function skipSpaceAndComments(b: Buffer, i: number): number {
  for (;;) {
    while (i < b.length && isSpace(b[i])) i++
    if (b[i] === 0x2f && b[i + 1] === 0x2a && b[i + 2] !== 0x21) {
      const e = b.indexOf('*/', i + 2)
      i = e < 0 ? b.length : e + 2
      continue
    }
    if ((b[i] === 0x2d && b[i + 1] === 0x2d && isSpace(b[i + 2])) || b[i] === 0x23) {
      const e = b.indexOf(0x0a, i)
      i = e < 0 ? b.length : e + 1
      continue
    }
    return i
  }
}

function readIdent(b: Buffer, i: number): [string, number] {
  if (b[i] === 0x60) {
    let out = ''
    let j = i + 1
    for (;;) {
      const e = b.indexOf(0x60, j)
      if (e < 0) throw new ValuesSyntaxError('unterminated identifier', i)
      out += b.toString('utf8', j, e)
      if (b[e + 1] === 0x60) {
        out += '`'
        j = e + 2
        continue
      }
      return [out, e + 1]
    }
  }
  let j = i
  while (isWordByte(b[j])) j++
  if (j === i) throw new ValuesSyntaxError('expected a name', i)
  return [b.toString('utf8', i, j), j]
}

function readWord(b: Buffer, i: number): [string, number] {
  let j = i
  while (isWordByte(b[j])) j++
  return [b.toString('latin1', i, j).toUpperCase(), j]
}

/** Reads `INSERT [IGNORE] INTO `t` [(cols)] VALUES` (or REPLACE); undefined if the statement is not one. */
export function parseInsertHead(b: Buffer): InsertHead | undefined {
  let i = skipSpaceAndComments(b, 0)
  let w: string
  ;[w, i] = readWord(b, i)
  if (w !== 'INSERT' && w !== 'REPLACE') return undefined
  for (;;) {
    i = skipSpaceAndComments(b, i)
    if (b[i] === 0x60) break
    const [x, j] = readWord(b, i)
    if (x === 'INTO' || x === 'IGNORE' || x === 'LOW_PRIORITY' || x === 'DELAYED' || x === 'HIGH_PRIORITY') {
      i = j
      continue
    }
    break
  }
  let table: string
  ;[table, i] = readIdent(b, i)
  while (b[i] === 0x2e) [table, i] = readIdent(b, i + 1)
  i = skipSpaceAndComments(b, i)
  let columns: string[] | undefined
  if (b[i] === 0x28) {
    ;[columns, i] = readList(b, i + 1, readIdent, false, 'bad column list')
    i = skipSpaceAndComments(b, i)
  }
  let v: string
  ;[v, i] = readWord(b, i)
  if (v !== 'VALUES' && v !== 'VALUE') return undefined
  return { table, columns, valuesAt: i }
}

function readString(b: Buffer, i: number): [Buffer, number] {
  const q = b[i]!
  const parts: Buffer[] = []
  let j = i + 1
  let seg = j
  for (;;) {
    if (j >= b.length) throw new ValuesSyntaxError('unterminated string', i)
    const c = b[j]!
    if (c === 0x5c) {
      if (j > seg) parts.push(b.subarray(seg, j))
      const e = b[j + 1]
      if (e === undefined) throw new ValuesSyntaxError('unterminated string', i)
      switch (e) {
        case 0x30: // \0
          parts.push(Buffer.from([0]))
          break
        case 0x62: // \b
          parts.push(Buffer.from([8]))
          break
        case 0x6e: // \n
          parts.push(Buffer.from([10]))
          break
        case 0x72: // \r
          parts.push(Buffer.from([13]))
          break
        case 0x74: // \t
          parts.push(Buffer.from([9]))
          break
        case 0x5a: // \Z
          parts.push(Buffer.from([26]))
          break
        case 0x25: // \% and \_ keep the backslash outside LIKE patterns
        case 0x5f:
          parts.push(Buffer.from([0x5c, e]))
          break
        default:
          parts.push(Buffer.from([e]))
      }
      j += 2
      seg = j
      continue
    }
    if (c === q) {
      if (b[j + 1] === q) {
        parts.push(b.subarray(seg, j + 1))
        j += 2
        seg = j
        continue
      }
      if (j > seg) parts.push(b.subarray(seg, j))
      return [parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts), j + 1]
    }
    j++
  }
}

function readValue(b: Buffer, i: number): [RawValue, number] {
  const c = b[i]
  if (c === 0x27 || c === 0x22) {
    const [bytes, j] = readString(b, i)
    return [{ k: 'str', bytes, binary: false }, j]
  }
  if (c === 0x30 && (b[i + 1] === 0x78 || b[i + 1] === 0x58)) {
    let j = i + 2
    while (j < b.length && /[0-9a-fA-F]/.test(String.fromCharCode(b[j]!))) j++
    return [{ k: 'hex', bytes: Buffer.from(b.toString('latin1', i + 2, j), 'hex') }, j]
  }
  if ((c === 0x58 || c === 0x78) && b[i + 1] === 0x27) {
    const e = b.indexOf(0x27, i + 2)
    if (e < 0) throw new ValuesSyntaxError('unterminated hex literal', i)
    return [{ k: 'hex', bytes: Buffer.from(b.toString('latin1', i + 2, e), 'hex') }, e + 1]
  }
  if ((c === 0x62 || c === 0x42) && b[i + 1] === 0x27) {
    const e = b.indexOf(0x27, i + 2)
    if (e < 0) throw new ValuesSyntaxError('unterminated bit literal', i)
    const digits = b.toString('latin1', i + 2, e)
    return [{ k: 'bits', value: digits === '' ? 0n : BigInt(`0b${digits}`) }, e + 1]
  }
  if (c === 0x5f) {
    // charset introducer: _binary'…', _utf8mb4 '…', _binary 0x…
    const [word, j0] = readWord(b, i)
    const j = skipSpaceAndComments(b, j0)
    const [v, k] = readValue(b, j)
    if (v.k === 'str') return [{ ...v, binary: word === '_BINARY' }, k]
    return [v, k]
  }
  if (c === 0x2d || c === 0x2b || c === 0x2e || (c !== undefined && c >= 0x30 && c <= 0x39)) {
    let j = i + 1
    while (j < b.length) {
      const d = b[j]!
      if ((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x65 || d === 0x45 || ((d === 0x2d || d === 0x2b) && (b[j - 1] === 0x65 || b[j - 1] === 0x45))) j++
      else break
    }
    return [{ k: 'num', text: b.toString('latin1', i, j) }, j]
  }
  if (isWordByte(c)) {
    const [word, j] = readWord(b, i)
    if (word === 'NULL') return [NULL_V, j]
    if (word === 'TRUE') return [{ k: 'num', text: '1' }, j]
    if (word === 'FALSE') return [{ k: 'num', text: '0' }, j]
    return [{ k: 'word', text: word }, j]
  }
  throw new ValuesSyntaxError(`unexpected ${c === undefined ? 'end' : JSON.stringify(String.fromCharCode(c))}`, i)
}

/**
 * Reads `item, item, …)` from just after an opening parenthesis up to and past the closing one; `empty`
 * allows `()`. Spaces and comments may stand between the parts.
 */
function readList<T>(b: Buffer, i: number, read: (b: Buffer, i: number) => [T, number], empty: boolean, error: string): [T[], number] {
  const items: T[] = []
  i = skipSpaceAndComments(b, i)
  if (empty && b[i] === 0x29) return [items, i + 1]
  for (;;) {
    let item: T
    ;[item, i] = read(b, skipSpaceAndComments(b, i))
    items.push(item)
    i = skipSpaceAndComments(b, i)
    if (b[i] === 0x29) return [items, i + 1]
    if (b[i] !== 0x2c) throw new ValuesSyntaxError(error, i)
    i++
  }
}

/**
 * Iterates the rows of a VALUES list starting at `from`. Each row is its raw values; a syntax error ends the
 * statement (the reader records one malformed reject for the rest of it).
 */
export function* valuesRows(b: Buffer, from: number): Generator<RawValue[]> {
  let i = skipSpaceAndComments(b, from)
  while (i < b.length) {
    if (b[i] !== 0x28) {
      // ON DUPLICATE KEY UPDATE … ends the rows
      if (isWordByte(b[i])) return
      throw new ValuesSyntaxError(`expected ( at the start of a row`, i)
    }
    let row: RawValue[]
    ;[row, i] = readList(b, i + 1, readValue, true, 'expected , or ) after a value')
    yield row
    i = skipSpaceAndComments(b, i)
    if (b[i] === 0x2c) i = skipSpaceAndComments(b, i + 1)
  }
}
