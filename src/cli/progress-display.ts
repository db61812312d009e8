import cliProgress from 'cli-progress'
import type { ProgressEvent } from '../pipeline/progress.js'
import type { CliIo } from './command.js'

/**
 * Shows a run's progress: bars per table on a terminal (cli-progress), plain log lines otherwise.
 * Returns the `onProgress` callback and a `stop()` to call when the run ends.
 */
export function progressDisplay(io: CliIo, mode: 'tty' | 'lines' | 'none'): { onProgress?: (e: ProgressEvent) => void; stop(): void } {
  if (mode === 'none') return { stop() {} }
  if (mode === 'lines') {
    let lastLog = 0
    return {
      onProgress(e) {
        if (e.type === 'phase') io.stderr.write(`[dbferry] ${e.phase}\n`)
        else if (e.type === 'table-start') io.stderr.write(`[dbferry] ${e.table}: start${e.total !== undefined ? ` (~${e.total} rows)` : ''}\n`)
        else if (e.type === 'batch' && Date.now() - lastLog > 2000) {
          lastLog = Date.now()
          io.stderr.write(`[dbferry] ${e.table}: ${e.read} read, ${e.written} written, ${e.rejected} rejected\n`)
        } else if (e.type === 'table-end') {
          io.stderr.write(`[dbferry] ${e.table}: ${e.read} read, ${e.written} written, ${e.rejected} rejected, ${e.dropped} dropped in ${e.ms} ms\n`)
        }
      },
      stop() {},
    }
  }
  const multibar = new cliProgress.MultiBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      clearOnComplete: false,
      hideCursor: true,
      format: ' {table} |{bar}| {value}/{total} rows | {speed} rows/s | {duration_formatted} | ETA {eta_formatted} | rejected {rejected}',
    },
    cliProgress.Presets.shades_classic,
  )
  const bars = new Map<string, cliProgress.SingleBar>()
  const width = { n: 12 }
  return {
    onProgress(e) {
      if (e.type === 'table-start') {
        width.n = Math.max(width.n, e.table.length)
        bars.set(e.table, multibar.create(Math.max(e.total ?? 0, 1), 0, { table: e.table.padEnd(width.n), speed: 0, rejected: 0 }))
      } else if (e.type === 'batch') {
        const bar = bars.get(e.table)
        if (!bar) return
        if (e.read > bar.getTotal()) bar.setTotal(e.read)
        bar.update(e.read, { speed: e.elapsedMs > 0 ? Math.round((e.read * 1000) / e.elapsedMs) : 0, rejected: e.rejected + e.dropped })
      } else if (e.type === 'table-end') {
        const bar = bars.get(e.table)
        if (!bar) return
        bar.setTotal(Math.max(e.read, 1))
        bar.update(e.read, { rejected: e.rejected + e.dropped })
        bar.stop()
      }
    },
    stop() {
      multibar.stop()
    },
  }
}
