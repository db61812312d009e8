import { describe, it } from 'vitest'
import { harnesses } from './harness.js'
import { crossSuite } from './suite.js'

// The pairs from SQL Server run side by side: every pair builds its own source and target databases, and most
// of a pair's time is spent waiting on the stand-in (Babelfish) reading its catalog, so one pair after the
// other left the cores idle. Within a pair the tests stay in order (the reload test reuses the first copy's
// target): each pair sits in a concurrent suite of its own, holding a sequential one.
const all = await harnesses()
const source = all.find((h) => h.name === 'mssql')
if (!source) {
  describe.skip('mssql → *', () => {
    it('skipped: mssql is not available in this run', () => {})
  })
} else {
  for (const target of all) {
    // side by side, a test that takes 15 s alone takes up to a minute: the pairs share the stand-in and the cores
    describe.concurrent(`mssql → ${target.name}, beside the other pairs`, { timeout: 180_000 }, () => {
      describe.sequential('in order', () => crossSuite(source, target))
    })
  }
}
