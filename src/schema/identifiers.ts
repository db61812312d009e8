import { createHash } from 'node:crypto'
import { SchemaError } from '../errors.js'
import type { DialectCapabilities } from '../dialect.js'
import { tableShapeProblems, type ShapeCapabilities } from './target-limits.js'
import type { DatabaseSchema, TableSchema } from './types.js'

/** How names are fitted to the target. */
export interface IdentifierPolicy {
  /** `preserve` keeps case (quoted everywhere); `lower` folds to lower case. Default `preserve`. */
  case?: 'preserve' | 'lower'
  /** `shorten` (default) cuts long names to a readable prefix plus a hash; `error` refuses them. */
  tooLong?: 'shorten' | 'error'
}

/** One name the target could not keep. */
export interface Rename {
  /** What was renamed. */
  kind: 'table' | 'column' | 'index' | 'constraint'
  /** The table (its source name) a column, index or constraint belongs to. Absent for a table. */
  table?: string
  /** The name before. */
  from: string
  /** The name on the target. */
  to: string
  /**
   * `case`: folded by `case: 'lower'`; `too_long`: shortened to the target's limit (one name can have both).
   * `clash` is never given: names that would still collide stop the run with a `SchemaError`.
   */
  reason: 'too_long' | 'case' | 'clash'
}

function length(name: string, unit: DialectCapabilities['identifierLengthUnit']): number {
  return unit === 'bytes' ? Buffer.byteLength(name, 'utf8') : [...name].length
}

/** Cuts `name` to fit `max`, keeping whole characters. */
function cut(name: string, max: number, unit: DialectCapabilities['identifierLengthUnit']): string {
  let out = ''
  for (const ch of name) {
    if (length(out + ch, unit) > max) break
    out += ch
  }
  return out
}

/**
 * Shortens `name` deterministically to at most `max` units: a readable prefix, `_`, and 8 hex digits of the
 * SHA-1 of the full name, so two long names sharing a prefix never collide.
 */
export function shortenIdentifier(name: string, max: number, unit: DialectCapabilities['identifierLengthUnit'] = 'chars'): string {
  if (length(name, unit) <= max) return name
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 8)
  return `${cut(name, max - 9, unit)}_${hash}`
}

/**
 * Fits every table, column, index and constraint name of `schema` to the target's identifier rules.
 * Returns a new schema (names replaced, `origin` kept) and the list of renames. Throws one `SchemaError`
 * listing every problem, before anything is created: names too long when `tooLong: 'error'`, any two names
 * that would still collide (columns differing only in case, where the target compares them without case),
 * and what the target refuses in a table's shape ({@link tableShapeProblems}: names ending in a space, too
 * many columns). Capabilities left out are not checked.
 */
export function fitIdentifiers(
  schema: DatabaseSchema,
  caps: Pick<DialectCapabilities, 'maxIdentifierLength' | 'identifierLengthUnit' | 'caseInsensitiveIdentifiers'> & ShapeCapabilities,
  policy: IdentifierPolicy = {},
): { schema: DatabaseSchema; renames: Rename[] } {
  const max = caps.maxIdentifierLength
  const unit = caps.identifierLengthUnit
  const renames: Rename[] = []
  const tooLong: string[] = []
  const fold = policy.case === 'lower' ? (s: string) => s.toLowerCase() : (s: string) => s

  const fit = (name: string, kind: Rename['kind'], table?: string): string => {
    let out = fold(name)
    if (out !== name) renames.push({ kind, table, from: name, to: out, reason: 'case' })
    if (length(out, unit) > max) {
      if (policy.tooLong === 'error') {
        tooLong.push(table ? `${table}.${name}` : name)
        return out
      }
      const short = shortenIdentifier(out, max, unit)
      renames.push({ kind, table, from: name, to: short, reason: 'too_long' })
      out = short
    }
    return out
  }

  const clashes: string[] = []
  const checkUnique = (names: string[], where: string, noCase = false): void => {
    const seen = new Map<string, string>()
    for (const n of names) {
      const k = policy.case === 'lower' || noCase ? n.toLowerCase() : n
      const before = seen.get(k)
      if (before === undefined) seen.set(k, n)
      else if (policy.case !== 'lower' && before !== n) clashes.push(`${where}: "${before}" and "${n}" differ only in case, and the target compares column names without case`)
      else clashes.push(`${where}: "${before}" and "${n}" both become "${k}"`)
    }
  }

  const tableNames = new Map<string, string>()
  for (const t of schema.tables) tableNames.set(t.name, fit(t.name, 'table'))
  checkUnique([...tableNames.values()], 'tables')

  const tables: TableSchema[] = schema.tables.map((t) => {
    const tname = tableNames.get(t.name)!
    const colNames = new Map<string, string>()
    for (const c of t.columns) colNames.set(c.name, fit(c.name, 'column', t.name))
    checkUnique([...colNames.values()], `columns of ${t.name}`, caps.caseInsensitiveIdentifiers === true)
    const col = (c: string) => colNames.get(c) ?? c
    return {
      ...t,
      name: tname,
      origin: t.origin ?? t.name,
      columns: t.columns.map((c) => ({ ...c, name: col(c.name), origin: c.origin ?? c.name })),
      primaryKey: t.primaryKey && {
        ...t.primaryKey,
        name: t.primaryKey.name && fit(t.primaryKey.name, 'constraint', t.name),
        columns: t.primaryKey.columns.map(col),
      },
      uniques: t.uniques.map((u) => ({ ...u, name: u.name && fit(u.name, 'constraint', t.name), columns: u.columns.map(col) })),
      indexes: t.indexes.map((i) => ({ ...i, name: fit(i.name, 'index', t.name), columns: i.columns.map(col) })),
      foreignKeys: t.foreignKeys.map((f) => {
        const parent = schema.tables.find((p) => p.name === f.refTable)
        const pcol = (c: string) => (parent ? fold(c) : c)
        return {
          ...f,
          name: f.name && fit(f.name, 'constraint', t.name),
          columns: f.columns.map(col),
          refTable: tableNames.get(f.refTable) ?? f.refTable,
          refColumns: f.refColumns.map((c) => {
            const long = length(pcol(c), unit) > max
            return long ? shortenIdentifier(pcol(c), max, unit) : pcol(c)
          }),
        }
      }),
    }
  })

  const problems: string[] = []
  if (tooLong.length > 0) {
    problems.push(`${tooLong.length} identifier(s) exceed the target's ${max}-${unit === 'bytes' ? 'byte' : 'character'} limit: ${tooLong.join(', ')}`)
  }
  if (clashes.length > 0) problems.push(`identifiers clash on the target: ${clashes.join('; ')}`)
  const shape = tables.flatMap((t) => tableShapeProblems(t, caps))
  if (shape.length > 0) problems.push(`the target would refuse ${shape.length} table definition problem(s): ${shape.join('; ')}`)
  // every problem at once, each naming its table and column: fixing one at a time would take a run each
  if (problems.length > 0) throw new SchemaError(problems.join('. '))
  return { schema: { ...schema, tables }, renames }
}
