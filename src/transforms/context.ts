import type { Connection } from '../dialect.js'
import { UsageError } from '../errors.js'
import type { Journal } from '../journal/journal.js'
import { BATCH_DEFAULTS, type FerryOptions } from '../options.js'
import { TableLedger } from '../pipeline/copy-table.js'
import { makeRowFitter } from '../pipeline/fit-rows.js'
import type { PreparedRun } from '../plan/prepare-run.js'
import type { TableReport } from '../report.js'
import { keyString, rowKey, rowToJson } from '../schema/rows.js'
import type { Row } from '../schema/types.js'
import { createKeySet } from './key-set.js'
import type { TransformContext } from './transform.js'

/**
 * What transforms see of the run: its connections and schemas, a scan of any source table in the target's
 * layout, rows they insert (stub parents), and key sets that spill to disk. `close` releases the key sets.
 */
export function makeTransformContext(
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
      const fit = makeRowFitter(pair.source, pair.target, target.dialect.capabilities, { stripNul: options.stripNul, decimals: options.decimals })
      const ignore = () => {}
      for await (const b of source.read(pair.source, { batchRows: options.batchRows ?? BATCH_DEFAULTS.rows, batchBytes: options.batchBytes ?? BATCH_DEFAULTS.bytes, signal: options.signal })) {
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
