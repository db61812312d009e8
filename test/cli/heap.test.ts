import { describe, expect, it } from 'vitest'
import { boundHeapGrowth, HEAP_GROWING_PERCENT } from '../../src/cli/heap.js'

describe('the CLI bounds V8 heap growth', () => {
  it('sets --heap-growing-percent when the user chose none', () => {
    const set: string[] = []
    expect(boundHeapGrowth([], '', (f) => set.push(f))).toBe(true)
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`])
  })

  it("keeps the user's own factor, from the command line or NODE_OPTIONS", () => {
    const set: string[] = []
    expect(boundHeapGrowth(['--heap-growing-percent=0'], '', (f) => set.push(f))).toBe(false)
    expect(boundHeapGrowth([], '--max-old-space-size=512 --heap_growing_percent=300', (f) => set.push(f))).toBe(false)
    expect(set).toEqual([])
  })
})
