import { UsageError } from '../errors.js'
import type { Value } from '../schema/types.js'
import { keyPart } from './match.js'

/**
 * A named folding of text, or a function. Folding decides which values count as equal (dedupe keys):
 * - `exact`: unchanged (the default);
 * - `case-insensitive`: lower case (Unicode-aware, `toLowerCase`);
 * - `case-and-accent-insensitive`: lower case, accents removed (NFD, combining marks dropped), so
 *   "Médecins" equals "medecins" — what MySQL's `_ai_ci` collations do;
 * - `trim`: leading and trailing white space removed;
 * - `nfkc`: Unicode NFKC, so compatibility forms ("ﬁ", full-width letters) equal their plain forms.
 */
export type Folding = 'exact' | 'case-insensitive' | 'case-and-accent-insensitive' | 'trim' | 'nfkc' | ((text: string) => string)

/** One folding or several applied in order, e.g. `['trim', 'case-insensitive']`. */
export type NormalizeOption = Folding | readonly Folding[]

/** Lower case. */
export function foldCase(text: string): string {
  return text.toLowerCase()
}

// ASCII text is left as it is by every Unicode normalisation form and holds no combining mark, so the foldings
// below skip `normalize()` for it — the usual case for e-mail addresses, codes and names in many tables.
// (A regular expression test costs about half of one `normalize()` call on short text.)
const NON_ASCII = /[^\x00-\x7f]/

/** Whether every character of `text` is ASCII (U+0000–U+007F). */
export function isAscii(text: string): boolean {
  return !NON_ASCII.test(text)
}

/** Lower case without accents: NFD, combining marks removed, then NFC. */
export function foldCaseAndAccents(text: string): string {
  if (isAscii(text)) return text.toLowerCase()
  return text.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC').toLowerCase()
}

/** Leading and trailing white space removed. */
export function trimText(text: string): string {
  return text.trim()
}

/** Unicode NFKC. */
export function nfkc(text: string): string {
  return isAscii(text) ? text : text.normalize('NFKC')
}

function one(f: Folding): (text: string) => string {
  if (typeof f === 'function') return f
  switch (f) {
    case 'exact':
      return (t) => t
    case 'case-insensitive':
      return foldCase
    case 'case-and-accent-insensitive':
      return foldCaseAndAccents
    case 'trim':
      return trimText
    case 'nfkc':
      return nfkc
    default:
      throw new UsageError(`unknown normalize option ${JSON.stringify(f)}: use exact, case-insensitive, case-and-accent-insensitive, trim, nfkc or a function`)
  }
}

/** Builds a text folding from an option. Default `exact`. */
export function makeFolding(option: NormalizeOption = 'exact'): (text: string) => string {
  const list = (Array.isArray(option) ? option : [option]) as Folding[]
  const fs = list.map(one)
  if (fs.length === 1) return fs[0]!
  return (t) => {
    for (const f of fs) t = f(t)
    return t
  }
}

/** Folds a value for comparison: text through the folding, other values to their key text; NULL stays undefined. */
export function foldValue(value: Value, fold: (text: string) => string): string | undefined {
  if (value === null || value === undefined) return undefined
  return typeof value === 'string' ? fold(value) : keyPart(value)
}
