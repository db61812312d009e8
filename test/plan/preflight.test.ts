import mysql2 from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlDialect } from '../../dialects/mysql/index.js'
import type { Connection } from '../../src/dialect.js'
import { PreflightError } from '../../src/errors.js'
import { ferry } from '../../src/ferry.js'
import { plan, type PreflightIssue } from '../../src/plan/plan.js'
import type { DatabaseSchema } from '../../src/schema/types.js'
import type { Transform } from '../../src/transforms/transform.js'
import { createMysqlDatabase, serverUp, type TestDatabase } from '../support/servers.js'

function collate(collation: string): Transform {
  return {
    name: `collate(${collation})`,
    schema(schema: DatabaseSchema) {
      const copy = structuredClone(schema)
      for (const t of copy.tables) for (const c of t.columns) if (c.collation) c.collation = collation
      return copy
    },
  }
}

const NAMES = [
  [1, 'Médecins Sans Frontières', 'alice@example.org'],
  [2, 'Medecins Sans Frontieres', 'ALICE@example.org'],
  [3, 'Oxfam', 'bob@example.org'],
  [4, 'OXFAM', 'Bob@Example.org'],
  [5, 'Oxfam ', 'carol@example.org'],
  [6, 'Save the Children', 'dan@example.org'],
  [7, 'Straße', 'eve@example.org'],
  [8, 'Strasse', 'frank@example.org'],
  [9, 'Øre', 'fay@example.org'],
  [10, 'Ore', 'gus@example.org'],
] as const

describe.skipIf(!(await serverUp('mysql')))('preflight: collation collisions, orphans and values the target cannot hold', () => {
  let src: TestDatabase
  let dst: TestDatabase
  beforeAll(async () => {
    src = await createMysqlDatabase('dbferry_pf')
    dst = await createMysqlDatabase('dbferry_pfdst')
    const c = await mysql2.createConnection(src.url)
    try {
      await c.query('CREATE TABLE sector (id INT PRIMARY KEY, name VARCHAR(40))')
      await c.query(
        'CREATE TABLE org (id INT PRIMARY KEY, name VARCHAR(60) COLLATE utf8mb4_nopad_bin NOT NULL, email VARCHAR(60) COLLATE utf8mb4_nopad_bin, sector_id INT, note TEXT, UNIQUE KEY name_u (name), UNIQUE KEY email_u (email)) ENGINE=MyISAM',
      )
      await c.query("INSERT INTO sector VALUES (1, 'Health'), (2, 'Water')")
      for (const [id, name, email] of NAMES) await c.query('INSERT INTO org VALUES (?, ?, ?, ?, ?)', [id, name, email, id % 3 === 0 ? 16 : 1, id === 6 ? 'nul\0inside' : null])
    } finally {
      await c.end()
    }
  })
  afterAll(async () => {
    await src?.drop()
    await dst?.drop()
  })

  async function serverSays(collation: string, a: string, b: string): Promise<boolean> {
    const c = await mysql2.createConnection(src.url)
    try {
      const [r] = await c.query(`SELECT CONVERT(? USING utf8mb4) COLLATE ${collation} = CONVERT(? USING utf8mb4) AS eq`, [a, b])
      return Number((r as { eq: number }[])[0]!.eq) === 1
    } finally {
      await c.end()
    }
  }

  for (const collation of ['utf8mb4_general_ci', 'utf8mb4_unicode_ci']) {
    it(`lists collisions under ${collation} first, and the server agrees with every one`, async () => {
      const p = await plan({ from: src.url, to: dst.url, foreignKeys: [{ from: 'org.sector_id', to: 'sector.id' }], transforms: [collate(collation)] })
      expect(p.order).toEqual(['sector', 'org'])
      expect(p.tables).toEqual([
        { name: 'sector', rows: 2 },
        { name: 'org', rows: 10 },
      ])
      const kinds = p.preflight.map((i) => i.kind)
      expect(kinds[0]).toBe('collation_collision')
      expect(kinds.indexOf('orphan_foreign_key')).toBeGreaterThan(kinds.lastIndexOf('collation_collision'))

      const byColumn: Record<string, PreflightIssue> = Object.fromEntries(p.preflight.filter((i) => i.kind === 'collation_collision').map((i) => [i.column, i]))
      const nameValues = byColumn['name']!.examples.map((e) => e.value as string)
      // case-only (Oxfam/OXFAM), accent-only (Médecins/Medecins) and trailing-space (PAD SPACE) duplicates
      expect(nameValues).toEqual(expect.arrayContaining(['Médecins Sans Frontières', 'Medecins Sans Frontieres', 'Oxfam', 'OXFAM', 'Oxfam ']))
      const emailValues = byColumn['email']!.examples.map((e) => e.value as string)
      expect(emailValues).toEqual(expect.arrayContaining(['alice@example.org', 'ALICE@example.org', 'bob@example.org', 'Bob@Example.org']))

      // the server's own answer on every pair of names: equal exactly when the preflight grouped them
      const collides = new Set(nameValues)
      for (let i = 0; i < NAMES.length; i++) {
        for (let j = i + 1; j < NAMES.length; j++) {
          const a = NAMES[i]![1]
          const b = NAMES[j]![1]
          const server = await serverSays(collation, a, b)
          if (server) expect([a, b].every((x) => collides.has(x)), `${a} = ${b} under ${collation}`).toBe(true)
        }
      }
      // ß = ss under unicode_ci, but not under general_ci (where ß = s); Ø ≠ O in both
      expect(collides.has('Straße')).toBe(collation === 'utf8mb4_unicode_ci')
      expect(await serverSays(collation, 'Straße', 'Strasse')).toBe(collation === 'utf8mb4_unicode_ci')
      expect(collides.has('Øre')).toBe(false)

      const orphans = p.preflight.find((i) => i.kind === 'orphan_foreign_key')!
      expect(orphans).toMatchObject({ table: 'org', column: 'sector_id', count: 3 })
      expect(orphans.examples.map((e) => e.key)).toEqual(['{"id":3}', '{"id":6}', '{"id":9}'])
    })
  }

  it('lists text a 3-byte utf8mb3 target column cannot hold (the target type map says which columns those are)', async () => {
    const c = await mysql2.createConnection(src.url)
    try {
      await c.query('CREATE TABLE emoji (id INT PRIMARY KEY, note VARCHAR(20) CHARACTER SET utf8mb4)')
      await c.query("INSERT INTO emoji VALUES (1, 'plain'), (2, 'smile \u{1F600}')")
    } finally {
      await c.end()
    }
    const toUtf8mb3: Transform = {
      name: 'utf8mb3',
      schema(schema: DatabaseSchema) {
        const copy = structuredClone(schema)
        for (const t of copy.tables) for (const col of t.columns) if (col.type.kind === 'text') col.charset = 'utf8mb3'
        return copy
      },
    }
    const p = await plan({ from: src.url, to: dst.url, tables: { include: ['emoji'] }, transforms: [toUtf8mb3] })
    const issue = p.preflight.find((i) => i.kind === 'unsupported_text')
    expect(issue).toMatchObject({ table: 'emoji', column: 'note', count: 1 })
    expect(issue!.examples.map((e) => e.key)).toEqual(['{"id":2}'])
  })

  it('the collisions the preflight lists are exactly the rows the server rejects as duplicate_key', async () => {
    const p = await plan({ from: src.url, to: dst.url, transforms: [collate('utf8mb4_general_ci')], tables: { include: ['org'] } })
    const predicted = p.preflight.filter((i) => i.kind === 'collation_collision' || i.kind === 'duplicate_key')
    const report = await ferry({ from: src.url, to: dst.url, mode: 'recreate', transforms: [collate('utf8mb4_general_ci')], tables: { include: ['org'] } })
    const t = report.tables[0]!
    expect(t.byKind.duplicate_key).toBeGreaterThan(0)
    // every rejected row is in a predicted group (each group keeps its first row)
    const predictedKeys = new Set(predicted.flatMap((i) => i.examples.map((e) => e.key)))
    for (const e of t.examples) expect(predictedKeys.has(e.key)).toBe(true)
  })

  it('exact duplicates under a key the target adds are reported as duplicate_key, not as a collation problem', async () => {
    const c = await mysql2.createConnection(src.url)
    await c.query('CREATE TABLE contacts (id INT PRIMARY KEY, email VARCHAR(60))')
    await c.query("INSERT INTO contacts VALUES (1, 'eve@example.org'), (2, 'eve@example.org'), (3, 'Eve@example.org'), (4, 'zed@example.org')")
    await c.end()
    const addKey: Transform = {
      name: 'unique(email)',
      schema(schema) {
        const copy = structuredClone(schema)
        copy.tables.find((t) => t.name === 'contacts')!.uniques.push({ name: 'email_u', columns: ['email'] })
        return copy
      },
    }
    const p = await plan({ from: src.url, to: dst.url, tables: { include: ['contacts'] }, transforms: [addKey] })
    // one group: two exact copies and a case variant; all three are listed, two of them would be rejected
    expect(p.preflight.map((i) => [i.kind, i.column, i.count])).toEqual([['collation_collision', 'email', 2]])
    expect(p.preflight[0]!.examples.map((e) => e.key)).toEqual(['{"id":1}', '{"id":2}', '{"id":3}'])
    const q = await plan({ from: src.url, to: dst.url, tables: { include: ['contacts'] }, transforms: [addKey, collate('utf8mb4_bin')] })
    // under a binary collation only the exact copies collide: a duplicate_key, not a collation problem
    expect(q.preflight.map((i) => [i.kind, i.column, i.count])).toEqual([['duplicate_key', 'email', 1]])
    expect(q.preflight[0]!.examples.map((e) => e.key)).toEqual(['{"id":1}', '{"id":2}'])
  })

  it('values the target cannot hold are found by capability, not by name', async () => {
    const strict = { ...mysqlDialect, capabilities: { ...mysqlDialect.capabilities, textHoldsNul: false } }
    // a Connection whose dialect holds less than MySQL; planning only reads its dialect
    const unused = () => Promise.reject(new Error('planning must not use the target'))
    const target = { dialect: strict, description: 'a target without NUL in text', introspect: unused, openWriter: unused, close: async () => {} } as unknown as Connection
    const p = await plan({ from: src.url, to: target, tables: { include: ['org'] } })
    const nul = p.preflight.find((i) => i.kind === 'nul_in_text')!
    expect(nul).toMatchObject({ table: 'org', column: 'note', count: 1 })
    expect(nul.examples[0]!.key).toBe('{"id":6}')
    // with MySQL itself as the target, NUL is fine
    const q = await plan({ from: src.url, to: dst.url, tables: { include: ['org'] } })
    expect(q.preflight.some((i) => i.kind === 'nul_in_text')).toBe(false)
  })

  it("ferry's preflight option: report fills report.preflight, stop throws PreflightError before any table is created", async () => {
    await expect(ferry({ from: src.url, to: dst.url, mode: 'recreate', preflight: 'stop', transforms: [collate('utf8mb4_general_ci')], tables: { include: ['org'] } })).rejects.toBeInstanceOf(
      PreflightError,
    )
    const r = await ferry({ from: src.url, to: dst.url, mode: 'recreate', preflight: 'report', transforms: [collate('utf8mb4_general_ci')], tables: { include: ['sector'] } })
    expect(r.preflight).toEqual([])
    expect(r.ok).toBe(true)
  })
})
