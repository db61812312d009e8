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

/** Lower case without accents: NFD, combining marks removed, then NFC. */
export function foldCaseAndAccents(text: string): string {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC').toLowerCase()
}

/** Leading and trailing white space removed. */
export function trimText(text: string): string {
  return text.trim()
}

/** Unicode NFKC. */
export function nfkc(text: string): string {
  return text.normalize('NFKC')
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
  return (t) => fs.reduce((acc, f) => f(acc), t)
}

/** Folds a value for comparison: text through the folding, other values to their key text; NULL stays undefined. */
export function foldValue(value: Value, fold: (text: string) => string): string | undefined {
  if (value === null || value === undefined) return undefined
  return typeof value === 'string' ? fold(value) : keyPart(value)
}
