import { existsSync } from 'node:fs'
import { connect, schemeOf, type ConnectionSpec } from './connect.js'
import type { Connection, ConstraintProblem, SourceTableState, TargetMode } from './dialect.js'
import { AbortError, DbferryError, PreflightError, SourceChangedError, TransformError, UsageError, redact } from './errors.js'
import { MemoryJournal, type Checkpoint, type Journal } from './journal/journal.js'
import { confirmedCheckpoint, resumeState, sourceChanges, type ResumeState } from './pipeline/resume.js'
import { keyString, rowKey, rowToJson, valueToJson } from './schema/rows.js'
import { makeRowFitter } from './pipeline/fit-rows.js'
import { openJournal } from './journal/open.js'
import { orderTables, type LoadOrder } from './plan/order.js'
import { preflight as runPreflight } from './plan/preflight.js'
import { runObjects } from './pipeline/objects.js'
import { checkAccounting, copyTable, emptyTableReport, TableLedger, type TablePair } from './pipeline/copy-table.js'
import type { FitOptions } from './pipeline/fit-rows.js'
import type { ProgressEvent } from './pipeline/progress.js'
import { totalsOf, type Report, type TableReport } from './report.js'
import { fitIdentifiers, type IdentifierPolicy, type Rename } from './schema/identifiers.js'
import { selectSchema, type DeclaredForeignKey, type TableSelection } from './schema/select.js'
import type { DatabaseSchema, LogicalType, Row } from './schema/types.js'
import { createKeySet } from './transforms/key-set.js'
import type { Transform, TransformContext } from './transforms/transform.js'

/** Options of {@link ferry}. */
export interface FerryOptions {
  /** The source: a URL (`sqlite:./x.db`, `postgres://…`) or an open {@link Connection}. */
  from: ConnectionSpec
  /** The target: a URL or an open {@link Connection}. */
  to: ConnectionSpec
  /** Which tables to copy. Default: all. */
  tables?: TableSelection
  /** Foreign keys the source does not declare (SQLite files without them, MyISAM). */
  foreignKeys?: readonly DeclaredForeignKey[]
  /** Per-column logical type overrides, keyed `table.column`. */
  types?: Readonly<Record<string, LogicalType>>
  /** Schema and row transforms, applied in order. Default none. */
  transforms?: readonly Transform[]
  /** What to do with target tables that exist. Default `create` (fail if one exists). */
  mode?: TargetMode
  /** Name rules on the target. Default: preserve case, shorten long names with a hash. */
  identifiers?: IdentifierPolicy
  /** Rows per batch. Default 10 000. */
  batchRows?: number
  /** Approximate bytes per batch. Default 8 MiB. */
  batchBytes?: number
  /**
   * Tables copied at once when the plan allows it, the source can read tables concurrently in one snapshot
   * and the target can write them without sharing a transaction (`concurrentWrites`). Default 1.
   */
  concurrency?: number
  /** A journal file path (SQLite), a {@link Journal}, or false. Default: none (the report keeps examples). */
  journal?: string | Journal | false
  /** How many rejected/dropped rows per table the report lists. Default 20. */
  maxExamples?: number
  /** Fallback encoding for source text that is not valid UTF-8 (e.g. `cp1252`). Default: reject such rows. */
  fallbackEncoding?: string
  /** Remove U+0000 from text for targets that cannot store it, instead of rejecting. Default false. */
  stripNul?: boolean
  /** User-supplied SQL for views and functions, run after the data in dependency order. */
  objects?: Readonly<Record<string, string>>
  /**
   * Continue the latest interrupted run between the same source and target, from its journal's checkpoints:
   * finished tables are skipped, the table in progress continues after its last committed batch. Needs a
   * `journal`. Default false.
   */
  resume?: boolean
  /**
   * Scan the source for what would fail on the target before anything is created (collation collisions,
   * orphan keys, values the target cannot hold; see `plan`). `report` puts the issues in `report.preflight`;
   * `stop` also throws a `PreflightError` when any issue other than a renamed identifier is found. Default `off`.
   */
  preflight?: 'off' | 'report' | 'stop'
  /**
   * Compare source and target after the copy (`verify()`), expecting the rows the run rejected or dropped to
   * be missing. The report's `verify` holds the outcome; a difference makes the run not `clean`. Default false.
   */
  verify?: boolean
  /**
   * Before a run changes an existing SQLite target (modes truncate, append, recreate, or resume), copy it with
   * SQLite's online backup API to this path, or beside the file (`<file>.<time>.backup`) when true.
   * Default true.
   */
  backup?: boolean | string
  /**
   * Let a CSV table that no transform touches go to a target that parses CSV itself (PostgreSQL) as the
   * file's bytes, checked and counted on the way, falling back to the row path for anything the check or
   * the target refuses (`report.tables[].path` says which path a table took). Default true.
   */
  passThrough?: boolean
  /** Called with progress events. */
  onProgress?: (event: ProgressEvent) => void
  /** Aborts the run between batches. */
  signal?: AbortSignal
}

/** The schema of a run as planned: source and target shapes, order, renames. */
export interface PreparedRun {
  sourceSchema: DatabaseSchema
  targetSchema: DatabaseSchema
  pairs: TablePair[]
  order: LoadOrder
  renames: Rename[]
}

/** Applies selection, declared keys, schema transforms and identifier rules. */
export function prepareRun(
  introspected: DatabaseSchema,
  target: Pick<Connection, 'dialect'>,
  options: Pick<FerryOptions, 'tables' | 'foreignKeys' | 'types' | 'transforms' | 'identifiers'>,
): PreparedRun {
  const { schema: sourceSchema } = selectSchema(introspected, options)
  let schema: DatabaseSchema = {
    ...sourceSchema,
    // each column keeps the dialect its native type belongs to: the target schema carries the target's name
    tables: sourceSchema.tables.map((t) => ({
      ...t,
      origin: t.name,
      columns: t.columns.map((c) => ({ ...c, origin: c.name, nativeDialect: c.nativeDialect ?? introspected.dialect })),
    })),
  }
  for (const t of options.transforms ?? []) {
    if (t.schema) schema = t.schema(schema, { sourceDialect: introspected.dialect, targetDialect: target.dialect.name })
  }
  const fitted = fitIdentifiers(schema, target.dialect.capabilities, options.identifiers)
  const targetSchema = { ...fitted.schema, dialect: target.dialect.name }
  const bySource = new Map(sourceSchema.tables.map((t) => [t.name, t]))
  const pairs = targetSchema.tables.map((t) => {
    const source = bySource.get(t.origin ?? t.name)
    if (!source) throw new UsageError(`a transform produced table ${t.name}, which has no source table`)
    return { source, target: t }
  })
  return { sourceSchema, targetSchema, pairs, order: orderTables(targetSchema), renames: fitted.renames }
}

/**
 * Copies a database: schema, rows, then keys. Returns a report of every table's counts; throws only for what
 * stops the whole run before it can report (bad options, a source that cannot be opened).
 *
 * @example
 * const report = await ferry({ from: 'sqlite:./app.db', to: 'postgres://postgres@127.0.0.1/app' })
 */
export async function ferry(options: FerryOptions): Promise<Report> {
  const started = Date.now()
  const emit = options.onProgress
  const batchRows = options.batchRows ?? 10_000
  const batchBytes = options.batchBytes ?? 8 * 1024 * 1024
  if (!(batchRows > 0) || !(batchBytes > 0)) throw new UsageError('batchRows and batchBytes must be positive')

  emit?.({ type: 'phase', phase: 'connect' })
  const src = await connect(options.from, { fallbackEncoding: options.fallbackEncoding })
  let tgt: Awaited<ReturnType<typeof connect>> | undefined
  let journal: Journal | undefined
  let ownJournal = false
  const report: Report = {
    ok: false,
    clean: false,
    source: src.connection.description,
    target: typeof options.to === 'string' ? redact(options.to) : options.to.description,
    tables: [],
    totals: totalsOf([]),
    renames: [],
    deferredForeignKeys: [],
    constraints: [],
    objects: [],
    ms: 0,
  }
  let runId = 0
  let closeContext: (() => Promise<void>) | undefined
  try {
    tgt = await connect(options.to, { create: true })
    report.target = tgt.connection.description
    const source = src.connection
    const target = tgt.connection

    if (typeof options.journal === 'string') {
      journal = await openJournal(options.journal)
      ownJournal = true
    } else if (options.journal) journal = options.journal
    let checkpoints: Checkpoint[] | undefined
    let interrupted = false
    if (options.resume && !journal) throw new UsageError('resume needs a journal (the checkpoints are kept there)')
    if (journal) {
      report.journal = journal.location
      const run = { source: report.source, target: report.target, startedAt: new Date().toISOString() }
      if (options.resume) {
        const found = await journal.resumePoint?.(run)
        interrupted = found !== undefined
        checkpoints = found ?? []
      }
      runId = await journal.startRun(run)
      // the interrupted run's checkpoints and source states pass to this run as they are, so that if this one
      // fails before it moves on (a changed source, an unreachable server) the next resume still finds them
      if (checkpoints) await carryCheckpoints(journal, runId, checkpoints)
    }

    emit?.({ type: 'phase', phase: 'introspect' })
    report.snapshot = await source.snapshot()
    // kept tables (truncate, append, resume) decide the column types of a source that would infer them
    if (checkpoints || options.mode === 'truncate' || options.mode === 'append') await useExistingTargetTypes(source, target)
    const introspected = await source.introspect()
    const prepared = prepareRun(introspected, target, options)
    report.renames = prepared.renames
    report.deferredForeignKeys = prepared.order.deferred

    const reports = new Map<string, TableReport>()
    for (const p of prepared.pairs) reports.set(p.target.name, emptyTableReport(p))
    if (journal && source.tableState) {
      // taken inside the snapshot, so it describes exactly the data this run reads
      const states = new Map<string, SourceTableState>()
      for (const p of prepared.pairs) states.set(p.target.name, await source.tableState(p.source))
      const changes = checkpoints ? sourceChanges(checkpoints, states) : []
      if (changes.length > 0) throw new SourceChangedError(changes)
      await journal.sourceStates?.(runId, [...states].map(([table, state]) => ({ table, state })))
    }
    const resumeAt = new Map<string, ResumeState>()
    if (checkpoints) {
      const rows = await exactRowCounts(options.to, target, prepared.targetSchema)
      const byTable = new Map(checkpoints.map((c) => [c.table, c]))
      for (const p of prepared.pairs) {
        const name = p.target.name
        const state = resumeState(name, byTable.get(name), rows.get(name) ?? 0, interrupted)
        resumeAt.set(name, state)
        const r = reports.get(name)!
        Object.assign(r, state.carried)
        r.resumed = { carried: { ...state.carried }, after: state.after ? JSON.stringify(state.after.map(valueToJson)) : undefined, skipped: state.done }
        // carry the state into this run at once, so that an interruption of this run resumes just as well
        if (byTable.has(name)) await journal!.checkpoint(runId, confirmedCheckpoint(r, state.after, state.done))
        if (state.unjournaledRejects > 0 && journal) {
          await journal.record(runId, [
            { table: name, action: 'rejected', kind: 'target_rejected', message: `${state.unjournaledRejects} row(s) of the batch committed just before the interruption were rejected or dropped; their details were not journaled`, source: 'resume' },
          ])
        }
      }
    }

    if ((options.preflight ?? 'off') !== 'off') {
      emit?.({ type: 'phase', phase: 'preflight' })
      report.preflight = await runPreflight(source, target, prepared, { batchRows, batchBytes, maxExamples: options.maxExamples, signal: options.signal })
      const blocking = report.preflight.filter((i) => i.kind !== 'identifier_renamed')
      if (options.preflight === 'stop' && blocking.length > 0) {
        throw new PreflightError(`the preflight found ${blocking.length} problem(s): ${blocking.slice(0, 3).map((i) => i.message).join('; ')}`, blocking)
      }
    }

    const mode = checkpoints ? 'append' : (options.mode ?? 'create')
    if (mode !== 'create' && options.backup !== false) report.backup = await backupSqliteTarget(options.to, options.backup)

    emit?.({ type: 'phase', phase: 'prepare' })
    await target.prepareTarget(prepared.targetSchema, { mode, signal: options.signal })
    report.tables = prepared.order.order.map((n) => reports.get(n)!)
    const pairByName = new Map(prepared.pairs.map((p) => [p.target.name, p]))

    const missing = options.verify ? new Map(prepared.pairs.map((p) => [p.target.name, [] as string[]])) : undefined
    const ctx = makeTransformContext(source, target, prepared, reports, journal ? { journal, runId } : undefined, options)
    closeContext = ctx.close
    const transforms = options.transforms ?? []
    for (const t of transforms) await t.start?.(ctx)

    emit?.({ type: 'phase', phase: 'copy' })
    const fit: FitOptions = { stripNul: options.stripNul }
    const parallel = source.dialect.capabilities.concurrentSnapshotReads && target.dialect.capabilities.concurrentWrites === true
    const concurrency = parallel ? Math.max(1, options.concurrency ?? 1) : 1
    await runScheduled(prepared.order, concurrency, async (name) => {
      const pair = pairByName.get(name)!
      const resume = resumeAt.get(name)
      if (resume?.done) {
        reports.get(name)!.status = 'done'
        if (journal) await journal.checkpoint(runId, confirmedCheckpoint(reports.get(name)!, undefined, true))
        return
      }
      const transformers: { name: string; processor: NonNullable<Awaited<ReturnType<NonNullable<Transform['table']>>>> }[] = []
      for (const t of transforms) {
        let processor
        try {
          processor = await t.table?.(pair.target, ctx)
        } catch (error) {
          if (error instanceof DbferryError) throw error
          throw new TransformError(t.name, error instanceof Error ? error.message : String(error), { table: name, cause: error })
        }
        if (processor) transformers.push({ name: t.name, processor })
      }
      const total = pair.source.rowCountEstimate ?? (emit ? await source.count(pair.source).catch(() => undefined) : undefined)
      await copyTable(
        {
          source,
          target,
          journal: journal ? { journal, runId } : undefined,
          batchRows,
          batchBytes,
          maxExamples: options.maxExamples ?? 20,
          fit,
          signal: options.signal,
          onProgress: emit,
          transformers,
          checkpoint: journal ? async (cp) => journal!.checkpoint(runId, cp) : undefined,
          missingKeys: missing?.get(name),
          after: resume?.after,
          passThrough: options.passThrough,
        },
        pair,
        reports.get(name)!,
        total,
      )
    }, options.signal)
    for (const t of transforms) await t.end?.(ctx)

    emit?.({ type: 'phase', phase: 'finalize' })
    report.constraints = await target.finalize(prepared.targetSchema, { signal: options.signal })
    // views and functions: the user's SQL for them runs now; the ones without SQL are listed as not created
    if (options.objects || prepared.sourceSchema.objects.length > 0) report.objects = await runObjects(target, options.objects ?? {}, prepared.sourceSchema)
    for (const r of report.tables) checkAccounting(r)
    if (options.verify && missing) {
      emit?.({ type: 'phase', phase: 'verify' })
      const { verify } = await import('./verify/index.js')
      const v = await verify({
        a: options.from,
        b: options.to,
        tables: prepared.pairs.map((p) => p.source.name),
        renames: report.renames,
        expectDropped: Object.fromEntries(missing),
        signal: options.signal,
      })
      report.verify = {
        equal: v.equal,
        tables: v.tables.map((t) => ({ name: t.nameB ?? t.name, equal: t.equal, missing: t.missing.length, extra: t.extra.length, changed: t.changed.length })),
      }
    }
    report.ok = true
  } catch (error) {
    report.ok = false
    report.error = {
      code: error instanceof DbferryError ? error.code : 'error',
      message: redact(error instanceof Error ? error.message : String(error)),
    }
    if (error instanceof PreflightError || (report.tables.length === 0 && !(error instanceof AbortError) && tgt === undefined)) {
      // nothing could start: the caller gets the error itself
      await closeAll(src, tgt, journal, ownJournal)
      throw error
    }
  }
  report.totals = totalsOf(report.tables)
  report.clean =
    report.ok &&
    report.verify?.equal !== false &&
    report.totals.rejected === 0 &&
    report.totals.dropped === 0 &&
    report.constraints.length === 0
  report.ms = Date.now() - started
  await closeContext?.().catch(() => {})
  if (journal) await journal.finishRun(runId, { ok: report.ok, report: JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) })
  await closeAll(src, tgt, journal, ownJournal)
  emit?.({ type: 'phase', phase: 'done' })
  return report
}

/** Copies an interrupted run's checkpoints and source states, unchanged, to the run that resumes it. */
async function carryCheckpoints(journal: Journal, runId: number, checkpoints: readonly Checkpoint[]): Promise<void> {
  for (const { sourceState: _, ...cp } of checkpoints) await journal.checkpoint(runId, cp)
  const states = checkpoints.flatMap((c) => (c.sourceState ? [{ table: c.table, state: c.sourceState }] : []))
  if (states.length > 0) await journal.sourceStates?.(runId, states)
}

/**
 * Gives a source that infers its column types (CSV files) the tables that already exist on the target, so a
 * kept table's types come from there. File targets have no column types to give.
 */
export async function useExistingTargetTypes(source: Connection, target: Connection): Promise<void> {
  if (!source.useTargetTables || target.dialect.capabilities.bulkPath === 'file') return
  source.useTargetTables((await target.introspect()).tables)
}

/**
 * Backs up an existing SQLite target file before the run changes it; returns the backup's path, or undefined
 * when the target is not an existing SQLite file.
 */
async function backupSqliteTarget(spec: ConnectionSpec, dest: boolean | string | undefined): Promise<string | undefined> {
  if (typeof spec !== 'string' || schemeOf(spec) !== 'sqlite') return undefined
  const { sqlitePath } = await import('../dialects/sqlite/index.js')
  const file = sqlitePath(spec)
  if (file === undefined || file === ':memory:' || !existsSync(file)) return undefined
  const path = typeof dest === 'string' ? dest : `${file}.${new Date().toISOString().replace(/[:.]/g, '-')}.backup`
  const { backup } = await import('./backup.js')
  await backup(file, path)
  return path
}

/**
 * Exact row counts of the target's tables, read through the target's own reader on a second connection
 * (tables that do not exist count 0). Only resume needs it, and only then is it worth a full read.
 */
async function exactRowCounts(spec: ConnectionSpec, target: Connection, schema: DatabaseSchema): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  const reader = typeof spec === 'string' ? (await connect(spec)).connection : target
  try {
    const existing = new Set((await reader.introspect()).tables.map((t) => t.name))
    await reader.snapshot()
    for (const t of schema.tables) {
      if (!existing.has(t.name)) continue
      let n = 0
      for await (const b of reader.read(t, { batchRows: 50_000, batchBytes: 64 << 20 })) n += b.rows.length + b.rejected.length
      counts.set(t.name, n)
    }
  } finally {
    if (reader !== target) await reader.close()
  }
  return counts
}

async function closeAll(
  src: { connection: Connection; owned: boolean },
  tgt: { connection: Connection; owned: boolean } | undefined,
  journal: Journal | undefined,
  ownJournal: boolean,
): Promise<void> {
  if (src.owned) await src.connection.close().catch(() => {})
  if (tgt?.owned) await tgt.connection.close().catch(() => {})
  if (journal && ownJournal) await journal.close()
}

/**
 * Runs tables in plan order, up to `concurrency` at once, starting a table only when every parent it
 * depends on (deferred keys aside) has finished. A failed table stops new starts; running ones finish.
 */
async function runScheduled(order: LoadOrder, concurrency: number, run: (table: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const stageOf = new Map<string, number>()
  order.stages.forEach((s, i) => s.forEach((t) => stageOf.set(t, i)))
  const queue = [...order.order]
  const running = new Map<string, Promise<void>>()
  const done = new Set<string>()
  let failure: unknown
  const canStart = (t: string) => {
    const stage = stageOf.get(t)!
    // all tables of earlier stages must be done (parents live there)
    return order.order.every((o) => stageOf.get(o)! >= stage || done.has(o))
  }
  while ((queue.length > 0 || running.size > 0) && failure === undefined) {
    while (running.size < concurrency && queue.length > 0 && canStart(queue[0]!)) {
      if (signal?.aborted) {
        failure = new AbortError()
        break
      }
      const t = queue.shift()!
      running.set(
        t,
        run(t).then(
          () => {
            done.add(t)
            running.delete(t)
          },
          (e) => {
            failure ??= e
            running.delete(t)
          },
        ),
      )
    }
    if (running.size === 0) break
    await Promise.race(running.values())
  }
  await Promise.allSettled(running.values())
  if (failure !== undefined) throw failure
}

function makeTransformContext(
  source: Connection,
  target: Connection,
  prepared: PreparedRun,
  reports: Map<string, TableReport>,
  journal: { journal: Journal; runId: number } | undefined,
  options: FerryOptions,
): TransformContext & { close(): Promise<void> } {
  const pairByName = new Map(prepared.pairs.map((p) => [p.target.name, p]))
  const keySets: { close(): void | Promise<void> }[] = []
  return {
    async close() {
      for (const k of keySets.splice(0)) await k.close()
    },
    source,
    target,
    schema: prepared.targetSchema,
    sourceSchema: prepared.sourceSchema,
    order: prepared.order,
    state: new Map(),
    signal: options.signal,
    async *scan(table: string) {
      const pair = pairByName.get(table)
      if (!pair) throw new UsageError(`scan: no table ${table} in this run`)
      // rows in the target's layout, as batch processors see them; rows that do not fit are skipped here
      // (the copy itself rejects and journals them)
      const fit = makeRowFitter(pair.source, pair.target, target.dialect.capabilities, { stripNul: options.stripNul })
      const ignore = () => {}
      for await (const b of source.read(pair.source, { batchRows: options.batchRows ?? 10_000, batchBytes: options.batchBytes ?? 8 << 20, signal: options.signal })) {
        if (!fit) yield b.rows
        else {
          const rows: Row[] = []
          for (const r of b.rows) {
            const f = fit(r, ignore, ignore)
            if (f !== undefined) rows.push(f)
          }
          yield rows
        }
      }
    },
    async insert(table: string, rows: Row[], reason: string) {
      const pair = pairByName.get(table)
      const report = reports.get(table)
      if (!pair || !report) throw new UsageError(`insert: no table ${table} in this run`)
      const writer = await target.openWriter(pair.target)
      const res = await writer.write(rows)
      await writer.close()
      report.inserted += rows.length
      report.written += res.written
      const ledger = new TableLedger(report, pair.target, options.maxExamples ?? 20, journal !== undefined)
      for (const e of res.rejected) ledger.reject(e, 'target')
      if (journal) {
        ledger.entries.push(
          ...rows.map((r) => ({
            table,
            action: 'inserted' as const,
            kind: 'inserted' as const,
            key: keyString(rowKey(pair.target, r)),
            message: reason,
            row: rowToJson(pair.target, r),
            source: 'transform',
          })),
        )
        await ledger.flush(journal)
      }
      return res
    },
    async keySet(name: string) {
      const set = await createKeySet(name)
      keySets.push(set)
      return set
    },
  }
}

export { MemoryJournal }
export type { ConstraintProblem }
