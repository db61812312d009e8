import { setFlagsFromString } from 'node:v8'

/**
 * How far the CLI lets V8 grow its heap past the live data after a full garbage collection, in per cent:
 * 100 lets it double. V8's own default (0) picks a factor between 1.1 and 4 from its speed measurements,
 * which a copy — a high allocation rate of short-lived rows over a small live heap — drives towards 4.
 * Default 100.
 */
export const HEAP_GROWING_PERCENT = 100

/**
 * Sets V8's `--heap-growing-percent` for this process, unless the user chose one (in the node command line or
 * `NODE_OPTIONS`; `--heap-growing-percent=0` brings back V8's own factor). A copy's live heap is a few batches
 * of rows, yet V8 let the old space grow to three or four times that under the garbage of the rows: peak RSS
 * 198–208 MB for a 4M-row PostgreSQL → MariaDB copy, 149 MB with a factor of 2 for 3 % more CPU (bench/README.md,
 * "Peak RSS and V8's heap growth"). Only the CLI calls it: a library does not set flags of its host's process.
 * Returns whether it set the flag.
 */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? '', set: (flags: string) => void = setFlagsFromString): boolean {
  const chosen = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))
  if (chosen) return false
  set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}
