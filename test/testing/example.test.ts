// A complete example of testing a migration with dbferry/testing — copy it into your project and replace
// the relative imports with the package ones:
//   import { ferry } from 'dbferry'
//   import { buildFixture, defineFixture, expectMigrated } from 'dbferry/testing'
// It builds a small database from a declaration, migrates it, and asserts with one call that the target holds
// the same rows. Set MIGRATION_TARGET (e.g. postgres://postgres@127.0.0.1:5432/scratch) to migrate into a
// server instead of an SQLite file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ferry } from '../../src/index.js'
import { buildFixture, defineFixture, expectMigrated } from '../../src/testing/index.js'

const shop = defineFixture({
  name: 'shop',
  tables: [
    {
      name: 'customers',
      columns: [
        { name: 'id', type: { kind: 'int32' }, nullable: false },
        { name: 'email', type: { kind: 'text', length: 200 }, nullable: false },
        { name: 'joined', type: { kind: 'timestamp', precision: 6 } },
      ],
      primaryKey: ['id'],
      uniques: [['email']],
      rows: [
        [1, 'ada@example.org', '2024-01-02 03:04:05.123456'],
        [2, 'grace@example.org', null],
      ],
    },
    {
      name: 'orders',
      columns: [
        { name: 'id', type: { kind: 'int64' }, nullable: false },
        { name: 'customer_id', type: { kind: 'int32' }, nullable: false },
        { name: 'total', type: { kind: 'decimal', precision: 10, scale: 2 } },
        { name: 'paid', type: { kind: 'boolean' } },
      ],
      primaryKey: ['id'],
      foreignKeys: [{ columns: ['customer_id'], refTable: 'customers', refColumns: ['id'] }],
      rows: [
        [10, 1, '19.90', true],
        [11, 1, '5.00', false],
        [12, 2, '120.00', true],
      ],
    },
  ],
})

describe('migrating the shop database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shop-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('copies every row unchanged', async () => {
    const from = `sqlite:${join(dir, 'shop.db')}`
    const to = process.env.MIGRATION_TARGET ?? `sqlite:${join(dir, 'shop-migrated.db')}`
    await buildFixture(shop, from)

    const report = await ferry({ from, to, mode: 'recreate' })
    expect(report.ok).toBe(true)

    // throws with a readable diff (table, key, columns) when the target differs
    await expectMigrated({ from, to, renames: report.renames })
  })
})
