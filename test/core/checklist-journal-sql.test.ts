import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { sahanaFixture } from '../../fixtures/sahana.js'
import { ferry } from '../../src/ferry.js'
import type { Report } from '../../src/report.js'
import { transforms as t } from '../../src/transforms/index.js'

const ROOT = join(import.meta.dirname, '..', '..')

/** The queries of docs/sahana-checklist.md's "Reading the journal", by the comment above each. */
function checklistQueries(): Map<string, string> {
  const doc = readFileSync(join(ROOT, 'docs/sahana-checklist.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## Reading the journal'))
  const sql = /```sql\n([\s\S]*?)```/.exec(section)![1]!
  const queries = new Map<string, string>()
  for (const block of sql.split(/;\s*\n/)) {
    const comment = /^-- (.*)$/m.exec(block)?.[1]
    const text = block.replace(/^--.*$/gm, '').trim()
    if (comment && text) queries.set(comment, text)
  }
  return queries
}

/** The checklist's transforms (as in docs/examples/sahana.config.ts). */
const checklist = () => [
  t.dedupe({ table: 'auth_user', key: 'email', normalize: 'case-insensitive', keep: 'first' }),
  t.dedupe({ table: 'or_organisation', key: 'name', normalize: 'case-and-accent-insensitive', keep: 'first' }),
  t.collapseMultiline({ tables: ['or_organisation', 'gis_layer_js'], replacement: ' ' }),
  t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({ name: `Unknown sector ${String(id)}` }) }),
]

describe("the checklist's journal SQL counts one run, also when the config is re-run into the same journal", () => {
  const dir = mkdtempSync(join(tmpdir(), 'dbferry-checklist-sql-'))
  const journal = join(dir, 'journal.sqlite')
  const reports: Report[] = []
  let db: Database.Database
  beforeAll(async () => {
    await buildFixture(sahanaFixture, `sqlite:${join(dir, 'sahana.db')}`)
    // the config is re-runnable (mode recreate) and names one journal: two runs land in it
    for (let i = 0; i < 2; i++) {
      reports.push(
        await ferry({ from: `sqlite:${join(dir, 'sahana.db')}`, to: `sqlite:${join(dir, 'clean.db')}`, mode: 'recreate', tables: { exclude: [/^msg_/] }, transforms: checklist(), journal }),
      )
    }
    db = new Database(journal, { readonly: true })
  })
  afterAll(() => {
    db?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('the doc has the queries this test runs', () => {
    expect([...checklistQueries().keys()]).toEqual([
      'the runs this journal holds, latest first',
      'which users were merged into which, in the latest run',
      'how many rows of each kind were rejected or dropped, per run',
      'which child rows were pointed at the kept row, in the latest run',
    ])
    expect(reports.map((r) => r.ok)).toEqual([true, true])
  })

  it('lists both runs, latest first', () => {
    const runs = db.prepare(checklistQueries().get('the runs this journal holds, latest first')!).all() as { id: number; ok: number }[]
    expect(runs.map((r) => [r.id, r.ok])).toEqual([[2, 1], [1, 1]])
  })

  it('merged users: the latest run\'s two, not one pair per run', () => {
    const merged = db.prepare(checklistQueries().get('which users were merged into which, in the latest run')!).all()
    expect(merged).toEqual([
      { dropped: 3, kept: 2 },
      { dropped: 5, kept: 2 },
    ])
  })

  it('rejected and dropped rows per kind: each run equals its report', () => {
    const counts = db.prepare(checklistQueries().get('how many rows of each kind were rejected or dropped, per run')!).all() as { run_id: number; kind: string; n: number }[]
    for (const [i, report] of reports.entries()) {
      const byKind: Record<string, number> = {}
      for (const tr of report.tables) for (const [k, n] of Object.entries(tr.byKind)) byKind[k] = (byKind[k] ?? 0) + (n ?? 0)
      const journaled = Object.fromEntries(counts.filter((c) => c.run_id === i + 1).map((c) => [c.kind, c.n]))
      expect(journaled).toEqual(byKind)
      expect(Object.values(journaled).reduce((a, b) => a + b, 0)).toBe(report.totals.rejected + report.totals.dropped)
    }
  })

  it("remapped children: the latest run's, once", () => {
    const fixed = db.prepare(checklistQueries().get('which child rows were pointed at the kept row, in the latest run')!).all() as { table_name: string }[]
    const inOneRun = db.prepare("SELECT count(*) AS n FROM entry WHERE run_id = 2 AND action = 'fixed' AND source LIKE 'dedupe%'").get() as { n: number }
    expect(inOneRun.n).toBeGreaterThan(0)
    expect(fixed.length).toBe(inOneRun.n)
  })
})
