import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { sahanaFixture } from '../../fixtures/sahana.js'
import { ferry } from '../../src/ferry.js'
import type { Report } from '../../src/report.js'
import { transforms as t } from '../../src/transforms/index.js'
import { harnesses } from '../cross/harness.js'
import type { TestDatabase } from '../support/servers.js'
import { readTable, tempDir } from './helpers.js'

/** The seed's checklist as transforms (the same list as docs/examples/sahana.config.ts). */
const seedTransforms = () => [
  t.dedupe({ table: 'auth_user', key: 'email', normalize: 'case-insensitive', keep: 'first' }),
  t.dedupe({ table: 'or_organisation', key: 'name', normalize: 'case-and-accent-insensitive', keep: 'first' }),
  t.collapseMultiline({ tables: ['or_organisation', 'gis_layer_js'] }),
  t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({ name: `Unknown sector ${String(id)}` }) }),
  t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' }),
]

const targets = await harnesses()

describe('sahana fixture with the seed transforms', () => {
  const tmp = tempDir()
  const source = `sqlite:${tmp.path('sahana.db')}`
  beforeAll(async () => {
    await buildFixture(sahanaFixture, source)
  })
  afterAll(() => tmp.cleanup())

  for (const target of targets) {
    describe(`→ ${target.name}`, () => {
      let db: TestDatabase
      let report: Report
      let journalPath: string
      beforeAll(async () => {
        db = await target.create()
        journalPath = tmp.path(`journal-${target.name}.sqlite`)
        report = await ferry({ from: source, to: db.url, tables: { exclude: ['msg_log'] }, transforms: seedTransforms(), journal: journalPath })
      })
      afterAll(async () => {
        await db?.drop()
      })

      it('finishes, with parents before children and no orphan left', () => {
        expect(report.error).toBeUndefined()
        expect(report.ok).toBe(true)
        const order = report.tables.map((r) => r.name)
        expect(order.indexOf('auth_user')).toBeLessThan(order.indexOf('pr_person'))
        expect(order.indexOf('or_sector')).toBeLessThan(order.indexOf('or_organisation'))
        expect(order.indexOf('or_organisation')).toBeLessThan(order.indexOf('or_office'))
        expect(report.constraints.filter((c) => (c.orphans ?? 0) > 0)).toEqual([])
        expect(order).not.toContain('msg_log')
      })

      it('keeps the first of the users whose emails differ only in case, and remaps their people', async () => {
        expect((await readTable(db.url, 'auth_user')).map((u) => [u.id, u.email])).toEqual([
          [1, 'admin@example.org'],
          [2, 'linda.smith@example.org'],
          [4, 'jean@example.fr'],
          [6, 'marie@example.fr'],
        ])
        expect((await readTable(db.url, 'pr_person')).map((p) => [p.id, p.user_id])).toEqual([
          [1, 1],
          [2, 2],
          [3, 2],
          [4, 4],
          [5, 2],
          [6, 6],
          [7, null],
        ])
      })

      it('merges "Medecins du Monde France" into "Médecins du Monde France" and moves its office', async () => {
        const orgs = await readTable(db.url, 'or_organisation')
        expect(orgs.map((o) => o.id)).toEqual([1, 3, 4, 5, 6, 7, 8])
        expect((await readTable(db.url, 'or_office')).map((o) => [o.id, o.organisation_id])).toEqual([
          [1, 1],
          [2, 1],
          [3, 3],
          [4, 5],
        ])
      })

      it('collapses the multi-line text of the chosen tables only', async () => {
        const orgs = await readTable(db.url, 'or_organisation')
        expect(orgs.map((o) => o.description)).toEqual([
          'Health care for people in need',
          'Water and sanitation',
          'Food  assistance',
          'Sector 14 does not exist',
          null,
          'Community radio',
          'Emergency shelter and health',
        ])
        expect((await readTable(db.url, 'gis_layer_js')).map((g) => g.code)).toEqual([
          'var layer = new OpenLayers.Layer.Vector("Haiti"); map.addLayer(layer);',
          'var camps = 1; var shown = true; ',
          '',
        ])
        // not chosen: stays multi-line
        expect((await readTable(db.url, 'or_office'))[0]!.address).toBe('12 Rue Capois\nPort-au-Prince')
      })

      it('stubs the missing sectors 14–16', async () => {
        const sectors = await readTable(db.url, 'or_sector')
        expect(sectors.length).toBe(16)
        expect(sectors.slice(13)).toEqual([
          { id: 14, name: 'Unknown sector 14' },
          { id: 15, name: 'Unknown sector 15' },
          { id: 16, name: 'Unknown sector 16' },
        ])
        expect((await readTable(db.url, 'or_organisation')).filter((o) => Number(o.sector_id) >= 14).map((o) => [o.id, o.sector_id])).toEqual([
          [5, 14],
          [6, 15],
          [7, 16],
        ])
      })

      it('report counts == journal counts == source counts', () => {
        const byName = new Map(report.tables.map((r) => [r.name, r]))
        for (const table of sahanaFixture.tables) {
          if (table.name === 'msg_log') continue
          expect(byName.get(table.name)!.read, table.name).toBe(table.rows.length + (table.looseRows?.length ?? 0)) // an SQLite source holds the loose rows too
        }
        const expected: Record<string, [number, number, number, number, number]> = {
          // read, written, rejected, dropped, inserted
          auth_user: [6, 4, 0, 2, 0],
          pr_person: [7, 7, 0, 0, 0],
          or_sector: [13, 16, 0, 0, 3],
          or_organisation: [10, 7, 2, 1, 0],
          or_office: [4, 4, 0, 0, 0],
          gis_layer_js: [3, 3, 0, 0, 0],
        }
        for (const [name, counts] of Object.entries(expected)) {
          const r = byName.get(name)!
          expect([r.read, r.written, r.rejected, r.dropped, r.inserted], name).toEqual(counts)
        }
        expect(byName.get('or_organisation')!.byKind).toEqual({ type_conversion: 2, duplicate_dropped: 1 })
        expect(byName.get('or_organisation')!.fixed).toEqual({ description: 3 })
        expect(byName.get('gis_layer_js')!.fixed).toEqual({ code: 2 })
        expect(byName.get('pr_person')!.fixed).toEqual({ user_id: 2 })
        expect(byName.get('or_office')!.fixed).toEqual({ organisation_id: 1 })

        const j = new Database(journalPath, { readonly: true })
        try {
          const counts = j.prepare('SELECT table_name AS t, action AS a, count(*) AS n FROM entry GROUP BY 1, 2').all() as { t: string; a: string; n: number }[]
          const n = (table: string, action: string) => counts.find((c) => c.t === table && c.a === action)?.n ?? 0
          for (const r of report.tables) {
            expect(n(r.name, 'rejected'), `${r.name} rejected`).toBe(r.rejected)
            expect(n(r.name, 'dropped'), `${r.name} dropped`).toBe(r.dropped)
            expect(n(r.name, 'inserted'), `${r.name} inserted`).toBe(r.inserted)
            expect(n(r.name, 'fixed'), `${r.name} fixed`).toBe(Object.values(r.fixed).reduce((a, b) => a + b, 0))
          }
          // "which users were merged into which", in plain SQL
          const merged = j
            .prepare("SELECT json_extract(row_json, '$.from.id') AS dropped, json_extract(row_json, '$.to.id') AS kept FROM entry WHERE action = 'remapped' AND table_name = 'auth_user' ORDER BY 1")
            .all()
          expect(merged).toEqual([
            { dropped: 3, kept: 2 },
            { dropped: 5, kept: 2 },
          ])
          // "how many of each kind since date X"
          const kinds = j.prepare("SELECT kind, count(*) AS n FROM entry WHERE created_at >= '2000-01-01' AND action IN ('rejected', 'dropped') GROUP BY kind ORDER BY kind").all()
          expect(kinds).toEqual([
            { kind: 'duplicate_dropped', n: 3 },
            { kind: 'type_conversion', n: 2 },
          ])
          const remappedPeople = j.prepare("SELECT key FROM entry WHERE table_name = 'pr_person' AND action = 'fixed' ORDER BY id").pluck().all()
          expect(remappedPeople).toEqual(['{"id":3}', '{"id":5}'])
        } finally {
          j.close()
        }
      })
    })
  }
})
