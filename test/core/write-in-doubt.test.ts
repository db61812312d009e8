import { describe, expect, it } from 'vitest'
import type { Connection, ReadBatch, TableWriter } from '../../src/dialect.js'
import { ConnectionError } from '../../src/errors.js'
import type { Checkpoint } from '../../src/journal/journal.js'
import { copyTable, emptyTableReport } from '../../src/pipeline/copy-table.js'
import { resumeState } from '../../src/pipeline/resume.js'
import { loadEngine } from '../../src/registry.js'
import type { Row, TableSchema } from '../../src/schema/types.js'

const table: TableSchema = {
  name: 't',
  columns: [
    { name: 'id', type: { kind: 'int64' }, nativeType: '', nullable: false },
    { name: 'v', type: { kind: 'text' }, nativeType: '', nullable: true },
  ],
  primaryKey: { columns: ['id'] },
  uniques: [],
  indexes: [],
  foreignKeys: [],
}

const batch = (from: number, n: number): ReadBatch => {
  const rows: Row[] = Array.from({ length: n }, (_, i) => [from + i, `v${from + i}`])
  return { rows, rejected: [], lastKey: [from + n - 1] }
}

/**
 * A target whose connection is lost during its second write — after the server may have committed it, as when
 * the server is killed between the COMMIT and its answer — and whose abort has nothing to do.
 */
async function fakeEnds(): Promise<{ source: Connection; target: Connection }> {
  const dialect = await loadEngine('postgres')
  let writes = 0
  const writer: TableWriter = {
    async write(rows) {
      if (++writes === 2) throw new ConnectionError('lost the connection while copying t', { table: 't' })
      return { written: rows.length, rejected: [] }
    },
    async close() {},
    async abort() {},
  }
  const source = {
    dialect,
    description: 'fake source',
    async *read() {
      yield batch(1, 100)
      yield batch(101, 100)
      yield batch(201, 100)
    },
  } as unknown as Connection
  const target = { dialect, description: 'fake target', openWriter: async () => writer } as unknown as Connection
  return { source, target }
}

describe('a write whose outcome is in doubt', () => {
  it('a connection lost under a write keeps its intent checkpoint, so resume can count what the target committed', async () => {
    const { source, target } = await fakeEnds()
    const checkpoints: Checkpoint[] = []
    const report = emptyTableReport({ source: table, target: table })
    await expect(
      copyTable(
        { source, target, batchRows: 100, batchBytes: 1 << 20, maxExamples: 5, fit: {}, transformers: [], checkpoint: async (cp) => void checkpoints.push(cp), passThrough: false },
        { source: table, target: table },
        report,
        undefined,
      ),
    ).rejects.toBeInstanceOf(ConnectionError)
    const last = checkpoints.at(-1)!
    // the intent for rows 101..200 stands: with the server having committed them, resume finds 200 rows and goes on after 200
    expect(last.written).toBe(100)
    expect(resumeState('t', last, 200)).toMatchObject({ after: [200], carried: { written: 200 } })
    expect(resumeState('t', last, 100)).toMatchObject({ after: [100], carried: { written: 100 } })
  })
})
