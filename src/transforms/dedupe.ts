import { UsageError } from '../errors.js'
import { keyColumnIndexes, rowKey } from '../schema/rows.js'
import type { ForeignKeySchema, Row, TableSchema, Value } from '../schema/types.js'
import { createKeyMap, type SpillingKeyMap } from './key-set.js'
import { columnIndex, decodeValues, encodeValues, findTable, keyOf, requireColumn, rowObject, scanTarget } from './match.js'
import { foldValue, makeFolding, type NormalizeOption } from './normalize.js'
import type { BatchOutcome, TableTransformer, Transform, TransformContext } from './transform.js'

/** A row as {@link DedupeOptions.keep} functions see it: values by column name. */
export type RowObject = Record<string, Value>

/**
 * Which of a group of duplicates stays:
 * - `first`: the first in source key order (the default; streams, no pre-pass);
 * - `last`: the last in source key order;
 * - `{ latest: 'column' }`: the row with the greatest value of the column (NULL never wins; ties keep the
 *   earlier row) — e.g. the most recently modified;
 * - a function given the current choice `a` and a later row `b`, returning the one to keep (`a`/`b`, or
 *   the strings `'a'`/`'b'`).
 */
export type KeepRule = 'first' | 'last' | { latest: string } | ((a: RowObject, b: RowObject) => RowObject | 'a' | 'b')

/** Options of {@link dedupe}. */
export interface DedupeOptions {
  /** The table, by its source (or target) name. */
  table: string
  /** The column(s) whose values, once normalised, identify duplicates. Rows with a NULL in them are never duplicates. */
  key: string | readonly string[]
  /** How key text is folded before comparing. Default `exact`. */
  normalize?: NormalizeOption
  /** Which duplicate stays. Default `first`. */
  keep?: KeepRule
  /**
   * Rewrite foreign keys in child tables (declared or user-supplied) that point at a dropped duplicate so they
   * point at the kept row, and journal each merge (`remapped`). Default true.
   */
  remap?: boolean
  /**
   * Keys each of its stores holds in memory; the next new key moves that store to a temporary SQLite file
   * (slower, a few MB of memory). Default 1 000 000 (about 60 MB of e-mail-like keys).
   */
  maxInMemory?: number
}

/** What a kept row's entry holds (as JSON in a key map: keys, never whole rows, except for `keep` functions). */
interface Winner {
  /** The row's identity: its primary key string, or the whole row for tables without a key. */
  i: string
  /** The primary key as JSON, for messages and the journal. */
  k?: string
  /** The values each referenced column list has in this row (encoded), aligned with `refLists`. */
  r: string[]
  /** `keep: { latest }`: the encoded value of that column. */
  v?: string
  /** `keep: function`: the whole row, encoded. */
  row?: string
}

interface RefList {
  idx: number[]
  /** dropped row's key in these columns → kept row's values (encoded) */
  map: SpillingKeyMap
}

/** A winners entry: a {@link Winner} as JSON, or (compact entries) the kept row's key alone. */
type WinnerEntry = string | number

interface Incoming {
  child: string
  fk: ForeignKeySchema
  list: RefList
}

interface RunState {
  parent: TableSchema
  keyIdx: number[]
  pkIdx: number[]
  refLists: RefList[]
  incoming: Incoming[]
  winners: SpillingKeyMap<WinnerEntry>
  emitted?: SpillingKeyMap
  prepass: boolean
  /** Streaming with nothing to remap: entries are compact (see `compactEntry`). */
  compact: boolean
  prepared?: Promise<void>
  parentDone: boolean
  closers: SpillingKeyMap<WinnerEntry>[]
}

/** Rows whose keys are hashed and looked up together (see `KeyTable.prepare`). */
const PREPARED = 512

/** Orders two canonical values; NULL is lowest. */
export function compareValues(a: Value, b: Value): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1
  if (b === null || b === undefined) return 1
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return a < b ? -1 : a > b ? 1 : 0
  const x = a instanceof Uint8Array ? Buffer.from(a).toString('hex') : String(a)
  const y = b instanceof Uint8Array ? Buffer.from(b).toString('hex') : String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function describeNormalize(n: NormalizeOption | undefined): string {
  const list = n === undefined ? ['exact'] : Array.isArray(n) ? n : [n]
  return list.map((f) => (typeof f === 'function' ? 'custom' : f)).join('+')
}

/**
 * Drops duplicate rows of a table — rows whose key columns are equal once normalised — keeping one per
 * group, and (by default) rewrites foreign keys in child tables that pointed at a dropped duplicate so they
 * point at the kept row. Each dropped row is journaled as `duplicate_dropped` with the kept row's key; each
 * merge as `remapped` (`{"from":{"id":3},"to":{"id":2}}`); each rewritten child value as a fix.
 *
 * Memory: holds one entry per distinct key (not rows), spilling to a temporary SQLite file past
 * `maxInMemory`. `keep: 'first'` streams; the other rules (and tables referenced by a self-reference or a
 * cycle) read the table once more before it loads to choose the rows to keep.
 *
 * Put `dedupe` before `fixDanglingForeignKeys` in `transforms`, so children are remapped before they are checked.
 *
 * @example
 * t.dedupe({ table: 'auth_user', key: 'email', normalize: 'case-insensitive', keep: 'first' })
 */
export function dedupe(options: DedupeOptions): Transform {
  const keyCols = typeof options.key === 'string' ? [options.key] : [...options.key]
  if (keyCols.length === 0) throw new UsageError('dedupe: key must name at least one column')
  const keep = options.keep ?? 'first'
  const remapOn = options.remap ?? true
  const fold = makeFolding(options.normalize)
  const name = `dedupe(${options.table}.${keyCols.join('+')})`
  const how = `${keyCols.join(', ')}, ${describeNormalize(options.normalize)}`
  const mapOptions = { maxInMemory: options.maxInMemory }
  let run: RunState | undefined

  const normKey = (s: RunState, row: Row): string | undefined => {
    if (s.keyIdx.length === 1) return foldValue(row[s.keyIdx[0]!]!, fold)
    const parts: string[] = []
    for (const i of s.keyIdx) {
      const f = foldValue(row[i]!, fold)
      if (f === undefined) return undefined
      parts.push(f)
    }
    return JSON.stringify(parts)
  }
  const identity = (s: RunState, row: Row): string => (s.pkIdx.length > 0 ? keyOf(row, s.pkIdx) : undefined) ?? encodeValues(row)
  const winnerOf = (s: RunState, row: Row): Winner => {
    const w: Winner = { i: identity(s, row), r: s.refLists.map((l) => encodeValues(l.idx.map((i) => row[i] ?? null))) }
    const k = s.pkIdx.length > 0 ? rowKey(s.parent, row, s.pkIdx) : undefined
    if (k) w.k = JSON.stringify(k)
    if (typeof keep === 'object') w.v = encodeValues([row[requireColumn(s.parent, keep.latest, name)] ?? null])
    if (typeof keep === 'function') w.row = encodeValues(row)
    return w
  }
  // compact: streaming with nothing to remap, the entry is just the kept row's key (no JSON on the hot path):
  // a one-column number key as the number itself (no allocation), a text key as `s…`, anything else as the
  // key's JSON after `j`
  const compactEntry = (s: RunState, row: Row): WinnerEntry => {
    if (s.pkIdx.length === 0) return ''
    if (s.pkIdx.length === 1) {
      const v = row[s.pkIdx[0]!]
      if (typeof v === 'number') return v
      if (typeof v === 'string') return `s${v}`
    }
    return `j${JSON.stringify(rowKey(s.parent, row, s.pkIdx))}`
  }
  const compactKey = (s: RunState, entry: WinnerEntry): string | undefined => {
    if (entry === '') return undefined
    if (typeof entry === 'string' && entry[0] === 'j') return entry.slice(1)
    const name = s.parent.columns[s.pkIdx[0]!]!.name
    return JSON.stringify({ [name]: typeof entry === 'number' ? entry : entry.slice(1) })
  }
  const decodeWinner = (s: RunState, entry: WinnerEntry): Winner => (s.compact ? { i: '', k: compactKey(s, entry), r: [] } : (JSON.parse(entry as string) as Winner))
  // returns a promise only when the store is spilling, so the hot path awaits nothing
  const setWinner = (s: RunState, nk: string, row: Row): void | Promise<void> =>
    s.winners.set(nk, s.compact ? compactEntry(s, row) : JSON.stringify(winnerOf(s, row)))
  /** Whether `row` beats the current winner `w` under the keep rule (only for pre-passes). */
  const beats = (s: RunState, w: Winner, row: Row): boolean => {
    if (keep === 'first') return false
    if (keep === 'last') return true
    if (typeof keep === 'object') {
      const v = row[requireColumn(s.parent, keep.latest, name)] ?? null
      return compareValues(v, decodeValues(w.v!)[0]!) > 0
    }
    const a = rowObject(s.parent, decodeValues(w.row!))
    const b = rowObject(s.parent, row)
    const pick = keep(a, b)
    return pick === 'b' || pick === b
  }

  const init = async (ctx: TransformContext): Promise<RunState> => {
    if (run) return run
    const parent = findTable(ctx.schema, options.table)
    if (!parent) throw new UsageError(`${name}: no table ${JSON.stringify(options.table)} in this run`)
    const keyIdx = keyCols.map((c) => requireColumn(parent, c, name))
    if (typeof keep === 'object') requireColumn(parent, keep.latest, name)
    const closers: SpillingKeyMap<WinnerEntry>[] = []
    const refLists: RefList[] = []
    const incoming: Incoming[] = []
    if (remapOn) {
      for (const child of ctx.schema.tables) {
        for (const fk of child.foreignKeys) {
          if (fk.refTable !== parent.name) continue
          const idx = fk.refColumns.map((c) => columnIndex(parent, c))
          if (idx.some((i) => i < 0)) continue
          let list = refLists.find((l) => l.idx.join() === idx.join())
          if (!list) {
            list = { idx, map: await createKeyMap(`${name}:remap`, mapOptions) }
            closers.push(list.map)
            refLists.push(list)
          }
          incoming.push({ child: child.name, fk, list })
        }
      }
    }
    const cyclic = ctx.order.deferred.some((d) => d.foreignKey.refTable === parent.name) && incoming.length > 0
    // one key per row at most: the table's size (capped at maxInMemory) lets the store skip its doublings
    const rows = findTable(ctx.sourceSchema, parent.origin ?? parent.name)?.rowCountEstimate
    const winners = await createKeyMap<WinnerEntry>(`${name}:keys`, { ...mapOptions, expectedKeys: rows })
    closers.push(winners)
    const pkIdx = keyColumnIndexes(parent)
    const prepass = keep !== 'first' || cyclic
    run = {
      parent,
      keyIdx,
      pkIdx,
      refLists,
      incoming,
      winners,
      prepass,
      compact: !prepass && refLists.length === 0,
      parentDone: false,
      closers,
    }
    if (pkIdx.length === 0) {
      run.emitted = await createKeyMap(`${name}:emitted`, mapOptions)
      closers.push(run.emitted)
    }
    ctx.state.set(`dedupe:${parent.name}`, run)
    return run
  }

  /** Chooses every group's winner by reading the table once (keep rules other than `first`, cycles). */
  const chooseWinners = async (s: RunState, ctx: TransformContext) => {
    for await (const rows of scanTarget(ctx, s.parent)) {
      for (const row of rows) {
        const nk = normKey(s, row)
        if (nk === undefined) continue
        const cur = s.winners.get(nk)
        if (cur === undefined || beats(s, JSON.parse(cur as string) as Winner, row)) {
          const p = setWinner(s, nk, row)
          if (p) await p
        }
      }
    }
  }

  /** Records, for each referenced column list, a dropped row's values → the kept row's. */
  const noteLoser = (s: RunState, row: Row, w: Winner): void | Promise<void> => {
    let pending: Promise<void> | undefined
    for (const [j, list] of s.refLists.entries()) {
      const from = keyOf(row, list.idx)
      if (from === undefined) continue
      const to = w.r[j]!
      const toVals = decodeValues(to)
      if (keyOf(toVals, toVals.map((_, i) => i)) === from) continue
      const p = list.map.set(from, to)
      if (p) pending = pending ? pending.then(() => p) : p
    }
    return pending
  }

  /** A child's references can only be rewritten once every duplicate is known: read the parent ahead if needed. */
  const prepareMapping = (s: RunState, ctx: TransformContext): Promise<void> => {
    s.prepared ??= (async () => {
      if (s.winners.size === 0) await chooseWinners(s, ctx)
      for await (const rows of scanTarget(ctx, s.parent)) {
        for (const row of rows) {
          const nk = normKey(s, row)
          if (nk === undefined) continue
          const w = JSON.parse(s.winners.get(nk) as string) as Winner
          if (w.i !== identity(s, row)) {
            const p = noteLoser(s, row, w)
            if (p) await p
          }
        }
      }
    })()
    return s.prepared
  }

  const remapChild = (s: RunState, child: TableSchema, fks: Incoming[]) => {
    const plans = fks.map((f) => ({ f, idx: f.fk.columns.map((c) => columnIndex(child, c)) })).filter((p) => p.idx.every((i) => i >= 0))
    return (rows: Row[], out: BatchOutcome): Row[] => {
      if (plans.length === 0) return rows
      return rows.map((row) => {
        let current = row
        for (const { f, idx } of plans) {
          const k = keyOf(current, idx)
          if (k === undefined) continue
          const to = f.list.map.get(k)
          if (to === undefined) continue
          const vals = decodeValues(to)
          if (current === row) current = row.slice()
          idx.forEach((ci, j) => {
            current[ci] = vals[j]!
          })
          const toText = vals.map(String).join(', ')
          for (const ci of idx) {
            out.fix(child.columns[ci]!.name, row, `${child.columns[ci]!.name} ${k} → ${toText}: ${s.parent.name} ${k} was merged into ${toText} by ${name}`)
          }
        }
        return current
      })
    }
  }

  return {
    name,
    async start(ctx) {
      // a previous run that failed before its end hook leaves its stores open
      for (const c of run?.closers ?? []) c.close()
      run = undefined
      await init(ctx)
    },
    async table(table, ctx) {
      const s = await init(ctx)
      const isParent = table.name === s.parent.name
      const fks = s.incoming.filter((f) => f.child === table.name)
      if (!isParent && fks.length === 0) return undefined
      if (!isParent) {
        if (!s.parentDone) await prepareMapping(s, ctx)
        const remap = remapChild(s, table, fks)
        return { batch: (rows, out) => remap(rows, out) }
      }
      // the table being deduplicated (and, with a self-reference, its own child)
      if (s.prepass) {
        if (fks.length > 0) await prepareMapping(s, ctx)
        else if (s.winners.size === 0) await chooseWinners(s, ctx)
      }
      const selfRemap = fks.length > 0 ? remapChild(s, table, fks) : undefined
      // one chunk's keys, and those of them that are not NULL; reused from chunk to chunk
      const keys: (string | undefined)[] = []
      const present: string[] = []
      const processor: TableTransformer = {
        async batch(rows, out) {
          // the rows that go on: `rows` itself until one is dropped (the usual batch drops none)
          let kept: Row[] | undefined
          // a chunk's keys first, so the store reads their slots in one go (overlapping the waits for memory)
          // while they still sit in the CPU's caches when the chunk's rows look them up
          for (let start = 0; start < rows.length; start += PREPARED) {
            const stop = Math.min(rows.length, start + PREPARED)
            present.length = 0
            for (let r = start; r < stop; r++) {
              const nk = normKey(s, rows[r]!)
              keys[r - start] = nk
              if (nk !== undefined) present.push(nk)
            }
            s.winners.prepare(present)
            for (let r = start; r < stop; r++) {
              const row = rows[r]!
              const nk = keys[r - start]
              if (nk === undefined) {
                kept?.push(row)
                continue
              }
              let cur: WinnerEntry | undefined
              if (s.compact) {
                // streaming with nothing to remap: "seen? else add" in one probe of the store
                const found = s.winners.add(nk, compactEntry(s, row))
                cur = typeof found === 'object' ? await found : found
                if (cur === undefined) {
                  kept?.push(row)
                  continue
                }
              } else cur = s.winners.get(nk)
              if (cur === undefined) {
                // streaming (keep first), or a row the pre-pass did not see: it is the first of its group
                const p = setWinner(s, nk, row)
                if (p) await p
                if (!s.prepass) {
                  kept?.push(row)
                  continue
                }
              }
              const w = cur === undefined ? winnerOf(s, row) : decodeWinner(s, cur)
              const id = s.prepass ? identity(s, row) : undefined
              if (s.prepass && w.i === id && !(s.emitted && s.emitted.has(id))) {
                if (s.emitted) {
                  const p = s.emitted.set(id!, '')
                  if (p) await p
                }
                kept?.push(row)
                continue
              }
              kept ??= rows.slice(0, r)
              const from = rowKey(s.parent, row, s.pkIdx)
              out.drop(row, 'duplicate_dropped', `duplicate of ${s.parent.name} ${w.k ?? '(an earlier row)'} by ${how}; ${w.k ?? 'that row'} was kept`)
              const p = noteLoser(s, row, w)
              if (p) await p
              if (remapOn && from !== undefined && w.k !== undefined) {
                out.remap?.(from, JSON.parse(w.k), `${s.parent.name} ${JSON.stringify(from)} merged into ${w.k} (${how})`)
              }
            }
          }
          return selfRemap ? selfRemap(kept ?? rows, out) : (kept ?? rows)
        },
        end() {
          s.parentDone = true
          return []
        },
      }
      return processor
    },
    end() {
      for (const c of run?.closers ?? []) c.close()
      run = undefined
    },
  }
}

/**
 * Preset: duplicate e-mail addresses, compared trimmed and case-insensitively, first one kept, foreign keys
 * remapped. Default column `email`.
 *
 * @example
 * t.dedupeEmails('auth_user', 'email')
 */
export function dedupeEmails(table: string, column = 'email', options: Omit<DedupeOptions, 'table' | 'key'> = {}): Transform {
  return dedupe({ normalize: ['trim', 'case-insensitive'], keep: 'first', ...options, table, key: column })
}
