import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ConnectionError, FAILURE_KINDS } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { openJournal } from '../../src/journal/open.js'
import { openJournalFile } from '../../src/store/index.js'
import { buildDb, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

describe('the SQLite journal', () => {
  it('creates its tables and the catalogue of failure kinds from the error classes', async () => {
    const path = tmp.path('j1.sqlite')
    ;(await openJournalFile(path)).close()
    const db = new Database(path, { readonly: true })
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all()
    expect(tables).toEqual(['checkpoint', 'entry', 'failure_kind', 'run', 'source_state'])
    const kinds = db.prepare('SELECT code, name, description FROM failure_kind').all() as { code: string; name: string; description: string }[]
    const byCode = Object.fromEntries(kinds.map((k) => [k.code, k]))
    for (const [code, description] of Object.entries(FAILURE_KINDS)) expect(byCode[code]?.description).toBe(description)
    expect(byCode.type_conversion!.name).toBe('RowError')
    expect(byCode.connection!.name).toBe('ConnectionError')
    expect(byCode.target_exists!.name).toBe('SchemaError')
    expect(byCode.fixed).toBeDefined()
    expect(byCode.remapped).toBeDefined()
    expect(kinds.every((k) => k.name !== 'unknown')).toBe(true)
    db.close()
  })

  it('records every entry of a large batch in order, in statements of many rows and one by one', async () => {
    const path = tmp.path('j-many.sqlite')
    const j = await openJournalFile(path)
    const id = j.startRun({ source: 'sqlite:a.db', target: 'sqlite:b.db', startedAt: '2026-01-01T00:00:00.000Z' })
    // 200 entries: whole statements and a remainder, a kind the catalogue lacks inside one, NULLs and text alike
    const entries = Array.from({ length: 200 }, (_, i) => ({
      table: 't',
      action: 'fixed' as const,
      kind: (i === 70 ? 'some_new_kind' : 'fixed') as 'fixed',
      key: `{"id":${i}}`,
      column: i % 2 === 0 ? 'bio' : undefined,
      message: `m${i}`,
      row: i % 3 === 0 ? undefined : `{"bio":"v${i}"}`,
      source: 'collapseMultiline(t)',
    }))
    j.record(id, entries)
    j.close()
    const db = new Database(path, { readonly: true })
    const rows = db.prepare('SELECT run_id, key, kind, column_name, message, row_json FROM entry ORDER BY id').all() as Record<string, unknown>[]
    expect(rows).toEqual(entries.map((e) => ({ run_id: id, key: e.key, kind: e.kind, column_name: e.column ?? null, message: e.message, row_json: e.row ?? null })))
    expect(db.prepare("SELECT name FROM failure_kind WHERE code = 'some_new_kind'").pluck().get()).toBe('unknown')
    db.close()
  })

  it('records runs, entries and checkpoints, and answers "how many of each kind since X" in plain SQL', async () => {
    const path = tmp.path('j2.sqlite')
    const j = await openJournal(path)
    expect(j.location).toBe(path)
    const run = { source: 'sqlite:a.db', target: 'sqlite:b.db', startedAt: '2026-01-01T00:00:00.000Z' }
    const id = await j.startRun(run)
    await j.record(id, [
      { table: 'auth_user', action: 'rejected', kind: 'type_conversion', key: '{"id":2}', column: 'age', message: 'bad', row: '{"id":2}', source: 'reader' },
      { table: 'auth_user', action: 'rejected', kind: 'type_conversion', key: '{"id":3}', column: 'age', message: 'bad', source: 'reader' },
      { table: 'auth_user', action: 'dropped', kind: 'duplicate_dropped', key: '{"id":4}', message: 'dup of 1', source: 'dedupe' },
      { table: 'org', action: 'remapped', kind: 'remapped', key: '4', message: '4 → 1', row: '{"from":4,"to":1}', source: 'dedupe' },
    ])
    await j.checkpoint(id, { table: 'auth_user', lastKey: '[3]', read: 3, written: 1, rejected: 2, dropped: 0, done: false })
    await j.checkpoint(id, { table: 'auth_user', lastKey: '[9]', read: 9, written: 6, rejected: 2, dropped: 1, done: false })
    expect(await j.resumePoint!(run)).toEqual([{ table: 'auth_user', lastKey: '[9]', read: 9, written: 6, rejected: 2, dropped: 1, done: false }])
    await j.finishRun(id, { ok: true, report: '{"ok":true}' })
    expect(await j.resumePoint!(run)).toBeUndefined()

    await j.close()

    const db = new Database(path, { readonly: true })
    const since = db
      .prepare(
        `SELECT e.kind, k.name AS class, count(*) AS n FROM entry e JOIN failure_kind k ON k.code = e.kind
         WHERE e.created_at >= ? GROUP BY e.kind ORDER BY n DESC, e.kind`,
      )
      .all('2026-01-01')
    expect(since).toEqual([
      { kind: 'type_conversion', class: 'RowError', n: 2 },
      { kind: 'duplicate_dropped', class: 'RowError', n: 1 },
      { kind: 'remapped', class: 'event', n: 1 },
    ])
    expect(db.prepare("SELECT count(*) FROM entry WHERE created_at >= '2999-01-01'").pluck().get()).toBe(0)
    // the query uses the index on (kind, created_at) or (created_at)
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT kind, count(*) FROM entry WHERE created_at >= '2026-01-01' GROUP BY kind").all() as { detail: string }[]
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX entry_/)
    const r = db.prepare('SELECT ok, report, finished_at IS NOT NULL AS finished FROM run WHERE id = ?').get(id)
    expect(r).toEqual({ ok: 1, report: '{"ok":true}', finished: 1 })
    expect(db.prepare('SELECT count(*) FROM checkpoint').pluck().get()).toBe(1)
    db.close()
  })

  it('hands back the source states of an interrupted run, and nothing once a later run finished', async () => {
    const j = await openJournalFile(tmp.path('j-states.sqlite'))
    const run = { source: 'sqlite:a.db', target: 'sqlite:b.db', startedAt: '2026-01-01T00:00:00.000Z' }
    const broken = await j.startRun(run)
    await j.sourceStates!(broken, [{ table: 'auth_user', state: { rows: 9, maxKey: '["9"]' } }])
    await j.checkpoint(broken, { table: 'auth_user', lastKey: '[4]', read: 4, written: 4, rejected: 0, dropped: 0, done: false })
    await j.finishRun(broken, { ok: false, report: '{"ok":false}' })
    expect(await j.resumePoint!(run)).toEqual([
      { table: 'auth_user', lastKey: '[4]', read: 4, written: 4, rejected: 0, dropped: 0, done: false, sourceState: { rows: 9, maxKey: '["9"]' } },
    ])
    const later = await j.startRun(run)
    await j.finishRun(later, { ok: true, report: '{"ok":true}' })
    expect(await j.resumePoint!(run)).toBeUndefined()
    j.close()
  })

  it('keeps earlier runs when opened again', async () => {
    const path = tmp.path('j2.sqlite')
    const j = await openJournalFile(path)
    const id = j.startRun({ source: 's', target: 't', startedAt: new Date().toISOString() })
    expect(id).toBe(2)
    j.close()
  })

  it('refuses a path it cannot create', async () => {
    await expect(openJournalFile(tmp.path('no/dir/j.sqlite'))).rejects.toThrow(ConnectionError)
  })

  it('holds the rejected rows of a ferry run, matching the report', async () => {
    const src = tmp.path('dirty.db')
    buildDb(
      src,
      `CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, at DATETIME);
       INSERT INTO t VALUES (1, 1, '2010-01-14 10:00:00'), (2, 'lots-of-it', NULL), (3, 3, '01/14/10 1'), (4, 4, NULL);`,
    )
    const journal = tmp.path('run.sqlite')
    const report = await ferry({ from: `sqlite:${src}`, to: `sqlite:${tmp.path('clean.db')}`, journal })
    expect(report.ok).toBe(true)
    expect(report.journal).toBe(journal)
    expect(report.tables[0]).toMatchObject({ read: 4, written: 2, rejected: 2 })
    const db = new Database(journal, { readonly: true })
    const rows = db.prepare('SELECT table_name, action, kind, key, column_name, row_json, source FROM entry ORDER BY id').all()
    expect(rows).toEqual([
      { table_name: 't', action: 'rejected', kind: 'type_conversion', key: '{"id":2}', column_name: 'qty', row_json: '{"id":2,"qty":"lots-of-it","at":null}', source: 'reader' },
      { table_name: 't', action: 'rejected', kind: 'type_conversion', key: '{"id":3}', column_name: 'at', row_json: '{"id":3,"qty":3,"at":"01/14/10 1"}', source: 'reader' },
    ])
    expect(db.prepare('SELECT table_name, read, written, rejected, done FROM checkpoint').get()).toEqual({ table_name: 't', read: 4, written: 2, rejected: 2, done: 1 })
    expect(db.prepare('SELECT ok FROM run').pluck().get()).toBe(1)
    db.close()
  })
})
