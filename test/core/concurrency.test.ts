import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { ferry } from '../../src/ferry.js'
import { harnesses } from '../cross/harness.js'

const ROWS = 2_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-concurrency-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fixture: Fixture = {
  name: 'independent',
  tables: ['t1', 't2', 't3'].map((name) => ({
    name,
    columns: [
      { name: 'id', type: { kind: 'int64' }, nullable: false },
      { name: 'v', type: { kind: 'text' } },
    ],
    primaryKey: ['id'],
    rows: Array.from({ length: ROWS }, (_, i) => [i + 1, `${name} ${i + 1}`]),
  })),
}

const targets = (await harnesses()).filter((h) => h.name !== 'mssql')

describe('concurrency', () => {
  const source = join(dir, 'source.db')
  beforeAll(() => buildFixture(fixture, `sqlite:${source}`))
  for (const target of targets) {
    const parallel = target.dialect.capabilities.concurrentWrites === true
    it(`into ${target.name}: tables ${parallel ? 'interleave' : 'run one after another (the target shares one transaction)'}, every row written`, async () => {
      const dst = await target.create()
      try {
        const batches: string[] = []
        const report = await ferry({
          from: `sqlite:${source}`,
          to: dst.url,
          concurrency: 3,
          batchRows: 200,
          onProgress: (e) => {
            if (e.type === 'batch') batches.push(e.table)
          },
        })
        expect(report.error).toBeUndefined()
        expect(report.tables.map((t) => [t.name, t.read, t.written])).toEqual([
          ['t1', ROWS, ROWS],
          ['t2', ROWS, ROWS],
          ['t3', ROWS, ROWS],
        ])
        const switches = batches.filter((t, i) => i > 0 && t !== batches[i - 1]).length
        if (parallel) expect(switches).toBeGreaterThan(2)
        else expect(switches).toBe(2)
      } finally {
        await dst.drop()
      }
    }, 60_000)
  }
})
