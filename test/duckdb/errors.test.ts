import { writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { duckdbErrors } from '../../dialects/duckdb/index.js'
import { connect } from '../../src/connect.js'
import { RowError } from '../../src/errors.js'
import type { ColumnSchema, DatabaseSchema, TableSchema } from '../../src/schema/types.js'

// One live provocation per failure kind DuckDB can produce. It cannot produce `truncation`: VARCHAR(n) is
// neither enforced nor kept (the first test shows it), and a DECIMAL rounds extra fraction digits instead of
// refusing them.

/** The error a statement throws (fails the test when it does not throw). */
async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run()
  } catch (error) {
    return error
  }
  throw new Error('the statement did not fail')
}

describe('duckdbErrors.classify, on errors DuckDB really raises', () => {
  let instance: DuckDBInstance
  let c: DuckDBConnection
  let dir: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-duckerr-'))
    instance = await DuckDBInstance.create(':memory:')
    c = await instance.connect()
    await c.run(`CREATE TABLE p (id INTEGER PRIMARY KEY, name VARCHAR(3) NOT NULL, amount DECIMAL(5,2), small TINYINT, positive INTEGER CHECK (positive > 0), code VARCHAR UNIQUE)`)
    await c.run(`CREATE TABLE ch (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id))`)
    await c.run(`INSERT INTO p VALUES (1, 'a', 1, 1, 1, 'x')`)
  })
  afterAll(() => {
    c.closeSync()
    instance.closeSync()
    rmSync(dir, { recursive: true, force: true })
  })

  it('truncation cannot happen: VARCHAR(3) takes six characters', async () => {
    await c.run(`INSERT INTO p VALUES (2, 'abcdef', 1, 1, 1, 'tr')`)
    const r = await c.runAndReadAll('SELECT name FROM p WHERE id = 2')
    expect(r.getRows()).toEqual([['abcdef']])
  })

  it('not_null, with the table and column', async () => {
    const c1 = duckdbErrors.classify(await errorOf(() => c.run(`INSERT INTO p VALUES (3, NULL, 1, 1, 1, 'nn')`)))
    expect(c1).toMatchObject({ kind: 'not_null', connectionLost: false, retryable: false, driver: { code: 'Constraint', table: 'p', column: 'name' } })
    expect(c1!.driver.message).toMatch(/NOT NULL constraint failed/)
  })

  it('duplicate_key, on the primary key and on a unique key, with the key', async () => {
    const pk = duckdbErrors.classify(await errorOf(() => c.run(`INSERT INTO p VALUES (1, 'b', 1, 1, 1, 'dup')`)))
    expect(pk).toMatchObject({ kind: 'duplicate_key', retryable: false, driver: { code: 'Constraint', constraint: 'PRIMARY KEY', column: 'id', detail: 'id: 1' } })
    const uq = duckdbErrors.classify(await errorOf(() => c.run(`INSERT INTO p VALUES (4, 'b', 1, 1, 1, 'x')`)))
    expect(uq).toMatchObject({ kind: 'duplicate_key', driver: { code: 'Constraint', constraint: 'UNIQUE', column: 'code', detail: 'code: x' } })
  })

  it('foreign_key_violation, with the missing key', async () => {
    const fk = duckdbErrors.classify(await errorOf(() => c.run('INSERT INTO ch VALUES (1, 99)')))
    expect(fk).toMatchObject({ kind: 'foreign_key_violation', connectionLost: false, driver: { code: 'Constraint', detail: 'id: 99' } })
  })

  it('check_violation, with the table and the expression', async () => {
    const ck = duckdbErrors.classify(await errorOf(() => c.run(`INSERT INTO p VALUES (5, 'b', 1, 1, -1, 'ck')`)))
    expect(ck).toMatchObject({ kind: 'check_violation', driver: { code: 'Constraint', table: 'p' } })
    expect(ck!.driver.constraint).toMatch(/positive > 0/)
  })

  it('out_of_range, from a cast (Conversion Error) and from arithmetic (Out of Range Error)', async () => {
    const dec = duckdbErrors.classify(await errorOf(() => c.run(`INSERT INTO p VALUES (6, 'b', 12345.6, 1, 1, 'or')`)))
    expect(dec).toMatchObject({ kind: 'out_of_range', driver: { code: 'Conversion' } })
    const tiny = duckdbErrors.classify(await errorOf(() => c.run(`INSERT INTO p VALUES (7, 'b', 1, 300, 1, 'or2')`)))
    expect(tiny).toMatchObject({ kind: 'out_of_range', driver: { code: 'Conversion' } })
    const add = duckdbErrors.classify(await errorOf(() => c.run('SELECT 2147483647::INTEGER + 1')))
    expect(add).toMatchObject({ kind: 'out_of_range', driver: { code: 'Out of Range' } })
  })

  it('invalid_encoding, from bytes that are not UTF-8 (decode, and a CSV file)', async () => {
    const decode = duckdbErrors.classify(await errorOf(() => c.run(`SELECT decode('\\xFF\\xFE'::BLOB)`)))
    expect(decode).toMatchObject({ kind: 'invalid_encoding', driver: { code: 'Conversion' } })
    const file = join(dir, 'latin1.csv')
    writeFileSync(file, Buffer.concat([Buffer.from('name\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])]))
    const csv = duckdbErrors.classify(await errorOf(() => c.run(`SELECT * FROM read_csv('${file}', header = true, columns = {'name': 'VARCHAR'})`)))
    expect(csv).toMatchObject({ kind: 'invalid_encoding', driver: { code: 'Invalid Input' } })
  })

  it('serialization_failure: two transactions updating one row', async () => {
    const a = await instance.connect()
    const b = await instance.connect()
    try {
      await a.run('BEGIN TRANSACTION')
      await b.run('BEGIN TRANSACTION')
      await a.run('UPDATE p SET amount = 2 WHERE id = 1')
      const conflict = duckdbErrors.classify(await errorOf(() => b.run('UPDATE p SET amount = 3 WHERE id = 1')))
      expect(conflict).toMatchObject({ kind: 'serialization_failure', retryable: true, connectionLost: false, driver: { code: 'TransactionContext' } })
    } finally {
      await b.run('ROLLBACK').catch(() => {})
      await a.run('ROLLBACK').catch(() => {})
      a.closeSync()
      b.closeSync()
    }
  })

  it('connection: a connection closed from elsewhere, and an instance that is gone', async () => {
    const d = await instance.connect()
    d.closeSync()
    const closed = duckdbErrors.classify(await errorOf(() => d.run('SELECT 1')))
    expect(closed).toMatchObject({ kind: 'connection', connectionLost: true, retryable: false, driver: { code: 'Failed to query' } })
    const other = await DuckDBInstance.create(':memory:')
    other.closeSync()
    const gone = duckdbErrors.classify(await errorOf(() => other.connect()))
    expect(gone).toMatchObject({ kind: 'connection', connectionLost: true, driver: { code: 'Failed to connect' } })
  })

  it('other engine errors are target_rejected; what is not DuckDB’s is undefined', async () => {
    const catalog = duckdbErrors.classify(await errorOf(() => c.run('SELECT * FROM no_such_table')))
    expect(catalog).toMatchObject({ kind: 'target_rejected', connectionLost: false, retryable: false, driver: { code: 'Catalog' } })
    expect(duckdbErrors.classify(new TypeError('x'))).toBeUndefined()
    expect(duckdbErrors.classify(new Error('something else went wrong'))).toBeUndefined()
    expect(duckdbErrors.classify('Constraint Error: a string, not an error')).toBeUndefined()
  })
})

describe('the writer rejects rows with the classified error and the driver’s fields', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-duckrej-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const col = (name: string, type: ColumnSchema['type'], nullable = true): ColumnSchema => ({ name, type, nativeType: '', nullable })

  it('isolates the refused rows of a batch and writes the rest in one transaction', async () => {
    const table: TableSchema = {
      name: 'people',
      columns: [col('id', { kind: 'int32' }, false), col('name', { kind: 'text' }, false), col('amount', { kind: 'decimal', precision: 5, scale: 2 }), col('mood', { kind: 'text', values: ['happy', 'sad'] })],
      primaryKey: { columns: ['id'] },
      uniques: [],
      indexes: [],
      foreignKeys: [],
    }
    const schema: DatabaseSchema = { dialect: 'fixture', tables: [table], objects: [] }
    const { connection } = await connect(`duckdb:${join(dir, 'rej.duckdb')}`, { create: true })
    try {
      await connection.prepareTarget(schema, { mode: 'create' })
      const writer = await connection.openWriter(table)
      const rows = [
        [1, 'ann', '1.50', 'happy'],
        [2, null, '2.00', 'sad'], // NOT NULL
        [3, 'bob', '3.00', null],
        [1, 'dup', '4.00', null], // duplicate of row 1 within the batch
        [4, 'cy', '123456.00', null], // out of range for DECIMAL(5,2)
        [5, 'di', '5.00', 'angry'], // not a value of the ENUM
        [6, 'ed', '6.00', 'sad'],
      ]
      const result = await writer.write(rows)
      await writer.close()
      expect(result.written).toBe(3)
      expect(result.rejected.map((e) => [e.code, (e.key as { id: number }).id])).toEqual([
        ['not_null', 2],
        ['duplicate_key', 1],
        ['out_of_range', 4],
        ['target_rejected', 5],
      ])
      for (const e of result.rejected) {
        expect(e).toBeInstanceOf(RowError)
        expect(e.driver?.message).toBeTruthy()
        expect(e.driver?.code).toBeTruthy()
      }
      // the Appender's flush errors carry the binding's action, not DuckDB's error type
      expect(result.rejected[0]).toMatchObject({ column: 'name', value: null, driver: { code: 'Failed to append', table: 'people', column: 'name' } })
      // a key repeated inside one transaction is named by its value only
      expect(result.rejected[1]!.driver).toMatchObject({ detail: '1', message: expect.stringMatching(/duplicate key/) })
      const batches = []
      for await (const b of connection.read(table, { batchRows: 100, batchBytes: 1 << 20 })) batches.push(...b.rows)
      expect(batches).toEqual([
        [1, 'ann', '1.50', 'happy'],
        [3, 'bob', '3.00', null],
        [6, 'ed', '6.00', 'sad'],
      ])
    } finally {
      await connection.close()
    }
  })
})
