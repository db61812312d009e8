import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture, type Fixture } from '../../fixtures/fixture.js'
import { ferry } from '../../src/ferry.js'
import type { ProgressEvent } from '../../src/pipeline/progress.js'
import { createMysqlDatabase, createPostgresDatabase, serverUp } from '../support/servers.js'

// with --jobs, a loaded table's indexes, foreign keys and identity are made while other tables still load; the
// finishing step then finds them made: each made once, the run's constraint problems as with one job
const fixture: Fixture = {
  name: 'early',
  tables: [
    {
      name: 'parent',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false, autoIncrement: true },
        { name: 'code', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'parent_code_idx', columns: ['code'], unique: true }],
      rows: Array.from({ length: 50 }, (_, i) => [i + 1, `p${i + 1}`]),
    },
    {
      name: 'child',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false, autoIncrement: true },
        { name: 'parent_id', type: { kind: 'int64' }, nullable: false },
        { name: 'label', type: { kind: 'text' } },
      ],
      primaryKey: ['id'],
      indexes: [{ name: 'child_label_idx', columns: ['label'] }],
      foreignKeys: [{ name: 'child_parent_fk', columns: ['parent_id'], refTable: 'parent', refColumns: ['id'] }],
      rows: Array.from({ length: 200 }, (_, i) => [i + 1, (i % 50) + 1, `c${i + 1}`]),
    },
  ],
}

const dir = mkdtempSync(join(tmpdir(), 'dbferry-early-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const targets = [
  {
    name: 'postgres',
    up: await serverUp('postgres'),
    create: createPostgresDatabase,
    async made(url: string) {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        const ix = await c.query<{ n: string }>(`SELECT indexname AS n FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' ORDER BY 1`)
        const fk = await c.query<{ n: string }>(`SELECT conname AS n FROM pg_constraint WHERE contype = 'f' ORDER BY 1`)
        const next = await c.query<{ id: string }>(`INSERT INTO parent (code) VALUES ('new') RETURNING id`)
        return { indexes: ix.rows.map((r) => r.n), keys: fk.rows.map((r) => r.n), next: Number(next.rows[0]!.id) }
      } finally {
        await c.end()
      }
    },
  },
  {
    name: 'mysql',
    up: await serverUp('mysql'),
    create: createMysqlDatabase,
    async made(url: string) {
      const c = await mysql.createConnection(url)
      try {
        const [ix] = (await c.query(`SELECT DISTINCT INDEX_NAME AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' AND INDEX_NAME NOT LIKE '%fk%' ORDER BY 1`)) as unknown as [{ n: string }[]]
        const [fk] = (await c.query(`SELECT CONSTRAINT_NAME AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1`)) as unknown as [{ n: string }[]]
        const [ins] = (await c.query(`INSERT INTO parent (code) VALUES ('new')`)) as unknown as [{ insertId: number }]
        return { indexes: ix.map((r) => r.n), keys: fk.map((r) => r.n), next: ins.insertId }
      } finally {
        await c.end()
      }
    },
  },
]

describe('--jobs: a loaded table finished while others load', () => {
  for (const target of targets) {
    it.runIf(target.up)(`sqlite → ${target.name}: indexes, foreign key and identity made once, before the finishing step`, async () => {
      const src = `sqlite:${join(dir, `${target.name}.db`)}`
      await buildFixture(fixture, src)
      const dst = await target.create()
      try {
        const events: ProgressEvent[] = []
        const report = await ferry({ from: src, to: dst.url, jobs: 2, onProgress: (e) => events.push(e) })
        expect(report.error).toBeUndefined()
        expect(report.constraints).toEqual([])
        const finalizePhase = events.findIndex((e) => e.type === 'phase' && e.phase === 'finalize')
        const early = events.map((e, i) => ({ e, i })).filter(({ e }) => e.type === 'table-finalized')
        expect(early.map(({ e }) => (e.type === 'table-finalized' ? [e.table, e.ok] : []))).toEqual([
          ['parent', true],
          ['child', true],
        ])
        expect(early.every(({ i }) => i < finalizePhase)).toBe(true)
        const made = await target.made(dst.url)
        expect(made.indexes).toEqual(['child_label_idx', 'parent_code_idx'])
        // SQLite keeps no foreign key names: the target's is made from the columns
        expect(made.keys).toEqual(['child_parent_id_fkey'])
        expect(made.next).toBe(51)
      } finally {
        await dst.drop()
      }
    })
  }
})
