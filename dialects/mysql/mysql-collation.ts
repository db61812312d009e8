import type { CollationFolder } from '../../src/dialect.js'

/**
 * JavaScript foldings that reproduce how MySQL/MariaDB collations compare text, for the collation preflight:
 * two strings collide on a unique key exactly when their folded forms are equal.
 *
 * - `*_general_ci` (MariaDB's default for utf8mb4): one weight per character — the character's base letter
 *   (accents removed), upper-cased; `ß` = `s`; `æ`, `ø`, `đ`, `ł` stay letters of their own; every character
 *   outside the Basic Multilingual Plane (emoji) weighs the same (U+FFFD).
 * - `*_unicode_ci` (UCA 4.0.0): compatibility decomposition, accents removed, case folded, `ß` = `ss`, `œ` = `oe`,
 *   while `æ ø đ ł` stay letters of their own; every character outside the BMP weighs the same.
 * - `*_unicode_520_ci`, `*_0900_ai_ci`, `uca1400_*` (newer UCA): compatibility decomposition, accents removed,
 *   case folded, with the UCA's expansions (`ß` = `ss`, `æ` = `ae`, `œ` = `oe`) and `ø`/`đ`/`ł` as variants
 *   of `o`/`d`/`l`; control characters are ignorable. MySQL 8's `0900` collations follow a newer UCA: close,
 *   not exact, for rare scripts.
 * - `*_as_ci` (accent-sensitive): case only.
 * - PAD SPACE (every MariaDB collation except `*_nopad_*`, and MySQL's pre-8.0 ones): trailing spaces do not
 *   count. MySQL 8's `0900` collations are NO PAD.
 * - `binary` and NO PAD `*_bin`/`*_cs` collations: `undefined` (binary comparison). PAD SPACE `*_bin` collations
 *   (MariaDB's `utf8mb4_bin`) still ignore trailing spaces: the server says `'x' = 'x '` there, so they fold only that.
 * - Other `*_ci` collations (e.g. `latin1_swedish_ci`) use the general folding: an approximation (Swedish
 *   keeps `å ä ö` apart from `a o`, which this does not).
 *
 * The default (no collation given) is `utf8mb4_unicode_ci`, which the MySQL writer uses for the tables it
 * creates when the schema names no collation.
 */

/** The collation the MySQL writer gives new tables whose schema names none. */
export const DEFAULT_COLLATION = 'utf8mb4_unicode_ci'

const generalCache = new Map<number, string>()

// precomposed Cyrillic letters that the older tables keep apart from their base letter
const CYRILLIC_OWN_GENERAL = 'йЙ'
const CYRILLIC_OWN_UCA = 'йЙѓЃїЇќЌўЎ'
// Latin Extended-B letters newer than the old tables: no case pairing there, each is its own letter
const isLateLatin = (cp: number) => (cp >= 0x23a && cp <= 0x24f) || cp === 0x220 || cp === 0x180 || cp === 0x19a || cp === 0x19e

function generalWeight(cp: number, ch: string): string {
  if (cp > 0xffff) return '\ufffd'
  let w = generalCache.get(cp)
  if (w !== undefined) return w
  if (cp === 0xdf) w = 'S'
  else if (isLateLatin(cp)) w = ch
  else if (CYRILLIC_OWN_GENERAL.includes(ch)) w = ch.toUpperCase()
  else {
    const base = ch.normalize('NFD')[0] ?? ch
    const up = base.toUpperCase()
    w = [...up].length === 1 && !isLateLatin(up.codePointAt(0)!) ? up : base
  }
  generalCache.set(cp, w)
  return w
}

function foldGeneral(s: string): string {
  let out = ''
  for (const ch of s) out += generalWeight(ch.codePointAt(0)!, ch)
  return out
}

// letters UCA 4.0.0 (`unicode_ci`) sorts as expansions
const UCA400_EXPANSIONS: Readonly<Record<string, string>> = { ß: 'ss', ẞ: 'ss', œ: 'oe', Œ: 'oe' }
// UCA 5.2 and later (`unicode_520_ci`, `0900`, `uca1400`) also treat these as expansions or variants of a base letter
const UCA520_EXPANSIONS: Readonly<Record<string, string>> = {
  ...UCA400_EXPANSIONS,
  æ: 'ae',
  Æ: 'ae',
  ø: 'o',
  Ø: 'o',
  đ: 'd',
  Đ: 'd',
  ð: 'd',
  Ð: 'd',
  ł: 'l',
  Ł: 'l',
  ħ: 'h',
  Ħ: 'h',
  ŀ: 'l',
  Ŀ: 'l',
}
const expansionRe = (m: Readonly<Record<string, string>>) => new RegExp(`[${Object.keys(m).join('')}]`, 'gu')
const UCA400_RE = expansionRe(UCA400_EXPANSIONS)
const UCA520_RE = expansionRe(UCA520_EXPANSIONS)
// UCA 4.0.0 as MariaDB/MySQL implement it gives every character outside the BMP the same weight
const ASTRAL_RE = /[\u{10000}-\u{10FFFF}]/gu
// completely ignorable in the DUCET: C0/C1 controls other than tab, newline, vertical tab, form feed, carriage return
// eslint-disable-next-line no-control-regex
const UCA_IGNORABLE_RE = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2060\ufeff]/gu

// letters kept apart from their base letter are replaced by private-use stand-ins (of their lower case) before
// decomposition, so accents are not stripped from them
const shield = (c: string) => String.fromCodePoint(0xf0000 + (c === 'Ƞ' ? 'ƞ' : c.toLowerCase()).codePointAt(0)!)
const CYRILLIC_OWN_RE = new RegExp(`[${CYRILLIC_OWN_UCA}]`, 'gu')
const UCA400_OWN_RE = new RegExp(`[${CYRILLIC_OWN_UCA}\\u0180\\u019a\\u019e\\u0220\\u023a-\\u024f]`, 'gu')
const shieldLate = (c: string) => (c === 'Ƞ' || c === 'ƞ' ? shield(c) : String.fromCodePoint(0xf0000 + c.codePointAt(0)!))

function foldUca400(s: string): string {
  const shielded = s.replace(ASTRAL_RE, '\ufffd').replace(UCA400_OWN_RE, (c) => (CYRILLIC_OWN_UCA.includes(c) ? shield(c) : shieldLate(c)))
  return foldUca(shielded, UCA400_RE, UCA400_EXPANSIONS)
}

function foldUca520(s: string): string {
  return foldUca(s.replace(CYRILLIC_OWN_RE, shield), UCA520_RE, UCA520_EXPANSIONS)
}

function foldUca(s: string, re: RegExp, expansions: Readonly<Record<string, string>>): string {
  return s
    .replace(re, (c) => expansions[c]!)
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(re, (c) => expansions[c]!)
    .replace(UCA_IGNORABLE_RE, '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ς/g, 'σ')
}

function foldCaseOnly(s: string): string {
  return s.toLowerCase()
}

const trimPad = (s: string) => s.replace(/ +$/, '')

/**
 * The folding of a MySQL/MariaDB collation, or undefined for binary comparison. `collation` undefined means
 * {@link DEFAULT_COLLATION}. A name that is not a MySQL collation (from another engine's schema) gets the
 * default too, because the writer creates such columns with it.
 */
export function mysqlCollationFolder(collation: string | undefined): CollationFolder | undefined {
  const name = (collation && /^[a-z0-9]+_[a-z0-9_]+$|^binary$/i.test(collation) ? collation : DEFAULT_COLLATION).toLowerCase()
  if (name === 'binary') return undefined
  const noPad = name.includes('_nopad') || name.includes('_0900_')
  let fold: ((s: string) => string) | undefined
  if (name.endsWith('_bin') || name.endsWith('_cs')) fold = undefined
  else if (name.endsWith('_as_ci')) fold = foldCaseOnly
  else if (/_unicode_520_|_0900_|uca1400_/.test(name)) fold = foldUca520
  else if (/_unicode_/.test(name)) fold = foldUca400
  else fold = foldGeneral
  if (fold === undefined) return noPad ? undefined : trimPad
  const f = fold
  return noPad ? f : (s) => f(trimPad(s))
}
