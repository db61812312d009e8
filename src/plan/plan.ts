import { connect, dialectFor, type ConnectionSpec } from '../connect.js'
import type { BaseDialect, SnapshotInfo } from '../dialect.js'
import { SchemaError, redact } from '../errors.js'
import type { FerryOptions } from '../options.js'
import { prepareRun, useExistingTargetTypes, type PreparedRun } from './prepare-run.js'
import type { Rename } from '../schema/identifiers.js'
import type { DeferredForeignKey } from './order.js'
import { preflight, type PreflightIssue } from './preflight.js'
import type { FitOptions } from '../pipeline/fit-rows.js'

/** Options of {@link plan}: the source, the target (only its dialect is needed), and the run's schema options. */
export interface PlanOptions
  extends Pick<FerryOptions, 'tables' | 'foreignKeys' | 'types' | 'transforms' | 'identifiers' | 'batchRows' | 'batchBytes' | 'fallbackEncoding' | 'signal' | 'mode' | 'stripNul'> {
  /** The source: a URL or an open connection. */
  from: ConnectionSpec
  /**
   * The target: a URL (its dialect decides names, types and collations; it is connected to, read only, just
   * when `mode` keeps existing tables, whose column types a CSV source then takes) or an open connection.
   * Default: the source's own dialect.
   */
  to?: ConnectionSpec
  /** Scan the rows for the preflight. Default true; false gives order, stages and renames only. */
  scan?: boolean
  /** Examples kept per preflight issue. Default 10. */
  maxExamples?: number
  /**
   * Decimal places past a target column's scale, as the copy would treat them (`FitOptions.decimals`): listed
   * as `truncation` rejects, or as `decimal_rounded` fixes under `round`. Default `reject`.
   */
  decimals?: FitOptions['decimals']
}

/** What a copy would do, as data: order, stages, deferred keys, renames, and every problem found in the data. */
export interface PlanReport {
  /** The source as it displays (no password). */
  source: string
  /** The target as it displays (no password). Absent when `to` was not given (planned for the source's dialect). */
  target?: string
  /** Tables in load order, parents first. */
  order: string[]
  /** Numbered stages: tables of one stage depend only on earlier stages. */
  stages: string[][]
  /** Foreign keys that cannot be honoured by order (self-references, cycles). */
  deferred: DeferredForeignKey[]
  /** Names the target could not keep, with the names they would get. */
  renames: Rename[]
  /** Problems found by scanning the source, collation collisions first. */
  preflight: PreflightIssue[]
  /** Rows per table as scanned (0 when `scan: false`). */
  tables: { name: string; source?: string; rows: number }[]
  /** How consistent the source's read was. */
  snapshot?: SnapshotInfo
  /** Time the plan took, in milliseconds. */
  ms: number
}

/**
 * Plans a copy without writing anything: connects to the source, introspects it, applies the run's selection,
 * declared keys, transforms and identifier rules for the target dialect, orders the tables, and scans the rows
 * for the preflight.
 *
 * @example
 * const p = await plan({ from: 'sqlite:./storage.db', to: 'mysql://root@127.0.0.1/sahana' })
 * p.preflight.filter((i) => i.kind === 'collation_collision')
 */
export async function plan(options: PlanOptions): Promise<PlanReport> {
  const started = Date.now()
  const src = await connect(options.from, options.fallbackEncoding ? { fallbackEncoding: options.fallbackEncoding } : {})
  try {
    const source = src.connection
    let dialect: BaseDialect = source.dialect
    let target: string | undefined
    if (typeof options.to === 'string') {
      dialect = await dialectFor(options.to)
      target = redact(options.to)
    } else if (options.to) {
      // a connection, or a driver object the caller holds: ask the engine that takes it
      const opened = await connect(options.to)
      dialect = opened.connection.dialect
      target = opened.connection.description
      if (opened.owned) await opened.connection.close()
    }
    const report: PlanReport = { source: source.description, order: [], stages: [], deferred: [], renames: [], preflight: [], tables: [], ms: 0 }
    if (target !== undefined) report.target = target
    report.snapshot = await source.snapshot()
    if (options.to && (options.mode === 'truncate' || options.mode === 'append') && source.useTargetTables) {
      const tgt = await connect(options.to)
      try {
        await useExistingTargetTypes(source, tgt.connection)
      } finally {
        if (tgt.owned) await tgt.connection.close()
      }
    }
    const introspected = await source.introspect()
    let prepared: PreparedRun
    try {
      prepared = prepareRun(introspected, { dialect }, options)
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error
      // names that clash on the target stop the plan here: nothing else can be planned before they are fixed
      report.preflight.push({ kind: 'identifier_clash', table: error.table ?? '', count: 1, examples: [], message: error.message })
      report.ms = Date.now() - started
      return report
    }
    report.order = prepared.order.order
    report.stages = prepared.order.stages
    report.deferred = prepared.order.deferred
    report.renames = prepared.renames
    const rows = new Map<string, number>()
    if (options.scan !== false) {
      report.preflight = await preflight(source, { dialect }, prepared, {
        batchRows: options.batchRows,
        batchBytes: options.batchBytes,
        maxExamples: options.maxExamples,
        signal: options.signal,
        onTable: (t, n) => rows.set(t, n),
        fit: { stripNul: options.stripNul, decimals: options.decimals },
      })
    }
    const byName = new Map(prepared.pairs.map((p) => [p.target.name, p]))
    report.tables = prepared.order.order.map((name) => {
      const p = byName.get(name)!
      const t: PlanReport['tables'][number] = { name, rows: rows.get(name) ?? 0 }
      if (p.source.name !== name) t.source = p.source.name
      return t
    })
    report.ms = Date.now() - started
    return report
  } finally {
    if (src.owned) await src.connection.close()
  }
}

export type { PreflightIssue, PreflightKind, PreflightExample } from './preflight.js'
