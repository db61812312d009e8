import { DbferryError, UsageError } from '../errors.js'
import { keyColumnIndexes, rowKey } from '../schema/rows.js'
import type { TableMatcher } from '../schema/select.js'
import type { ColumnSchema, ForeignKeySchema, Row, TableSchema, Value } from '../schema/types.js'
import { ConversionFailure, makeConverter } from '../schema/values.js'
import { createKeySet, type SpillingKeySet } from './key-set.js'
import { columnIndex, columnMatches, findTable, keyOf, scanTarget, tableMatches, tableSelected } from './match.js'
import type { Transform, TransformContext } from './transform.js'

/**
 * What happens to a child row whose foreign key points at no parent row:
 * - `null`: the foreign-key columns become NULL where they are nullable (else the row is dropped);
 * - `drop`: the row is not written (journaled as `dangling_foreign_key`);
 * - `stub`: a placeholder parent row is inserted first (values from `stub`), so the child loads as it is;
 * - `fail`: the run stops with a {@link DanglingForeignKeyError} listing the dangling rows.
 */
export type DanglingStrategy = 'null' | 'drop' | 'stub' | 'fail'

/** What a stub function is told about the missing parent. */
export interface StubInfo {
  /** The child table and its foreign-key columns. */
  table: string
  /** The child's foreign-key columns. */
  columns: string[]
  /** The parent table and the referenced columns. */
  refTable: string
  /** The parent's referenced columns, aligned with `columns`. */
  refColumns: string[]
}

/**
 * Values for a placeholder parent row, by column name, given the missing key (the value for a one-column key,
 * an array for a composite one). Columns left out get NULL where nullable, else a placeholder
 * (`(stub for missing or_sector 14)` for text, 0, the epoch, …); the key columns always hold the key.
 */
export type StubFunction = (key: Value | Value[], info: StubInfo) => Record<string, Value> | undefined

/** A per-foreign-key strategy. */
export interface ForeignKeyStrategy {
  /** What happens to this key's dangling rows. */
  strategy: DanglingStrategy
  /** Placeholder values for `stub`. Default: the transform's `stub`. */
  stub?: StubFunction
}

/** Options of {@link fixDanglingForeignKeys}. */
export interface FixDanglingForeignKeysOptions {
  /** The strategy for every checked foreign key. */
  strategy: DanglingStrategy
  /** Placeholder values for `stub`. Default: NULL where nullable, else a placeholder per type. */
  stub?: StubFunction
  /**
   * Strategies per foreign key, keyed by the child's `table.column` (or `table.(a,b)` for composite keys),
   * by source or target names. Keys not listed use `strategy`.
   */
  foreignKeys?: Readonly<Record<string, DanglingStrategy | ForeignKeyStrategy>>
  /** Child tables to check. Default: every table with a foreign key (declared or user-supplied). */
  tables?: readonly TableMatcher[]
  /** Keys held in memory per parent before the key set spills to a temporary SQLite file. Default 1 000 000. */
  maxInMemory?: number
}

/** One child row whose foreign key points nowhere. */
export interface DanglingRow {
  /** The child table's name. */
  table: string
  /** The child row's key (`{ id: 7 }`). Absent: the table has no primary or unique key. */
  key?: Record<string, unknown>
  /** The child's foreign-key columns. */
  columns: string[]
  /** The missing parent key as text: the value of a one-column key, a JSON array of the values of a composite one. */
  value: string
  /** The parent table's name. */
  refTable: string
}

/** `fail`: dangling foreign keys were found; `dangling` lists the rows of the batch that found them. */
export class DanglingForeignKeyError extends DbferryError {
  /** The dangling rows of the batch that found them; `table` names the first one's table. */
  readonly dangling: readonly DanglingRow[]
  constructor(message: string, dangling: readonly DanglingRow[]) {
    super('dangling_foreign_key', message, { table: dangling[0]?.table })
    this.dangling = dangling
  }
}

interface Check {
  fk: ForeignKeySchema
  parent: TableSchema
  childIdx: number[]
  refIdx: number[]
  strategy: DanglingStrategy
  stub?: StubFunction
  keys: SpillingKeySet
  nullable: boolean
  /** keys whose stub the target refused */
  failedStubs: Set<string>
}

interface Collector {
  parent: string
  idx: number[]
  keys: SpillingKeySet
  /** filled from the source because the parent did not pass through this run (a resumed run skipped it) */
  fromSource?: Promise<void>
}

/** A placeholder value for a NOT NULL column of a stub row. */
export function placeholderValue(column: ColumnSchema, label: string): Value {
  if (column.default?.kind === 'value') return column.default.value
  const t = column.type
  switch (t.kind) {
    case 'boolean':
      return false
    case 'int16':
    case 'int32':
    case 'int64':
    case 'float32':
    case 'float64':
      return 0
    case 'decimal':
      return '0'
    case 'text': {
      if (t.values && t.values.length > 0) return t.values[0]!
      const text = `(${label})`
      return t.length !== undefined ? [...text].slice(0, t.length).join('') : text
    }
    case 'bytes':
      return Buffer.alloc(0)
    case 'date':
      return '1970-01-01'
    case 'time':
      return '00:00:00'
    case 'timestamp':
      return '1970-01-01 00:00:00'
    case 'timestamptz':
      return '1970-01-01 00:00:00+00:00'
    case 'uuid':
      return '00000000-0000-0000-0000-000000000000'
    case 'json':
      return '{}'
  }
}

function fkLabel(table: string, fk: ForeignKeySchema): string {
  return `${table}.${fk.columns.length === 1 ? fk.columns[0] : `(${fk.columns.join(',')})`}`
}

/**
 * Repairs foreign keys whose parent row is missing — declared ones and user-supplied ones the source never
 * enforced (SQLite files, MyISAM) — with a strategy per foreign key: `null`, `drop`, `stub` or `fail`. Every
 * case is journaled: NULLed values as fixes, dropped rows as `dangling_foreign_key`, stub parents as
 * `inserted` rows of the parent table.
 *
 * Parents load before children (the plan), so a child is checked against the parent keys that passed
 * through this transform; keys of self-references and cycles (`order.deferred`) are checked against every
 * key of the parent in the source. Put it last in `transforms`, after `dedupe` and filters, so the keys it
 * sees are the ones written. Memory: one key per parent row, spilling to a temporary SQLite file.
 *
 * @example
 * t.fixDanglingForeignKeys({ strategy: 'stub', stub: (id) => ({ name: `Unknown sector ${id}` }) })
 */
export function fixDanglingForeignKeys(options: FixDanglingForeignKeysOptions): Transform {
  const name = `fixDanglingForeignKeys(${options.strategy})`
  const perFk = Object.entries(options.foreignKeys ?? {}).map(([ref, s]) => {
    const dot = ref.lastIndexOf('.')
    if (dot <= 0) throw new UsageError(`${name}: foreign key ${JSON.stringify(ref)} must be "table.column" or "table.(a,b)"`)
    const cols = ref.slice(dot + 1).replace(/^\(|\)$/g, '').split(',').map((c) => c.trim())
    return { ref, table: ref.slice(0, dot), cols, rule: typeof s === 'string' ? { strategy: s } : s, used: false }
  })
  const keySetOptions = { maxInMemory: options.maxInMemory }
  let collectors: Collector[] = []
  let sets: SpillingKeySet[] = []
  let seen = new Set<string>()

  const ruleFor = (child: TableSchema, fk: ForeignKeySchema): ForeignKeyStrategy => {
    for (const p of perFk) {
      if (!tableMatches(child, p.table) || p.cols.length !== fk.columns.length) continue
      const same = p.cols.every((c, i) => {
        const col = child.columns[columnIndex(child, fk.columns[i]!)]
        return col !== undefined && columnMatches(col, c)
      })
      if (same) {
        p.used = true
        return { strategy: p.rule.strategy, stub: p.rule.stub ?? options.stub }
      }
    }
    return { strategy: options.strategy, stub: options.stub }
  }
  const isDeferred = (ctx: TransformContext, child: TableSchema, fk: ForeignKeySchema) =>
    ctx.order.deferred.some((d) => d.table === child.name && d.foreignKey.refTable === fk.refTable && d.foreignKey.columns.join() === fk.columns.join())

  const collectorFor = async (parent: TableSchema, idx: number[]): Promise<Collector> => {
    let c = collectors.find((x) => x.parent === parent.name && x.idx.join() === idx.join())
    if (!c) {
      c = { parent: parent.name, idx, keys: await createKeySet(`${name}:${parent.name}`, keySetOptions) }
      sets.push(c.keys)
      collectors.push(c)
    }
    return c
  }

  const sourceKeys = async (ctx: TransformContext, parent: TableSchema, idx: number[]): Promise<SpillingKeySet> => {
    const set = await createKeySet(`${name}:${parent.name}:source`, keySetOptions)
    sets.push(set)
    for await (const rows of scanTarget(ctx, parent)) {
      for (const r of rows) {
        const k = keyOf(r, idx)
        if (k === undefined) continue
        const p = set.add(k)
        if (p) await p
      }
    }
    return set
  }

  const stubRow = (check: Check, child: TableSchema, key: string, values: Value[]): Row => {
    const info: StubInfo = {
      table: child.name,
      columns: [...check.fk.columns],
      refTable: check.parent.name,
      refColumns: [...check.fk.refColumns],
    }
    const given = check.stub?.(values.length === 1 ? values[0]! : values, info) ?? {}
    const label = `stub for missing ${check.parent.name} ${values.map(String).join(', ')}`
    return check.parent.columns.map((col, i) => {
      const k = check.refIdx.indexOf(i)
      let v: Value
      if (k >= 0) v = values[k]!
      else if (col.name in given) v = given[col.name]!
      else if (col.origin !== undefined && col.origin in given) v = given[col.origin]!
      else v = col.nullable || col.autoIncrement ? null : placeholderValue(col, label)
      if (v === null || v === undefined) return null
      const r = makeConverter(col.type)(v)
      if (r instanceof ConversionFailure) {
        throw new UsageError(`${name}: stub for ${check.parent.name} ${key}: column ${col.name}: ${r.reason}`)
      }
      return r
    })
  }

  return {
    name,
    async start(ctx) {
      // a previous run that failed before its end hook leaves its stores open
      for (const s of sets) s.close()
      collectors = []
      sets = []
      seen = new Set()
      for (const p of perFk) p.used = false
      // parents that a checked, non-deferred foreign key points at: collect their keys as they load
      for (const child of ctx.schema.tables) {
        if (!tableSelected(child, options.tables)) continue
        for (const fk of child.foreignKeys) {
          const parent = ctx.schema.tables.find((t) => t.name === fk.refTable)
          if (!parent || isDeferred(ctx, child, fk)) continue
          ruleFor(child, fk)
          await collectorFor(parent, fk.refColumns.map((c) => columnIndex(parent, c)))
        }
      }
      const unused = perFk.filter((p) => !p.used && !ctx.schema.tables.some((t) => tableMatches(t, p.table)))
      if (unused.length > 0) throw new UsageError(`${name}: no table for foreign key option ${unused.map((u) => JSON.stringify(u.ref)).join(', ')}`)
    },
    async table(child, ctx) {
      seen.add(child.name)
      const checks: Check[] = []
      if (tableSelected(child, options.tables)) {
        for (const fk of child.foreignKeys) {
          const parent = findTable(ctx.schema, fk.refTable)
          if (!parent) continue
          const rule = ruleFor(child, fk)
          const childIdx = fk.columns.map((c) => columnIndex(child, c))
          const refIdx = fk.refColumns.map((c) => columnIndex(parent, c))
          if (childIdx.some((i) => i < 0) || refIdx.some((i) => i < 0)) continue
          let keys: SpillingKeySet
          if (isDeferred(ctx, child, fk)) keys = await sourceKeys(ctx, parent, refIdx)
          else {
            const c = await collectorFor(parent, refIdx)
            // a parent that never passed through this run (a resumed run skips finished tables): the keys the
            // target holds (stubs of the earlier run included), else the source's
            if (!seen.has(parent.name)) {
              c.fromSource ??= (async () => {
                const add = async (rows: Row[]) => {
                  for (const r of rows) {
                    const k = keyOf(r, c.idx)
                    if (k === undefined) continue
                    const p = c.keys.add(k)
                    if (p) await p
                  }
                }
                let fromTarget = true
                try {
                  for await (const b of ctx.target.read(parent, { batchRows: 10_000, batchBytes: 8 << 20, signal: ctx.signal })) await add(b.rows)
                } catch {
                  fromTarget = false
                }
                if (!fromTarget) for await (const rows of scanTarget(ctx, parent)) await add(rows)
              })()
              await c.fromSource
            }
            keys = c.keys
          }
          checks.push({
            fk,
            parent,
            childIdx,
            refIdx,
            strategy: rule.strategy,
            stub: rule.stub,
            keys,
            nullable: childIdx.every((i) => child.columns[i]!.nullable),
            failedStubs: new Set(),
          })
        }
      }
      const mine = collectors.filter((c) => c.parent === child.name)
      if (checks.length === 0 && mine.length === 0) return undefined
      const childKeyIdx = keyColumnIndexes(child)

      return {
        async batch(rows, out) {
          // stubs first: the parent rows must exist before this batch is written
          for (const check of checks) {
            if (check.strategy !== 'stub') continue
            const missing = new Map<string, { values: Value[]; row: Row }>()
            for (const row of rows) {
              const k = keyOf(row, check.childIdx)
              if (k === undefined || check.keys.has(k) || check.failedStubs.has(k) || missing.has(k)) continue
              missing.set(k, { values: check.childIdx.map((i) => row[i]!), row })
            }
            for (const [k, m] of missing) {
              const stub = stubRow(check, child, k, m.values)
              const first = rowKey(child, m.row, childKeyIdx)
              const reason = `stub ${check.parent.name} for ${fkLabel(child.name, check.fk)} = ${m.values.map(String).join(', ')}` +
                `${first ? ` (first referencing row ${JSON.stringify(first)})` : ''}, inserted by ${name}`
              const res = await ctx.insert(check.parent.name, [stub], reason)
              if (res.written === 1) {
                const p = check.keys.add(k)
                if (p) await p
                // a parent loading later (a cycle) must see the stub's key too
                for (const c of collectors) {
                  if (c.parent === check.parent.name && c.keys !== check.keys) {
                    const key = keyOf(stub, c.idx)
                    if (key !== undefined) await c.keys.add(key)
                  }
                }
              } else check.failedStubs.add(k)
            }
          }

          const failures: DanglingRow[] = []
          const kept: Row[] = []
          for (const row of rows) {
            let current = row
            let dropped = false
            for (const check of checks) {
              const k = keyOf(current, check.childIdx)
              if (k === undefined || check.keys.has(k)) continue
              const cols = check.childIdx.map((i) => child.columns[i]!.name)
              const what = `${cols.join(', ')} = ${k}: ${check.parent.name} has no ${check.fk.refColumns.join(', ')} ${k}`
              if (check.strategy === 'fail') {
                failures.push({ table: child.name, key: rowKey(child, row, childKeyIdx), columns: cols, value: k, refTable: check.parent.name })
                continue
              }
              if (check.strategy === 'null' && check.nullable) {
                if (current === row) current = row.slice()
                for (const i of check.childIdx) current[i] = null
                for (const c of cols) out.fix(c, row, `${what}; set to NULL by ${name}`)
                continue
              }
              let why = what
              if (check.strategy === 'null') why += ` (${cols.join(', ')} NOT NULL, so the row was dropped)`
              if (check.strategy === 'stub') why += ' (the target refused the stub parent row, so the row was dropped)'
              out.drop(row, 'dangling_foreign_key', why, cols[0])
              dropped = true
              break
            }
            if (!dropped) kept.push(current)
          }
          if (failures.length > 0) {
            const list = failures
              .slice(0, 20)
              .map((f) => `${f.table} ${f.key ? JSON.stringify(f.key) : ''} ${f.columns.join(',')}=${f.value} → ${f.refTable}`)
              .join('; ')
            throw new DanglingForeignKeyError(
              `transform ${name}: ${failures.length} row${failures.length === 1 ? '' : 's'} of ${child.name} point at missing parents` +
                ` (strategy fail): ${list}${failures.length > 20 ? '; …' : ''}`,
              failures,
            )
          }
          // this table as a parent: remember the keys that go on to the target
          for (const c of mine) {
            for (const row of kept) {
              const k = keyOf(row, c.idx)
              if (k === undefined) continue
              const p = c.keys.add(k)
              if (p) await p
            }
          }
          return kept
        },
      }
    },
    end() {
      for (const s of sets) s.close()
      sets = []
      collectors = []
    },
  }
}
