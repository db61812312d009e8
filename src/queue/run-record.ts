import type { FitOptions } from '../pipeline/fit-rows.js'
import type { TablePair } from '../plan/table-pair.js'

/**
 * What a worker needs to copy any chunk of a queue run, as the coordinator planned it: the source and target
 * URLs (the queue database holds them, passwords included — keep it as private as the databases), every
 * table's source and target shape, the batch sizes, the fitting options, and the PostgreSQL source's exported
 * snapshot that every worker joins.
 */
export interface RunPlan {
  from: string
  to: string
  pairs: TablePair[]
  batchRows: number
  batchBytes: number
  maxExamples: number
  fit: FitOptions
  fallbackEncoding?: string
  /** The coordinator's exported snapshot. Absent: each worker reads a snapshot of its own. */
  snapshot?: string
  /** Seconds without a heartbeat after which a worker's chunk is handed to another. */
  staleSeconds: number
}

/** One chunk job's data (the pg-boss job's `data`). */
export interface ChunkJobData {
  run: string
  table: string
  index: number
}

/** A plan as JSON (bigint values, e.g. a column default or a key bound, survive as `{"$bigint": "…"}`). */
export function planToJson(plan: RunPlan): string {
  return JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v))
}

/** A plan read back from the queue database (jsonb, as the driver parsed it). */
export function planFromJson(json: unknown): RunPlan {
  const text = typeof json === 'string' ? json : JSON.stringify(json)
  return JSON.parse(text, (_k, v: unknown) => (v !== null && typeof v === 'object' && typeof (v as { $bigint?: unknown }).$bigint === 'string' ? BigInt((v as { $bigint: string }).$bigint) : v)) as RunPlan
}
