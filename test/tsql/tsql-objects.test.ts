import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { orderObjects, runObjects } from '../../src/finish/objects.js'
import type { Connection } from '../../src/dialect.js'
import { ferry } from '../../src/ferry.js'
import { openScript, scriptFile } from './script-helpers.js'

const dir = await mkdtemp(join(tmpdir(), 'dbferry-tsql-objects-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

const SAME_NAME_OBJECTS = [
  'CREATE TABLE [dbo].[tblX] ([id] int NOT NULL PRIMARY KEY)',
  'GO',
  'INSERT [dbo].[tblX] ([id]) VALUES (1)',
  'GO',
  'CREATE VIEW [dbo].[uvwX] AS SELECT id FROM tblX',
  'GO',
  'CREATE VIEW [dbo].[uvwx] AS SELECT id, 2 AS two FROM tblX',
  'GO',
  'CREATE PROCEDURE [dbo].[uspX] AS SELECT 1',
  'GO',
  'CREATE PROCEDURE [dbo].[uspX] AS SELECT 2',
  'GO',
]

describe('objects whose names differ only by case', () => {
  it('are ordered without a crash (orderObjects keeps both)', () => {
    const order = orderObjects([
      { name: 'uvwX', type: 'view', dependsOn: [] },
      { name: 'uvwx', type: 'view', dependsOn: ['tblX'] },
      { name: 'uspX', type: 'procedure', dependsOn: ['uvwX'] },
    ])
    expect(order.map((o) => o.name)).toEqual(['uvwX', 'uvwx', 'uspX'])
  })

  it('a later definition replaces the earlier one in the script, as in SQL Server (case-insensitive names)', async () => {
    const { schema, source } = await openScript(SAME_NAME_OBJECTS)
    expect(schema.objects.map((o) => [o.name, o.type, o.definition])).toEqual([
      ['uvwx', 'view', 'CREATE VIEW [dbo].[uvwx] AS SELECT id, 2 AS two FROM tblX'],
      ['uspX', 'procedure', 'CREATE PROCEDURE [dbo].[uspX] AS SELECT 2'],
    ])
    expect((await source.snapshot()).notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^line 7: CREATE VIEW dbo\.uvwx replaces dbo\.uvwX of line 5/)]),
    )
  })

  it('a run with such objects finishes its data and lists them as not created', async () => {
    const report = await ferry({ from: `tsql:${await scriptFile(SAME_NAME_OBJECTS)}`, to: `sqlite:${join(dir, 'same-name.db')}` })
    expect(report.error).toBeUndefined()
    expect(report.ok).toBe(true)
    expect(report.tables.map((t) => [t.name, t.written])).toEqual([['tblX', 1]])
    expect(report.objects.map((o) => [o.name, o.ok])).toEqual([['uvwx', false], ['uspX', false]])
  })

  it('a failing objects step is reported per object, and never fails the finished data copy', async () => {
    const target = { description: 'file target' } as unknown as Connection
    const schema = { dialect: 'mssql', tables: [], objects: [{ name: 'uvwA', type: 'view' as const, dependsOn: [] }] }
    const out = await runObjects(target, { uvwA: 'CREATE VIEW uvwA AS SELECT 1' }, schema)
    expect(out).toEqual([{ name: 'uvwA', ok: false, error: expect.stringMatching(/cannot run SQL.*the data copy is complete/) }])
  })
})
