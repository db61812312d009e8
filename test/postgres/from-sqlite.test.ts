import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type pg from 'pg'
import { buildFixture } from '../../fixtures/fixture.js'
import { typesFixture } from '../../fixtures/types.js'
import { ferry } from '../../src/ferry.js'
import { freshPostgres, pgUp, readAll, tableOf } from './helpers.js'

describe.skipIf(!pgUp)('sqlite → postgres through ferry()', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dbferry-pg-sqlite-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('moves the types fixture: NUL text rejected with its own kind, every other value exact', async () => {
    const file = join(dir, 'types.db')
    await buildFixture(typesFixture, `sqlite:${file}`)
    const env = await freshPostgres('pgfromsqlite')
    try {
      const report = await ferry({ from: `sqlite:${file}`, to: env.db.url })
      expect(report.error).toBeUndefined()
      const t = report.tables[0]!
      expect([t.read, t.written, t.rejected]).toEqual([7, 6, 1])
      expect(t.byKind).toEqual({ nul_in_text: 1 })
      const table = await tableOf(env.conn, 'types_all')
      const { rows } = await readAll(env.conn, table)
      const col = (name: string) => table.columns.findIndex((c) => c.name === name)
      const r2 = rows.find((r) => r[0] === 2)!
      expect(r2[col('txt')]).toBe(typesFixture.tables[0]!.rows[1]![col('txt')])
      expect(r2[col('i64')]).toBe(9223372036854775807n)
      expect(r2[col('ts')]).toBe('9999-12-31 23:59:59.999999')
      expect(r2[col('tstz')]).toBe('2024-02-29 12:34:56.123456+00:00')
      expect(Buffer.compare(r2[col('byt')] as Buffer, Buffer.from([0, 1, 2, 254, 255, 10, 13, 9, 92]))).toBe(0)
      const r3 = rows.find((r) => r[0] === 3)!
      expect(r3[col('f32')]).toBe(Infinity)
      expect(Number.isNaN(r3[col('f64')])).toBe(true)
      const c = (env.conn as unknown as { client: pg.Client }).client
      const types = await c.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'types_all' ORDER BY ordinal_position`)
      expect(types.rows.find((x) => x.column_name === 'j').data_type).toBe('jsonb')
      expect(types.rows.find((x) => x.column_name === 'u').data_type).toBe('uuid')
    } finally {
      await env.done()
    }
  })
})
