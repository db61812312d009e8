import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { connect } from '../../src/connect.js'
import { DbferryError, SourceChangedError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { sourceChanges } from '../../src/pipeline/resume.js'
import type { Checkpoint } from '../../src/journal/journal.js'
import { harnesses } from '../cross/harness.js'
import { readingsFixture } from './readings.js'

const ROWS = 12_000
const dir = mkdtempSync(join(tmpdir(), 'dbferry-source-changed-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fixture = readingsFixture(ROWS)

/** Runs one statement on a source database through dbferry's own connection. */
async function run(url: string, sql: string): Promise<void> {
  const { connection } = await connect(url, { create: true })
  try {
    await connection.execute!(sql)
  } finally {
    await connection.close()
  }
}

/** A copy stopped by the signal after its second batch, as Ctrl-C would stop it. */
async function interruptedCopy(from: string, to: string, journal: string) {
  const stop = new AbortController()
  let batches = 0
  const report = await ferry({
    from,
    to,
    journal,
    batchRows: 1_000,
    // batch by batch: a table handed over whole (the pass-through) has no second batch to stop after
    passThrough: false,
    signal: stop.signal,
    onProgress(e) {
      if (e.type === 'batch' && ++batches === 2) stop.abort()
    },
  })
  expect(report.ok).toBe(false)
  expect(report.error?.code).toBe('aborted')
  return report
}

/** The error a run that cannot start throws (it must throw one of dbferry's, never return). */
async function refusal(run: Promise<unknown>): Promise<DbferryError> {
  const error = await run.then(
    (report) => expect.fail(`the run started and reported: ${JSON.stringify(report).slice(0, 200)}`),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(DbferryError)
  return error as DbferryError
}

function targetIds(file: string): number[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare('SELECT id FROM readings ORDER BY id').pluck().all() as number[]
  } finally {
    db.close()
  }
}

describe('sourceChanges', () => {
  const cp = (table: string, sourceState?: Checkpoint['sourceState']): Checkpoint => ({ table, lastKey: null, read: 0, written: 0, rejected: 0, dropped: 0, done: false, sourceState })

  it('lists each differing field with both values, and ignores tables without a recorded state', () => {
    const now = new Map([
      ['a', { rows: 11, maxKey: '[11]' }],
      ['b', { rows: 5, maxKey: '[5]' }],
      ['c', { rows: 1 }],
    ])
    const changes = sourceChanges([cp('a', { rows: 10, maxKey: '[10]' }), cp('b', { rows: 5, maxKey: '[5]' }), cp('c')], now)
    expect(changes).toEqual([
      {
        table: 'a',
        fields: [
          { field: 'rows', before: 10, now: 11 },
          { field: 'maxKey', before: '[10]', now: '[11]' },
        ],
      },
    ])
    const error = new SourceChangedError(changes)
    expect(error.code).toBe('source_changed')
    expect(error.table).toBe('a')
    expect(error.message).toContain('a: rows 10 → 11, maxKey "[10]" → "[11]"')
  })
})

const all = await harnesses()
const sources = all.filter((h) => h.name === 'sqlite' || h.name === 'postgres' || h.name === 'mysql')

describe('resume refuses a source that changed since the interrupted run', () => {
  for (const source of sources) {
    it(`${source.name} source: a row added after the interruption is reported; once it is gone again, resume completes exactly`, async () => {
      const src = await source.create()
      const target = join(dir, `target-${source.name}.db`)
      const journal = join(dir, `journal-${source.name}.sqlite`)
      try {
        await buildFixture(fixture, src.url)
        await interruptedCopy(src.url, `sqlite:${target}`, journal)

        await run(src.url, "INSERT INTO readings (id, v) VALUES (99999, 'added later')")
        // a resume refused before a row moves: the run cannot start, so ferry() throws
        const refused = await refusal(ferry({ from: src.url, to: `sqlite:${target}`, journal, batchRows: 1_000, resume: true }))
        expect(refused).toMatchObject({ name: 'SourceChangedError', code: 'source_changed', table: 'readings' })
        expect(refused.message).toContain(`readings: rows ${ROWS} → ${ROWS + 1}`)
        expect(refused.message).toContain('99999')
        // nothing was written by the refused run
        expect(targetIds(target).length).toBeLessThan(ROWS)

        // the journal still leads back to the interrupted run's checkpoints
        await run(src.url, 'DELETE FROM readings WHERE id = 99999')
        const resumed = await ferry({ from: src.url, to: `sqlite:${target}`, journal, batchRows: 1_000, resume: true })
        expect(resumed.error).toBeUndefined()
        expect(resumed.ok).toBe(true)
        expect(resumed.tables[0]).toMatchObject({ name: 'readings', read: ROWS, written: ROWS, rejected: 0 })
        expect(resumed.tables[0]!.resumed?.after).toBeDefined()
        const ids = targetIds(target)
        expect(ids.length).toBe(ROWS)
        expect(ids[ids.length - 1]).toBe(ROWS)

        const db = new Database(journal, { readonly: true })
        try {
          const states = db.prepare('SELECT state FROM source_state WHERE table_name = ? ORDER BY run_id').pluck().all('readings') as string[]
          // interrupted run, refused resume (carried over), completed resume
          expect(states.map((s) => JSON.parse(s) as { rows: number })).toEqual([
            expect.objectContaining({ rows: ROWS }),
            expect.objectContaining({ rows: ROWS }),
            expect.objectContaining({ rows: ROWS }),
          ])
          const kinds = db.prepare("SELECT name FROM failure_kind WHERE code = 'source_changed'").pluck().get()
          expect(kinds).toBe('SourceChangedError')
        } finally {
          db.close()
        }
      } finally {
        await src.drop()
      }
    }, 120_000)
  }

  it('a CSV folder: the edited table file is named', async () => {
    const folder = join(dir, 'csv')
    mkdirSync(folder)
    writeFileSync(join(folder, 'readings.csv'), `id,v\n${Array.from({ length: 3_000 }, (_, i) => `${i + 1},value ${i + 1}`).join('\n')}\n`)
    const target = join(dir, 'target-csv.db')
    const journal = join(dir, 'journal-csv.sqlite')
    await interruptedCopy(`csv:${folder}`, `sqlite:${target}`, journal)
    appendFileSync(join(folder, 'readings.csv'), '3001,appended\n')
    const refused = await refusal(ferry({ from: `csv:${folder}`, to: `sqlite:${target}`, journal, batchRows: 1_000, resume: true }))
    expect(refused.code).toBe('source_changed')
    expect(refused.message).toMatch(/readings: bytes \d+ → \d+, modified/)
  }, 60_000)

  it('a file source: an edited dump is reported by size and time; the original file resumes', async () => {
    const dump = join(dir, 'dump.sql')
    const rows = Array.from({ length: 3_000 }, (_, i) => `(${i + 1},'value ${i + 1}')`)
    const statements = [
      'CREATE TABLE `readings` (`id` int NOT NULL, `v` text, PRIMARY KEY (`id`)) ENGINE=InnoDB;',
      ...Array.from({ length: 6 }, (_, b) => `INSERT INTO \`readings\` VALUES ${rows.slice(b * 500, b * 500 + 500).join(',')};`),
    ]
    const original = `${statements.join('\n')}\n`
    writeFileSync(dump, original)
    const { mtime } = statSync(dump)
    const target = join(dir, 'target-dump.db')
    const journal = join(dir, 'journal-dump.sqlite')

    await interruptedCopy(`mysqldump:${dump}`, `sqlite:${target}`, journal)
    appendFileSync(dump, "INSERT INTO `readings` VALUES (3001,'appended');\n")
    const refused = await refusal(ferry({ from: `mysqldump:${dump}`, to: `sqlite:${target}`, journal, batchRows: 1_000, resume: true }))
    expect(refused.code).toBe('source_changed')
    expect(refused.message).toMatch(/readings: bytes \d+ → \d+, modified/)

    writeFileSync(dump, original)
    utimesSync(dump, mtime, mtime)
    const resumed = await ferry({ from: `mysqldump:${dump}`, to: `sqlite:${target}`, journal, batchRows: 1_000, resume: true })
    expect(resumed.error).toBeUndefined()
    expect(resumed.tables[0]).toMatchObject({ read: 3_000, written: 3_000 })
    expect(targetIds(target)).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1))

    // the same command once more: there is nothing left to resume, and it says so
    const again = await refusal(ferry({ from: `mysqldump:${dump}`, to: `sqlite:${target}`, journal, batchRows: 1_000, resume: true }))
    expect(again.message).toContain('the journal has no interrupted run between this source and target')
    expect(targetIds(target).length).toBe(3_000)
  }, 60_000)
})
