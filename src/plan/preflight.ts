import type { CollationFolder, Connection, BaseDialect } from '../dialect.js'
import { AbortError, type RowError } from '../errors.js'
import type { PreparedRun } from './prepare-run.js'
import { makeRowFitter, type FitFix, type FitFixKind, type FitOptions } from '../pipeline/fit-rows.js'
import type { TablePair } from './table-pair.js'
import { keyString, rowKey, valueToJson } from '../schema/rows.js'
import type { ColumnSchema, ForeignKeySchema, Row, TableSchema, Value } from '../schema/types.js'
import { createKeySet } from '../transforms/key-set.js'
import type { KeySet } from '../transforms/transform.js'

/**
 * What the preflight can find. Collation collisions come first in every report: they are the problem a
 * manual migration meets half-way through ("Duplicate entry").
 */
export type PreflightKind =
  | 'collation_collision'
  | 'duplicate_key'
  | 'orphan_foreign_key'
  | 'identifier_renamed'
  | 'identifier_clash'
  | 'nul_in_text'
  | 'non_finite_float'
  | 'out_of_range'
  | 'truncation'
  | 'type_conversion'
  | 'invalid_encoding'
  | 'zero_date'
  | 'offset_to_utc'
  | 'not_null'
  | 'unsupported_text'
  | FitFixKind

/** One example of an issue: the row's key (as JSON) and the offending value(s). */
export interface PreflightExample {
  /** The source row's key as JSON (`{"id":7}`); for `identifier_renamed`, the old name. Absent: no key known. */
  key?: string
  /**
   * The offending value as JSON-safe data (an array for several columns); for `identifier_renamed`, the new
   * name; null for a value the reader repaired.
   */
  value: unknown
}

/** One problem the preflight found, with how many rows it touches and a few examples. */
export interface PreflightIssue {
  /** What was found. */
  kind: PreflightKind
  /** The target table's name. */
  table: string
  /** The column(s) concerned, comma-separated for multi-column keys. */
  column?: string
  /** How many rows it concerns (names, for `identifier_renamed`; values, for repairs on read). */
  count: number
  /** The first rows found, up to `maxExamples` (default 10). */
  examples: PreflightExample[]
  /** What was found and what it would do, as the report shows it. */
  message: string
}

/** Options of {@link preflight}. */
export interface PreflightOptions {
  /** Rows per read batch. Default 10 000. */
  batchRows?: number
  /** Approximate bytes per read batch. Default 8 MiB. */
  batchBytes?: number
  /** Examples kept per issue. Default 10. */
  maxExamples?: number
  /** Aborts the scan with an `AbortError`. Absent: never aborted. */
  signal?: AbortSignal
  /** Called with each table's row count as it is scanned. */
  onTable?: (table: string, rows: number) => void
  /** How the copy would fit values to the target (`stripNul`, `decimals`), so the plan lists what it would do. Default: the copy's defaults. */
  fit?: FitOptions
}

const ORDER: Partial<Record<PreflightKind, number>> = { collation_collision: 0, duplicate_key: 1 }

interface KeyCheck {
  name: string
  columns: string[]
  indexes: number[]
  folders: (CollationFolder | undefined)[]
  lengths?: (number | undefined)[]
  seen?: KeySet
  colliding: Set<string>
}

const TEXTUAL = new Set(['text', 'uuid', 'json'])

function folderFor(dialect: BaseDialect, column: ColumnSchema): CollationFolder | undefined {
  if (!TEXTUAL.has(column.type.kind)) return undefined
  return dialect.collationFolder?.(column.collation)
}

/** The string a target compares for one key value: folded text, or the canonical JSON of anything else. */
function keyPart(v: Value, folder: CollationFolder | undefined, length: number | undefined): string {
  if (typeof v === 'string') {
    const s = length === undefined ? v : [...v].slice(0, length).join('')
    return `s${folder ? folder(s) : s}`
  }
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`
  const j = valueToJson(v)
  // numbers and numeric strings of other types compare by value
  return `s${String(j)}`
}

function compositeKey(row: Row, indexes: number[], folders: (CollationFolder | undefined)[], lengths?: (number | undefined)[]): string | undefined {
  const parts: string[] = []
  for (let i = 0; i < indexes.length; i++) {
    const v = row[indexes[i]!]
    // NULLs never collide on a unique key, and a foreign key with a NULL part points nowhere by design
    if (v === null || v === undefined) return undefined
    parts.push(keyPart(v, folders[i], lengths?.[i]))
  }
  return JSON.stringify(parts)
}

function uniqueKeysOf(target: TableSchema, dialect: BaseDialect): KeyCheck[] {
  const keys: { name: string; columns: string[]; lengths?: (number | undefined)[] }[] = []
  if (target.primaryKey) keys.push({ name: target.primaryKey.name ?? 'primary key', columns: target.primaryKey.columns })
  for (const u of target.uniques) keys.push({ name: u.name ?? 'a unique key', columns: u.columns })
  for (const i of target.indexes) if (i.unique && i.expression === undefined && i.where === undefined) keys.push({ name: i.name, columns: i.columns, lengths: i.lengths })
  return keys.map((k) => {
    const cols = k.columns.map((c) => target.columns.find((x) => x.name === c))
    const check: KeyCheck = {
      name: k.name,
      columns: k.columns,
      indexes: k.columns.map((c) => target.columns.findIndex((x) => x.name === c)),
      folders: cols.map((c) => (c ? folderFor(dialect, c) : undefined)),
      colliding: new Set(),
    }
    if (k.lengths) check.lengths = k.lengths
    return check
  }).filter((k) => k.indexes.every((i) => i >= 0))
}

class Issues {
  readonly #map = new Map<string, PreflightIssue>()
  constructor(private readonly maxExamples: number) {}
  add(kind: PreflightKind, table: string, column: string | undefined, message: string, example?: PreflightExample, count = 1): void {
    const id = `${kind}\0${table}\0${column ?? ''}`
    let issue = this.#map.get(id)
    if (!issue) {
      issue = { kind, table, count: 0, examples: [], message }
      if (column !== undefined) issue.column = column
      this.#map.set(id, issue)
    }
    issue.count += count
    if (example && issue.examples.length < this.maxExamples) issue.examples.push(example)
  }
  push(issue: PreflightIssue): void {
    this.#map.set(`${issue.kind}\0${issue.table}\0${issue.column ?? ''}\0${this.#map.size}`, issue)
  }
  list(): PreflightIssue[] {
    return [...this.#map.values()].map((x, i) => ({ x, i })).sort((a, b) => (ORDER[a.x.kind] ?? 9) - (ORDER[b.x.kind] ?? 9) || a.i - b.i).map((e) => e.x)
  }
}

/** Maps a target row back to the source row's key for examples. */
function exampleKey(pair: TablePair, sourceRow: Row): string | undefined {
  return keyString(rowKey(pair.source, sourceRow))
}

const ASTRAL_RE = /[\u{10000}-\u{10FFFF}]/u

/**
 * Scans the source, parents first, for what would fail on the target before a row is written: values the
 * target's unique keys would treat as equal under its collation (listed first, with every row involved),
 * exact duplicates, orphan foreign keys, renamed identifiers, values the target cannot hold (U+0000 in text,
 * NaN/±Infinity, values outside the target type), text a 3-byte UTF-8 column cannot hold, and what the
 * reader itself rejects or repairs (type conversion, encoding, zero dates). Everything is decided by the
 * target dialect's capabilities and collation folding, never by its name. Memory stays bounded by key sets.
 */
export async function preflight(
  source: Connection,
  target: Pick<Connection, 'dialect'>,
  prepared: PreparedRun,
  options: PreflightOptions = {},
): Promise<PreflightIssue[]> {
  const batchRows = options.batchRows ?? 10_000
  const batchBytes = options.batchBytes ?? 8 << 20
  const issues = new Issues(options.maxExamples ?? 10)
  const dialect = target.dialect
  const caps = dialect.capabilities
  const pairs = new Map(prepared.pairs.map((p) => [p.target.name, p]))
  const sets: KeySet[] = []

  for (const r of prepared.renames) {
    issues.add(
      'identifier_renamed',
      r.table ?? r.from,
      r.kind === 'column' ? r.from : undefined,
      `${r.kind} names change on the target (${r.reason.replace('_', ' ')}): see the examples for old → new`,
      { key: r.from, value: r.to },
    )
  }

  // parent key sets: for every foreign key of the run, the referenced table's keys, folded like the target
  interface FkCheck {
    child: string
    fk: ForeignKeySchema
    set?: KeySet
    parentIndexes: number[]
    childIndexes: number[]
    folders: (CollationFolder | undefined)[]
    complete: boolean
  }
  const fkChecks: FkCheck[] = []
  for (const t of prepared.targetSchema.tables) {
    for (const fk of t.foreignKeys) {
      const parent = pairs.get(fk.refTable)?.target
      if (!parent) continue
      const parentIndexes = fk.refColumns.map((c) => parent.columns.findIndex((x) => x.name === c))
      const childIndexes = fk.columns.map((c) => t.columns.findIndex((x) => x.name === c))
      if (parentIndexes.some((i) => i < 0) || childIndexes.some((i) => i < 0)) continue
      fkChecks.push({ child: t.name, fk, parentIndexes, childIndexes, folders: parentIndexes.map((i) => folderFor(dialect, parent.columns[i]!)), complete: false })
    }
  }

  const scanned = new Set<string>()
  const orphanCounts = new Map<FkCheck, number>()

  const checkOrphans = async (check: FkCheck, pair: TablePair, sourceRow: Row, row: Row) => {
    const k = compositeKey(row, check.childIndexes, check.folders)
    if (k === undefined || (await check.set!.has(k))) return
    orphanCounts.set(check, (orphanCounts.get(check) ?? 0) + 1)
    issues.add(
      'orphan_foreign_key',
      check.child,
      check.fk.columns.join(', '),
      `${check.child} (${check.fk.columns.join(', ')}) points at rows of ${check.fk.refTable} that do not exist`,
      { key: exampleKey(pair, sourceRow), value: check.childIndexes.map((i) => valueToJson(row[i])) },
    )
  }

  async function* targetRows(pair: TablePair, collect: boolean): AsyncGenerator<{ source: Row; row: Row }> {
    const fit = makeRowFitter(pair.source, pair.target, caps, options.fit)
    const name = pair.target.name
    const onProblem = (e: RowError) => {
      if (!collect) return
      const kind: PreflightKind = e.code === 'out_of_range' && typeof e.value === 'number' && !Number.isFinite(e.value) ? 'non_finite_float' : (e.code as PreflightKind)
      issues.add(kind, name, e.column, problemMessage(kind, e), { key: keyString(e.key), value: valueToJson(e.value) })
    }
    // every value the copy would change is one of the fitter's fix kinds, listed under that kind
    const onFix = (column: string, f?: FitFix) => {
      if (!collect || !f) return
      issues.add(f.kind, name, column, fixMessage(f.kind, name, column), { key: keyString(f.key as Record<string, unknown> | undefined), value: valueToJson(f.value) })
    }
    for await (const batch of source.read(pair.source, { batchRows, batchBytes, signal: options.signal })) {
      if (options.signal?.aborted) throw new AbortError()
      if (collect) {
        for (const e of batch.rejected) {
          issues.add(e.code as PreflightKind, name, e.column, problemMessage(e.code as PreflightKind, e), { key: keyString(e.key), value: valueToJson(e.value) })
        }
        for (const f of batch.fixes ?? []) {
          issues.add(f.kind as PreflightKind, name, f.column, `${name}.${f.column}: ${f.message}`, { key: exampleKey(pair, f.row), value: null })
        }
        if (!batch.fixes && batch.fixed) {
          for (const [column, n] of Object.entries(batch.fixed)) issues.add('type_conversion', name, column, `${name}.${column}: values repaired on read`, undefined, n)
        }
      }
      for (const s of batch.rows) {
        const row = fit ? fit(s, onProblem, onFix) : s
        if (row === undefined) continue
        yield { source: s, row }
      }
    }
  }

  try {
    for (const name of prepared.order.order) {
      const pair = pairs.get(name)
      if (!pair) continue
      const keys = uniqueKeysOf(pair.target, dialect)
      for (const k of keys) k.seen = await createKeySet(`preflight:${name}:${k.name}`)
      const asParent = fkChecks.filter((c) => c.fk.refTable === name)
      for (const c of asParent) {
        c.set = await createKeySet(`preflight-fk:${c.child}:${c.fk.columns.join(',')}`)
        sets.push(c.set)
      }
      const asChild = fkChecks.filter((c) => c.child === name && c.fk.refTable !== name && scanned.has(c.fk.refTable))
      // columns whose character set holds no character past U+FFFF (the target's type map says which)
      const utf8mb3 = pair.target.columns.map((c, i) => (TEXTUAL.has(c.type.kind) && dialect.types?.bmpOnly?.(c) ? i : -1)).filter((i) => i >= 0)
      let rows = 0
      for await (const { source: s, row } of targetRows(pair, true)) {
        rows++
        for (const k of keys) {
          const key = compositeKey(row, k.indexes, k.folders, k.lengths)
          if (key === undefined) continue
          if (await k.seen!.has(key)) k.colliding.add(key)
          else await k.seen!.add(key)
        }
        for (const c of asParent) {
          const key = compositeKey(row, c.parentIndexes, c.folders)
          if (key !== undefined) await c.set!.add(key)
        }
        for (const c of asChild) await checkOrphans(c, pair, s, row)
        for (const i of utf8mb3) {
          const v = row[i]
          if (typeof v === 'string' && ASTRAL_RE.test(v)) {
            const col = pair.target.columns[i]!
            issues.add('unsupported_text', name, col.name, `${name}.${col.name}: text needs 4-byte UTF-8 (e.g. emoji) but the target column is ${col.charset}`, {
              key: exampleKey(pair, s),
              value: v,
            })
          }
        }
      }
      options.onTable?.(name, rows)
      scanned.add(name)
      // a table's own key sets are done once it is scanned (parent key sets live on for its children)
      for (const k of keys) await k.seen!.close()
      for (const c of asParent) c.complete = true

      // a second pass lists every row of each colliding group (bounded by the number of collisions)
      const colliding = keys.filter((k) => k.colliding.size > 0)
      if (colliding.length > 0) {
        const groups = colliding.map(() => new Map<string, { key?: string; value: unknown; raw: string }[]>())
        for await (const { source: s, row } of targetRows(pair, false)) {
          colliding.forEach((k, ki) => {
            const key = compositeKey(row, k.indexes, k.folders, k.lengths)
            if (key === undefined || !k.colliding.has(key)) return
            const values = k.indexes.map((i) => valueToJson(row[i]))
            const list = groups[ki]!.get(key) ?? []
            list.push({ key: exampleKey(pair, s), value: values.length === 1 ? values[0] : values, raw: JSON.stringify(values) })
            groups[ki]!.set(key, list)
          })
        }
        colliding.forEach((k, ki) => {
          for (const kind of ['collation_collision', 'duplicate_key'] as const) {
            const examples: PreflightExample[] = []
            let count = 0
            let groupsOfKind = 0
            for (const list of groups[ki]!.values()) {
              const exact = list.every((e) => e.raw === list[0]!.raw)
              if ((kind === 'duplicate_key') !== exact) continue
              groupsOfKind++
              count += list.length - 1
              for (const e of list) if (examples.length < (options.maxExamples ?? 10)) examples.push({ key: e.key, value: e.value })
            }
            if (count === 0) continue
            issues.push({
              kind,
              table: name,
              column: k.columns.join(', '),
              count,
              examples,
              message:
                kind === 'collation_collision'
                  ? `${groupsOfKind} group(s) of values differ only in case, accents or trailing spaces, which the target's collation treats as equal on ${k.name} (${k.columns.join(', ')}): ${count} row(s) would be rejected as duplicates; dedupe them first`
                  : `${groupsOfKind} value(s) of ${k.name} (${k.columns.join(', ')}) occur more than once in the source: ${count} row(s) would be rejected as duplicates`,
            })
          }
        })
      }
    }

    // foreign keys whose parent loads later (cycles) or is the table itself: check the children now
    for (const c of fkChecks.filter((x) => !scanned.has(x.child) || x.fk.refTable === x.child || !isBefore(prepared, x.fk.refTable, x.child))) {
      const pair = pairs.get(c.child)
      if (!pair || !c.set) continue
      for await (const { source: s, row } of targetRows(pair, false)) await checkOrphans(c, pair, s, row)
    }
  } finally {
    for (const s of sets) await s.close()
  }
  return issues.list()
}

function isBefore(prepared: PreparedRun, a: string, b: string): boolean {
  return prepared.order.order.indexOf(a) < prepared.order.order.indexOf(b)
}

function problemMessage(kind: PreflightKind, e: RowError): string {
  const where = e.column ? `${e.table ?? ''}.${e.column}` : (e.table ?? '')
  switch (kind) {
    case 'nul_in_text':
      return `${where}: text contains U+0000, which the target cannot store (set stripNul to remove it)`
    case 'non_finite_float':
      return `${where}: NaN or ±Infinity, which the target's float columns cannot store`
    case 'zero_date':
      return `${where}: zero dates (0000-00-00)`
    default:
      return e.message
  }
}

function fixMessage(kind: FitFixKind, table: string, column: string): string {
  switch (kind) {
    case 'fraction_cut':
      return `${table}.${column}: fractional seconds past what the target keeps would be cut (each counted as a fix)`
    case 'decimal_rounded':
      return `${table}.${column}: decimal places past the column's scale would be rounded half away from zero (each counted as a fix)`
    case 'nul_stripped':
      return `${table}.${column}: U+0000 would be removed from text (each counted as a fix)`
  }
}
