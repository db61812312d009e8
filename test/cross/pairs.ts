import { describe, it } from 'vitest'
import { harnesses } from './harness.js'
import { crossSuite } from './suite.js'

/** Registers the suite for every pair whose source is `sourceName`, against every available target. */
export async function pairsFrom(sourceName: string): Promise<void> {
  const all = await harnesses()
  const source = all.find((h) => h.name === sourceName)
  if (!source) {
    describe.skip(`${sourceName} → *`, () => {
      it(`skipped: ${sourceName} is not available in this run`, () => {})
    })
    return
  }
  for (const target of all) crossSuite(source, target)
}
