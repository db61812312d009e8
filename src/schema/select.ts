import { UsageError } from '../errors.js'
import type { DatabaseSchema, ForeignKeySchema, LogicalType } from './types.js'

/** A table name or a pattern. */
export type TableMatcher = string | RegExp

/** Which tables a run copies. Default: all of them. */
export interface TableSelection {
  /** Source tables to copy: a name matches exactly, a RegExp by `test`. Absent or empty: every table. */
  include?: readonly TableMatcher[]
  /** Source tables to leave out, even when `include` names them. Default none. */
  exclude?: readonly TableMatcher[]
}

/** A foreign key the source does not declare: `{ from: 'or_organisation.sector_id', to: 'or_sector.id' }`. */
export interface DeclaredForeignKey {
  /** The child's columns as `table.column`, or `table.(a,b)` for a composite key (source names). */
  from: string
  /** The parent's columns, spelled like `from`. */
  to: string
  /** The constraint's name. Absent: the target picks one. */
  name?: string
}

function matches(name: string, m: TableMatcher): boolean {
  if (typeof m === 'string') return m === name
  m.lastIndex = 0 // a /g or /y pattern carries its last match into the next test
  return m.test(name)
}

/** Whether a table is selected. */
export function isSelected(name: string, sel: TableSelection | undefined): boolean {
  if (!sel) return true
  if (sel.include && sel.include.length > 0 && !sel.include.some((m) => matches(name, m))) return false
  return !(sel.exclude ?? []).some((m) => matches(name, m))
}

/**
 * The names of `names` nearest to `name` by edit distance (case differences count half), nearest first,
 * at most `count` (default 3): what a misspelt table name was probably meant to be.
 */
export function closestNames(name: string, names: readonly string[], count = 3): string[] {
  return names
    .map((n) => ({ n, d: editDistance(name, n) }))
    .sort((x, y) => x.d - y.d || x.n.localeCompare(y.n))
    .slice(0, count)
    .map((x) => x.n)
}

/** Levenshtein distance, where a change of case alone costs half an edit (`Users` is nearer `users` than `user`). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const x = a[i - 1]!
      const y = b[j - 1]!
      const change = x === y ? 0 : x.toLowerCase() === y.toLowerCase() ? 0.5 : 1
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + change))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * Refuses a selection naming what is not there: every name or pattern of `include` or `exclude` that matches
 * none of `names` (the source's tables) is a {@link UsageError} naming it, with the closest names, so a
 * misspelt `--tables nosuch` stops instead of copying nothing and succeeding. `words` name the option
 * (default `tables.include`/`tables.exclude`) and the database (default `the source`) in the message.
 */
export function checkSelection(
  names: readonly string[],
  sel: TableSelection | undefined,
  words: { option?: (list: 'include' | 'exclude') => string; where?: string } = {},
): void {
  const option = words.option ?? ((list) => `tables.${list}`)
  const problems: string[] = []
  for (const [list, matchers] of [['include', sel?.include], ['exclude', sel?.exclude]] as const) {
    for (const m of matchers ?? []) {
      if (names.some((n) => matches(n, m))) continue
      const shown = typeof m === 'string' ? JSON.stringify(m) : String(m)
      const closest = typeof m === 'string' ? closestNames(m, names) : []
      problems.push(`${option(list)} ${shown} matches no table of ${words.where ?? 'the source'}${closest.length > 0 ? ` (closest: ${closest.join(', ')})` : ''}`)
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '))
}

function splitRef(ref: string, what: string): [string, string[]] {
  const dot = ref.lastIndexOf('.')
  if (dot <= 0) throw new UsageError(`foreign key ${what} ${JSON.stringify(ref)} must be "table.column" (or "table.(a,b)")`)
  const table = ref.slice(0, dot)
  const cols = ref.slice(dot + 1).replace(/^\(|\)$/g, '')
  return [table, cols.split(',').map((c) => c.trim())]
}

/**
 * Applies the table selection, user-declared foreign keys and per-column type overrides to an introspected
 * schema. Foreign keys into tables that are not selected are dropped (and listed in the result); a name or
 * pattern of the selection that matches no table is a usage error ({@link checkSelection}).
 */
export function selectSchema(
  schema: DatabaseSchema,
  options: {
    tables?: TableSelection
    foreignKeys?: readonly DeclaredForeignKey[]
    types?: Readonly<Record<string, LogicalType>>
  },
): { schema: DatabaseSchema; droppedForeignKeys: { table: string; foreignKey: ForeignKeySchema }[] } {
  checkSelection(schema.tables.map((t) => t.name), options.tables)
  const tables = schema.tables.filter((t) => isSelected(t.name, options.tables)).map((t) => ({ ...t, foreignKeys: [...t.foreignKeys] }))
  const byName = new Map(tables.map((t) => [t.name, t]))
  for (const fk of options.foreignKeys ?? []) {
    const [child, cols] = splitRef(fk.from, 'from')
    const [parent, refCols] = splitRef(fk.to, 'to')
    const t = byName.get(child)
    const p = schema.tables.find((x) => x.name === parent)
    if (!t) {
      if (schema.tables.some((x) => x.name === child)) continue // not selected
      throw new UsageError(`foreign key from ${fk.from}: no table ${JSON.stringify(child)} in the source`)
    }
    if (!p) throw new UsageError(`foreign key to ${fk.to}: no table ${JSON.stringify(parent)} in the source`)
    for (const c of cols) if (!t.columns.some((x) => x.name === c)) throw new UsageError(`foreign key from ${fk.from}: no column ${c}`)
    for (const c of refCols) if (!p.columns.some((x) => x.name === c)) throw new UsageError(`foreign key to ${fk.to}: no column ${c}`)
    if (cols.length !== refCols.length) throw new UsageError(`foreign key ${fk.from} → ${fk.to}: column counts differ`)
    const exists = t.foreignKeys.some((f) => f.refTable === parent && f.columns.join() === cols.join())
    if (!exists) t.foreignKeys.push({ name: fk.name, columns: cols, refTable: parent, refColumns: refCols, origin: 'user' })
  }
  const droppedForeignKeys: { table: string; foreignKey: ForeignKeySchema }[] = []
  for (const t of tables) {
    t.foreignKeys = t.foreignKeys.filter((f) => {
      if (byName.has(f.refTable)) return true
      droppedForeignKeys.push({ table: t.name, foreignKey: f })
      return false
    })
  }
  for (const [ref, type] of Object.entries(options.types ?? {})) {
    const [tname, [cname]] = splitRef(ref, 'type override') as [string, [string]]
    const t = byName.get(tname)
    const c = t?.columns.find((x) => x.name === cname)
    if (!c) throw new UsageError(`type override for ${ref}: no such column`)
    t!.columns = t!.columns.map((x) => (x === c ? { ...x, type, nativeType: '' } : x))
  }
  return { schema: { ...schema, tables }, droppedForeignKeys }
}
