import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FixtureTable } from '../../fixtures/fixture.js'
import { transforms as t } from '../../src/transforms/index.js'
import { copy, rowsOf, sqliteSource, tableReport, tempDir } from './helpers.js'

const sector: FixtureTable = {
  name: 'sector',
  columns: [
    { name: 'id', type: { kind: 'int32' }, nullable: false },
    { name: 'name', type: { kind: 'text', length: 40 }, nullable: false },
    { name: 'code', type: { kind: 'int32' }, nullable: false },
  ],
  primaryKey: ['id'],
  uniques: [['name']],
  rows: [
    [1, 'Health', 10],
    [2, 'Food', 20],
  ],
}
const org = (nullable: boolean): FixtureTable => ({
  name: 'org',
  columns: [
    { name: 'id', type: { kind: 'int32' }, nullable: false },
    { name: 'sector_id', type: { kind: 'int32' }, nullable },
  ],
  primaryKey: ['id'],
  rows: [
    [1, 1],
    [2, 14],
    [3, 2],
    [4, 15],
    [5, 14],
    [6, nullable ? null : 1],
  ],
})
// the source declares no foreign key: it comes from the options, as for SQLite files and MyISAM
const FK = [{ from: 'org.sector_id', to: 'sector.id' }]

describe('fixDanglingForeignKeys', () => {
  let tmp: ReturnType<typeof tempDir>
  let from: string
  beforeEach(async () => {
    tmp = tempDir()
    from = await sqliteSource(tmp.path('src.db'), [sector, org(true)])
  })
  afterEach(() => tmp.cleanup())

  it('stub: inserts placeholder parents before the children, journaled as inserted', async () => {
    const to = tmp.path('d.db')
    const { report, journal } = await copy(from, to, {
      foreignKeys: FK,
      transforms: [t.fixDanglingForeignKeys({ strategy: 'stub', stub: (key) => ({ name: `Unknown sector ${String(key)}` }) })],
    })
    expect(report.ok).toBe(true)
    expect(report.constraints).toEqual([])
    expect(rowsOf(to, 'sector', 'id')).toEqual([
      { id: 1, name: 'Health', code: 10 },
      { id: 2, name: 'Food', code: 20 },
      { id: 14, name: 'Unknown sector 14', code: 0 },
      { id: 15, name: 'Unknown sector 15', code: 0 },
    ])
    expect(rowsOf(to, 'org').map((r) => r.sector_id)).toEqual([1, 14, 2, 15, 14, null])
    const s = tableReport(report, 'sector')
    expect([s.read, s.inserted, s.written]).toEqual([2, 2, 4])
    const inserted = journal.entries.filter((e) => e.action === 'inserted')
    expect(inserted.map((e) => [e.table, JSON.parse(e.row!).id])).toEqual([
      ['sector', 14],
      ['sector', 15],
    ])
    expect(inserted[0]!.message).toContain('org.sector_id = 14 (first referencing row {"id":2})')
  })

  it('stub without a function fills NOT NULL columns with placeholders', async () => {
    const to = tmp.path('d.db')
    const { report } = await copy(from, to, { foreignKeys: FK, transforms: [t.fixDanglingForeignKeys({ strategy: 'stub' })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'sector', 'id').slice(2)).toEqual([
      { id: 14, name: '(stub for missing sector 14)', code: 0 },
      { id: 15, name: '(stub for missing sector 15)', code: 0 },
    ])
  })

  it('null: sets nullable columns to NULL, journaled as fixes', async () => {
    const to = tmp.path('d.db')
    const { report, journal } = await copy(from, to, { foreignKeys: FK, transforms: [t.fixDanglingForeignKeys({ strategy: 'null' })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'org').map((r) => r.sector_id)).toEqual([1, null, 2, null, null, null])
    expect(tableReport(report, 'org').fixed).toEqual({ sector_id: 3 })
    const fixes = journal.entries.filter((e) => e.action === 'fixed')
    expect(fixes.map((f) => f.key)).toEqual(['{"id":2}', '{"id":4}', '{"id":5}'])
    expect(fixes[0]!.message).toContain('sector has no id 14')
  })

  it('null on a NOT NULL column falls back to drop', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [sector, org(false)])
      const to = tmp2.path('d.db')
      const { report, journal } = await copy(src, to, { foreignKeys: FK, transforms: [t.fixDanglingForeignKeys({ strategy: 'null' })] })
      expect(report.ok).toBe(true)
      expect(rowsOf(to, 'org').map((r) => r.id)).toEqual([1, 3, 6])
      expect(tableReport(report, 'org').byKind).toEqual({ dangling_foreign_key: 3 })
      expect(journal.entries.filter((e) => e.action === 'dropped')[0]!.message).toContain('NOT NULL, so the row was dropped')
    } finally {
      tmp2.cleanup()
    }
  })

  it('drop: the child rows go to the journal', async () => {
    const to = tmp.path('d.db')
    const { report, journal } = await copy(from, to, { foreignKeys: FK, transforms: [t.fixDanglingForeignKeys({ strategy: 'drop' })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'org').map((r) => r.id)).toEqual([1, 3, 6])
    const o = tableReport(report, 'org')
    expect([o.read, o.written, o.dropped]).toEqual([6, 3, 3])
    const dropped = journal.entries.filter((e) => e.action === 'dropped')
    expect(dropped.map((d) => [d.key, d.kind, d.column])).toEqual([
      ['{"id":2}', 'dangling_foreign_key', 'sector_id'],
      ['{"id":4}', 'dangling_foreign_key', 'sector_id'],
      ['{"id":5}', 'dangling_foreign_key', 'sector_id'],
    ])
  })

  it('fail: stops the run and lists the dangling rows', async () => {
    const { report } = await copy(from, tmp.path('d.db'), { foreignKeys: FK, transforms: [t.fixDanglingForeignKeys({ strategy: 'fail' })] })
    expect(report.ok).toBe(false)
    expect(report.error?.code).toBe('dangling_foreign_key')
    expect(report.error?.message).toContain('fixDanglingForeignKeys(fail)')
    expect(report.error?.message).toContain('3 rows of org point at missing parents')
    expect(report.error?.message).toContain('org {"id":2} sector_id=14 → sector')
  })

  it('per-foreign-key strategies', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [
        sector,
        {
          name: 'project',
          columns: [
            { name: 'id', type: { kind: 'int32' }, nullable: false },
            { name: 'sector_id', type: { kind: 'int32' } },
            { name: 'lead_sector_id', type: { kind: 'int32' } },
          ],
          primaryKey: ['id'],
          foreignKeys: [
            { columns: ['sector_id'], refTable: 'sector', refColumns: ['id'] },
            { columns: ['lead_sector_id'], refTable: 'sector', refColumns: ['id'] },
          ],
          rows: [
            [1, 1, 9],
            [2, 8, 1],
            [3, 8, 9],
          ],
        },
      ])
      const to = tmp2.path('d.db')
      const { report } = await copy(src, to, {
        transforms: [t.fixDanglingForeignKeys({ strategy: 'drop', foreignKeys: { 'project.lead_sector_id': 'null' } })],
      })
      expect(report.ok).toBe(true)
      expect(rowsOf(to, 'project')).toEqual([
        { id: 1, sector_id: 1, lead_sector_id: null },
      ])
      expect(tableReport(report, 'project').dropped).toBe(2)
    } finally {
      tmp2.cleanup()
    }
  })

  it('self-references are checked against every key of the table', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [
        {
          name: 'node',
          columns: [
            { name: 'id', type: { kind: 'int32' }, nullable: false },
            { name: 'parent_id', type: { kind: 'int32' } },
          ],
          primaryKey: ['id'],
          foreignKeys: [{ columns: ['parent_id'], refTable: 'node', refColumns: ['id'] }],
          rows: [
            [1, 3], // a later row: fine
            [2, 99], // nowhere
            [3, null],
          ],
        },
      ])
      const to = tmp2.path('d.db')
      const { report } = await copy(src, to, { transforms: [t.fixDanglingForeignKeys({ strategy: 'null' })] })
      expect(report.ok).toBe(true)
      expect(rowsOf(to, 'node')).toEqual([
        { id: 1, parent_id: 3 },
        { id: 2, parent_id: null },
        { id: 3, parent_id: null },
      ])
      expect(report.constraints).toEqual([])
    } finally {
      tmp2.cleanup()
    }
  })

  it('cycles: a deferred key is checked against the parent source keys', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [
        {
          name: 'a',
          columns: [
            { name: 'id', type: { kind: 'int32' }, nullable: false },
            { name: 'b_id', type: { kind: 'int32' } },
          ],
          primaryKey: ['id'],
          foreignKeys: [{ columns: ['b_id'], refTable: 'b', refColumns: ['id'] }],
          rows: [
            [1, 1],
            [2, 7],
          ],
        },
        {
          name: 'b',
          columns: [
            { name: 'id', type: { kind: 'int32' }, nullable: false },
            { name: 'a_id', type: { kind: 'int32' } },
          ],
          primaryKey: ['id'],
          foreignKeys: [{ columns: ['a_id'], refTable: 'a', refColumns: ['id'] }],
          rows: [
            [1, 2],
            [2, 8],
          ],
        },
      ])
      const to = tmp2.path('d.db')
      const { report } = await copy(src, to, { transforms: [t.fixDanglingForeignKeys({ strategy: 'drop' })] })
      expect(report.ok).toBe(true)
      expect(report.deferredForeignKeys.length).toBe(1)
      // a loads first (its key to b is deferred, checked against b's source keys): a 2 → b 7 is dropped;
      // then b is checked against the a rows actually written, so b 1 → a 2 goes too, and b 2 → a 8
      expect(report.deferredForeignKeys.map((d) => d.table)).toEqual(['a'])
      expect(rowsOf(to, 'a').map((r) => r.id)).toEqual([1])
      expect(rowsOf(to, 'b').map((r) => r.id)).toEqual([])
      expect(report.totals.dropped).toBe(3)
      // the limit of a deferred key: a 1 → b 1 was fine in the source, but b 1 was dropped after a loaded.
      // no row is lost and nothing is silent: the report names the key and its orphan
      expect(report.constraints.map((c) => [c.table, c.kind, c.orphans])).toEqual([['a', 'foreign_key', 1]])
      expect(report.clean).toBe(false)
    } finally {
      tmp2.cleanup()
    }
  })

  it('rejects a foreign-key option naming no table', async () => {
    const { report } = await copy(from, tmp.path('d.db'), { foreignKeys: FK, transforms: [t.fixDanglingForeignKeys({ strategy: 'drop', foreignKeys: { 'nope.x': 'null' } })] })
    expect(report.ok).toBe(false)
    expect(report.error?.message).toContain('"nope.x"')
  })
})

describe('fixDanglingForeignKeys on a resumed run', () => {
  it('takes the keys of a parent the resumed run skips from the target, stubs included', async () => {
    const { default: Database } = await import('better-sqlite3')
    const { ferry } = await import('../../src/ferry.js')
    const tmp = tempDir()
    try {
      const from = await sqliteSource(tmp.path('src.db'), [sector, org(true)])
      const to = tmp.path('d.db')
      const journal = tmp.path('j.sqlite')
      const transforms = () => [t.fixDanglingForeignKeys({ strategy: 'stub', foreignKeys: { 'org.sector_id': 'stub' } })]
      const first = await ferry({ from, to: `sqlite:${to}`, foreignKeys: FK, journal, transforms: transforms() })
      expect(first.ok).toBe(true)
      // pretend the run died after `sector` finished and before any row of `org` was committed
      const j = new Database(journal)
      j.exec("UPDATE run SET finished_at = NULL, ok = NULL; DELETE FROM checkpoint WHERE table_name = 'org'")
      j.close()
      const d = new Database(to)
      d.exec('DELETE FROM org')
      d.close()
      const second = await ferry({ from, to: `sqlite:${to}`, foreignKeys: FK, journal, resume: true, transforms: transforms() })
      expect(second.error).toBeUndefined()
      expect(tableReport(second, 'sector').resumed?.skipped).toBe(true)
      // the stubs 14 and 15 of the first run are on the target: no second stub, no dropped organisation
      expect(rowsOf(to, 'sector', 'id').map((r) => r.id)).toEqual([1, 2, 14, 15])
      expect(rowsOf(to, 'org').map((r) => [r.id, r.sector_id])).toEqual([
        [1, 1],
        [2, 14],
        [3, 2],
        [4, 15],
        [5, 14],
        [6, null],
      ])
      expect(tableReport(second, 'org').dropped).toBe(0)
    } finally {
      tmp.cleanup()
    }
  })
})
