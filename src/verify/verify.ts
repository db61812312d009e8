import { connect, type ConnectionSpec } from '../connect.js'
import type { Connection, ReadBatch, ReadOptions } from '../dialect.js'
import { AbortError, UsageError } from '../errors.js'
import { keyColumnIndexes, valueToJson } from '../schema/rows.js'
import type { Rename } from '../schema/identifiers.js'
import type { ColumnSchema, DatabaseSchema, Row, TableSchema, Value } from '../schema/types.js'
import { keyHash, MAX_SEGMENTS, RowHasher, SegmentSums } from './hash.js'
import { columnNormalizer, toleranceFor, type ColumnNormalizer, type Tolerances } from './normalize.js'

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** The first database (usually the source of a copy): a URL or an open connection (left open). */
  a: ConnectionSpec
  /** The second database (usually the target). */
  b: ConnectionSpec
  /** Table names on `a` to compare. Default: every table of `a`, and tables only `b` has count as differences. */
  tables?: readonly string[]
  /** Per-column tolerances keyed `table.column` (names on `a`), `table.*`, `*.column` or `*`. Default exact. */
  tolerances?: Tolerances
  /** The renames a run recorded (`report.renames`): tables and columns of `a` known under another name on `b`. */
  renames?: readonly Rename[]
  /**
   * Rows of `a` a run deliberately did not write (rejected or dropped, e.g. by dedupe), by table name on `a`,
   * as key objects (`{ id: 7 }`) or their JSON (as the journal stores them). They are counted, not reported
   * as missing. Default none.
   */
  expectDropped?: Readonly<Record<string, Iterable<string | Record<string, unknown>>>>
  /** Rows listed per table and kind (missing, extra, changed); counts stay exact. Default 100. */
  maxDiffs?: number
  /** Rows per read batch. Default 10 000. */
  batchRows?: number
  signal?: AbortSignal
}

/** A row's key: primary-key values by column name (names on `a`), or the whole row for tables without a key. */
export type RowKeyObject = Record<string, unknown>

/** One table's comparison. */
export interface TableVerification {
  /** The table's name on `a` (on `b` for a table only `b` has). */
  name: string
  /** The table's name on `b`, when it differs. */
  nameB?: string
  equal: boolean
  rowsA: number
  rowsB: number
  /** Key columns the rows were matched by; empty when the table has no key (rows compared as a multiset). */
  key: string[]
  /** Rows of `a` that `b` lacks (first `maxDiffs`). */
  missing: RowKeyObject[]
  /** Rows of `b` that `a` lacks. */
  extra: RowKeyObject[]
  /** Rows on both sides whose values differ, with the columns (names on `a`) that differ. */
  changed: { key: RowKeyObject; columns: string[] }[]
  missingCount: number
  extraCount: number
  changedCount: number
  /** Rows of `a` missing on `b` that `expectDropped` accounts for. */
  expectedDropped: number
  /** Rows a side's reader could not convert (counted in rowsA/rowsB), with their keys where known. */
  unreadableA: number
  unreadableB: number
  /** Table- and column-level differences: a table or column only one side has. */
  problems: string[]
  ms: number
}

/** The outcome of {@link verify}, as data. */
export interface VerifyReport {
  /** True when every compared table holds the same rows under the tolerances. */
  equal: boolean
  a: string
  b: string
  tables: TableVerification[]
  ms: number
}

/** Tables of `b` by exact and by case-folded name. */
function indexTables(schema: DatabaseSchema): { exact: Map<string, TableSchema>; folded: Map<string, TableSchema> } {
  const exact = new Map<string, TableSchema>()
  const folded = new Map<string, TableSchema>()
  for (const t of schema.tables) {
    exact.set(t.name, t)
    if (!folded.has(t.name.toLowerCase())) folded.set(t.name.toLowerCase(), t)
  }
  return { exact, folded }
}

function findByName<T extends { name: string }>(items: readonly T[], name: string): T | undefined {
  return items.find((x) => x.name === name) ?? items.find((x) => x.name.toLowerCase() === name.toLowerCase())
}

/** One table pair as compared: column pairs, key positions, normalisers. */
interface TablePlan {
  a: TableSchema
  b: TableSchema
  /** Column indexes on a / b, aligned. */
  colsA: number[]
  colsB: number[]
  names: string[]
  norms: ColumnNormalizer[]
  /** Positions in the aligned column lists that form the key; empty: keyless. */
  keyPos: number[]
  /** Positions that are not part of the key. */
  valuePos: number[]
  problems: string[]
}

function planTable(a: TableSchema, b: TableSchema, renames: readonly Rename[], tolerances: Tolerances | undefined): TablePlan {
  const colRename = new Map<string, string>()
  for (const r of renames) if (r.kind === 'column' && (r.table === a.name || r.table === undefined)) colRename.set(r.from, r.to)
  const problems: string[] = []
  const colsA: number[] = []
  const colsB: number[] = []
  const names: string[] = []
  const norms: ColumnNormalizer[] = []
  const usedB = new Set<number>()
  const live = (c: ColumnSchema) => c.generated !== true
  a.columns.forEach((ca, i) => {
    if (!live(ca)) return
    let target = colRename.get(ca.name) ?? ca.name
    // a column renamed twice (case, then length) keeps its last name
    while (colRename.has(target) && colRename.get(target) !== target) target = colRename.get(target)!
    const cb = findByName(b.columns.filter(live), target)
    if (!cb) {
      problems.push(`column ${ca.name} is missing on b`)
      return
    }
    const j = b.columns.indexOf(cb)
    usedB.add(j)
    colsA.push(i)
    colsB.push(j)
    names.push(ca.name)
    norms.push(columnNormalizer(ca, cb, toleranceFor(tolerances, a.name, ca.name)))
  })
  b.columns.forEach((cb, j) => {
    if (live(cb) && !usedB.has(j)) problems.push(`column ${cb.name} exists only on b`)
  })
  const keyIdx = keyColumnIndexes(a)
  let keyPos = keyIdx.map((i) => colsA.indexOf(i))
  if (keyPos.some((p) => p < 0)) keyPos = []
  const keySet = new Set(keyPos)
  const valuePos = names.map((_, p) => p).filter((p) => !keySet.has(p))
  return { a, b, colsA, colsB, names, norms, keyPos, valuePos, problems }
}

/** What a side's scan keeps of a row in a differing segment. */
interface Entry {
  key: RowKeyObject
  tokens: string[]
}

const SEP = '\u0000'

/** Shortened JSON of a value for keys of keyless rows (a 50 MB blob is not repeated in a report). */
function shortJson(v: Value): unknown {
  if (v instanceof Uint8Array) return v.byteLength > 32 ? `<${v.byteLength} bytes>` : valueToJson(v)
  if (typeof v === 'string' && v.length > 80) return `${v.slice(0, 80)}…`
  return valueToJson(v)
}

/** Where a batch of the first pass started, so the second pass can read just the batches it needs. */
interface BatchMark {
  /** The key the batch was read after (undefined: the table's start). */
  after?: readonly Value[]
  /** Source rows in the batch, converted or not. */
  count: number
  /** The segment of each converted row. */
  segments: Uint16Array
}

class Side {
  rows = 0
  unreadable: { key?: unknown }[] = []
  private marks: BatchMark[] = []
  /** Whether every batch carried a key to resume after (the reader supports seeking). */
  private seekable = true

  constructor(
    readonly conn: Connection,
    readonly plan: TablePlan,
    readonly which: 'a' | 'b',
    readonly batchRows: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  get table(): TableSchema {
    return this.which === 'a' ? this.plan.a : this.plan.b
  }

  private get cols(): number[] {
    return this.which === 'a' ? this.plan.colsA : this.plan.colsB
  }

  keyToken(row: Row): string {
    const { keyPos, norms } = this.plan
    const cols = this.cols
    if (keyPos.length === 0) return this.valueString(row)
    let s = ''
    for (const p of keyPos) s += norms[p]!.token(row[cols[p]!]!) + SEP
    return s
  }

  /** The hash tokens of the non-key columns (all columns for a keyless table), joined. */
  valueString(row: Row): string {
    const { keyPos, valuePos, norms } = this.plan
    const cols = this.cols
    let s = ''
    if (keyPos.length === 0) for (let p = 0; p < norms.length; p++) s += norms[p]!.hashToken(row[cols[p]!]!) + SEP
    else for (const p of valuePos) s += norms[p]!.hashToken(row[cols[p]!]!) + SEP
    return s
  }

  valueTokens(row: Row): string[] {
    const { valuePos, norms } = this.plan
    const cols = this.cols
    return valuePos.map((p) => norms[p]!.token(row[cols[p]!]!))
  }

  keyObject(row: Row): RowKeyObject {
    const { keyPos, names } = this.plan
    const cols = this.cols
    const o: RowKeyObject = {}
    if (keyPos.length === 0) names.forEach((n, p) => (o[n] = shortJson(row[cols[p]!]!)))
    else for (const p of keyPos) o[names[p]!] = valueToJson(row[cols[p]!])
    return o
  }

  private batches(after?: readonly Value[]): AsyncIterable<ReadBatch> {
    const options: ReadOptions = { batchRows: this.batchRows, batchBytes: 8 << 20, signal: this.signal }
    if (after !== undefined) options.after = after
    return this.conn.read(this.table, options)
  }

  /** Between batches: lets timers and I/O run (in-process readers never wait), and honours the signal. */
  private async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.signal?.aborted) throw new AbortError('verify was aborted')
  }

  /** First pass: segment sums over the whole table, and where each batch started. */
  async sums(segments: number): Promise<SegmentSums> {
    const sums = new SegmentSums(segments)
    const keyless = this.plan.keyPos.length === 0
    const { valuePos, norms } = this.plan
    const cols = this.cols
    const hasher = new RowHasher()
    const mask = segments - 1
    this.unreadable = []
    this.marks = []
    this.seekable = true
    let after: readonly Value[] | undefined
    for await (const batch of this.batches()) {
      await this.pause()
      for (const e of batch.rejected) this.unreadable.push({ key: e.key })
      const segs = new Uint16Array(batch.rows.length)
      for (let i = 0; i < batch.rows.length; i++) {
        const row = batch.rows[i]!
        const k = this.keyToken(row)
        const kh = keyHash(k)
        segs[i] = kh & mask
        hasher.reset()
        hasher.update(k)
        if (!keyless) for (const p of valuePos) hasher.update(norms[p]!.hashToken(row[cols[p]!]!))
        hasher.finish()
        sums.add(kh, hasher.lo, hasher.hi)
      }
      this.marks.push({ after, count: batch.rows.length + batch.rejected.length, segments: segs })
      if (batch.lastKey === undefined) this.seekable = false
      after = batch.lastKey
    }
    this.rows = sums.rows + this.unreadable.length
    return sums
  }

  /**
   * Second pass: the rows of the given segments, by key token. Reads only the batches of the first pass that
   * held such rows (seeking to each run of them by its start key) when the reader gave keys; else the table.
   */
  async collect(segments: number, wanted: ReadonlySet<number>): Promise<Map<string, Entry[]>> {
    const out = new Map<string, Entry[]>()
    const mask = segments - 1
    const keep = (row: Row): void => {
      const k = this.keyToken(row)
      if (!wanted.has(keyHash(k) & mask)) return
      const e: Entry = { key: this.keyObject(row), tokens: this.plan.keyPos.length === 0 ? [] : this.valueTokens(row) }
      const list = out.get(k)
      if (list) list.push(e)
      else out.set(k, [e])
    }
    const runs: { after?: readonly Value[]; count: number }[] = []
    if (this.seekable) {
      let open: { after?: readonly Value[]; count: number } | undefined
      for (const m of this.marks) {
        if (m.segments.some((s) => wanted.has(s))) {
          if (open) open.count += m.count
          else runs.push((open = { after: m.after, count: m.count }))
        } else open = undefined
      }
    } else runs.push({ count: Infinity })
    for (const run of runs) {
      let seen = 0
      for await (const batch of this.batches(run.after)) {
        await this.pause()
        for (const row of batch.rows) keep(row)
        seen += batch.rows.length + batch.rejected.length
        if (seen >= run.count) break
      }
    }
    return out
  }
}

/** The key token of a key given as an object or its JSON; undefined when it is not one. */
function keyTokenOf(plan: TablePlan, k: unknown): string | undefined {
  let o: unknown = k
  if (typeof k === 'string') {
    try {
      o = JSON.parse(k)
    } catch {
      return undefined
    }
  }
  if (o === null || typeof o !== 'object' || plan.keyPos.length === 0) return undefined
  let s = ''
  for (const p of plan.keyPos) {
    const v = (o as Record<string, unknown>)[plan.names[p]!]
    s += plan.norms[p]!.token((v === undefined ? null : v) as Value) + SEP
  }
  return s
}

/** The key tokens of `expectDropped` rows of one table, built with the table's own key normalisers. */
function expectedKeys(plan: TablePlan, keys: Iterable<string | Record<string, unknown>> | undefined): Set<string> {
  const out = new Set<string>()
  for (const k of keys ?? []) {
    const t = keyTokenOf(plan, k)
    if (t !== undefined) out.add(t)
  }
  return out
}

async function compareTable(
  a: Connection,
  b: Connection,
  plan: TablePlan,
  options: VerifyOptions,
): Promise<TableVerification> {
  const started = Date.now()
  const maxDiffs = options.maxDiffs ?? 100
  const batchRows = options.batchRows ?? 10_000
  const sideA = new Side(a, plan, 'a', batchRows, options.signal)
  const sideB = new Side(b, plan, 'b', batchRows, options.signal)
  const out: TableVerification = {
    name: plan.a.name,
    equal: false,
    rowsA: 0,
    rowsB: 0,
    key: plan.keyPos.map((p) => plan.names[p]!),
    missing: [],
    extra: [],
    changed: [],
    missingCount: 0,
    extraCount: 0,
    changedCount: 0,
    expectedDropped: 0,
    unreadableA: 0,
    unreadableB: 0,
    problems: [...plan.problems],
    ms: 0,
  }
  if (plan.b.name !== plan.a.name) out.nameB = plan.b.name

  // a fixed segment count: row-count estimates can be 0 on a freshly loaded server table, and an exact
  // count costs a scan; 65 536 segments are 768 KiB of sums and about 15 rows each per million rows
  const segments = MAX_SEGMENTS
  const [sumsA, sumsB] = await Promise.all([sideA.sums(segments), sideB.sums(segments)])
  out.rowsA = sideA.rows
  out.rowsB = sideB.rows
  const expected = expectedKeys(plan, options.expectDropped?.[plan.a.name])

  for (const u of sideA.unreadable) {
    const t = keyTokenOf(plan, u.key)
    if (t !== undefined && expected.has(t)) out.expectedDropped++
    else out.unreadableA++
  }
  out.unreadableB = sideB.unreadable.length

  const differing = sumsA.differingSegments(sumsB)
  if (differing.size > 0) {
    const [rowsA, rowsB] = await Promise.all([sideA.collect(segments, differing), sideB.collect(segments, differing)])
    const keyless = plan.keyPos.length === 0
    const valueNames = plan.valuePos.map((p) => plan.names[p]!)
    const valueNorms = plan.valuePos.map((p) => plan.norms[p]!)
    for (const [k, listA] of rowsA) {
      const listB = rowsB.get(k) ?? []
      rowsB.delete(k)
      const paired = Math.min(listA.length, listB.length)
      if (!keyless) {
        for (let i = 0; i < paired; i++) {
          const ta = listA[i]!.tokens
          const tb = listB[i]!.tokens
          const cols: string[] = []
          for (let c = 0; c < ta.length; c++) if (!valueNorms[c]!.equal(ta[c]!, tb[c]!)) cols.push(valueNames[c]!)
          if (cols.length > 0) {
            out.changedCount++
            if (out.changed.length < maxDiffs) out.changed.push({ key: listA[i]!.key, columns: cols })
          }
        }
      }
      for (let i = paired; i < listA.length; i++) {
        if (expected.has(k)) {
          out.expectedDropped++
          continue
        }
        out.missingCount++
        if (out.missing.length < maxDiffs) out.missing.push(listA[i]!.key)
      }
      for (let i = paired; i < listB.length; i++) {
        out.extraCount++
        if (out.extra.length < maxDiffs) out.extra.push(listB[i]!.key)
      }
    }
    for (const listB of rowsB.values()) {
      for (const e of listB) {
        out.extraCount++
        if (out.extra.length < maxDiffs) out.extra.push(e.key)
      }
    }
  }
  out.equal =
    out.problems.length === 0 &&
    out.missingCount === 0 &&
    out.extraCount === 0 &&
    out.changedCount === 0 &&
    out.unreadableA === 0 &&
    out.unreadableB === 0
  out.ms = Date.now() - started
  return out
}

function emptyVerification(name: string, rowsA: number, rowsB: number, problem: string): TableVerification {
  return {
    name,
    equal: false,
    rowsA,
    rowsB,
    key: [],
    missing: [],
    extra: [],
    changed: [],
    missingCount: 0,
    extraCount: 0,
    changedCount: 0,
    expectedDropped: 0,
    unreadableA: 0,
    unreadableB: 0,
    problems: [problem],
    ms: 0,
  }
}

/**
 * Compares two databases table by table, engine-independently: row counts, then every value normalised to
 * the canonical model (see `normalize.ts`), hashed per row and summed per segment of the key-hash space;
 * only segments whose sums differ are read again and compared row by row. Returns a report; throws only when
 * a database cannot be opened or read.
 *
 * @example
 * const r = await verify({ a: 'sqlite:./app.db', b: 'postgres://postgres@127.0.0.1/app' })
 * if (!r.equal) console.log(r.tables.filter((t) => !t.equal))
 */
export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now()
  const ca = await connect(options.a)
  let cb: Awaited<ReturnType<typeof connect>> | undefined
  try {
    cb = await connect(options.b)
    const a = ca.connection
    const b = cb.connection
    // our own connections read one consistent snapshot; a caller's connection is used as the caller left it
    if (ca.owned) await a.snapshot()
    if (cb.owned) await b.snapshot()
    const schemaA = await a.introspect(options.tables ? { tables: options.tables } : undefined)
    const schemaB = await b.introspect()
    if (options.tables) {
      const missing = options.tables.filter((t) => !schemaA.tables.some((x) => x.name === t))
      if (missing.length > 0) throw new UsageError(`no table ${missing.map((m) => JSON.stringify(m)).join(', ')} on a`)
    }
    const renames = options.renames ?? []
    const tableRename = new Map<string, string>()
    for (const r of renames) if (r.kind === 'table') tableRename.set(r.from, r.to)
    const bIndex = indexTables(schemaB)
    const usedB = new Set<TableSchema>()
    const report: VerifyReport = { equal: true, a: a.description, b: b.description, tables: [], ms: 0 }
    for (const ta of schemaA.tables) {
      if (options.tables && !options.tables.includes(ta.name)) continue
      let nameB = tableRename.get(ta.name) ?? ta.name
      while (tableRename.has(nameB) && tableRename.get(nameB) !== nameB) nameB = tableRename.get(nameB)!
      const tb = bIndex.exact.get(nameB) ?? bIndex.folded.get(nameB.toLowerCase())
      if (!tb) {
        report.tables.push(emptyVerification(ta.name, await a.count(ta), 0, 'table is missing on b'))
        continue
      }
      usedB.add(tb)
      report.tables.push(await compareTable(a, b, planTable(ta, tb, renames, options.tolerances), options))
    }
    if (!options.tables) {
      for (const tb of schemaB.tables) {
        if (!usedB.has(tb)) report.tables.push(emptyVerification(tb.name, 0, await b.count(tb), 'table exists only on b'))
      }
    }
    report.equal = report.tables.every((t) => t.equal)
    report.ms = Date.now() - started
    return report
  } finally {
    if (cb?.owned) await cb.connection.close().catch(() => {})
    if (ca.owned) await ca.connection.close().catch(() => {})
  }
}
