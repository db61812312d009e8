import { describe, expect, it } from 'vitest'
import { groupStages, orderTables } from '../../src/plan/order.js'
import type { TableSchema } from '../../src/schema/types.js'

function table(name: string, parents: string[] = []): TableSchema {
  return {
    name,
    columns: [{ name: 'id', type: { kind: 'int32' }, nativeType: '', nullable: false }],
    primaryKey: { columns: ['id'] },
    uniques: [],
    indexes: [],
    foreignKeys: parents.map((p) => ({ columns: [`${p}_id`], refTable: p, refColumns: ['id'], origin: 'source' as const })),
  }
}

describe('orderTables', () => {
  it('orders a chain parents first, one stage each', () => {
    const o = orderTables({ tables: [table('c', ['b']), table('b', ['a']), table('a')] })
    expect(o.order).toEqual(['a', 'b', 'c'])
    expect(o.stages).toEqual([['a'], ['b'], ['c']])
    expect(o.deferred).toEqual([])
  })

  it('puts a diamond\'s two middles in one stage', () => {
    const o = orderTables({ tables: [table('d', ['b', 'c']), table('b', ['a']), table('c', ['a']), table('a')] })
    expect(o.stages).toEqual([['a'], ['b', 'c'], ['d']])
  })

  it('does not let a self-reference block its table, and reports it', () => {
    const o = orderTables({ tables: [table('person', ['person'])] })
    expect(o.order).toEqual(['person'])
    expect(o.deferred).toHaveLength(1)
    expect(o.deferred[0]).toMatchObject({ table: 'person', reason: 'self_reference' })
  })

  it('breaks a two-table cycle by deferring one key', () => {
    const o = orderTables({ tables: [table('a', ['b']), table('b', ['a']), table('c', ['a'])] })
    expect(o.order).toHaveLength(3)
    expect(o.deferred).toHaveLength(1)
    expect(o.deferred[0]!.reason).toBe('cycle')
    // c depends on a, so it comes after a
    expect(o.order.indexOf('c')).toBeGreaterThan(o.order.indexOf('a'))
    // the other edge of the cycle is honoured by the order
    const d = o.deferred[0]!
    const kept = d.table === 'a' ? ['a', 'b'] : ['b', 'a']
    expect(o.order.indexOf(kept[0]!)).toBeLessThan(o.order.indexOf(kept[1]!))
  })

  it('orders a table with no key and no references with the first stage', () => {
    const lonely: TableSchema = { ...table('log'), primaryKey: undefined }
    const o = orderTables({ tables: [table('b', ['a']), lonely, table('a')] })
    expect(o.stages[0]).toEqual(['log', 'a'])
  })

  it('ignores references to tables outside the run', () => {
    const o = orderTables({ tables: [table('b', ['missing'])] })
    expect(o.order).toEqual(['b'])
  })

  it('groups stages into N files with parents in earlier groups', () => {
    const o = orderTables({
      tables: [table('a'), table('b', ['a']), table('c', ['b']), table('d', ['c']), table('e', ['d']), table('x')],
    })
    const groups = groupStages(o, 3)
    expect(groups).toHaveLength(3)
    expect(groups.flat().sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'x'])
    const groupOf = (t: string) => groups.findIndex((g) => g.includes(t))
    for (const [child, parent] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd']]) {
      expect(groupOf(child!)).toBeGreaterThanOrEqual(groupOf(parent!))
    }
  })
})
