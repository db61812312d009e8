import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFixture, fixtureSchema, holdableRows } from '../../fixtures/fixture.js'
import { sahanaFixture } from '../../fixtures/sahana.js'
import { typesFixture } from '../../fixtures/types.js'
import { connect } from '../../src/connect.js'
import { ferry } from '../../src/ferry.js'
import { MemoryJournal } from '../../src/journal/journal.js'
import type { Report } from '../../src/report.js'
import type { Row } from '../../src/schema/types.js'
import type { TestDatabase } from '../support/servers.js'
import { normalize } from './compare.js'
import type { Harness } from './harness.js'

async function readAll(url: string, table: string): Promise<Row[]> {
  const { connection } = await connect(url)
  try {
    await connection.snapshot()
    const schema = await connection.introspect()
    const t = schema.tables.find((x) => x.name === table)
    if (!t) throw new Error(`no table ${table} on ${connection.description}`)
    const rows: Row[] = []
    for await (const b of connection.read(t, { batchRows: 1000, batchBytes: 1 << 24 })) {
      expect(b.rejected).toEqual([])
      rows.push(...b.rows)
    }
    return rows
  } finally {
    await connection.close()
  }
}

/**
 * The cross-dialect migration suite for one source/target pair. Every test builds its fixture in a fresh
 * source database, copies it with ferry(), and reads the target back through dbferry's own reader.
 */
export function crossSuite(source: Harness, target: Harness): void {
  describe(`${source.name} → ${target.name}`, () => {
    const dbs: TestDatabase[] = []
    const extra: TestDatabase[] = []
    const fresh = async () => {
      const db = await (dbs.length % 2 === 0 ? source : target).create()
      dbs.push(db)
      return db
    }
    let src: TestDatabase
    let dst: TestDatabase

    beforeAll(async () => {
      src = await fresh()
      dst = await fresh()
      await buildFixture(typesFixture, src.url)
    })
    afterAll(async () => {
      for (const db of [...dbs, ...extra]) await db.drop().catch(() => {})
    })

    /** Checks a copy of `types_all` into `url`: the report's counts, the journal's rejects, and every value read back. */
    const expectTypesCopied = async (report: Report, journal: MemoryJournal, url: string) => {
      expect(report.error).toBeUndefined()
      expect(report.ok).toBe(true)
      const table = typesFixture.tables[0]!
      const inSource = holdableRows(table, source.dialect.capabilities)
      const expected = holdableRows({ ...table, rows: inSource }, target.dialect.capabilities)
      const rejectedIds = inSource.filter((r) => !expected.includes(r)).map((r) => r[0])
      const t = report.tables[0]!
      expect(t).toMatchObject({ read: inSource.length, written: expected.length, rejected: rejectedIds.length, dropped: 0 })
      // what a target cannot hold is rejected with its reason, never altered
      for (const e of t.examples) expect(['nul_in_text', 'out_of_range']).toContain(e.kind)
      expect(journal.entries.filter((e) => e.action === 'rejected').map((e) => JSON.parse(e.key!).id).sort()).toEqual(rejectedIds.sort())

      const schema = fixtureSchema(typesFixture).tables[0]!
      const got = await readAll(url, 'types_all')
      expect(got.map((r) => Number(r[0]))).toEqual(expected.map((r) => r[0]))
      for (const [i, row] of expected.entries()) {
        for (const [c, col] of schema.columns.entries()) {
          const want = normalize(row[c]!, col.type)
          const have = normalize(got[i]![c]!, col.type)
          expect({ id: row[0], column: col.name, value: have }).toEqual({ id: row[0], column: col.name, value: want })
        }
      }
    }

    it('moves every logical type and edge value exactly (or rejects what the target cannot hold)', async () => {
      const journal = new MemoryJournal()
      await expectTypesCopied(await ferry({ from: src.url, to: dst.url, journal }), journal, dst.url)
    })

    // SQL Server pairs take 15-40 s here (each extra connection to the stand-in costs seconds): they run in
    // test/mssql/jobs.test.ts's one pair each way instead of every pair
    const parallel = source.dialect.capabilities.parallelConnections?.reads && target.dialect.capabilities.parallelConnections?.writes && source.name !== 'mssql' && target.name !== 'mssql'
    it.runIf(parallel)('with jobs 3, copies types_all in key-range chunks on three connection pairs, exactly as one job does', async () => {
      // not through fresh(): its count decides which engine the next fresh database is on
      const d = await target.create()
      extra.push(d)
      const journal = new MemoryJournal()
      // snapshotLock: MySQL/MariaDB sources share one moment under FLUSH TABLES WITH READ LOCK (others ignore it)
      const report = await ferry({ from: src.url, to: d.url, jobs: 3, chunkRows: 2, snapshotLock: true, journal })
      // 7 rows (as the source estimates them), 2 a chunk: several chunks over the key span 1..7 (from SQLite,
      // where the fixture's `id int` is not the rowid, over rowid ranges)
      expect(report.tables[0]!.chunks).toBeGreaterThan(1)
      const note = report.snapshot?.notes?.find((n) => n.startsWith('--jobs 3:'))
      if (source.name === 'postgres' || source.name === 'mysql') expect(note).toMatch(/^--jobs 3: 3 source connections read one snapshot/)
      else expect(note).toMatch(/reads its own snapshot/)
      await expectTypesCopied(report, journal, d.url)
    })

    it('refuses to touch an existing table in create mode, and reloads in truncate mode', async () => {
      // a run that cannot start throws its typed error
      await expect(ferry({ from: src.url, to: dst.url })).rejects.toMatchObject({ name: 'SchemaError', code: 'target_exists' })
      const reload = await ferry({ from: src.url, to: dst.url, mode: 'truncate' })
      expect(reload.ok).toBe(true)
      const got = await readAll(dst.url, 'types_all')
      expect(got.length).toBe(reload.tables[0]!.written)
    })

    if (source.name === 'sqlite' || source.name === 'postgres' || source.name === 'duckdb') {
      it('accounts for every row of the sahana fixture, and creates keys and indexes', async () => {
        const s = await fresh()
        const d = await fresh()
        await buildFixture(sahanaFixture, s.url)
        const journal = new MemoryJournal()
        const report = await ferry({ from: s.url, to: d.url, tables: { exclude: ['msg_log'] }, journal })
        expect(report.error).toBeUndefined()
        expect(report.ok).toBe(true)
        expect(report.tables.map((t) => t.name)).not.toContain('msg_log')
        // a source that cannot keep a foreign key over orphans (DuckDB) was built without the fixture's keys:
        // the copy has none to order by, check or report
        const sourceHasKeys = source.dialect.capabilities.unvalidatedForeignKeys
        // parents first
        const order = report.tables.map((t) => t.name)
        if (sourceHasKeys) {
          expect(order.indexOf('or_sector')).toBeLessThan(order.indexOf('or_organisation'))
          expect(order.indexOf('or_organisation')).toBeLessThan(order.indexOf('or_office'))
          expect(order.indexOf('auth_user')).toBeLessThan(order.indexOf('pr_person'))
        } else expect(report.constraints.filter((c) => c.kind === 'foreign_key')).toEqual([])
        for (const t of report.tables) {
          const fixtureTable = sahanaFixture.tables.find((x) => x.name === t.name)!
          const inSource = holdableRows(fixtureTable, source.dialect.capabilities)
          expect(t.read).toBe(inSource.length)
          expect(t.written + t.rejected + t.dropped).toBe(t.read)
          expect((await readAll(d.url, t.name)).length).toBe(t.written)
        }
        const rejected = journal.entries.filter((e) => e.action === 'rejected')
        expect(rejected.length).toBe(report.totals.rejected)
        if (source.dialect.capabilities.storesAnyValue) {
          // the junk timestamp and the text budget are rejected, named by key and column
          const org = report.tables.find((t) => t.name === 'or_organisation')!
          const conv = org.examples.filter((e) => e.kind === 'type_conversion')
          expect(conv.map((e) => [JSON.parse(e.key!).id, e.column]).sort()).toEqual([[10, 'budget'], [9, 'timestamp']])
        }
        // the orphan sectors 14-16 are reported, not lost and not silent
        const caps = target.dialect.capabilities
        // a target that cannot create a key over orphans reports it not created: DuckDB (no ALTER TABLE … ADD
        // FOREIGN KEY at all), and a server that refuses WITH NOCHECK (the SQL Server stand-in; probed)
        const keysCreated = target.unvalidatedForeignKeys ?? caps.unvalidatedForeignKeys
        const keysAddable = keysCreated || !target.dialect.sql.foreignKeysInCreate
        if (sourceHasKeys && caps.enforcesForeignKeys) {
          const fk = report.constraints.find((c) => c.table === 'or_organisation' && c.kind === 'foreign_key')
          expect(fk?.outcome).toBe(keysCreated ? 'unvalidated' : 'failed')
          expect(fk?.orphans).toBe(3)
          expect(report.clean).toBe(false)
        }
        // keys and indexes exist on the target
        const { connection } = await connect(d.url)
        try {
          const schema = await connection.introspect()
          const office = schema.tables.find((t) => t.name === 'or_office')!
          if (!sourceHasKeys) expect(office.foreignKeys).toEqual([])
          else if (keysAddable) expect(office.foreignKeys.map((f) => f.refTable.toLowerCase())).toContain('or_organisation')
          else {
            expect(office.foreignKeys).toEqual([])
            const fk = report.constraints.find((c) => c.table === 'or_office' && c.kind === 'foreign_key')
            expect(fk).toMatchObject({ outcome: 'failed', orphans: 0 })
          }
          expect(office.indexes.map((i) => i.columns.join())).toContain('organisation_id')
          expect(schema.tables.find((t) => t.name === 'auth_user')!.primaryKey?.columns).toEqual(['id'])
        } finally {
          await connection.close()
        }
      })
    }
  })
}
