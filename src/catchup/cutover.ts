import type { ConstraintProblem } from '../dialect.js'
import { verify, type VerifyOptions, type VerifyReport } from '../verify/index.js'
import { removeFrom, type RemoveCaptureReport } from './capture.js'
import { catchUpWith, closeCatchUp, openCatchUp, type CatchUpOptions, type CatchUpReport } from './catch-up.js'

/** Options of {@link cutover}: those of {@link catchUp}, and how to compare. */
export interface CutoverOptions extends CatchUpOptions {
  /** Passed to `verify` (tolerances, hashing, maxDiffs). Default: exact. */
  verify?: Pick<VerifyOptions, 'tolerances' | 'hashing' | 'maxDiffs' | 'batchRows'>
  /**
   * Remove the triggers and the change table even when verify finds a difference. Default false: they stay,
   * so that after fixing the cause a catch-up (or another cutover) still has every change.
   */
  force?: boolean
}

/** What {@link cutover} did. */
export interface CutoverReport {
  /** The final catch-up. */
  catchUp: CatchUpReport
  /** The comparison of source and target after it (the copy's tables, the change table left out). */
  verify: VerifyReport
  /** Target tables with an identity (or serial, auto-increment) column, moved past the largest key loaded. */
  identity: string[]
  /** Identity positions that could not be moved (the statement and the target's reason). */
  identityProblems: ConstraintProblem[]
  /** The capture removed from the source; absent when it was kept (see `captureKept`). */
  removed?: RemoveCaptureReport
  /** Why the capture was kept: verify found differences (and `force` was not set). */
  captureKept?: string
  /** True when verify found source and target equal and nothing was rejected. */
  ok: boolean
}

/**
 * The last step of a short cut-over, once writes to the source have stopped: a final catch-up, then `verify`
 * of every copied table, then the target's identity columns and sequences moved past the largest keys loaded
 * (the target's own finish step, as the copy uses it), then the capture triggers and the
 * change table removed from the source. `ok` is false when verify finds a difference or a row was rejected;
 * then the capture stays in place (unless `force`), so nothing recorded is lost.
 *
 * @example
 * const r = await cutover({ from: 'sqlite:./app.db', to: 'postgres://postgres@127.0.0.1/app' })
 * if (!r.ok) process.exitCode = 1
 */
export async function cutover(options: CutoverOptions): Promise<CutoverReport> {
  const ctx = await openCatchUp(options)
  try {
    const caught = await catchUpWith(ctx, options)
    const compared = await verify({
      ...options.verify,
      a: ctx.source.connection,
      b: ctx.target,
      tables: ctx.prepared.pairs.map((p) => p.source.name),
      renames: ctx.prepared.renames,
      signal: options.signal,
    })
    // the target's own finish step moves identities and sequences past the largest keys (PostgreSQL setval, SQL
    // Server RESEED; MySQL and SQLite move by themselves), given the tables without indexes and keys, which exist
    const tables = ctx.prepared.pairs.map((p) => ({ ...p.target, indexes: [], foreignKeys: [], uniques: [] }))
    const problems = await ctx.target.finalize({ ...ctx.prepared.targetSchema, objects: [], tables }, { signal: options.signal })
    const identityProblems = problems.filter((p) => p.kind === 'sequence')
    const identity = tables.filter((t) => t.columns.some((c) => c.autoIncrement)).map((t) => t.name)
    const ok = compared.equal && caught.clean && identityProblems.length === 0
    const report: CutoverReport = { catchUp: caught, verify: compared, identity, identityProblems, ok }
    if (ok || options.force) report.removed = await removeFrom(ctx.source)
    else report.captureKept = `the capture stays on ${ctx.source.connection.description}: ${!compared.equal ? 'verify found differences' : !caught.clean ? 'rows were rejected' : 'identity positions could not be moved'} (fix them and run cutover again, or pass force)`
    return report
  } finally {
    await closeCatchUp(ctx)
  }
}
