import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FixtureTable } from '../../fixtures/fixture.js'
import { ferry } from '../../src/ferry.js'
import { transforms as t, type Transform } from '../../src/transforms/index.js'
import { harnesses } from '../cross/harness.js'
import { readTable, sqliteSource, tempDir } from './helpers.js'

// the transforms' outcome must not depend on the target: each case runs into every available one

const TABLES: FixtureTable[] = [
  {
    name: 'sector',
    columns: [
      { name: 'id', type: { kind: 'int32' }, nullable: false },
      { name: 'name', type: { kind: 'text', length: 60 }, nullable: false },
    ],
    primaryKey: ['id'],
    rows: [
      [1, 'Health'],
      [2, 'Food'],
    ],
  },
  {
    name: 'member',
    columns: [
      { name: 'id', type: { kind: 'int32' }, nullable: false },
      { name: 'email', type: { kind: 'text', length: 100 } },
      { name: 'seen', type: { kind: 'timestamp' } },
      { name: 'sector_id', type: { kind: 'int32' } },
      { name: 'bio', type: { kind: 'text' } },
    ],
    primaryKey: ['id'],
    foreignKeys: [{ columns: ['sector_id'], refTable: 'sector', refColumns: ['id'] }],
    rows: [
      [1, 'ann@x.org', '2010-01-01 00:00:00', 1, 'line one\r\nline two'],
      [2, 'ANN@x.org', '2012-06-01 10:00:00', 9, null],
      [3, 'bob@x.org', '2011-01-01 00:00:00', 8, 'single'],
      [4, 'cy@x.org', '2011-01-01 00:00:00', 2, 'a\nb\nc'],
    ],
  },
  {
    name: 'post',
    columns: [
      { name: 'id', type: { kind: 'int32' }, nullable: false },
      { name: 'member_id', type: { kind: 'int32' }, nullable: false },
    ],
    primaryKey: ['id'],
    foreignKeys: [{ columns: ['member_id'], refTable: 'member', refColumns: ['id'] }],
    rows: [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 77],
    ],
  },
]

interface Case {
  name: string
  transforms: () => Transform[]
  expect: (url: string) => Promise<void>
}

const CASES: Case[] = [
  {
    name: 'dedupe keep latest + remap, then drop what still dangles',
    transforms: () => [t.dedupe({ table: 'member', key: 'email', normalize: 'case-insensitive', keep: { latest: 'seen' } }), t.fixDanglingForeignKeys({ strategy: 'drop' })],
    async expect(url) {
      // member 2 (latest) wins over 1, and its sector 9 is missing: dropped; so are its posts (1 → 2, 2)
      // and post 4 (member 77); member 3's sector 8 is missing: dropped with its post 3
      expect((await readTable(url, 'member')).map((m) => m.id)).toEqual([4])
      expect((await readTable(url, 'post')).map((p) => p.id)).toEqual([])
    },
  },
  {
    name: 'stub missing sectors, drop the post of a missing member (per-key strategy)',
    transforms: () => [t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({ name: `Sector ${String(id)}` }), foreignKeys: { 'post.member_id': 'drop' } })],
    async expect(url) {
      expect((await readTable(url, 'sector')).map((s) => [s.id, s.name])).toEqual([
        [1, 'Health'],
        [2, 'Food'],
        [8, 'Sector 8'],
        [9, 'Sector 9'],
      ])
      expect((await readTable(url, 'post')).map((p) => p.id)).toEqual([1, 2, 3])
    },
  },
  {
    name: 'null where nullable, drop where not; collapse text',
    transforms: () => [t.collapseMultiline({ tables: ['member'] }), t.fixDanglingForeignKeys({ strategy: 'null' })],
    async expect(url) {
      expect((await readTable(url, 'member')).map((m) => [m.id, m.sector_id, m.bio])).toEqual([
        [1, 1, 'line one line two'],
        [2, null, null],
        [3, null, 'single'],
        [4, 2, 'a b c'],
      ])
      // post.member_id is NOT NULL: the dangling post is dropped
      expect((await readTable(url, 'post')).map((p) => p.id)).toEqual([1, 2, 3])
    },
  },
]

const targets = await harnesses()

describe('transforms into every target', () => {
  const tmp = tempDir()
  let source: string
  beforeAll(async () => {
    source = await sqliteSource(tmp.path('src.db'), TABLES)
  })
  afterAll(() => tmp.cleanup())

  for (const target of targets) {
    for (const c of CASES) {
      it(`${target.name}: ${c.name}`, async () => {
        const db = await target.create()
        try {
          const report = await ferry({ from: source, to: db.url, transforms: c.transforms() })
          expect(report.error).toBeUndefined()
          expect(report.ok).toBe(true)
          expect(report.constraints.filter((x) => (x.orphans ?? 0) > 0)).toEqual([])
          await c.expect(db.url)
        } finally {
          await db.drop()
        }
      })
    }
  }
})
