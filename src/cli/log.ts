import type { ProgressEvent } from '../pipeline/progress.js'
import type { CliIo } from './command.js'
import type { LogLevel } from './options-table.js'
import { progressDisplay, queueLine } from './progress-display.js'

/** A command's logger on stderr at a {@link LogLevel}: `debug` lines carry the time since the command started. */
export interface CliLog {
  level: LogLevel
  /** Writes `[dbferry +1.234s] line` when the level is `debug`. */
  debug(line: string): void
}

/** A logger for `io.stderr` at `level`. */
export function cliLog(io: Pick<CliIo, 'stderr'>, level: LogLevel): CliLog {
  const started = Date.now()
  return {
    level,
    debug(line) {
      if (level === 'debug') io.stderr.write(`[dbferry +${((Date.now() - started) / 1000).toFixed(3)}s] ${line}\n`)
    },
  }
}

/**
 * A run's progress on stderr at the log's level: nothing at `error`; at `info` bars on a terminal, lines
 * otherwise (with `--json`, whose reader wants stdout alone, only a queue run's id); at `debug` every event as a timestamped
 * line, whatever the terminal.
 */
export function runProgress(io: CliIo, log: CliLog, json: boolean): { onProgress?: (e: ProgressEvent) => void; stop(): void } {
  if (log.level === 'debug') return { onProgress: (e) => log.debug(describeEvent(e)), stop() {} }
  // a queue run's id is what its workers need: said at `info` even with --json (on stderr, stdout stays JSON)
  if (json && log.level !== 'error') return { onProgress: (e) => e.type === 'queue' && io.stderr.write(`[dbferry] ${describeEvent(e)}\n`), stop() {} }
  return progressDisplay(io, log.level === 'error' || json ? 'none' : io.stdout.isTTY ? 'tty' : 'lines')
}

/** One progress event as a log line. */
function describeEvent(e: ProgressEvent): string {
  switch (e.type) {
    case 'phase':
      return `phase ${e.phase}`
    case 'table-start':
      return `${e.table}: start${e.total !== undefined ? ` (~${e.total} rows)` : ''}`
    case 'batch':
      return `${e.table}: batch: ${e.read} read, ${e.written} written, ${e.rejected} rejected, ${e.dropped} dropped${e.total !== undefined ? ` of ~${e.total}` : ''} (${e.elapsedMs} ms)`
    case 'table-end':
      return `${e.table}: end: ${e.read} read, ${e.written} written, ${e.rejected} rejected, ${e.dropped} dropped in ${e.ms} ms`
    case 'queue':
      return queueLine(e)
    case 'table-finalized':
      return `${e.table}: indexes, foreign keys and identity made while other tables load${e.ok ? '' : ' (failed: made again when the copy is finished)'} in ${e.ms} ms`
  }
  return JSON.stringify(e)
}
