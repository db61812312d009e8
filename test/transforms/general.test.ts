import iconv from 'iconv-lite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { prepareRun } from '../../src/plan/prepare-run.js'
import type { DatabaseSchema, TableSchema } from '../../src/schema/types.js'
import type { Transform } from '../../src/transforms/index.js'
import { transforms as t } from '../../src/transforms/index.js'
import { copy, rowsOf, sqliteSource, tableReport, tempDir } from './helpers.js'

const table = (name: string, extra: Partial<TableSchema> = {}): TableSchema => ({
  name,
  columns: [
    { name: 'id', type: { kind: 'int32' }, nativeType: 'int', nullable: false },
    { name: 'name', type: { kind: 'text', length: 40 }, nativeType: 'varchar(40)', nullable: true, charset: 'latin1', collation: 'latin1_swedish_ci' },
  ],
  primaryKey: { columns: ['id'] },
  uniques: [],
  indexes: [],
  foreignKeys: [],
  ...extra,
})
const schema = (tables: TableSchema[]): DatabaseSchema => ({ dialect: 'mysql', tables, objects: [] })
const ctx = { sourceDialect: 'mysql', targetDialect: 'mysql' }

describe('schema transforms', () => {
  it('rewriteEngine: MyISAM → InnoDB by default, case-insensitively; other engines stay', () => {
    const s = schema([table('a', { engine: 'MyISAM' }), table('b', { engine: 'myisam' }), table('c', { engine: 'MEMORY' }), table('d')])
    const out = t.rewriteEngine().schema!(s, ctx)
    expect(out.tables.map((x) => x.engine)).toEqual(['InnoDB', 'InnoDB', 'MEMORY', undefined])
    const aria = t.rewriteEngine({ from: '*', to: 'Aria', tables: ['d'] }).schema!(s, ctx)
    expect(aria.tables.map((x) => x.engine)).toEqual(['MyISAM', 'myisam', 'MEMORY', 'Aria'])
    expect(s.tables[0]!.engine).toBe('MyISAM') // the input is not changed
  })

  it('rewriteCharset: tables and text columns, collation swapped or given', () => {
    const s = schema([table('a', { charset: 'latin1', collation: 'latin1_general_ci' }), table('b', { charset: 'utf8mb4', collation: 'utf8mb4_bin' })])
    const out = t.rewriteCharset().schema!(s, ctx)
    expect([out.tables[0]!.charset, out.tables[0]!.collation]).toEqual(['utf8mb4', 'utf8mb4_general_ci'])
    // latin1_swedish_ci has no utf8mb4 twin: the target's default collation for utf8mb4
    expect([out.tables[0]!.columns[1]!.charset, out.tables[0]!.columns[1]!.collation]).toEqual(['utf8mb4', undefined])
    expect(out.tables[1]!.collation).toBe('utf8mb4_bin')
    expect(out.tables[1]!.columns[1]!.charset).toBe('utf8mb4')
    const given = t.rewriteCharset({ collation: 'utf8mb4_unicode_ci' }).schema!(s, ctx)
    expect(given.tables[0]!.columns[1]!.collation).toBe('utf8mb4_unicode_ci')
  })

  it('rename: tables and columns, with keys and foreign keys following', () => {
    const s = schema([
      table('org'),
      table('office', {
        columns: [
          { name: 'id', type: { kind: 'int32' }, nativeType: 'int', nullable: false },
          { name: 'org_id', type: { kind: 'int32' }, nativeType: 'int', nullable: true },
        ],
        indexes: [{ name: 'office_org', columns: ['org_id'], unique: false }],
        foreignKeys: [{ columns: ['org_id'], refTable: 'org', refColumns: ['id'], origin: 'source' }],
      }),
    ])
    const out = t.rename({ tables: { org: 'organisation' }, columns: { 'org.id': 'org_pk', 'office.org_id': 'organisation_id' } }).schema!(s, ctx)
    const [org, office] = out.tables
    expect([org!.name, org!.origin, org!.columns[0]!.name, org!.columns[0]!.origin, org!.primaryKey!.columns]).toEqual(['organisation', 'org', 'org_pk', 'id', ['org_pk']])
    expect(office!.foreignKeys[0]).toMatchObject({ columns: ['organisation_id'], refTable: 'organisation', refColumns: ['org_pk'] })
    expect(office!.indexes[0]!.columns).toEqual(['organisation_id'])
    expect(() => t.rename({ tables: { nope: 'x' } }).schema!(s, ctx)).toThrow(/no table "nope"/)
    expect(() => t.rename({ tables: { org: 'office' } }).schema!(s, ctx)).toThrow(/two tables would be named office/)
  })

  it('tables: include/exclude by name or pattern, foreign keys into left-out tables dropped', () => {
    const s = schema([table('msg_log'), table('msg_twitter'), table('org', { foreignKeys: [{ columns: ['id'], refTable: 'msg_log', refColumns: ['id'], origin: 'user' }] })])
    const out = t.tables({ exclude: [/^msg_/] }).schema!(s, ctx)
    expect(out.tables.map((x) => x.name)).toEqual(['org'])
    expect(out.tables[0]!.foreignKeys).toEqual([])
    expect(t.tables({ include: ['msg_log', 'org'] }).schema!(s, ctx).tables.map((x) => x.name)).toEqual(['msg_log', 'org'])
  })

  it('overrideType changes the logical type and clears the native one', () => {
    const out = t.overrideType({ table: 'a', column: 'name', type: { kind: 'text' }, nullable: false }).schema!(schema([table('a')]), ctx)
    expect(out.tables[0]!.columns[1]).toMatchObject({ type: { kind: 'text' }, nativeType: '', nullable: false })
    expect(() => t.overrideType({ table: 'a', column: 'x', type: { kind: 'text' } }).schema!(schema([table('a')]), ctx)).toThrow(/no such column/)
  })

  it('schema transforms run in the order given, before identifier fitting', () => {
    const s = schema([table('a', { engine: 'MyISAM' })])
    const caps = { maxIdentifierLength: 64, identifierLengthUnit: 'chars' as const }
    const run = prepareRun(s, { dialect: { name: 'mysql', capabilities: caps } } as never, {
      transforms: [t.rename({ tables: { a: 'b' } }), t.rewriteEngine({ tables: ['a'] })],
    })
    // users keep naming tables by their source name after a rename
    expect(run.targetSchema.tables.map((x) => [x.name, x.engine])).toEqual([['b', 'InnoDB']])
    expect(run.pairs[0]!.source.name).toBe('a')
  })
})

describe('row transforms', () => {
  let tmp: ReturnType<typeof tempDir>
  let from: string
  beforeEach(async () => {
    tmp = tempDir()
    from = await sqliteSource(tmp.path('src.db'), [
      {
        name: 'person',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nullable: false },
          { name: 'name', type: { kind: 'text' } },
          { name: 'age', type: { kind: 'int32' } },
          { name: 'legacy', type: { kind: 'text' } },
        ],
        primaryKey: ['id'],
        rows: [
          [1, ' Ann ', 30, 'plain'],
          [2, 'Bob', 17, Buffer.from(iconv.encode('Café’s “menu” €5', 'cp1252')).toString('latin1')],
          [3, 'Cy', null, Buffer.from('Léogâne', 'utf8').toString('latin1')],
        ],
      },
    ])
  })
  afterEach(() => tmp.cleanup())

  it('filterRows drops (and journals) what `where` refuses', async () => {
    const to = tmp.path('d.db')
    const { report, journal } = await copy(from, to, { transforms: [t.filterRows({ table: 'person', where: (r) => Number(r.age) >= 18 })] })
    expect(rowsOf(to, 'person').map((r) => r.id)).toEqual([1])
    expect(tableReport(report, 'person').byKind).toEqual({ filtered: 2 })
    expect(journal.entries.map((e) => [e.key, e.kind])).toEqual([
      ['{"id":2}', 'filtered'],
      ['{"id":3}', 'filtered'],
    ])
  })

  it('mapColumn changes values, counts them, and rejects what does not convert', async () => {
    const to = tmp.path('d.db')
    const { report } = await copy(from, to, {
      transforms: [
        t.mapColumn({ table: 'person', column: 'name', map: (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v) }),
        t.mapColumn({ table: 'person', column: 'age', map: (v, row) => (row.id === 3 ? 'unknown' : v) }),
      ],
    })
    expect(rowsOf(to, 'person').map((r) => [r.id, r.name, r.age])).toEqual([
      [1, 'ANN', 30],
      [2, 'BOB', 17],
    ])
    const r = tableReport(report, 'person')
    expect(r.fixed).toEqual({ name: 3 })
    expect(r.byKind).toEqual({ type_conversion: 1 })
    expect(r.examples[0]!.by).toBe('mapColumn(person.age)')
  })

  it('convertEncoding re-decodes text stored in a legacy encoding', async () => {
    const to = tmp.path('d.db')
    const { report } = await copy(from, to, {
      transforms: [
        t.convertEncoding({ table: 'person', columns: ['legacy'], from: 'cp1252', readAs: 'latin1' }),
        t.filterRows({ table: 'person', where: (r) => r.id !== 3 }),
      ],
    })
    expect(rowsOf(to, 'person').map((r) => r.legacy)).toEqual(['plain', 'Café’s “menu” €5'])
    expect(tableReport(report, 'person').fixed).toEqual({ legacy: 1 })
    const utf = tmp.path('e.db')
    await copy(from, utf, { transforms: [t.convertEncoding({ table: 'person', columns: ['legacy'], from: 'utf8' })] })
    // row 2's bytes are not UTF-8: rejected, not garbled
    expect(rowsOf(utf, 'person').map((r) => r.legacy)).toEqual(['plain', 'Léogâne'])
    expect(() => t.convertEncoding({ table: 'person', columns: ['legacy'], from: 'klingon' })).toThrow(/unknown encoding/)
  })

  it('rename moves rows into the new names', async () => {
    const to = tmp.path('d.db')
    const { report } = await copy(from, to, { transforms: [t.rename({ tables: { person: 'people' }, columns: { 'person.name': 'full_name' } }), t.collapseMultiline({ tables: ['person'] })] })
    expect(report.ok).toBe(true)
    expect(rowsOf(to, 'people').map((r) => r.full_name)).toEqual([' Ann ', 'Bob', 'Cy'])
  })
})

describe('composition', () => {
  let tmp: ReturnType<typeof tempDir>
  let from: string
  beforeEach(async () => {
    tmp = tempDir()
    from = await sqliteSource(tmp.path('src.db'), [
      {
        name: 'tag',
        columns: [
          { name: 'id', type: { kind: 'int32' }, nullable: false },
          { name: 'label', type: { kind: 'text' } },
        ],
        primaryKey: ['id'],
        rows: [
          [1, 'red\nwine'],
          [2, 'red wine'],
          [3, 'white'],
        ],
      },
    ])
  })
  afterEach(() => tmp.cleanup())

  it('order matters: collapse then dedupe merges what dedupe then collapse keeps apart', async () => {
    const a = tmp.path('a.db')
    await copy(from, a, { transforms: [t.collapseMultiline(), t.dedupe({ table: 'tag', key: 'label' })] })
    expect(rowsOf(a, 'tag').map((r) => r.id)).toEqual([1, 3])
    const b = tmp.path('b.db')
    await copy(from, b, { transforms: [t.dedupe({ table: 'tag', key: 'label' }), t.collapseMultiline()] })
    expect(rowsOf(b, 'tag').map((r) => r.id)).toEqual([1, 2, 3])
  })

  it('a transform that throws stops the table with an error naming it', async () => {
    const broken: Transform = {
      name: 'myBrokenTransform',
      table: () => ({
        batch() {
          throw new Error('boom')
        },
      }),
    }
    const { report } = await copy(from, tmp.path('c.db'), { transforms: [t.collapseMultiline(), broken] })
    expect(report.ok).toBe(false)
    expect(report.error).toEqual({ code: 'transform', message: 'transform myBrokenTransform: boom' })
    expect(tableReport(report, 'tag').status).toBe('failed')
  })

  it('a transform that loses a row without reporting it fails the accounting', async () => {
    const lossy: Transform = { name: 'lossy', table: () => ({ batch: (rows) => rows.slice(1) }) }
    const { report } = await copy(from, tmp.path('d.db'), { transforms: [lossy] })
    expect(report.ok).toBe(false)
    expect(report.error?.code).toBe('accounting')
    expect(report.error?.message).toContain('lossy')
  })
})
