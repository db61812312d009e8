import { withoutChangeTable } from '../catchup/names.js'
import { connect, type ConnectionSpec } from '../connect.js'
import type { Connection, ReadBatch, ReadOptions, ScanOptions, SegmentHashes, SegmentRequest } from '../dialect.js'
import { AbortError, UsageError, type RowError } from '../errors.js'
import { keyColumnIndexes, valueToJson } from '../schema/rows.js'
import type { Rename } from '../schema/identifiers.js'
import type { ColumnSchema, DatabaseSchema, Row, TableSchema, Value } from '../schema/types.js'
import type { CopyExpectations, TableExpectations } from './expectations.js'
import { MAX_SEGMENTS, RowHasher, SegmentSums } from './hash.js'
import { columnNormalizer, hashesDirectly, isExact, sameLogicalType, toleranceFor, type ColumnNormalizer, type Tolerances } from './normalize.js'

/**
 * Where rows are hashed: `node` reads every row into Node and hashes its canonical values there; `engine`
 * lets each server hash its rows and sum the hashes per segment (PostgreSQL and MySQL/MariaDB, between two
 * databases of the same engine whose compared columns have the same types, without tolerances), so only the
 * sums travel, and falls back to `node` where that cannot be exact; `auto` picks `engine` where it can be
 * used (it measured faster on every pair where it applies, see bench/README.md).
 */
export type VerifyHashing = 'auto' | 'engine' | 'node'

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
  /**
   * What a copy changed on purpose (see {@link CopyExpectations}): its rejected and dropped rows are expected
   * absent from `b`, its fixed values expected changed, its stub rows expected extra, and tables it did not
   * copy are listed in `excluded` instead of compared. Matched by key; in a table without a key (or for an
   * entry without one) by count. Its renames apply unless `renames` is given. Default none.
   */
  expect?: CopyExpectations
  /**
   * A copy's journal file to take {@link VerifyOptions.expect} from: a path (its latest finished run from `a`
   * to `b`, matched by how they display) or `{ path, run }` for one run by id. Default none.
   */
  journal?: string | { path: string; run?: number }
  /** Rows listed per table and kind (missing, extra, changed); counts stay exact. Default 100. */
  maxDiffs?: number
  /**
   * Rows per read batch. Default 2 000: a difference makes the second pass read again every batch that held
   * a row of its segment (about 15 per million rows, spread by key hash), so small batches keep that cheap;
   * streaming readers (PostgreSQL COPY, MySQL) read no slower in small batches.
   */
  batchRows?: number
  /** Where rows are hashed (see {@link VerifyHashing}). Default `auto`. */
  hashing?: VerifyHashing
  /** Aborts the comparison: checked between batches, it stops with an `AbortError`. Absent: never aborted. */
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
  /** True when `problems` is empty and no row is missing, extra, changed or unreadable. */
  equal: boolean
  /** Rows on `a`, unreadable ones included (for a table `b` lacks, `a`'s count of it). */
  rowsA: number
  /** Rows on `b`, unreadable ones included (for a table `a` lacks, `b`'s count of it). */
  rowsB: number
  /** Key columns the rows were matched by; empty when the table has no key (rows compared as a multiset). */
  key: string[]
  /** Rows of `a` that `b` lacks (first `maxDiffs`). */
  missing: RowKeyObject[]
  /** Rows of `b` that `a` lacks. */
  extra: RowKeyObject[]
  /** Rows on both sides whose values differ, with the columns (names on `a`) that differ. */
  changed: { key: RowKeyObject; columns: string[] }[]
  /** Rows of `a` that `b` lacks, all of them (`expectDropped` ones not counted). */
  missingCount: number
  /** Rows of `b` that `a` lacks, all of them. */
  extraCount: number
  /** Rows on both sides whose values differ, all of them. */
  changedCount: number
  /** Rows of `a` missing on `b` that `expectDropped` or `expect` accounts for (rejected or dropped by the copy). */
  expectedDropped: number
  /** Rows on both sides whose differing values `expect` accounts for (values the copy fixed). */
  expectedChanged: number
  /** Rows of `b` that `a` lacks and `expect` accounts for (rows a transform of the copy inserted). */
  expectedInserted: number
  /** Rows of `a` its reader could not convert (counted in `rowsA`), less those `expectDropped` accounts for. */
  unreadableA: number
  /** Rows of `b` its reader could not convert (counted in `rowsB`). */
  unreadableB: number
  /** Table- and column-level differences: a table or column only one side has. */
  problems: string[]
  /** Where the first pass hashed the rows: `engine` (the servers) or `node`. */
  hashing: 'engine' | 'node'
  /** Time the table's comparison took, in milliseconds. */
  ms: number
}

/** The outcome of {@link verify}, as data. */
export interface VerifyReport {
  /** True when every compared table holds the same rows under the tolerances, less the expected differences. */
  equal: boolean
  /** Tables of `a` the copy did not copy (from `expect`): not compared, not differences. Empty without `expect`. */
  excluded: string[]
  /** Where the expected differences came from and how many were found. Absent without `expect`. */
  expected?: { origin: string; dropped: number; changed: number; inserted: number }
  /** `a` as it displays (no password). */
  a: string
  /** `b` as it displays (no password). */
  b: string
  /** One per table compared: `a`'s in its order, then tables only `b` has. */
  tables: TableVerification[]
  /** Time the whole comparison took, in milliseconds. */
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
  /** The same columns' names on b. */
  namesB: string[]
  norms: ColumnNormalizer[]
  /** Positions in the aligned column lists that form the key; empty: keyless. */
  keyPos: number[]
  /** Positions that are not part of the key. */
  valuePos: number[]
  /** Positions the first pass hashes by their canonical value rather than their token (see `hashesDirectly`). */
  direct: boolean[]
  /** Every column pair has the same logical and native type and no tolerance: engine-side hashing may apply. */
  sameTypes: boolean
  problems: string[]
}

function planTable(a: TableSchema, b: TableSchema, renames: readonly Rename[], tolerances: Tolerances | undefined, sameEngine: boolean): TablePlan {
  const colRename = new Map<string, string>()
  for (const r of renames) if (r.kind === 'column' && (r.table === a.name || r.table === undefined)) colRename.set(r.from, r.to)
  const problems: string[] = []
  const colsA: number[] = []
  const colsB: number[] = []
  const names: string[] = []
  const namesB: string[] = []
  const norms: ColumnNormalizer[] = []
  const direct: boolean[] = []
  let sameTypes = true
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
    namesB.push(cb.name)
    const tolerance = toleranceFor(tolerances, a.name, ca.name)
    norms.push(columnNormalizer(ca, cb, tolerance))
    direct.push(hashesDirectly(ca, cb, tolerance, sameEngine))
    if (!isExact(tolerance) || !sameLogicalType(ca, cb) || ca.nativeType.toLowerCase() !== cb.nativeType.toLowerCase()) sameTypes = false
  })
  b.columns.forEach((cb, j) => {
    if (live(cb) && !usedB.has(j)) problems.push(`column ${cb.name} exists only on b`)
  })
  const keyIdx = keyColumnIndexes(a)
  let keyPos = keyIdx.map((i) => colsA.indexOf(i))
  if (keyPos.some((p) => p < 0)) keyPos = []
  const keySet = new Set(keyPos)
  const valuePos = names.map((_, p) => p).filter((p) => !keySet.has(p))
  return { a, b, colsA, colsB, names, namesB, norms, keyPos, valuePos, direct, sameTypes, problems }
}

/** What a side's second pass keeps of a row in a differing segment. */
interface Entry {
  key: RowKeyObject
  tokens: string[]
}

const SEP = '\u0000'
/** Seeds the hash that picks a row's segment apart from its row hash. */
const SEGMENT_SEED = 0x9e3779b9

/** Shortened JSON of a value for keys of keyless rows (a 50 MB blob is not repeated in a report). */
function shortJson(v: Value): unknown {
  if (v instanceof Uint8Array) return v.byteLength > 32 ? `<${v.byteLength} bytes>` : valueToJson(v)
  if (typeof v === 'string' && v.length > 80) return `${v.slice(0, 80)}…`
  return valueToJson(v)
}

/**
 * Where a batch (or a scan's stretch) of the first pass started, so the second pass can read just the ones
 * that held rows of differing segments.
 */
interface Mark {
  /** The key the batch was read after, or the position the stretch began at (undefined: the table's start). */
  at?: unknown
  /** Source rows in it, converted or not. */
  count: number
  /** The segment of each converted row. */
  segments: Uint16Array
}

/** The rows of differing segments on one side, by key token, and the rows its reader rejected there. */
interface Collected {
  rows: Map<string, Entry[]>
  rejected: RowError[]
}

class Side {
  rows = 0
  unreadable: { key?: unknown }[] = []
  private marks: Mark[] = []
  /** Whether every batch carried a key to resume after (the reader supports seeking). */
  private seekable = true
  private readonly hasher = new RowHasher()
  /** Positions the segment is taken from: the key, or every column of a keyless table. */
  private readonly segPos: number[]

  constructor(
    readonly conn: Connection,
    readonly plan: TablePlan,
    readonly which: 'a' | 'b',
    readonly batchRows: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.segPos = plan.keyPos.length > 0 ? plan.keyPos : plan.names.map((_, p) => p)
  }

  get table(): TableSchema {
    return this.which === 'a' ? this.plan.a : this.plan.b
  }

  private get cols(): number[] {
    return this.which === 'a' ? this.plan.colsA : this.plan.colsB
  }

  /** The request for engine-side hashing: this side's compared columns, in the plan's order, and its key. */
  segmentRequest(segments: number): SegmentRequest {
    const cols = this.cols
    const r: SegmentRequest = { columns: cols, key: this.plan.keyPos.map((p) => cols[p]!), segments }
    if (this.signal) r.signal = this.signal
    return r
  }

  /** The token that pairs a row with its counterpart: its key's tokens, or every column's for a keyless table. */
  keyToken(row: Row): string {
    const { keyPos, norms } = this.plan
    const cols = this.cols
    let s = ''
    if (keyPos.length === 0) for (let p = 0; p < norms.length; p++) s += norms[p]!.hashToken(row[cols[p]!]!) + SEP
    else for (const p of keyPos) s += norms[p]!.token(row[cols[p]!]!) + SEP
    return s
  }

  /** Mixes the value at position `p` into the hasher: the canonical value itself, or its token. */
  private feed(p: number, v: Value): void {
    if (this.plan.direct[p]) this.hasher.value(v)
    else this.hasher.update(this.plan.norms[p]!.hashToken(v))
  }

  /** The 32-bit hash that picks a row's segment, from its key (or, keyless, its whole row). */
  segmentHash(row: Row): number {
    const cols = this.cols
    const h = this.hasher
    h.reset(SEGMENT_SEED)
    for (const p of this.segPos) this.feed(p, row[cols[p]!]!)
    h.finish()
    return h.lo
  }

  /** Adds a row to the sums: its segment's count, and the two lanes of the hash of all its values. */
  private addRow(sums: SegmentSums, row: Row): number {
    const seg = this.segmentHash(row)
    const cols = this.cols
    const { names } = this.plan
    const h = this.hasher
    h.reset()
    for (let p = 0; p < names.length; p++) this.feed(p, row[cols[p]!]!)
    h.finish()
    sums.add(seg, h.lo, h.hi)
    return seg & (sums.segments - 1)
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

  private entry(row: Row): Entry {
    return { key: this.keyObject(row), tokens: this.plan.keyPos.length === 0 ? [] : this.valueTokens(row) }
  }

  private readOptions(after?: readonly Value[], limit?: number): ReadOptions {
    const options: ReadOptions = { batchRows: this.batchRows, batchBytes: 8 << 20, signal: this.signal }
    if (after !== undefined) options.after = after
    if (limit !== undefined && Number.isFinite(limit)) options.limit = limit
    return options
  }

  private batches(after?: readonly Value[], limit?: number): AsyncIterable<ReadBatch> {
    return this.conn.read(this.table, this.readOptions(after, limit))
  }

  /** Between batches: lets timers and I/O run (in-process readers never wait), and honours the signal. */
  private async pause(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.signal?.aborted) throw new AbortError('verify was aborted')
  }

  /**
   * First pass, hashed in Node: segment sums over the whole table. Through the connection's `scan` where it
   * has one (no batches); else by reading batches, noting where each started for the second pass.
   */
  async sums(segments: number): Promise<SegmentSums> {
    const sums = new SegmentSums(segments)
    this.unreadable = []
    this.marks = []
    this.seekable = true
    if (this.conn.scan) {
      // one mark per stretch of the scan: its rows' segments, closed when the next stretch begins
      let segs: number[] = []
      let open: { at: unknown; before: number } | undefined
      const close = (rowsAfter: number): void => {
        if (open) this.marks.push({ at: open.at, count: rowsAfter - open.before, segments: Uint16Array.from(segs) })
        segs = []
      }
      const options: ScanOptions = {
        onStretch: (from, before) => {
          close(before)
          open = { at: from, before }
        },
      }
      if (this.signal) options.signal = this.signal
      const out = await this.conn.scan(this.table, (row) => void segs.push(this.addRow(sums, row)), options)
      close(out.rows)
      for (const e of out.rejected) this.unreadable.push({ key: e.key })
      this.rows = out.rows
      return sums
    }
    let after: readonly Value[] | undefined
    for await (const batch of this.batches()) {
      await this.pause()
      for (const e of batch.rejected) this.unreadable.push({ key: e.key })
      const segs = new Uint16Array(batch.rows.length)
      for (let i = 0; i < batch.rows.length; i++) segs[i] = this.addRow(sums, batch.rows[i]!)
      this.marks.push({ at: after, count: batch.rows.length + batch.rejected.length, segments: segs })
      if (batch.lastKey === undefined) this.seekable = false
      after = batch.lastKey
    }
    this.rows = sums.rows + this.unreadable.length
    return sums
  }

  /**
   * Second pass after a Node-hashed first pass: the rows of the given segments, by key token. Reads (or
   * scans) only the batches (stretches) of the first pass that held such rows, seeking to each run of them
   * by where it began; the whole table when the reader gave no keys to seek by.
   */
  async collect(segments: number, wanted: ReadonlySet<number>): Promise<Collected> {
    const out = new Map<string, Entry[]>()
    const mask = segments - 1
    const keep = (row: Row): void => {
      if (!wanted.has(this.segmentHash(row) & mask)) return
      const k = this.keyToken(row)
      const e = this.entry(row)
      const list = out.get(k)
      if (list) list.push(e)
      else out.set(k, [e])
    }
    // consecutive batches (or stretches) holding wanted rows, each read from where its first one began
    const runs: { at?: unknown; count: number }[] = []
    if (this.seekable) {
      let open: { at?: unknown; count: number } | undefined
      for (const m of this.marks) {
        if (m.segments.some((s) => wanted.has(s))) {
          if (open) open.count += m.count
          else runs.push((open = { at: m.at, count: m.count }))
        } else open = undefined
      }
    } else runs.push({ count: Infinity })
    if (this.conn.scan) {
      for (const run of runs) {
        const options: ScanOptions = { from: run.at, limit: run.count }
        if (this.signal) options.signal = this.signal
        await this.conn.scan(this.table, keep, options)
      }
      return { rows: out, rejected: [] }
    }
    for (const run of runs) {
      let seen = 0
      for await (const batch of this.batches(run.at as readonly Value[] | undefined, run.count)) {
        await this.pause()
        for (const row of batch.rows) keep(row)
        seen += batch.rows.length + batch.rejected.length
        if (seen >= run.count) break
      }
    }
    return { rows: out, rejected: [] }
  }

  /** Engine-side first pass: the server's per-segment sums, or undefined where it cannot hash this table exactly. */
  async engineSums(segments: number): Promise<SegmentHashes | undefined> {
    return this.conn.segmentHashes!(this.table, this.segmentRequest(segments))
  }

  /**
   * Second pass after an engine-hashed first pass: the rows of the wanted segments, read through the reader
   * with the server filtering by segment, and the rows the reader rejected there (they are the table's
   * unreadable rows: the server marks every segment holding one as suspect).
   */
  async collectSegments(segments: number, wanted: ReadonlySet<number>): Promise<Collected> {
    const out = new Map<string, Entry[]>()
    const rejected: RowError[] = []
    if (wanted.size === 0) return { rows: out, rejected }
    const list = [...wanted].sort((x, y) => x - y)
    for await (const batch of this.conn.readSegments!(this.table, this.segmentRequest(segments), list, this.readOptions())) {
      await this.pause()
      rejected.push(...batch.rejected)
      for (const row of batch.rows) {
        const k = this.keyToken(row)
        const e = this.entry(row)
        const l = out.get(k)
        if (l) l.push(e)
        else out.set(k, [e])
      }
    }
    return { rows: out, rejected }
  }
}

/** Segments whose engine sums differ between the sides, or that either side marks as suspect. */
function differingEngineSegments(a: SegmentHashes, b: SegmentHashes): Set<number> {
  const out = new Set<number>([...a.suspect, ...b.suspect])
  for (const [seg, sum] of a.sums) if (b.sums.get(seg) !== sum) out.add(seg)
  for (const seg of b.sums.keys()) if (!a.sums.has(seg)) out.add(seg)
  return out
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
    // a key journaled by the target names its columns as the target does
    const r = o as Record<string, unknown>
    const v = plan.names[p]! in r ? r[plan.names[p]!] : r[plan.namesB[p]!]
    s += plan.norms[p]!.token((v === undefined ? null : v) as Value) + SEP
  }
  return s
}

/**
 * One table's expected differences in its plan's terms: key tokens built with the table's own key normalisers,
 * column names on `a`, and budgets for what is known only by count (entries without a key, a keyless table,
 * fixes counted but not journaled). A row is expected by its key, else while its budget lasts.
 */
class Expected {
  private readonly absent = new Set<string>()
  private absentBudget = 0
  private readonly fixed = new Map<string, Set<string>>()
  private readonly fixBudget = new Map<string, number>()
  private readonly inserted = new Set<string>()
  private insertBudget = 0

  constructor(plan: TablePlan, dropped: Iterable<string | Record<string, unknown>> | undefined, t: TableExpectations | undefined) {
    for (const k of dropped ?? []) {
      const token = keyTokenOf(plan, k)
      if (token !== undefined) this.absent.add(token)
    }
    if (!t) return
    let keyedAbsent = 0
    for (const k of t.absent) {
      const token = keyTokenOf(plan, k)
      if (token === undefined) continue
      keyedAbsent++
      this.absent.add(token)
    }
    this.absentBudget = Math.max(0, t.absentTotal - keyedAbsent)
    // journaled column names are the source's (reader, row fitter) or the target's (transforms, target)
    const nameOnA = new Map<string, string>()
    plan.names.forEach((n, p) => {
      nameOnA.set(plan.namesB[p]!, n)
      nameOnA.set(n, n)
    })
    const keyedFixes = new Map<string, number>()
    for (const [k, columns] of t.fixed) {
      const token = keyTokenOf(plan, k)
      if (token === undefined) continue
      let set = this.fixed.get(token)
      if (!set) this.fixed.set(token, (set = new Set()))
      for (const c of columns) {
        const a = nameOnA.get(c)
        if (a === undefined) continue
        set.add(a)
        keyedFixes.set(a, (keyedFixes.get(a) ?? 0) + 1)
      }
    }
    for (const [c, n] of Object.entries(t.fixedTotal)) {
      const a = nameOnA.get(c)
      if (a !== undefined) this.fixBudget.set(a, (this.fixBudget.get(a) ?? 0) + n)
    }
    for (const [a, n] of keyedFixes) this.fixBudget.set(a, Math.max(0, (this.fixBudget.get(a) ?? 0) - n))
    let keyedInserted = 0
    for (const k of t.inserted) {
      const token = keyTokenOf(plan, k)
      if (token === undefined) continue
      keyedInserted++
      this.inserted.add(token)
    }
    this.insertBudget = Math.max(0, t.insertedTotal - keyedInserted)
  }

  /** Whether a row of `a` (by key token; undefined: no key known) is expected absent from `b`. */
  missing(token: string | undefined): boolean {
    if (token !== undefined && this.absent.has(token)) return true
    if (this.absentBudget === 0) return false
    this.absentBudget--
    return true
  }

  /** Whether a row only `b` has is expected (a row the copy inserted). */
  extra(token: string): boolean {
    if (this.inserted.has(token)) return true
    if (this.insertBudget === 0) return false
    this.insertBudget--
    return true
  }

  /** Whether a row's differing columns are all values the copy fixed (by key, else while the counts last). */
  changed(token: string, columns: readonly string[]): boolean {
    const known = this.fixed.get(token)
    const rest = known ? columns.filter((c) => !known.has(c)) : columns
    if (rest.length === 0) return true
    if (!rest.every((c) => (this.fixBudget.get(c) ?? 0) > 0)) return false
    for (const c of rest) this.fixBudget.set(c, this.fixBudget.get(c)! - 1)
    return true
  }

  /**
   * In a keyless table a fixed row is one row missing and one extra: pairs of them, up to the fixes counted,
   * are expected changes. Returns how many pairs it takes.
   */
  keylessFixes(missing: number, extra: number): number {
    let budget = 0
    for (const n of this.fixBudget.values()) budget += n
    return Math.min(missing, extra, budget)
  }
}

/**
 * Segments of engine-side hashing: fewer than in Node, because the servers group by them (MariaDB took 1.3
 * times as long with 65 536 groups as with 4 096, PostgreSQL 1.2 to 1.4 times), and a difference costs only
 * the server-filtered read of its segments (about 250 rows per million per segment).
 */
const ENGINE_SEGMENTS = 4096

/** Whether engine-side hashing may be tried for a table pair under the option. */
function engineEligible(a: Connection, b: Connection, plan: TablePlan, hashing: VerifyHashing): boolean {
  return (
    hashing !== 'node' &&
    a.dialect.name === b.dialect.name &&
    plan.sameTypes &&
    plan.names.length > 0 &&
    typeof a.segmentHashes === 'function' &&
    typeof b.segmentHashes === 'function' &&
    typeof a.readSegments === 'function' &&
    typeof b.readSegments === 'function'
  )
}

async function compareTable(
  a: Connection,
  b: Connection,
  plan: TablePlan,
  options: VerifyOptions,
  expect: TableExpectations | undefined,
): Promise<TableVerification> {
  const started = Date.now()
  const maxDiffs = options.maxDiffs ?? 100
  const batchRows = options.batchRows ?? 2000
  const sideA = new Side(a, plan, 'a', batchRows, options.signal)
  const sideB = new Side(b, plan, 'b', batchRows, options.signal)
  const out: TableVerification = { ...emptyVerification(plan.a.name, 0, 0, plan.problems), key: plan.keyPos.map((p) => plan.names[p]!) }
  if (plan.b.name !== plan.a.name) out.nameB = plan.b.name

  // a fixed segment count: row-count estimates can be 0 on a freshly loaded server table, and an exact
  // count costs a scan; 65 536 segments are 768 KiB of sums and about 15 rows each per million rows
  const segments = MAX_SEGMENTS
  let rowsA: Collected
  let rowsB: Collected
  let engine: [SegmentHashes, SegmentHashes] | undefined
  if (engineEligible(a, b, plan, options.hashing ?? 'auto')) {
    const [ea, eb] = await Promise.all([sideA.engineSums(ENGINE_SEGMENTS), sideB.engineSums(ENGINE_SEGMENTS)])
    if (ea && eb && ea.renderer === eb.renderer) engine = [ea, eb]
  }
  if (engine) {
    out.hashing = 'engine'
    const [ea, eb] = engine
    const differing = differingEngineSegments(ea, eb)
    ;[rowsA, rowsB] = await Promise.all([sideA.collectSegments(ENGINE_SEGMENTS, differing), sideB.collectSegments(ENGINE_SEGMENTS, differing)])
    out.rowsA = ea.rows
    out.rowsB = eb.rows
    sideA.unreadable = rowsA.rejected.map((e) => ({ key: e.key }))
    sideB.unreadable = rowsB.rejected.map((e) => ({ key: e.key }))
  } else {
    const [sumsA, sumsB] = await Promise.all([sideA.sums(segments), sideB.sums(segments)])
    out.rowsA = sideA.rows
    out.rowsB = sideB.rows
    const differing = sumsA.differingSegments(sumsB)
    const none: Collected = { rows: new Map(), rejected: [] }
    ;[rowsA, rowsB] = differing.size > 0 ? await Promise.all([sideA.collect(segments, differing), sideB.collect(segments, differing)]) : [none, none]
  }
  const expected = new Expected(plan, options.expectDropped?.[plan.a.name], expect)

  for (const u of sideA.unreadable) {
    if (expected.missing(keyTokenOf(plan, u.key))) out.expectedDropped++
    else out.unreadableA++
  }
  out.unreadableB = sideB.unreadable.length

  const keyless = plan.keyPos.length === 0
  const valueNames = plan.valuePos.map((p) => plan.names[p]!)
  const valueNorms = plan.valuePos.map((p) => plan.norms[p]!)
  const restB = rowsB.rows
  for (const [k, listA] of rowsA.rows) {
    const listB = restB.get(k) ?? []
    restB.delete(k)
    const paired = Math.min(listA.length, listB.length)
    if (!keyless) {
      for (let i = 0; i < paired; i++) {
        const ta = listA[i]!.tokens
        const tb = listB[i]!.tokens
        const cols: string[] = []
        for (let c = 0; c < ta.length; c++) if (!valueNorms[c]!.equal(ta[c]!, tb[c]!)) cols.push(valueNames[c]!)
        if (cols.length > 0) {
          if (expected.changed(k, cols)) {
            out.expectedChanged++
            continue
          }
          out.changedCount++
          if (out.changed.length < maxDiffs) out.changed.push({ key: listA[i]!.key, columns: cols })
        }
      }
    }
    for (let i = paired; i < listA.length; i++) {
      if (expected.missing(keyless ? undefined : k)) {
        out.expectedDropped++
        continue
      }
      out.missingCount++
      if (out.missing.length < maxDiffs) out.missing.push(listA[i]!.key)
    }
    for (let i = paired; i < listB.length; i++) {
      if (expected.extra(k)) {
        out.expectedInserted++
        continue
      }
      out.extraCount++
      if (out.extra.length < maxDiffs) out.extra.push(listB[i]!.key)
    }
  }
  for (const [k, listB] of restB) {
    for (const e of listB) {
      if (expected.extra(k)) {
        out.expectedInserted++
        continue
      }
      out.extraCount++
      if (out.extra.length < maxDiffs) out.extra.push(e.key)
    }
  }
  if (keyless) {
    // which of a keyless table's missing and extra rows are its fixed ones is not known, only how many
    const fixes = expected.keylessFixes(out.missingCount, out.extraCount)
    out.expectedChanged += fixes
    out.missingCount -= fixes
    out.extraCount -= fixes
    out.missing.splice(out.missingCount)
    out.extra.splice(out.extraCount)
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

/** A table's verification before any row is compared: not equal, nothing found yet. */
function emptyVerification(name: string, rowsA: number, rowsB: number, problems: readonly string[]): TableVerification {
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
    expectedChanged: 0,
    expectedInserted: 0,
    unreadableA: 0,
    unreadableB: 0,
    problems: [...problems],
    hashing: 'node',
    ms: 0,
  }
}

/** The expectations given, or read from the journal named (a `UsageError` when both are given). */
async function expectationsOf(options: VerifyOptions, a: string, b: string): Promise<CopyExpectations | undefined> {
  if (options.journal === undefined) return options.expect
  if (options.expect) throw new UsageError('verify takes expect or journal, not both')
  const { path, run } = typeof options.journal === 'string' ? { path: options.journal, run: undefined } : options.journal
  const { readJournalExpectations } = await import('./journal-run.js')
  return readJournalExpectations(run === undefined ? { path, source: a, target: b } : { path, run, source: a, target: b })
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
    // a captured source's change table is the capture's: never compared
    const schemaA = withoutChangeTable(await a.introspect(options.tables ? { tables: options.tables } : undefined))
    const schemaB = withoutChangeTable(await b.introspect())
    if (options.tables) {
      const missing = options.tables.filter((t) => !schemaA.tables.some((x) => x.name === t))
      if (missing.length > 0) throw new UsageError(`no table ${missing.map((m) => JSON.stringify(m)).join(', ')} on a`)
    }
    const expect = await expectationsOf(options, a.description, b.description)
    const renames = options.renames ?? expect?.renames ?? []
    const tableRename = new Map<string, string>(expect?.tableNames)
    for (const r of renames) if (r.kind === 'table') tableRename.set(r.from, r.to)
    const bIndex = indexTables(schemaB)
    const usedB = new Set<TableSchema>()
    const report: VerifyReport = { equal: true, a: a.description, b: b.description, tables: [], excluded: [], ms: 0 }
    for (const ta of schemaA.tables) {
      if (options.tables && !options.tables.includes(ta.name)) continue
      let nameB = tableRename.get(ta.name) ?? ta.name
      while (tableRename.has(nameB) && tableRename.get(nameB) !== nameB) nameB = tableRename.get(nameB)!
      const tb = bIndex.exact.get(nameB) ?? bIndex.folded.get(nameB.toLowerCase())
      if (expect?.copied && !expect.copied.has(ta.name)) {
        // not copied: whatever b holds under its name is not the copy's either
        report.excluded.push(ta.name)
        if (tb) usedB.add(tb)
        continue
      }
      if (!tb) {
        report.tables.push(emptyVerification(ta.name, await a.count(ta), 0, ['table is missing on b']))
        continue
      }
      usedB.add(tb)
      report.tables.push(await compareTable(a, b, planTable(ta, tb, renames, options.tolerances, a.dialect.name === b.dialect.name), options, expect?.tables.get(ta.name)))
    }
    if (!options.tables) {
      for (const tb of schemaB.tables) {
        if (!usedB.has(tb)) report.tables.push(emptyVerification(tb.name, 0, await b.count(tb), ['table exists only on b']))
      }
    }
    report.equal = report.tables.every((t) => t.equal)
    if (expect) {
      const sum = (f: (t: TableVerification) => number) => report.tables.reduce((n, t) => n + f(t), 0)
      report.expected = { origin: expect.origin, dropped: sum((t) => t.expectedDropped), changed: sum((t) => t.expectedChanged), inserted: sum((t) => t.expectedInserted) }
    }
    report.ms = Date.now() - started
    return report
  } finally {
    if (cb?.owned) await cb.connection.close().catch(() => {})
    if (ca.owned) await ca.connection.close().catch(() => {})
  }
}
