import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import iconv from 'iconv-lite'
import { describe, expect, it } from 'vitest'
import { ferry } from '../../src/ferry.js'
import { connect } from '../../src/connect.js'
import type { Connection, ReadBatch } from '../../src/dialect.js'
import type { Row, TableSchema } from '../../src/schema/types.js'
import { CsvRecordParser, csv, inferColumnType } from '../../src/formats/csv/index.js'
import { fieldConverter } from '../../src/formats/csv/csv-format.js'
import { makeConverter } from '../../src/schema/values.js'
import type { LogicalType } from '../../src/schema/types.js'

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'dbferry-csv-'))
}

async function readAll(conn: Connection, table: TableSchema, batchRows = 1000): Promise<{ rows: Row[]; rejected: ReadBatch['rejected'] }> {
  const rows: Row[] = []
  const rejected: ReadBatch['rejected'] = []
  for await (const b of conn.read(table, { batchRows, batchBytes: 1 << 30 })) {
    rows.push(...b.rows)
    rejected.push(...b.rejected)
  }
  return { rows, rejected }
}

async function openTable(url: string, name: string): Promise<{ conn: Connection; table: TableSchema }> {
  const { connection } = await connect(url)
  const schema = await connection.introspect()
  const table = schema.tables.find((t) => t.name === name)
  if (!table) throw new Error(`no table ${name}; have ${schema.tables.map((t) => t.name).join(',')}`)
  return { conn: connection, table }
}

describe('CsvRecordParser', () => {
  const text = 'id,note,empty,missing\r\n1,"multi\nline, with ""quotes""",""," x "\r\n2,plain,,\n'
  it('parses quotes, embedded newlines and delimiters, NULL vs empty string, CRLF and LF', () => {
    const p = new CsvRecordParser()
    const items = [...p.push(text), ...p.end()]
    expect(items).toEqual([
      { kind: 'record', line: 1, fields: ['id', 'note', 'empty', 'missing'] },
      { kind: 'record', line: 2, fields: ['1', 'multi\nline, with "quotes"', '', ' x '] },
      { kind: 'record', line: 4, fields: ['2', 'plain', null, null] },
    ])
  })

  it('gives the same records whatever the chunk boundaries', () => {
    const whole = new CsvRecordParser()
    const expected = [...whole.push(text), ...whole.end()]
    const p = new CsvRecordParser()
    const got = []
    for (const ch of text) got.push(...p.push(ch))
    got.push(...p.end())
    expect(got).toEqual(expected)
  })

  it('reads files whose lines end with a lone CR', () => {
    const p = new CsvRecordParser()
    expect([...p.push('a,b\r1,"x\ry"\r2,\r'), ...p.end()]).toEqual([
      { kind: 'record', line: 1, fields: ['a', 'b'] },
      { kind: 'record', line: 2, fields: ['1', 'x\ry'] },
      { kind: 'record', line: 3, fields: ['2', null] },
    ])
  })

  it('recovers after an unbalanced quote and reports its line', () => {
    const p = new CsvRecordParser()
    const items = [...p.push('a,b\n1,"broken\n2,ok\n3,"fine"\n'), ...p.end()]
    expect(items.map((i) => i.kind)).toEqual(['record', 'malformed', 'record', 'record'])
    expect(items[1]).toMatchObject({ kind: 'malformed', line: 2, raw: '1,"broken' })
    expect(items[2]).toMatchObject({ fields: ['2', 'ok'], line: 3 })
    expect(items[3]).toMatchObject({ fields: ['3', 'fine'], line: 4 })
  })

  it('honours a backslash escape and a custom NULL marker', () => {
    const p = new CsvRecordParser({ escape: '\\', null: '\\N', delimiter: ';' })
    const items = [...p.push('"a\\"b";\\N;"\\N";\n'), ...p.end()]
    expect(items[0]).toMatchObject({ fields: ['a"b', null, '\\N', ''] })
  })
})

describe('fieldConverter', () => {
  it('gives what makeConverter gives, fast paths included', () => {
    const cases: [LogicalType, string[]][] = [
      [{ kind: 'int32' }, ['0', '-0', '7', '007', '-12', '2147483647', '2147483648', '+5', '1.0', 'x']],
      [{ kind: 'int64' }, ['123456789012345', '9007199254740993', '-9223372036854775808']],
      [{ kind: 'decimal', precision: 5, scale: 2 }, ['0', '-0', '-0.00', '1.50', '-12.5', '123.45', '1234.5', '00.5', '+1', '.5', '1e2']],
      [{ kind: 'timestamp', precision: 3 }, ['2024-02-28 10:00:00', '2024-02-29 10:00:00', '2023-02-29 10:00:00', '2024-01-01 00:00:00.1234', '2024-01-01 00:00:00.500', '2024-01-01T00:00:00', '2024-13-01 00:00:00']],
    ]
    for (const [type, inputs] of cases) {
      const fast = fieldConverter(type)
      const slow = makeConverter(type)
      for (const v of inputs) expect([v, fast(v)]).toEqual([v, slow(v)])
    }
  })

  it('refuses decimals with more digits after the point than the scale (trailing zeros aside)', () => {
    const c = fieldConverter({ kind: 'decimal', precision: 5, scale: 2 })
    expect(c('1.250')).toBe('1.250')
    expect(c('1.255')).toMatchObject({ kind: 'truncation' })
  })
})

describe('inferColumnType', () => {
  it('picks the narrowest type and keeps leading zeros as text', () => {
    expect(inferColumnType(['1', '2', null])).toEqual({ kind: 'int32' })
    expect(inferColumnType(['1', '9999999999'])).toEqual({ kind: 'int64' })
    expect(inferColumnType(['1.50', '2'])).toMatchObject({ kind: 'decimal', scale: 2 })
    expect(inferColumnType(['1e3', '2'])).toEqual({ kind: 'float64' })
    expect(inferColumnType(['true', 'F'])).toEqual({ kind: 'boolean' })
    expect(inferColumnType(['2020-01-02', '2020-01-02 03:04:05'])).toEqual({ kind: 'timestamp' })
    expect(inferColumnType(['2020-01-02 03:04:05.123+02:00'])).toEqual({ kind: 'timestamptz', precision: 3 })
    expect(inferColumnType(['007', '8'])).toEqual({ kind: 'text' })
    expect(inferColumnType([null, null])).toEqual({ kind: 'text' })
  })
})

describe('csv source', () => {
  it('infers column types shown by introspect, converts values, and journals bad rows with line numbers', async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'orders.csv'),
      'id,total,placed,paid,note\n' +
        '1,10.50,2020-01-02 10:00:00,true,"first\nsecond line"\n' +
        '2,3.00,2020-01-03 11:30:00,false,\n' +
        '3,1.25,not a date,true,x\n' + // beyond the sample: a type_conversion reject
        '4,2.00,2020-01-04 00:00:00,true,"unbalanced\n' +
        '5,7.75,2020-01-05 00:00:00,false,"y"\n' +
        '6,1.00\n', // wrong field count
    )
    const { connection } = await connect(`csv:${dir}?sampleRows=2`)
    const schema = await connection.introspect()
    const t = schema.tables[0]!
    expect(t.name).toBe('orders')
    expect(t.columns.map((c) => [c.name, c.type.kind])).toEqual([
      ['id', 'int32'],
      ['total', 'decimal'],
      ['placed', 'timestamp'],
      ['paid', 'boolean'],
      ['note', 'text'],
    ])
    const { rows, rejected } = await readAll(connection, t, 2)
    expect(rows).toEqual([
      [1, '10.50', '2020-01-02 10:00:00', true, 'first\nsecond line'],
      [2, '3.00', '2020-01-03 11:30:00', false, null],
      [5, '7.75', '2020-01-05 00:00:00', false, 'y'],
    ])
    expect(rejected.map((e) => [e.code, e.key, e.column])).toEqual([
      ['type_conversion', 'line 5', 'placed'],
      ['malformed_record', 'line 6', undefined],
      ['malformed_record', 'line 8', undefined],
    ])
  })

  it('reads a UTF-8 file with a BOM, a UTF-16LE file, and cp1252 when told (or via fallbackEncoding)', async () => {
    const dir = tmp()
    const body = 'name,city\nMédecins,Zürich\n"Ünïcödé, “quoted”",€\n'
    writeFileSync(join(dir, 'bom.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body, 'utf8')]))
    writeFileSync(join(dir, 'wide.csv'), iconv.encode(body, 'utf16le', { addBOM: true }))
    writeFileSync(join(dir, 'wide_nobom.csv'), iconv.encode(body, 'utf16le'))
    const expected = [
      ['Médecins', 'Zürich'],
      ['Ünïcödé, “quoted”', '€'],
    ]
    for (const name of ['bom', 'wide', 'wide_nobom']) {
      const { conn, table } = await openTable(`csv:${dir}`, name)
      expect(table.columns.map((c) => c.name)).toEqual(['name', 'city'])
      expect((await readAll(conn, table)).rows).toEqual(expected)
    }
    const legacy = tmp()
    writeFileSync(join(legacy, 'old.csv'), iconv.encode(body, 'cp1252'))
    await expect((await connect(`csv:${legacy}`)).connection.introspect()).rejects.toThrow(/encoding=cp1252/)
    const told = await openTable(`csv:${legacy}?encoding=cp1252`, 'old')
    expect((await readAll(told.conn, told.table)).rows).toEqual(expected)
    const fb = await csv.connect(`csv:${legacy}`, { fallbackEncoding: 'cp1252' })
    const t = (await fb.introspect()).tables[0]!
    expect((await readAll(fb, t)).rows).toEqual(expected)
  })

  it('rejects rows with bytes that are not UTF-8 past the sniffed start, and never flags a character split by a chunk', async () => {
    const dir = tmp()
    // 1 MiB of ASCII-and-é rows, with one é straddling the reader's 1 MiB chunk boundary
    const head = Buffer.from('id,name\n', 'utf8')
    const rows: Buffer[] = [head]
    let size = head.length
    let id = 0
    while (size < (1 << 20) - 40) {
      const r = Buffer.from(`${++id},Médecins ${'x'.repeat(20)}\n`, 'utf8')
      rows.push(r)
      size += r.length
    }
    const prefix = `${++id},`
    const pad = (1 << 20) - 1 - size - prefix.length // the 2-byte é starts at offset 1 MiB - 1
    const straddle = Buffer.from(`${prefix}${'y'.repeat(pad)}é!\n`, 'utf8')
    expect(size + Buffer.byteLength(prefix) + pad).toBe((1 << 20) - 1)
    rows.push(straddle)
    rows.push(Buffer.concat([Buffer.from(`${++id},caf`), Buffer.from([0xe9]), Buffer.from('\n')])) // cp1252 é: invalid UTF-8
    rows.push(Buffer.from(`${++id},fine\n`))
    writeFileSync(join(dir, 'big.csv'), Buffer.concat(rows))
    const { conn, table } = await openTable(`csv:${dir}`, 'big')
    const { rows: got, rejected } = await readAll(conn, table, 50_000)
    expect(got.length).toBe(id - 1)
    expect(got.find((r) => r[0] === id - 2)![1]).toBe(`${'y'.repeat(pad)}é!`)
    expect(rejected.map((e) => [e.code, e.key])).toEqual([['invalid_encoding', `line ${id}`]])
  })

  it('reads a single file with ; delimiter, no header, and \\N NULLs', async () => {
    const dir = tmp()
    const file = join(dir, 'people.csv')
    writeFileSync(file, '1;Ann;\\N\r\n2;"Bo;b";\r\n')
    const { conn, table } = await openTable(`csv:${file}?delimiter=;&header=false&null=\\N`, 'people')
    expect(table.columns.map((c) => c.name)).toEqual(['c1', 'c2', 'c3'])
    expect((await readAll(conn, table)).rows).toEqual([
      [1, 'Ann', null],
      [2, 'Bo;b', ''],
    ])
  })
})

describe('csv target', () => {
  it('round-trips awkward values exactly through ferry (csv → csv), with types kept by the sidecar', async () => {
    const src = tmp()
    const nasty = 'line1\r\nline2\n"quoted", comma; semi\ttab'
    writeFileSync(
      join(src, 'things.csv'),
      'id,label,amount,blob,flag,at\n' +
        `1,"${nasty.replace(/"/g, '""')}",1.10,\\x00ff,true,2021-05-06 07:08:09.5\n` +
        '2,"",,,,\n' +
        '3,\\N,-0.5,\\x,false,2021-05-06\n',
    )
    const a = tmp()
    const b = tmp()
    const types = { 'things.blob': { kind: 'bytes' } } as const
    const first = await ferry({ from: await csv.connect({ path: src, types }), to: `csv:${a}` })
    expect(first.ok).toBe(true)
    expect(first.tables[0]).toMatchObject({ read: 3, written: 3, rejected: 0 })
    expect(existsSync(join(a, 'dbferry.schema.json'))).toBe(true)
    const second = await ferry({ from: `csv:${a}`, to: `csv:${b}` })
    expect(second.ok).toBe(true)
    expect(readFileSync(join(b, 'things.csv'), 'utf8')).toBe(readFileSync(join(a, 'things.csv'), 'utf8'))
    const { conn, table } = await openTable(`csv:${b}`, 'things')
    expect(table.columns.map((c) => c.type.kind)).toEqual(['int32', 'text', 'decimal', 'bytes', 'boolean', 'timestamp'])
    const { rows } = await readAll(conn, table)
    expect(rows[0]).toEqual([1, nasty, '1.10', Buffer.from([0, 255]), true, '2021-05-06 07:08:09.5'])
    expect(rows[1]).toEqual([2, '', null, null, null, null])
    expect(rows[2]).toEqual([3, '\\N', '-0.5', Buffer.alloc(0), false, '2021-05-06 00:00:00'])
  })

  it('writes UTF-16 and cp1252 with the options asked for, and refuses to overwrite in create mode', async () => {
    const src = tmp()
    writeFileSync(join(src, 't.csv'), 'name\nMédecins €\n')
    const out = tmp()
    mkdirSync(join(out, 'w'))
    const r = await ferry({ from: `csv:${src}`, to: `csv:${join(out, 'w')}?encoding=utf16le&sidecar=false` })
    expect(r.ok).toBe(true)
    const bytes = readFileSync(join(out, 'w', 't.csv'))
    expect([...bytes.subarray(0, 2)]).toEqual([0xff, 0xfe])
    expect(iconv.decode(bytes, 'utf16le')).toBe('name\nMédecins €\n')
    const r2 = await ferry({ from: `csv:${src}`, to: `csv:${join(out, 'w')}?encoding=cp1252` , mode: 'truncate'})
    expect(r2.ok).toBe(true)
    expect(readFileSync(join(out, 'w', 't.csv'))).toEqual(iconv.encode('name\nMédecins €\n', 'cp1252'))
    // a run that cannot start throws its typed error
    await expect(ferry({ from: `csv:${src}`, to: `csv:${join(out, 'w')}` })).rejects.toMatchObject({ name: 'SchemaError', code: 'target_exists', table: 't' })
  })
})
