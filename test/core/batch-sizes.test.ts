import { describe, expect, it } from 'vitest'
import { BATCH_DEFAULTS } from '../../src/options.js'
import { batchSizes } from '../../src/pipeline/jobs.js'
import { loadEngine } from '../../src/registry.js'

describe('batch sizes', () => {
  it('the run option first, then the target engine\'s preferred rows, then the default', () => {
    expect(batchSizes({ from: 'a', to: 'b', batchRows: 300 }, 1, { preferredBatchRows: 10_000 }).batchRows).toBe(300)
    expect(batchSizes({ from: 'a', to: 'b' }, 1, { preferredBatchRows: 10_000 }).batchRows).toBe(10_000)
    expect(batchSizes({ from: 'a', to: 'b' }, 1, {})).toEqual({ batchRows: BATCH_DEFAULTS.rows, batchBytes: BATCH_DEFAULTS.bytes })
    // several jobs share one batch's worth of memory
    expect(batchSizes({ from: 'a', to: 'b' }, 4, { preferredBatchRows: 10_000 }).batchRows).toBe(2_500)
  })

  it('SQL Server loads in batches of 10 000 rows (a staged bulk load pays six round trips a batch); the others take the default', async () => {
    expect((await loadEngine('mssql')).capabilities.preferredBatchRows).toBe(10_000)
    for (const engine of ['postgres', 'mysql', 'sqlite', 'duckdb'] as const) expect((await loadEngine(engine)).capabilities.preferredBatchRows).toBeUndefined()
  })
})
