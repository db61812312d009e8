import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { sqlite } from '../../dialects/sqlite/index.js'
import { ferry } from '../../src/ferry.js'
import { buildDb, tempDir } from './helpers.js'

const tmp = tempDir()
afterAll(() => tmp.cleanup())

/** Names of the tables and views a SQLite file holds, shadow tables included. */
function tablesIn(path: string): string[] {
  const db = new Database(path, { readonly: true })
  const names = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name").pluck().all() as string[]
  db.close()
  return names
}

/**
 * Virtual tables keep their data in a module (FTS3/4/5, R*Tree) and its shadow tables (`x_content`,
 * `x_data`, `x_node`…): no other engine holds them, so they are skipped — never silently, and a run that
 * leaves data behind is not clean. An FTS index over a table of the file (external content) is an index not
 * created: its rows come with that table.
 */
describe('FTS and R*Tree virtual tables and their shadow tables', () => {
  it('are skipped with the reason in the snapshot notes, and counted when they hold data', async () => {
    const file = tmp.path('virtual.db')
    buildDb(
      file,
      `
      CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
      INSERT INTO docs VALUES (1, 'hello world'), (2, 'full text');
      CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs', content_rowid='id');
      INSERT INTO docs_fts (rowid, body) SELECT id, body FROM docs;
      CREATE VIRTUAL TABLE notes USING fts5(title, body);
      INSERT INTO notes VALUES ('a', 'b c'), ('d', 'e f');
      CREATE VIRTUAL TABLE old_notes USING fts4(body);
      INSERT INTO old_notes VALUES ('x');
      CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy);
      INSERT INTO boxes VALUES (1, 0, 1, 0, 1);
      CREATE VIRTUAL TABLE empty_fts USING fts3(body);
      `,
    )
    const conn = await sqlite.connect(`sqlite:${file}`)
    const snap = await conn.snapshot()
    const schema = await conn.introspect()
    await conn.close()
    // only the real table is a table; no virtual or shadow table appears as one
    expect(schema.tables.map((t) => t.name)).toEqual(['docs'])
    expect(snap.notApplied).toBe(3)
    expect(snap.guarantee).toBe('one read transaction; 3 virtual table(s) hold data no target gets')
    expect(snap.notes).toEqual([
      'docs_fts: virtual table (fts5), a full-text index over table docs: index not created (the rows of docs are copied; create a full-text index on the target); its shadow tables docs_fts_data, docs_fts_idx, docs_fts_docsize, docs_fts_config are not copied either',
      'notes: virtual table (fts5) holds 2 row(s): not copied, no other engine holds a virtual table — its data is not on the target; its shadow tables notes_data, notes_idx, notes_content, notes_docsize, notes_config are not copied either',
      'old_notes: virtual table (fts4) holds 1 row(s): not copied, no other engine holds a virtual table — its data is not on the target; its shadow tables old_notes_content, old_notes_segments, old_notes_segdir, old_notes_docsize, old_notes_stat are not copied either',
      'boxes: virtual table (rtree) holds 1 row(s): not copied, no other engine holds a virtual table — its data is not on the target; its shadow tables boxes_node, boxes_rowid, boxes_parent are not copied either',
      'empty_fts: virtual table (fts3) holds 0 row(s): not copied, no other engine holds a virtual table; its shadow tables empty_fts_content, empty_fts_segments, empty_fts_segdir are not copied either',
    ])

    // a copy moves the real table, no shadow table, and is not clean
    const out = tmp.path('virtual-copy.db')
    const report = await ferry({ from: `sqlite:${file}`, to: `sqlite:${out}` })
    expect(report.ok).toBe(true)
    expect(report.tables.map((t) => [t.name, t.written])).toEqual([['docs', 2]])
    expect(report.snapshot?.notApplied).toBe(3)
    expect(report.clean).toBe(false)
    expect(tablesIn(out)).toEqual(['docs'])
  })

  it('an FTS index over a table of the file alone leaves the run clean', async () => {
    const file = tmp.path('external.db')
    buildDb(
      file,
      `
      CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
      INSERT INTO docs VALUES (1, 'hello world');
      CREATE VIRTUAL TABLE docs_fts USING fts4(body, content="docs");
      INSERT INTO docs_fts (docid, body) SELECT id, body FROM docs;
      `,
    )
    const out = tmp.path('external-copy.db')
    const report = await ferry({ from: `sqlite:${file}`, to: `sqlite:${out}` })
    expect(report.tables.map((t) => [t.name, t.written])).toEqual([['docs', 1]])
    expect(report.snapshot?.notApplied ?? 0).toBe(0)
    expect(report.snapshot?.notes).toEqual([
      'docs_fts: virtual table (fts4), a full-text index over table docs: index not created (the rows of docs are copied; create a full-text index on the target); its shadow tables docs_fts_segments, docs_fts_segdir, docs_fts_docsize, docs_fts_stat are not copied either',
    ])
    expect(report.clean).toBe(true)
    expect(tablesIn(out)).toEqual(['docs'])
  })
})
