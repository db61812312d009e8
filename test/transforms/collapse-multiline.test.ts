import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { transforms as t } from '../../src/transforms/index.js'
import { copy, rowsOf, sqliteSource, tableReport, tempDir } from './helpers.js'

describe('collapseMultiline', () => {
  let tmp: ReturnType<typeof tempDir>
  let from: string
  beforeEach(async () => {
    tmp = tempDir()
    from = await sqliteSource(tmp.path('src.db'), [
      {
        name: 'note',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nullable: false },
          { name: 'title', type: { kind: 'text' } },
          { name: 'body', type: { kind: 'text' } },
          { name: 'raw', type: { kind: 'bytes' } },
        ],
        primaryKey: ['id'],
        rows: [
          [1, 'a\nb', 'one\r\ntwo\rthree\nfour', Buffer.from('x\ny')],
          [2, 'plain', '  spaces\tand tabs  ', null],
          [3, null, '\n\nlead', null],
          [4, 'é\u2028😀', '', null],
        ],
      },
      {
        name: 'other',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nullable: false },
          { name: 'body', type: { kind: 'text' } },
        ],
        primaryKey: ['id'],
        rows: [[1, 'keep\nme']],
      },
    ])
  })
  afterEach(() => tmp.cleanup())

  it('replaces CR, LF and CRLF in text, counts per column, leaves everything else alone', async () => {
    const to = tmp.path('d.db')
    const { report, journal } = await copy(from, to, { transforms: [t.collapseMultiline({ tables: ['note'] })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'note')).toEqual([
      { id: 1, title: 'a b', body: 'one two three four', raw: Buffer.from('x\ny') },
      { id: 2, title: 'plain', body: '  spaces\tand tabs  ', raw: null },
      { id: 3, title: null, body: '  lead', raw: null },
      { id: 4, title: 'é\u2028😀', body: '', raw: null },
    ])
    expect(rowsOf(to, 'other')).toEqual([{ id: 1, body: 'keep\nme' }])
    expect(tableReport(report, 'note').fixed).toEqual({ title: 1, body: 2 })
    const fixes = journal.entries.filter((e) => e.action === 'fixed')
    expect(fixes.map((f) => [f.key, f.column, f.message])).toEqual([
      ['{"id":1}', 'title', '1 line break replaced by a space'],
      ['{"id":1}', 'body', '3 line breaks replaced by a space'],
      ['{"id":3}', 'body', '2 line breaks replaced by a space'],
    ])
    // the journal keeps each value as it was
    expect(fixes.map((f) => JSON.parse(f.row!))).toEqual([{ title: 'a\nb' }, { body: 'one\r\ntwo\rthree\nfour' }, { body: '\n\nlead' }])
  })

  it('matches the regular-expression definition on every arrangement of breaks', async () => {
    const texts = ['\n\r', '\r\r\n\n', 'end\n', 'end\r', 'end\r\n', '\r\nstart', 'a\n\rb', 'x'.repeat(300) + '\r\n' + 'é'.repeat(300), '😀\r😀\n😀']
    const src = await sqliteSource(tmp.path('breaks.db'), [
      {
        name: 'b',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nullable: false },
          { name: 'v', type: { kind: 'text' } },
        ],
        primaryKey: ['id'],
        rows: texts.map((v, i) => [i + 1, v]),
      },
    ])
    const to = tmp.path('breaks-out.db')
    const { report } = await copy(src, to, { transforms: [t.collapseMultiline({ replacement: '|' })] })
    expect(rowsOf(to, 'b').map((r) => r.v)).toEqual(texts.map((v) => v.replace(/\r\n|\r|\n/g, '|')))
    expect(tableReport(report, 'b').fixed).toEqual({ v: texts.length })
  })

  it('journals every change of a row under the key the row had, when the key itself is collapsed', async () => {
    const src = await sqliteSource(tmp.path('text-key.db'), [
      {
        name: 'tag',
        columns: [
          { name: 'code', type: { kind: 'text' }, nullable: false },
          { name: 'label', type: { kind: 'text' } },
        ],
        primaryKey: ['code'],
        rows: [['a\nb', 'x\ny']],
      },
    ])
    const to = tmp.path('text-key-out.db')
    const { journal } = await copy(src, to, { transforms: [t.collapseMultiline()] })
    expect(rowsOf(to, 'tag')).toEqual([{ code: 'a b', label: 'x y' }])
    const fixes = journal.entries.filter((e) => e.action === 'fixed')
    expect(fixes.map((f) => [f.key, f.column, JSON.parse(f.row!)])).toEqual([
      ['{"code":"a\\nb"}', 'code', { code: 'a\nb' }],
      ['{"code":"a\\nb"}', 'label', { label: 'x\ny' }],
    ])
  })

  it('journal: false counts the changes without journaling them', async () => {
    const to = tmp.path('quiet.db')
    const { report, journal } = await copy(from, to, { transforms: [t.collapseMultiline({ tables: ['note'], journal: false })] })
    expect(rowsOf(to, 'note')[0]!.body).toBe('one two three four')
    expect(tableReport(report, 'note').fixed).toEqual({ title: 1, body: 2 })
    expect(journal.entries.filter((e) => e.action === 'fixed')).toEqual([])
  })

  it('columns and replacement', async () => {
    const to = tmp.path('d.db')
    const { report } = await copy(from, to, { transforms: [t.collapseMultiline({ columns: ['body'], replacement: ' / ' })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'note').map((r) => [r.title, r.body])).toEqual([
      ['a\nb', 'one / two / three / four'],
      ['plain', '  spaces\tand tabs  '],
      [null, ' /  / lead'],
      ['é\u2028😀', ''],
    ])
    expect(rowsOf(to, 'other')).toEqual([{ id: 1, body: 'keep / me' }])
    const only = tmp.path('e.db')
    await copy(from, only, { transforms: [t.collapseMultiline({ columns: ['other.body'] })] })
    expect(rowsOf(only, 'note')[0]!.body).toBe('one\r\ntwo\rthree\nfour')
    expect(rowsOf(only, 'other')[0]!.body).toBe('keep me')
  })
})
