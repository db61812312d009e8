import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mysqlTypes } from '../../dialects/mysql/index.js'
import { MYSQL_URL, serverUp } from '../support/servers.js'

// pairs the preflight must judge exactly as the server does; each is asked of the server itself
const PAIRS: [string, string][] = [
  ['Médecins', 'Medecins'],
  ['médecins sans frontières', 'MEDECINS SANS FRONTIERES'],
  ['a', 'A '],
  ['a', ' a'],
  ['a', 'a\t'],
  ['ß', 'ss'],
  ['ß', 's'],
  ['straße', 'STRASSE'],
  ['Æble', 'aeble'],
  ['Øre', 'ore'],
  ['Œuvre', 'oeuvre'],
  ['Đakovo', 'Dakovo'],
  ['Łódź', 'lodz'],
  ['İstanbul', 'istanbul'],
  ['ıstanbul', 'Istanbul'],
  ['ﬁne', 'fine'],
  ['Ａ', 'a'],
  ['Ñandú', 'nandu'],
  ['Çà', 'ca'],
  ['Ελλάδα', 'ΕΛΛΑΔΑ'],
  ['ёлка', 'елка'],
  ['😀', '😁'],
  ['x😀', 'x😀 '],
  ['résumé', 'resume'],
  ['e\u0301', 'é'],
  ['µ', 'Μ'],
  ['ÿ', 'Y'],
  ['Ð', 'D'],
  ['ij', 'ĳ'],
]

const COLLATIONS = ['utf8mb4_general_ci', 'utf8mb4_unicode_ci', 'utf8mb4_unicode_520_ci', 'utf8mb4_general_nopad_ci', 'utf8mb4_unicode_nopad_ci', 'utf8mb4_nopad_bin', 'utf8mb4_bin']

describe.skipIf(!(await serverUp('mysql')))('collation folding agrees with the server', () => {
  let conn: mysql.Connection
  beforeAll(async () => {
    conn = await mysql.createConnection(MYSQL_URL)
    await conn.query('SET NAMES utf8mb4')
  })
  afterAll(async () => {
    await conn.end()
  })

  for (const collation of COLLATIONS) {
    it(collation, async () => {
      const fold = mysqlTypes.collationFolder(collation)
      const disagreements: string[] = []
      for (const [a, b] of PAIRS) {
        const [rows] = await conn.query(`SELECT CONVERT(? USING utf8mb4) COLLATE ${collation} = CONVERT(? USING utf8mb4) AS eq`, [a, b])
        const server = Number((rows as { eq: number }[])[0]!.eq) === 1
        const ours = fold ? fold(a) === fold(b) : a === b
        if (server !== ours) disagreements.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: server ${server}, folding ${ours}`)
      }
      expect(disagreements).toEqual([])
    })
  }

  it('binary collations do not fold', () => {
    expect(mysqlTypes.collationFolder('utf8mb4_nopad_bin')).toBeUndefined()
    expect(mysqlTypes.collationFolder('binary')).toBeUndefined()
    expect(mysqlTypes.collationFolder('utf8mb4_0900_as_cs')).toBeUndefined()
  })

  it('MySQL 8 0900_ai_ci is NO PAD and folds accents and case', () => {
    const f = mysqlTypes.collationFolder('utf8mb4_0900_ai_ci')!
    expect(f('Médecins')).toBe(f('medecins'))
    expect(f('a')).not.toBe(f('a '))
  })
})

describe.skipIf(!(await serverUp('mysql')))('collation folding partitions letters as the server does', () => {
  // every letter of Latin-1, Latin Extended-A/B, Greek and Cyrillic: the server groups them by weight, we by folding
  const chars: string[] = []
  for (const [lo, hi] of [[0x41, 0x5a], [0x61, 0x7a], [0xc0, 0x24f], [0x386, 0x3ce], [0x400, 0x45f]] as const) {
    for (let cp = lo; cp <= hi; cp++) if (/\p{L}/u.test(String.fromCodePoint(cp))) chars.push(String.fromCodePoint(cp))
  }

  for (const collation of ['utf8mb4_general_ci', 'utf8mb4_unicode_ci', 'utf8mb4_unicode_520_ci']) {
    it(`${collation}: ${chars.length} letters`, async () => {
      const conn = await mysql.createConnection(MYSQL_URL)
      try {
        await conn.query('SET NAMES utf8mb4')
        const sql = chars.map(() => `SELECT ? AS c, HEX(WEIGHT_STRING(CONVERT(? USING utf8mb4) COLLATE ${collation})) AS w`).join(' UNION ALL ')
        const [rows] = await conn.query(sql, chars.flatMap((c) => [c, c]))
        const serverClass = new Map((rows as { c: string; w: string }[]).map((r) => [r.c, r.w]))
        const fold = mysqlTypes.collationFolder(collation)!
        const wrong: string[] = []
        for (let i = 0; i < chars.length; i++) {
          for (let j = i + 1; j < chars.length; j++) {
            const a = chars[i]!
            const b = chars[j]!
            const server = serverClass.get(a) === serverClass.get(b)
            if (server !== (fold(a) === fold(b))) wrong.push(`${a}/${b}: server ${server}`)
          }
        }
        // a few rare letters may differ; the preflight must agree on the overwhelming majority
        expect(wrong.slice(0, 40)).toEqual([])
      } finally {
        await conn.end()
      }
    })
  }
})
