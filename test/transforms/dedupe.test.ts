import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { FixtureTable } from '../../fixtures/fixture.js'
import { transforms as t } from '../../src/transforms/index.js'
import { copy, rowsOf, sqliteSource, tableReport, tempDir } from './helpers.js'

const users = (rows: unknown[][]): FixtureTable => ({
  name: 'users',
  columns: [
    { name: 'id', type: { kind: 'int32' }, nullable: false },
    { name: 'email', type: { kind: 'text' } },
    { name: 'seen', type: { kind: 'timestamp' } },
  ],
  primaryKey: ['id'],
  rows: rows as never,
})
const posts = (rows: unknown[][]): FixtureTable => ({
  name: 'posts',
  columns: [
    { name: 'id', type: { kind: 'int32' }, nullable: false },
    { name: 'user_id', type: { kind: 'int32' } },
  ],
  primaryKey: ['id'],
  foreignKeys: [{ columns: ['user_id'], refTable: 'users', refColumns: ['id'] }],
  rows: rows as never,
})

const USERS = [
  [1, 'ann@x.org', '2010-01-01 00:00:00'],
  [2, 'Ann@X.org', '2012-01-01 00:00:00'],
  [3, 'bob@x.org', '2010-01-01 00:00:00'],
  [4, 'ANN@x.org', '2011-01-01 00:00:00'],
  [5, null, null],
  [6, null, null],
]
const POSTS = [
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, null],
  [6, 5],
]

describe('dedupe', () => {
  let tmp: ReturnType<typeof tempDir>
  let from: string
  beforeEach(async () => {
    tmp = tempDir()
    from = await sqliteSource(tmp.path('src.db'), [users(USERS), posts(POSTS)])
  })
  afterEach(() => tmp.cleanup())

  it('keeps the first, drops the others, remaps children and journals each merge', async () => {
    const to = tmp.path('dst.db')
    const { report, journal } = await copy(from, to, { transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive' })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([1, 3, 5, 6]) // NULL keys are never duplicates
    expect(rowsOf(to, 'posts').map((r) => [r.id, r.user_id])).toEqual([
      [1, 1],
      [2, 1],
      [3, 3],
      [4, 1],
      [5, null],
      [6, 5],
    ])
    const u = tableReport(report, 'users')
    expect([u.read, u.written, u.dropped]).toEqual([6, 4, 2])
    expect(u.byKind).toEqual({ duplicate_dropped: 2 })
    expect(tableReport(report, 'posts').fixed).toEqual({ user_id: 2 })
    const remaps = journal.entries.filter((e) => e.action === 'remapped').map((e) => JSON.parse(e.row!))
    expect(remaps).toEqual([
      { from: { id: 2 }, to: { id: 1 } },
      { from: { id: 4 }, to: { id: 1 } },
    ])
    const drops = journal.entries.filter((e) => e.action === 'dropped')
    expect(drops.map((d) => d.key)).toEqual(['{"id":2}', '{"id":4}'])
    expect(drops[0]!.message).toContain('{"id":1} was kept')
    expect(JSON.parse(drops[0]!.row!)).toEqual({ id: 2, email: 'Ann@X.org', seen: '2012-01-01 00:00:00' })
    const fixes = journal.entries.filter((e) => e.table === 'posts' && e.action === 'fixed')
    expect(fixes.map((f) => f.key)).toEqual(['{"id":2}', '{"id":4}'])
  })

  it('keep last', async () => {
    const to = tmp.path('dst.db')
    const { report } = await copy(from, to, { transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', keep: 'last' })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([3, 4, 5, 6])
    expect(rowsOf(to, 'posts').map((r) => r.user_id)).toEqual([4, 4, 3, 4, null, 5])
  })

  it('keep latest by a column', async () => {
    const to = tmp.path('dst.db')
    const { report } = await copy(from, to, { transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', keep: { latest: 'seen' } })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([2, 3, 5, 6])
    expect(rowsOf(to, 'posts').map((r) => r.user_id)).toEqual([2, 2, 3, 2, null, 5])
  })

  it('keep chosen by a function', async () => {
    const to = tmp.path('dst.db')
    // prefer the all-lower-case address
    const keep = (a: Record<string, unknown>, b: Record<string, unknown>) => (b.email === String(b.email).toLowerCase() ? b : a)
    const { report } = await copy(from, to, { transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', keep: (a, b) => keep(a, b) as never })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([1, 3, 5, 6])
  })

  it('remap: false leaves children as they are (the foreign key then has orphans)', async () => {
    const to = tmp.path('dst.db')
    const { report, journal } = await copy(from, to, { transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', remap: false })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'posts').map((r) => r.user_id)).toEqual([1, 2, 3, 4, null, 5])
    expect(journal.entries.filter((e) => e.action === 'remapped')).toEqual([])
  })

  it('exact comparison by default; accent folding; composite keys', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [
        {
          name: 'org',
          columns: [
            { name: 'id', type: { kind: 'int32' }, nullable: false },
            { name: 'name', type: { kind: 'text' } },
            { name: 'country', type: { kind: 'text' } },
          ],
          primaryKey: ['id'],
          rows: [
            [1, 'Médecins du Monde', 'FR'],
            [2, 'Medecins du Monde', 'FR'],
            [3, 'MEDECINS DU MONDE', 'BE'],
            [4, ' médecins du monde ', 'FR'],
            [5, 'ﬁre brigade', 'FR'],
            [6, 'fire brigade', 'FR'],
          ],
        },
      ])
      const exact = await copy(src, tmp2.path('a.db'), { transforms: [t.dedupe({ table: 'org', key: 'name' })] })
      expect(tableReport(exact.report, 'org').dropped).toBe(0)
      await copy(src, tmp2.path('b.db'), { transforms: [t.dedupe({ table: 'org', key: ['name', 'country'], normalize: ['trim', 'nfkc', 'case-and-accent-insensitive'] })] })
      expect(rowsOf(tmp2.path('b.db'), 'org').map((r) => r.id)).toEqual([1, 3, 5])
      await copy(src, tmp2.path('c.db'), { transforms: [t.dedupe({ table: 'org', key: 'name', normalize: 'case-insensitive' })] })
      expect(rowsOf(tmp2.path('c.db'), 'org').map((r) => r.id)).toEqual([1, 2, 4, 5, 6])
      // a function: white space removed, upper case (which also turns the 'ﬁ' ligature into 'FI')
      await copy(src, tmp2.path('d.db'), { transforms: [t.dedupe({ table: 'org', key: 'name', normalize: (s) => s.replace(/\s+/g, '').toUpperCase() })] })
      expect(rowsOf(tmp2.path('d.db'), 'org').map((r) => r.id)).toEqual([1, 2, 5])
    } finally {
      tmp2.cleanup()
    }
  })

  it('self-references are remapped too (read ahead, since the table is its own child)', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [
        {
          name: 'person',
          columns: [
            { name: 'id', type: { kind: 'int32' }, nullable: false },
            { name: 'email', type: { kind: 'text' } },
            { name: 'invited_by', type: { kind: 'int32' } },
          ],
          primaryKey: ['id'],
          foreignKeys: [{ columns: ['invited_by'], refTable: 'person', refColumns: ['id'] }],
          rows: [
            [1, 'a@x', 4], // points at a later duplicate
            [2, 'b@x', 1],
            [3, 'A@x', 2],
            [4, 'B@X', null],
          ],
        },
      ])
      const to = tmp2.path('d.db')
      const { report } = await copy(src, to, { transforms: [t.dedupe({ table: 'person', key: 'email', normalize: 'case-insensitive' })] })
      expect(report.ok).toBe(true)
      expect(rowsOf(to, 'person').map((r) => [r.id, r.invited_by])).toEqual([
        [1, 2],
        [2, 1],
      ])
      expect(report.constraints).toEqual([])
    } finally {
      tmp2.cleanup()
    }
  })

  it('names an unknown table or column', async () => {
    const a = await copy(from, tmp.path('x.db'), { transforms: [t.dedupe({ table: 'nope', key: 'email' })] })
    expect(a.report.ok).toBe(false)
    expect(a.report.error?.message).toContain('dedupe(nope.email)')
    const b = await copy(from, tmp.path('y.db'), { transforms: [t.dedupe({ table: 'users', key: 'mail' })] })
    expect(b.report.error?.message).toMatch(/no column "mail"/)
  })

  it('works past maxInMemory (keys spill to a temporary SQLite file)', async () => {
    const to = tmp.path('dst.db')
    const { report } = await copy(from, to, { transforms: [t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', maxInMemory: 1 })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([1, 3, 5, 6])
    expect(rowsOf(to, 'posts').map((r) => r.user_id)).toEqual([1, 1, 3, 1, null, 5])
  })

  it('streaming with nothing to remap: the kept row is named in every drop, in memory or spilled, for number and text keys', async () => {
    const tmp2 = tempDir()
    try {
      const src = await sqliteSource(tmp2.path('s.db'), [
        users(USERS),
        {
          name: 'tags',
          columns: [
            { name: 'code', type: { kind: 'text' }, nullable: false },
            { name: 'label', type: { kind: 'text' } },
          ],
          primaryKey: ['code'],
          rows: [
            ['a1', 'Été'],
            ['b2', 'winter'], // with maxInMemory 1, the store spills here: the drops below read it back from disk
            ['c3', 'ete'],
            ['d4', 'ÉTÉ'],
          ],
        },
      ])
      for (const maxInMemory of [undefined, 1]) {
        const to = tmp2.path(`d${maxInMemory}.db`)
        const { report, journal } = await copy(src, to, {
          transforms: [
            t.dedupe({ table: 'users', key: 'email', normalize: 'case-insensitive', remap: false, maxInMemory }),
            t.dedupe({ table: 'tags', key: 'label', normalize: 'case-and-accent-insensitive', maxInMemory }),
          ],
        })
        expect(report.ok).toBe(true)
        expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([1, 3, 5, 6])
        expect(rowsOf(to, 'tags', 'code').map((r) => r.code)).toEqual(['a1', 'b2'])
        const drops = journal.entries.filter((e) => e.action === 'dropped').map((d) => [d.key, d.message])
        expect(drops).toEqual([
          ['{"id":2}', 'duplicate of users {"id":1} by email, case-insensitive; {"id":1} was kept'],
          ['{"id":4}', 'duplicate of users {"id":1} by email, case-insensitive; {"id":1} was kept'],
          ['{"code":"c3"}', 'duplicate of tags {"code":"a1"} by label, case-and-accent-insensitive; {"code":"a1"} was kept'],
          ['{"code":"d4"}', 'duplicate of tags {"code":"a1"} by label, case-and-accent-insensitive; {"code":"a1"} was kept'],
        ])
      }
    } finally {
      tmp2.cleanup()
    }
  })

  it('dedupeEmails preset trims and folds case', async () => {
    const to = tmp.path('dst.db')
    const { report } = await copy(from, to, { transforms: [t.dedupeEmails('users')] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'users').map((r) => r.id)).toEqual([1, 3, 5, 6])
  })
})
