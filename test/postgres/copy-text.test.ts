import { describe, expect, it } from 'vitest'
import { postgresSql } from '../../dialects/postgres/index.js'
import type { Value } from '../../src/schema/types.js'

const { RowBuffer: CopyTextBuffer, encode: encodeValue } = postgresSql.copyText
type CopyTextBuffer = InstanceType<typeof CopyTextBuffer>

/** The bytes the writer sent before rows were encoded straight into the buffer: strings joined, then UTF-8. */
function expected(rows: (Value | undefined)[][]): Buffer {
  return Buffer.from(rows.map((r) => `${r.map((v) => (v === null || v === undefined ? '\\N' : encodeValue(v))).join('\t')}\n`).join(''), 'utf8')
}

function encoded(rows: (Value | undefined)[][], initial = 16): CopyTextBuffer {
  const b = new CopyTextBuffer(Buffer.alloc(initial))
  for (const r of rows) {
    b.beginRow()
    for (const v of r) b.value(v)
    b.endRow()
  }
  return b
}

describe('CopyTextBuffer', () => {
  const values: (Value | undefined)[] = [
    null,
    undefined,
    '',
    'plain ascii',
    '\\N',
    'a\tb\nc\rd\\e',
    'Zoë n°1\nline two, "quoted"\r\nthird line — été',
    'emoji 😀 pair, lone \ud800 high, lone \udfff low, end high \ud83d',
    '\u007f\u0080\u07ff\u0800\uffff',
    'x'.repeat(300) + '\t\\é😀\ud800',
    0,
    -0,
    7,
    -7,
    10,
    99,
    100,
    123456789,
    -1000000,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER - 2,
    999999999999999,
    1e15,
    2 ** 52 + 1,
    Number.MIN_SAFE_INTEGER,
    2 ** 53,
    -(2 ** 60),
    1.5,
    -0.000001,
    1e21,
    5e-324,
    NaN,
    Infinity,
    -Infinity,
    9223372036854775807n,
    -9223372036854775808n,
    0n,
    true,
    false,
    Buffer.from([0, 255, 92]),
    new Uint8Array([1, 2]),
    new Uint8Array(0),
  ]

  it('writes the same bytes as encodeValue joined by tabs and newlines, UTF-8 encoded', () => {
    const rows = [values, ...values.map((v) => [v]), [values[3], values[6], values[11]]]
    const b = encoded(rows)
    expect(b.buf.subarray(0, b.len).equals(expected(rows))).toBe(true)
    expect(b.rows).toBe(rows.length)
  })

  it('writes integers digit by digit exactly, up to 2^53 - 1', () => {
    const ints: number[] = []
    for (let p = 1; p <= Number.MAX_SAFE_INTEGER; p *= 10) ints.push(p - 1, p, p + 1, -p, -(p - 1))
    for (let d = 0; d < 1000; d++) ints.push(Number.MAX_SAFE_INTEGER - d, Number.MIN_SAFE_INTEGER + d, 2 ** 52 + d * 4099)
    const b = encoded(ints.map((v) => [v]))
    expect(b.buf.subarray(0, b.len).toString('latin1')).toBe(ints.map((v) => `${encodeValue(v)}\n`).join(''))
  })

  it('keeps row offsets so any range can be sent again', () => {
    const rows = values.map((v) => [v, 'tail'])
    const b = encoded(rows, 1)
    for (let i = 0; i < rows.length; i++) expect(b.range(i, i + 1).equals(expected([rows[i]!]))).toBe(true)
    expect(b.range(3, 9).equals(expected(rows.slice(3, 9)))).toBe(true)
  })

  it('drops a row abandoned half way', () => {
    const b = new CopyTextBuffer(Buffer.alloc(4))
    b.beginRow()
    b.value('kept')
    b.endRow()
    b.beginRow()
    b.value('gone')
    b.value(1)
    b.abandonRow()
    b.beginRow()
    b.value(2)
    b.rawField('{"a\\\\b"}')
    b.endRow()
    expect(b.buf.subarray(0, b.len).toString('utf8')).toBe('kept\n2\t{"a\\\\b"}\n')
    expect(b.rows).toBe(2)
  })
})
