import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFixture } from '../../fixtures/fixture.js'
import { sahanaFixture } from '../../fixtures/sahana.js'
import { typesFixture } from '../../fixtures/types.js'
import { ferry } from '../../src/ferry.js'
import { transforms as t } from '../../src/transforms/index.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-opts-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ferry options', () => {
  it('verify: true compares source and target after the copy, expecting what the run rejected or dropped', async () => {
    const from = `sqlite:${join(dir, 'sahana.db')}`
    await buildFixture(sahanaFixture, from)
    const report = await ferry({ from, to: `sqlite:${join(dir, 'verified.db')}`, verify: true, tables: { exclude: ['msg_log'] } })
    expect(report.ok).toBe(true)
    // the two junk rows are rejected, so expected missing: the rest is equal
    expect(report.verify?.equal).toBe(true)
    expect(report.verify?.tables.find((x) => x.name === 'or_organisation')).toMatchObject({ equal: true, missing: 0 })

    // values a transform changed are expected changes (counted per column, without a journal), not differences
    const changed = await ferry({
      from,
      to: `sqlite:${join(dir, 'collapsed.db')}`,
      verify: true,
      tables: { include: ['gis_layer_js'] },
      transforms: [t.collapseMultiline({ tables: ['gis_layer_js'] })],
    })
    expect(changed.verify).toMatchObject({ equal: true, expected: { changed: 2 } })
    expect(changed.verify?.tables[0]).toMatchObject({ name: 'gis_layer_js', changed: 0 })
    expect(changed.clean).toBe(true)
  })

  it('backs up an existing SQLite target before a run that changes it', async () => {
    const from = `sqlite:${join(dir, 'types.db')}`
    const toFile = join(dir, 'types-copy.db')
    await buildFixture(typesFixture, from)
    const first = await ferry({ from, to: `sqlite:${toFile}` })
    expect(first.backup).toBeUndefined() // create mode on a new file: nothing to protect
    const db = new Database(toFile)
    db.prepare('UPDATE types_all SET txt = ? WHERE id = 7').run('edited by hand')
    db.close()
    const second = await ferry({ from, to: `sqlite:${toFile}`, mode: 'truncate' })
    expect(second.ok).toBe(true)
    expect(second.backup).toBeDefined()
    expect(existsSync(second.backup!)).toBe(true)
    const backup = new Database(second.backup!, { readonly: true })
    expect(backup.prepare('SELECT txt FROM types_all WHERE id = 7').pluck().get()).toBe('edited by hand')
    backup.close()
    const third = await ferry({ from, to: `sqlite:${toFile}`, mode: 'truncate', backup: false })
    expect(third.backup).toBeUndefined()
  })
})
