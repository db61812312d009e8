/**
 * `dbferry/testing`: helpers for a project's own CI. Build a fixture database in any engine from a
 * declaration, run the migration, then assert with one call that the target holds the source's data.
 * Framework-free: failures are thrown `Error`s, so vitest, jest and node:test all report them.
 */
import type { ConnectionSpec } from '../connect.js'
import type { Rename } from '../schema/identifiers.js'
import { formatVerifyReport } from '../verify/format.js'
import type { Tolerances } from '../verify/normalize.js'
import { verify, type VerifyReport } from '../verify/verify.js'

export { buildFixture, defineFixture, type Fixture, type FixtureTable, type FixtureColumn } from './fixture.js'
export type { Tolerances, ColumnTolerance } from '../verify/normalize.js'
export type { VerifyReport, TableVerification } from '../verify/verify.js'

/** Options of {@link expectMigrated}. */
export interface ExpectMigratedOptions {
  /** The database migrated from: a URL or an open connection (left open). */
  from: ConnectionSpec
  /** The database migrated to. */
  to: ConnectionSpec
  /** Tables of `from` to compare. Default: all, and tables only `to` has are differences. */
  tables?: readonly string[]
  /** Per-column tolerances keyed `table.column`, `table.*`, `*.column` or `*`. Default exact. */
  tolerances?: Tolerances
  /** Renames the run recorded (`report.renames`). Default none. */
  renames?: readonly Rename[]
  /** Rows the run deliberately did not write, by table: key objects or their JSON. Default none. */
  expectDropped?: Readonly<Record<string, Iterable<string | Record<string, unknown>>>>
  /** Rows listed per table and kind in the message. Default 20. */
  limit?: number
}

/** Thrown by {@link expectMigrated}; `report` holds the full comparison. */
export class MigrationMismatchError extends Error {
  /** The whole comparison; the message lists only the differing tables, up to `limit` rows of each kind. */
  readonly report: VerifyReport
  constructor(report: VerifyReport, limit: number) {
    super(`the target does not match the source\n${formatVerifyReport(report, { limit, equalTables: false })}`)
    this.name = 'MigrationMismatchError'
    this.report = report
  }
}

/**
 * Asserts that `to` holds the same rows as `from` (via `verify`), and throws a {@link MigrationMismatchError}
 * with a readable diff — which tables, which keys are missing, extra or changed, and in which columns —
 * when it does not. Resolves to the report when they match.
 *
 * @example
 * await expectMigrated({ from: 'sqlite:./fixture.db', to: pg.url, tolerances: { '*': { floatEpsilon: 1e-9 } } })
 */
export async function expectMigrated(options: ExpectMigratedOptions): Promise<VerifyReport> {
  const limit = options.limit ?? 20
  const report = await verify({
    a: options.from,
    b: options.to,
    tables: options.tables,
    tolerances: options.tolerances,
    renames: options.renames,
    expectDropped: options.expectDropped,
    maxDiffs: limit,
  })
  if (!report.equal) throw new MigrationMismatchError(report, limit)
  return report
}
