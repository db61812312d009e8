import { describe, expect, it } from 'vitest'
import { foldCase, foldCaseAndAccents, foldValue, isAscii, makeFolding, nfkc, trimText, type Folding } from '../../src/transforms/normalize.js'

// the foldings as defined, without the ASCII fast paths: the keys must be the same either way
const slow: Record<Exclude<Folding, (t: string) => string>, (t: string) => string> = {
  exact: (t) => t,
  'case-insensitive': (t) => t.toLowerCase(),
  'case-and-accent-insensitive': (t) => t.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC').toLowerCase(),
  trim: (t) => t.trim(),
  nfkc: (t) => t.normalize('NFKC'),
}

let ascii = ''
for (let c = 0; c < 0x80; c++) ascii += String.fromCharCode(c)

const TEXTS = [
  '',
  'user@example.org',
  'User.Name+Tag@Example.ORG',
  '  padded  ',
  '\t\r\n spaces \u00a0',
  ascii,
  '\x7f',
  '\x80',
  'Médecins du Monde',
  'Me\u0301decins du Monde', // combining acute accent
  'MEDECINS DU MONDE',
  'ＡＢＣ１２３＠ｅｘａｍｐｌｅ．ｏｒｇ', // fullwidth forms
  'ﬁre brigade', // ligature
  'ｶﾞｷﾞ', // halfwidth katakana with voiced marks
  '① Ⅻ ㎏ ²',
  'İstanbul', // dotted capital I: lower case gains a combining dot
  'STRASSE straße ẞ',
  'ΟΔΥΣΣΕΥΣ', // final sigma
  'Ǆemal ǅ ǆ',
  'Å Å', // angstrom sign and A with ring
  'Ærø Ñandú Łukasz Nguyễn Ørsted',
  'x\u2028y\u2029z',
  '😀 𝐀𝐁𝐂', // astral, mathematical bold (NFKC maps them)
  '\ud800 lone \udfff',
  'a\u0000b',
]

const MODES: (Folding | Folding[])[] = [
  'exact',
  'case-insensitive',
  'case-and-accent-insensitive',
  'trim',
  'nfkc',
  ['trim', 'case-insensitive'],
  ['trim', 'nfkc', 'case-insensitive'],
  ['nfkc', 'case-and-accent-insensitive'],
  ['trim', 'nfkc', 'case-and-accent-insensitive'],
]

describe('foldings: the ASCII fast paths give the same keys as the full Unicode paths', () => {
  it('isAscii', () => {
    expect(isAscii(ascii)).toBe(true)
    expect(isAscii('')).toBe(true)
    expect(isAscii('\x80')).toBe(false)
    expect(isAscii('abc é')).toBe(false)
    expect(isAscii('ｅ')).toBe(false)
    expect(isAscii('\ud800')).toBe(false)
  })

  it('each folding, on ASCII and non-ASCII text (accents, combining marks, fullwidth and compatibility forms)', () => {
    for (const text of TEXTS) {
      expect(foldCase(text), JSON.stringify(text)).toBe(slow['case-insensitive'](text))
      expect(foldCaseAndAccents(text), JSON.stringify(text)).toBe(slow['case-and-accent-insensitive'](text))
      expect(nfkc(text), JSON.stringify(text)).toBe(slow.nfkc(text))
      expect(trimText(text), JSON.stringify(text)).toBe(slow.trim(text))
    }
  })

  it('every mode and chain of modes, as dedupe builds its keys', () => {
    for (const mode of MODES) {
      const fold = makeFolding(mode)
      const reference = (t: string) => (Array.isArray(mode) ? mode : [mode]).reduce((acc, f) => slow[f as keyof typeof slow](acc), t)
      for (const text of TEXTS) expect(foldValue(text, fold), `${JSON.stringify(mode)} ${JSON.stringify(text)}`).toBe(reference(text))
    }
  })

  it('the fast paths change the keys they should: accents, widths and case still fold', () => {
    const accent = makeFolding('case-and-accent-insensitive')
    expect(accent('Me\u0301decins')).toBe(accent('MEDECINS'))
    expect(accent('Médecins')).toBe('medecins')
    const width = makeFolding(['nfkc', 'case-insensitive'])
    expect(width('ＵＳＥＲ＠ｅｘａｍｐｌｅ．ｏｒｇ')).toBe('user@example.org')
    expect(width('ﬁre')).toBe('fire')
    expect(makeFolding(['trim', 'case-insensitive'])('  Ann@X.org ')).toBe('ann@x.org')
    // non-text values fold to their key text; NULL to undefined (never a duplicate)
    expect([foldValue(14, width), foldValue(null, width)]).toEqual(['14', undefined])
  })
})
