import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { connect } from '../../src/connect.js'
import type { CsvText } from '../../src/dialect.js'
import { byteCheck, CsvTextMismatch, CsvTextScanner, textCheck, type ScannerOptions } from '../../src/formats/csv/csv-pass-through.js'
import type { LogicalType, TableSchema } from '../../src/schema/types.js'

const dirs: string[] = []
function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-csv-pt-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const TYPES: LogicalType[] = [
  { kind: 'boolean' },
  { kind: 'int16' },
  { kind: 'int32' },
  { kind: 'int64' },
  { kind: 'int32', unsigned: true },
  { kind: 'decimal', precision: 6, scale: 2 },
  { kind: 'decimal' },
  { kind: 'float32' },
  { kind: 'float64' },
  { kind: 'date' },
  { kind: 'time' },
  { kind: 'timestamp' },
  { kind: 'timestamp', precision: 2 },
  { kind: 'timestamptz' },
  { kind: 'uuid' },
  { kind: 'json' },
  { kind: 'bytes' },
]

/** Values at the edges of every canonical form, and near misses. */
const PROBES = [
  '', ' ', '0', '-0', '00', '007', '7', '-7', '+7', ' 7', '7 ', '12.0', '1e3', '1E3', '9999', '32767', '32768', '99999',
  '2147483647', '2147483648', '-2147483648', '999999999', '9223372036854775807', '9223372036854775808', '123456789012345678',
  '1.5', '1.50', '1.500', '1.505', '-0.00', '0.5', '.5', '5.', '9999.99', '10000.00', 'NaN', 'nan', 'inf', '-Infinity', '1e400',
  'true', 'false', 'TRUE', 'True', 't', 'f', 'yes', 'no', 'on', 'off', 'y', 'n', '1', 'tru', ' true',
  '2020-01-02', '2020-02-30', '2020-13-01', '2020-1-2', '2020-01-02 10:00:00', '2020-01-02 10:00', '2020-01-02T10:00:00',
  '2020-01-02 10:00:00.5', '2020-01-02 10:00:00.50', '2020-01-02 10:00:00.500000', '2020-01-02 10:00:00.1234567', '2020-01-02 10:00:00.',
  '2020-01-02 10:00:00.125', '2020-01-02 24:00:00', '2020-01-02 10:00:00+02:00', '2020-01-02 10:00:00.5+02:00', '2020-01-02 10:00:00Z',
  '10:00:00', '10:00:00.250', '10:00', '25:00:00',
  '123e4567-e89b-12d3-a456-426614174000', '123E4567-E89B-12D3-A456-426614174000', '{123e4567-e89b-12d3-a456-426614174000}',
  '{"a":1}', '[1,2]', '{a:1}', '"x"', '\\x', '\\x0a', '\\x0A1b', '\\x0', '\\xzz', 'abc',
]

describe('pass-through field checks', () => {
  it('the byte check never accepts what the text check refuses', () => {
    let accepted = 0
    for (const type of TYPES) {
      const bytes = byteCheck(type)
      const text = textCheck(type)!
      if (!bytes) continue
      for (const p of PROBES) {
        const b = Buffer.from(`..${p}..`, 'latin1')
        if (bytes(b, 2, b.length - 2)) {
          accepted++
          expect(text(p), `${JSON.stringify(type)} ${JSON.stringify(p)}`).toBe(true)
        }
      }
    }
    // the fast checks do prove the common forms
    expect(accepted).toBeGreaterThan(40)
  })

  it('accepts canonical text and the spellings the target reads the same, and nothing the row path would change', () => {
    const ok = (t: LogicalType, v: string) => textCheck(t)!(v)
    expect(ok({ kind: 'int32' }, '-7')).toBe(true)
    expect(ok({ kind: 'int32' }, '007')).toBe(false) // the row path sends 7
    expect(ok({ kind: 'int32' }, ' 7')).toBe(false)
    expect(ok({ kind: 'decimal', precision: 6, scale: 2 }, '1.5')).toBe(true)
    expect(ok({ kind: 'decimal', precision: 6, scale: 2 }, '1.505')).toBe(false) // a truncation reject on the row path
    expect(ok({ kind: 'decimal', precision: 6, scale: 2 }, '10000.00')).toBe(false) // out of range
    expect(ok({ kind: 'float64' }, '1e3')).toBe(true)
    expect(ok({ kind: 'float64' }, 'abc')).toBe(false)
    expect(ok({ kind: 'boolean' }, 'Yes')).toBe(true)
    expect(ok({ kind: 'boolean' }, ' true')).toBe(false)
    expect(ok({ kind: 'timestamp' }, '2020-01-02 10:00:00.500')).toBe(true)
    expect(ok({ kind: 'timestamp' }, '2020-01-02T10:00:00')).toBe(false)
    expect(ok({ kind: 'timestamp' }, '2020-01-02')).toBe(false)
    expect(ok({ kind: 'timestamp', precision: 2 }, '2020-01-02 10:00:00.125')).toBe(false) // cut on one side, rounded on the other
    expect(ok({ kind: 'timestamptz' }, '2020-01-02 10:00:00+02:00')).toBe(true)
    expect(ok({ kind: 'timestamptz' }, '2020-01-02 10:00:00Z')).toBe(false)
    expect(ok({ kind: 'uuid' }, '123E4567-E89B-12D3-A456-426614174000')).toBe(true)
    expect(ok({ kind: 'bytes' }, '\\x0A1b')).toBe(true)
    expect(ok({ kind: 'bytes' }, 'abc')).toBe(false)
    expect(textCheck({ kind: 'text' })).toBeUndefined()
  })
})

function scanner(over: Partial<ScannerOptions> = {}): CsvTextScanner {
  const names = over.names ?? ['id', 'note', 'n']
  return new CsvTextScanner({
    delimiter: 44,
    quote: 34,
    escape: 34,
    null: Buffer.alloc(0),
    header: true,
    names,
    checks: names.map((_, i) => (i === 1 ? {} : { bytes: byteCheck({ kind: 'int32' }), text: textCheck({ kind: 'int32' }) })),
    encoding: 'utf8',
    maxRecordBytes: 1 << 20,
    ...over,
  })
}

function scan(text: string, over?: Partial<ScannerOptions>, cuts: number[] = []): CsvTextScanner & { sent: string } {
  const s = scanner(over)
  const b = Buffer.from(text)
  const sent: Buffer[] = []
  let from = 0
  for (const c of [...cuts, b.length]) {
    sent.push(s.push(b.subarray(from, c)))
    from = c
  }
  sent.push(s.end())
  return Object.assign(s, { sent: Buffer.concat(sent).toString() })
}

describe('CsvTextScanner', () => {
  const good = 'id,note,n\n1,"multi\nline, ""quoted""",\n2,,5\n3,"",-1\n4,é — ok,0'
  it('counts records and the last record line, whatever the chunk boundaries', () => {
    const whole = scan(good)
    expect(whole.records).toBe(4)
    expect(whole.lastLine).toBe(6)
    const bytes = Buffer.byteLength(good)
    for (let cut = 1; cut < bytes; cut++) {
      const s = scan(good, {}, [cut])
      expect([s.records, s.lastLine], `cut at ${cut}`).toEqual([4, 6])
    }
    expect(scan(good.replaceAll('\n', '\r\n')).records).toBe(4)
  })

  it('sends a clean file as it is, the very bytes, whatever the chunk boundaries', () => {
    const b = Buffer.from(good)
    const s = scanner()
    const first = s.push(b)
    s.end()
    expect(first.buffer).toBe(b.buffer) // not a copy
    for (let cut = 1; cut < b.length; cut += 3) expect(scan(good, {}, [cut]).sent).toBe(good)
  })

  it('leaves blank lines out and ends every record as the header does, with the reader\'s counts and lines', () => {
    // blank lines (LF and CRLF, in a row, at the end), records ending in CRLF after an LF header and the
    // other way round; line breaks inside quoted values stay as they are
    const cases: [string, string, number, number][] = [
      ['id,note,n\n1,a,2\n\n2,"x\r\ny",3\r\n\r\n\n3,b,4\r\n\n', 'id,note,n\n1,a,2\n2,"x\r\ny",3\n3,b,4\n', 3, 8],
      ['id,note,n\r\n1,a,2\n2,"p\nq",3\r\n3,b,4', 'id,note,n\r\n1,a,2\r\n2,"p\nq",3\r\n3,b,4', 3, 5],
      ['id,note,n\n1,a,2\n\n', 'id,note,n\n1,a,2\n', 1, 2],
    ]
    for (const [text, sent, records, lastLine] of cases) {
      for (let cut = 0; cut <= Buffer.byteLength(text); cut++) {
        const s = scan(text, {}, cut === 0 ? [] : [cut])
        expect([s.sent, s.records, s.lastLine], `${JSON.stringify(text)} cut at ${cut}`).toEqual([sent, records, lastLine])
      }
    }
  })

  const refused: [string, string, RegExp][] = [
    ['a quote inside an unquoted field', 'id,note,n\n1,ab"c,2\n', /line 2: a quote inside an unquoted field/],
    ['text after a closing quote', 'id,note,n\n1,"ab"c,2\n', /a character after a closing quote/],
    ['a blank line before the header', '\nid,note,n\n1,a,2\n', /line 1: a blank line before the header/],
    ['a blank line of a lone carriage return', 'id,note,n\n1,a,2\n\r2,b,3\n', /line 3: a carriage return/],
    ['too few fields', 'id,note,n\n1,a\n', /2 fields where the header has 3/],
    ['too many fields', 'id,note,n\n1,a,2,3\n', /4 fields where the header has 3/],
    ['a value the row path would convert', 'id,note,n\n1,a,007\n', /n "007" is not the canonical text/],
    ['a value that does not convert', 'id,note,n\n1,a,x\n', /n "x"/],
    ['a quoted typed value with an escape', 'id,note,n\n"1""",a,2\n', /id "1\\"" is not/],
    ['a lone carriage return', 'id,note,n\n1,a\rb,2\n', /carriage return/],
    ['a NUL byte', 'id,note,n\n1,a\0b,2\n', /NUL/],
    ['an unbalanced quote', 'id,note,n\n1,"abc,2\n', /unbalanced quote/],
  ]
  for (const [what, text, message] of refused) {
    it(`refuses ${what}`, () => {
      expect(() => scan(text)).toThrow(CsvTextMismatch)
      expect(() => scan(text)).toThrow(message)
    })
  }

  it('refuses a line of just \\. (the end of a COPY) and a record longer than maxRecordChars', () => {
    expect(() => scan('note\na\n\\.\nb\n', { names: ['note'], checks: [{}] })).toThrow(/\\\./)
    expect(() => scan(`id,note,n\n1,"${'x'.repeat(100)}",2\n`, { maxRecordBytes: 50 })).toThrow(/longer than maxRecordChars/)
  })

  it('takes NULL markers and escapes as the reader does', () => {
    // a backslash escape, a \N NULL in a typed column, and a quoted \N that is text
    const s = scan('id;note;n\n1;"a \\"q\\" \\\\ b";\\N\n2;"\\N";3\n', {
      delimiter: 59,
      escape: 92,
      null: Buffer.from('\\N'),
    })
    expect(s.records).toBe(2)
    // with no escape character, a doubled quote is malformed for the reader: refused here too
    expect(() => scan('id,note,n\n1,"a""b",2\n', { escape: -1 })).toThrow(/after a closing quote/)
  })
})

describe('csv csvText', () => {
  async function textOf(dir: string, url: string): Promise<{ text: CsvText | string; table: TableSchema }> {
    const { connection } = await connect(url)
    const table = (await connection.introspect()).tables[0]!
    const text = await connection.csvText!(table)
    return { text, table }
  }

  it('hands over UTF-8 without its BOM, latin1 as it is, and transcodes UTF-16 to UTF-8', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'bom.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,name\n1,Zoë\n')]))
    const bom = (await textOf(dir, `csv:${join(dir, 'bom.csv')}`)).text as CsvText
    let bytes: Uint8Array[] = []
    for await (const b of bom.bytes) bytes.push(b)
    expect(Buffer.concat(bytes).toString('utf8')).toBe('id,name\n1,Zoë\n')
    expect(bom.format.encoding).toBe('utf8')

    writeFileSync(join(dir, 'l1.csv'), Buffer.from('id,name\n1,Zoë\n', 'latin1'))
    const l1 = (await textOf(dir, `csv:${join(dir, 'l1.csv')}?encoding=latin1`)).text as CsvText
    bytes = []
    for await (const b of l1.bytes) bytes.push(b)
    expect(l1.format.encoding).toBe('latin1')
    expect(Buffer.concat(bytes)).toEqual(Buffer.from('id,name\n1,Zoë\n', 'latin1'))

    writeFileSync(join(dir, 'u16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Zoë\n', 'utf16le')]))
    const u16 = (await textOf(dir, `csv:${join(dir, 'u16.csv')}`)).text as CsvText
    bytes = []
    for await (const b of u16.bytes) bytes.push(b)
    expect(u16.format.encoding).toBe('utf8')
    expect(Buffer.concat(bytes).toString('utf8')).toBe('id,name\n1,Zoë\n')
    expect([u16.records(), u16.lastLine?.()]).toEqual([1, 2])
  })

  it('says why a file cannot be handed over', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'a.csv'), 'id,name\n1,x\n')
    expect((await textOf(dir, `csv:${join(dir, 'a.csv')}?quote=`)).text).toMatch(/no quote character/)
    expect((await textOf(dir, `csv:${join(dir, 'a.csv')}?delimiter=¦`)).text).toMatch(/delimiter is not an ASCII/)
    writeFileSync(join(dir, 'b.csv'), 'id,id\n1,2\n')
    expect((await textOf(dir, `csv:${join(dir, 'b.csv')}`)).text).toMatch(/names a column twice/)
  })
})
