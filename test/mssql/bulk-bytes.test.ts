import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { mssqlSql } from '../../dialects/mssql/mssql-sql.js'
import type { BulkColumnType } from '../../dialects/mssql/mssql-types.js'
import type { LogicalType, Row } from '../../src/schema/types.js'

/**
 * The writer sizes each bulk load's TDS stream before sending it, to keep its last packet from splitting the
 * closing DONE token (the Babelfish stand-in refuses such a stream and then closes the connection). The sizes
 * must be exactly what tedious sends: checked here against the stream tedious itself encodes (offline, the
 * tedious that `mssql` loads), for every bulk column type, NULLs, empty and long values.
 */

// the tedious that mssql uses (mssql may carry its own copy), and its bulk-load encoder
const fromMssql = createRequire(createRequire(import.meta.url).resolve('mssql'))
const tedious = fromMssql('tedious') as { TYPES: Record<string, unknown> }
type BulkLoadClass = new (table: string, collation: unknown, options: object, bulkOptions: object, callback: () => void) => {
  addColumn(name: string, type: unknown, options: object): void
  rowToPacketTransform: NodeJS.ReadWriteStream
}
const bulkLoadModule = createRequire(fromMssql.resolve('tedious'))('./bulk-load.js') as { default?: BulkLoadClass } & BulkLoadClass
const BulkLoad = bulkLoadModule.default ?? bulkLoadModule

/** The bytes tedious sends for these rows: its own encoder, fed the values the writer makes. */
async function tediousBytes(columns: readonly { name: string; type: BulkColumnType }[], rows: unknown[][]): Promise<number> {
  const bulk = new BulkLoad('#t', undefined, { tdsVersion: '7_4', useUTC: true }, { keepNulls: true }, () => {})
  for (const c of columns) {
    const length = c.type.length === 'max' ? 0xffff : c.type.length
    bulk.addColumn(c.name, tedious.TYPES[c.type.name], { nullable: true, length, precision: c.type.precision, scale: c.type.scale })
  }
  const stream = bulk.rowToPacketTransform
  let n = 0
  stream.on('data', (b: Buffer) => (n += b.length))
  const done = new Promise((resolve) => stream.on('end', resolve))
  for (const r of rows) stream.write(r as never)
  stream.end()
  await done
  return n
}

const types: [string, LogicalType, Row[number][]][] = [
  ['b', { kind: 'boolean' }, [true, false, null]],
  ['i16', { kind: 'int16' }, [-5, null]],
  ['i32', { kind: 'int32' }, [123456, null]],
  ['i64', { kind: 'int64' }, ['9007199254740993', 1, null]],
  ['d9', { kind: 'decimal', precision: 9, scale: 2 }, ['1234.56', null]],
  ['d18', { kind: 'decimal', precision: 18, scale: 4 }, ['-12.5', null]],
  ['d28', { kind: 'decimal', precision: 28, scale: 0 }, ['7', null]],
  ['d38', { kind: 'decimal', precision: 38, scale: 0 }, ['7', null]],
  ['f32', { kind: 'float32' }, [1.5, null]],
  ['f64', { kind: 'float64' }, [Math.PI, null]],
  ['t10', { kind: 'text', length: 10 }, ['abc', '', 'é€😀', null]],
  ['tmax', { kind: 'text' }, ['x'.repeat(9000), '', 'Zoë', null]],
  ['js', { kind: 'json' }, ['{"a":1}', null]],
  ['by8', { kind: 'bytes', length: 8 }, [new Uint8Array([1, 2, 3]), new Uint8Array(0), null]],
  ['bymax', { kind: 'bytes' }, [new Uint8Array(10_000), new Uint8Array(0), null]],
  ['dt', { kind: 'date' }, ['2024-02-29', null]],
  ['tm0', { kind: 'time', precision: 0 }, ['12:34:56', null]],
  ['tm3', { kind: 'time', precision: 3 }, ['12:34:56.789', null]],
  ['tm7', { kind: 'time' }, ['12:34:56.1234567', null]],
  ['ts2', { kind: 'timestamp', precision: 2 }, ['2024-01-02 03:04:05.12', null]],
  ['ts6', { kind: 'timestamp', precision: 6 }, ['2024-01-02 03:04:05.123456', null]],
  ['tz', { kind: 'timestamptz' }, ['2024-01-02 03:04:05.1234567+02:00', null]],
  ['tz4', { kind: 'timestamptz', precision: 4 }, ['2024-01-02 03:04:05.1234+00:00', null]],
  ['uid', { kind: 'uuid' }, ['6f9619ff-8b86-d011-b42d-00c04fc964ff', null]],
]

describe('SQL Server bulk-load stream sizes', () => {
  it('every bulk column type: frame and rows are the bytes tedious sends', async () => {
    for (const [name, type, values] of types) {
      const bulkType = mssqlSql.bulkColumns({ name: 't', columns: [{ name, type, nativeType: '', nullable: true }], uniques: [], indexes: [], foreignKeys: [] })[0]!.type
      const columns = [{ name: `${name}_column`, type: bulkType }]
      const encoded = values.map((v) => [mssqlSql.bulkValue(v, type)])
      const frame = mssqlSql.bulkFrameBytes(columns)
      const rows = encoded.map((r) => 1 + mssqlSql.bulkValueBytes(bulkType, r[0])!)
      expect(frame, name).toBeDefined()
      expect(frame! + rows.reduce((a, b) => a + b, 0), name).toBe(await tediousBytes(columns, encoded))
    }
  })

  it('a load is split only when its last packet would be short, and the parts cover every row in order', () => {
    const rows = Array.from({ length: 1000 }, () => 40)
    // 100 + 1000 × 40 = 40 100 bytes: 40 100 mod 4 088 = 3 308, safe
    expect(mssqlSql.bulkParts(100, rows)).toEqual([[0, 1000]])
    // frame chosen so that the whole stream leaves 7 bytes in its last packet: split in halves
    const frame = 4088 * 10 + 7 - 40_000
    const parts = mssqlSql.bulkParts(frame, rows)
    expect(parts.length).toBeGreaterThan(1)
    expect(parts[0]![0]).toBe(0)
    expect(parts.at(-1)![1]).toBe(1000)
    for (let i = 1; i < parts.length; i++) expect(parts[i]![0]).toBe(parts[i - 1]![1])
    for (const [start, end] of parts) {
      const bytes = frame + rows.slice(start, end).reduce((a, b) => a + b, 0)
      expect(bytes % 4088 === 0 || bytes % 4088 >= 23).toBe(true)
    }
  })
})
