import type { TableMatcher } from '../schema/select.js'
import type { DatabaseSchema } from '../schema/types.js'
import { tableSelected } from './match.js'
import type { Transform } from './transform.js'

/** Options of {@link rewriteEngine}. */
export interface RewriteEngineOptions {
  /** The storage engine to replace (compared case-insensitively), or `*` for any. Default `MyISAM`. */
  from?: string
  /** The engine tables get instead. Default `InnoDB`. */
  to?: string
  /** Tables to touch. Default all. */
  tables?: readonly TableMatcher[]
}

/**
 * Schema transform for MySQL/MariaDB targets (including MySQL → MySQL copies): tables whose storage engine
 * is `from` are created with `to` instead — MyISAM → InnoDB by default, so foreign keys and transactions work.
 * Other targets ignore engines, so it is harmless there.
 *
 * @example
 * t.rewriteEngine({ from: 'MyISAM', to: 'InnoDB' })
 */
export function rewriteEngine(options: RewriteEngineOptions = {}): Transform {
  const from = options.from ?? 'MyISAM'
  const to = options.to ?? 'InnoDB'
  return {
    name: `rewriteEngine(${from} → ${to})`,
    schema(schema: DatabaseSchema): DatabaseSchema {
      return {
        ...schema,
        tables: schema.tables.map((t) => {
          if (!tableSelected(t, options.tables)) return t
          // a source without engines (not MySQL) gets `to` only when from is '*'
          const matches = from === '*' ? true : t.engine !== undefined && t.engine.toLowerCase() === from.toLowerCase()
          return matches ? { ...t, engine: to } : t
        }),
      }
    },
  }
}

/** Options of {@link rewriteCharset}. */
export interface RewriteCharsetOptions {
  /** The character set to replace (case-insensitive; `utf8` also matches `utf8mb3`), or `*`. Default `latin1`. */
  from?: string
  /** The character set tables and text columns get instead. Default `utf8mb4`. */
  to?: string
  /**
   * The collation to use. Default: the source collation with its charset prefix swapped when the result is a
   * known utf8mb4 collation (`latin1_general_ci` → `utf8mb4_general_ci`, `latin1_bin` → `utf8mb4_bin`),
   * else none (the target's default for `to`).
   */
  collation?: string
  /** Tables to touch. Default all. */
  tables?: readonly TableMatcher[]
}

const KNOWN_SUFFIXES = new Set(['general_ci', 'bin', 'unicode_ci', 'unicode_520_ci', '0900_ai_ci', '0900_as_cs', 'general_cs'])

function sameCharset(a: string | undefined, b: string): boolean {
  if (a === undefined) return false
  if (b === '*') return true
  const norm = (s: string) => (s.toLowerCase() === 'utf8' ? 'utf8mb3' : s.toLowerCase())
  return norm(a) === norm(b)
}

function charsetOfCollation(c: string | undefined): string | undefined {
  return c === undefined ? undefined : c.split('_')[0]
}

/**
 * Schema transform for MySQL/MariaDB targets: tables and text columns in charset `from` (default `latin1`)
 * get charset `to` (default `utf8mb4`) and a matching collation. Values are not re-encoded: dbferry reads
 * text as Unicode strings, so the new charset only has to be able to hold them (utf8mb4 holds all).
 *
 * @example
 * t.rewriteCharset({ from: 'latin1', to: 'utf8mb4', collation: 'utf8mb4_unicode_ci' })
 */
export function rewriteCharset(options: RewriteCharsetOptions = {}): Transform {
  const from = options.from ?? 'latin1'
  const to = options.to ?? 'utf8mb4'
  const collationFor = (current: string | undefined): string | undefined => {
    if (options.collation !== undefined) return options.collation
    if (current === undefined) return undefined
    const suffix = current.slice(current.indexOf('_') + 1).toLowerCase()
    return KNOWN_SUFFIXES.has(suffix) ? `${to}_${suffix}` : undefined
  }
  return {
    name: `rewriteCharset(${from} → ${to})`,
    schema(schema: DatabaseSchema): DatabaseSchema {
      return {
        ...schema,
        tables: schema.tables.map((t) => {
          if (!tableSelected(t, options.tables)) return t
          const tableHit = sameCharset(t.charset ?? charsetOfCollation(t.collation), from)
          const columns = t.columns.map((c) => {
            if (!sameCharset(c.charset ?? charsetOfCollation(c.collation), from)) return c
            return { ...c, charset: to, collation: collationFor(c.collation) }
          })
          if (!tableHit && columns.every((c, i) => c === t.columns[i])) return t
          return tableHit ? { ...t, charset: to, collation: collationFor(t.collation), columns } : { ...t, columns }
        }),
      }
    },
  }
}
