import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FAILURE_KINDS } from '../../src/errors.js'
import { openJournalFile } from '../../src/store/index.js'

describe("the journal's catalogue of failure kinds", () => {
  it('names the class of every kind; the row kinds of the error map are RowErrors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dbferry-kinds-'))
    const path = join(dir, 'journal.sqlite')
    try {
      const journal = await openJournalFile(path)
      await journal.close()
      const db = new Database(path, { readonly: true })
      const names = new Map((db.prepare('SELECT code, name FROM failure_kind').all() as { code: string; name: string }[]).map((r) => [r.code, r.name]))
      db.close()
      for (const kind of Object.keys(FAILURE_KINDS)) expect(names.get(kind), kind).not.toBe('DbferryError')
      for (const kind of ['foreign_key_violation', 'check_violation', 'serialization_failure']) expect(names.get(kind), kind).toBe('RowError')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
