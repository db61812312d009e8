import { describe, expect, it } from 'vitest'
import { defaultJournalPath, FALLBACK_JOURNAL } from '../../src/journal/default-path.js'

describe('the default journal is named after the run\'s target', () => {
  it('a file target: the file\'s name without its extension', () => {
    expect(defaultJournalPath('sqlite:./out/app.db')).toBe('dbferry-journal-app.sqlite')
    expect(defaultJournalPath('sqlite:/abs/dir/sahana-clean.db')).toBe('dbferry-journal-sahana-clean.sqlite')
    expect(defaultJournalPath('sqlite:///abs/dir/other.sqlite3')).toBe('dbferry-journal-other.sqlite')
    expect(defaultJournalPath('duckdb:./warehouse.duckdb')).toBe('dbferry-journal-warehouse.sqlite')
    expect(defaultJournalPath('csv:./export/')).toBe('dbferry-journal-export.sqlite')
  })

  it('a server: scheme, host, database and schema, never the user or the password', () => {
    expect(defaultJournalPath('postgres://postgres@127.0.0.1/sahana')).toBe('dbferry-journal-postgres-127.0.0.1-sahana.sqlite')
    const named = defaultJournalPath('postgresql://app:S3cr3t@db.local:5432/imis?schema=imported&sslmode=require')
    expect(named).toBe('dbferry-journal-postgresql-db.local-imis-imported.sqlite')
    expect(defaultJournalPath('mysql+ssl://root:p@ss@w0rd@[::1]:3306/shop')).toBe('dbferry-journal-mysql-1-shop.sqlite')
    for (const url of ['postgresql://app:S3cr3t@db.local:5432/imis', 'mysql://root:p@ss@w0rd@h/shop', 'mssql://sa:Pa ss;w@host/master']) {
      const path = defaultJournalPath(url)
      expect(path).not.toMatch(/S3cr3t|ss@w0rd|Pa|app|root|sa-/)
    }
  })

  it('different targets get different journals; the same target the same one', () => {
    const a = defaultJournalPath('sqlite:./a.db')
    expect(defaultJournalPath('sqlite:./b.db')).not.toBe(a)
    expect(defaultJournalPath('sqlite:./a.db')).toBe(a)
    expect(defaultJournalPath('postgres://h/one')).not.toBe(defaultJournalPath('postgres://h/two'))
  })

  it('only file-name characters, and a readable length', () => {
    const path = defaultJournalPath(`sqlite:./${'ä b/'.repeat(3)}${'long name '.repeat(20)}.db`)
    expect(path).toMatch(/^dbferry-journal-[A-Za-z0-9._-]+\.sqlite$/)
    expect(path.length).toBeLessThanOrEqual('dbferry-journal-.sqlite'.length + 60)
  })

  it('a target with no name to give: the old default', () => {
    expect(defaultJournalPath({ query() {} })).toBe(FALLBACK_JOURNAL)
    expect(defaultJournalPath('sqlite::memory:')).toBe(FALLBACK_JOURNAL)
    expect(FALLBACK_JOURNAL).toBe('dbferry-journal.sqlite')
  })
})
