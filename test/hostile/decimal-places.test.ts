import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteDialect } from '../../dialects/sqlite/index.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import { makeRowFitter, roundDecimal, type FitFix } from '../../src/pipeline/fit-rows.js'
import type { RowError } from '../../src/errors.js'
import type { TableSchema } from '../../src/schema/types.js'
import { targetKinds } from './targets.js'

// a numeric(10,2) column of SQLite binds no scale: it holds 12.345 as it was written
const dir = mkdtempSync(join(tmpdir(), 'dbferry-places-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function priceFile(name: string): string {
  const file = join(dir, `${name}.db`)
  const db = new Database(file)
  db.exec('CREATE TABLE prices (id INTEGER PRIMARY KEY, amount NUMERIC(10,2))')
  const insert = db.prepare('INSERT INTO prices VALUES (?, ?)')
  insert.run(1, 12.345)
  insert.run(2, 1.5)
  insert.run(3, -0.005)
  db.close()
  return `sqlite:${file}`
}

async function amounts(url: string): Promise<Record<number, unknown>> {
  const { connection } = await connect(url)
  try {
    const schema = await connection.introspect()
    const out: Record<number, unknown> = {}
    for await (const b of connection.read(schema.tables.find((t) => t.name === 'prices')!, { batchRows: 100, batchBytes: 1 << 20 })) {
      for (const r of b.rows) out[Number(r[0])] = r[1] === null ? null : Number(r[1])
    }
    return out
  } finally {
    await connection.close()
  }
}

describe('decimal places past the target column scale', async () => {
  for (const target of (await targetKinds()).filter((t) => t.available)) {
    it(`sqlite → ${target.name}: 12.345 and -0.005 in numeric(10,2) are truncation rejects naming the value; 1.5 fits`, async () => {
      const src = priceFile(`reject-${target.name}`)
      const db = await target.create()
      const journal = new MemoryJournal()
      try {
        const report = await ferry({ from: src, to: db.url, journal })
        const t = report.tables.find((x) => x.name === 'prices')!
        expect(t).toMatchObject({ status: 'done', read: 3, written: 1, rejected: 2, byKind: { truncation: 2 } })
        const rejects = journal.entries.filter((e) => e.action === 'rejected')
        expect(rejects.map((e) => [e.key, e.column, e.kind])).toEqual([
          ['{"id":1}', 'amount', 'truncation'],
          ['{"id":3}', 'amount', 'truncation'],
        ])
        expect(rejects[0]!.message).toContain('prices.amount: 12.345 has more than 2 decimal places')
        expect(rejects[1]!.message).toContain('-0.005')
        expect(await amounts(db.url)).toEqual({ 2: 1.5 })
      } finally {
        await db.drop()
      }
    })
  }

  for (const target of (await targetKinds()).filter((t) => t.available)) {
    it(`sqlite → ${target.name} with decimals: 'round': every row written, rounded half away from zero, each rounding a fix`, async () => {
      const src = priceFile(`round-${target.name}`)
      const db = await target.create()
      const journal = new MemoryJournal()
      try {
        const report = await ferry({ from: src, to: db.url, journal, decimals: 'round' })
        const t = report.tables.find((x) => x.name === 'prices')!
        expect(t).toMatchObject({ status: 'done', read: 3, written: 3, rejected: 0, fixed: { amount: 2 } })
        expect(journal.entries.filter((e) => e.action === 'fixed').map((e) => e.key)).toEqual(['{"id":1}', '{"id":3}'])
        expect(await amounts(db.url)).toEqual({ 1: 12.35, 2: 1.5, 3: -0.01 })
      } finally {
        await db.drop()
      }
    })
  }

  it('plan lists the rejects before a copy', async () => {
    const { plan } = await import('../../src/plan/plan.js')
    const p = await plan({ from: priceFile('plan'), to: 'postgres://x@127.0.0.1/none' })
    const issue = p.preflight.find((i) => i.kind === 'truncation')
    expect(issue).toMatchObject({ table: 'prices', column: 'amount', count: 2 })
    expect(issue!.examples.map((e) => e.value)).toEqual(['12.345', '-0.005'])
  })
})

describe("decimals: 'round' rounds half away from zero and counts each rounding", () => {
  const table: TableSchema = {
    name: 'prices',
    columns: [
      { name: 'id', type: { kind: 'int64' }, nativeType: 'INTEGER', nullable: false },
      { name: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 }, nativeType: 'NUMERIC(10,2)', nullable: true },
    ],
    primaryKey: { columns: ['id'] },
    uniques: [],
    indexes: [],
    foreignKeys: [],
  }

  it('rounds the digits exactly', () => {
    expect(roundDecimal('12.345', 2)).toBe('12.35')
    expect(roundDecimal('-0.005', 2)).toBe('-0.01')
    expect(roundDecimal('-0.004', 2)).toBe('0.00')
    expect(roundDecimal('1.994', 2)).toBe('1.99')
    expect(roundDecimal('99.995', 2)).toBe('100.00')
    expect(roundDecimal('2.5', 0)).toBe('3')
    expect(roundDecimal('1.5', 2)).toBe('1.5')
  })

  // the rule sits where rows are fitted to the target: the same for every target's capabilities
  for (const name of ['sqlite', 'postgres', 'mysql']) {
    it(`into a ${name}-like target: rounded values, one fix each with the value as it was, a value that no longer fits rejected`, () => {
      const caps = { ...sqliteDialect.capabilities, maxTimestampPrecision: name === 'sqlite' ? 9 : 6 }
      const fit = makeRowFitter(table, table, caps, { decimals: 'round' })!
      const fixes: FitFix[] = []
      const problems: RowError[] = []
      const rows = [[1, '12.345'], [2, '1.5'], [3, '-0.005'], [4, '99999999.995']].map((r) => fit(r.slice(), (e) => problems.push(e), (_c, f) => fixes.push(f!)))
      expect(rows).toEqual([[1, '12.35'], [2, '1.5'], [3, '-0.01'], undefined])
      expect(fixes.map((f) => [f.kind, f.key, f.value])).toEqual([
        ['decimal_rounded', { id: 1 }, '12.345'],
        ['decimal_rounded', { id: 3 }, '-0.005'],
      ])
      expect(fixes[0]!.message).toContain('half away from zero')
      expect(problems.map((e) => [e.code, e.column, e.value])).toEqual([['out_of_range', 'amount', '99999999.995']])
      // the default rejects
      const strict = makeRowFitter(table, table, caps)!
      const rejected: RowError[] = []
      expect(strict([1, '12.345'], (e) => rejected.push(e), () => {})).toBeUndefined()
      expect(rejected[0]).toMatchObject({ code: 'truncation', column: 'amount', value: '12.345' })
    })
  }
})
