import type { ProgressEvent } from '../pipeline/progress.js'
import type { CliIo } from './command.js'

/** A terminal to draw on: `rows`/`columns` as a TTY `WriteStream` has them (absent: 24 × 80). */
type Terminal = NodeJS.WritableStream & { rows?: number; columns?: number }

/** Least time between two redraws of the terminal display, in milliseconds. */
const REDRAW_MS = 100

/**
 * Shows a run's progress on stderr: a live display on a terminal (`tty`, when stderr is one), plain log
 * lines otherwise (`lines`), nothing (`none`). Returns the `onProgress` callback and a `stop()` to call when the run ends.
 */
export function progressDisplay(io: CliIo, mode: 'tty' | 'lines' | 'none'): { onProgress?: (e: ProgressEvent) => void; stop(): void } {
  if (mode === 'none') return { stop() {} }
  // the display draws on stderr: redirected to a file, it gets log lines rather than cursor movements
  if (mode === 'lines' || (io.stderr as { isTTY?: boolean }).isTTY !== true) return logLines(io.stderr)
  return liveDisplay(io.stderr as Terminal)
}

/** One line per phase, table start and end, and a batch line at most every 2 s. */
function logLines(out: NodeJS.WritableStream): { onProgress(e: ProgressEvent): void; stop(): void } {
  let lastLog = 0
  return {
    onProgress(e) {
      if (e.type === 'phase') out.write(`[dbferry] ${e.phase}\n`)
      else if (e.type === 'queue') out.write(`[dbferry] ${queueLine(e)}\n`)
      else if (e.type === 'table-start') out.write(`[dbferry] ${e.table}: start${e.total !== undefined ? ` (~${e.total} rows)` : ''}${e.carried ? `, ${e.carried} read before the interruption` : ''}\n`)
      else if (e.type === 'batch' && Date.now() - lastLog > 2000) {
        lastLog = Date.now()
        out.write(`[dbferry] ${e.table}: ${e.read} read, ${e.written} written, ${e.rejected} rejected\n`)
      } else if (e.type === 'table-end') {
        const counts = `${e.read} read, ${e.written} written, ${e.rejected} rejected, ${e.dropped} dropped`
        out.write(`[dbferry] ${e.table}: ${e.status === 'failed' ? `stopped, not finished: ${counts}` : counts} in ${e.ms} ms\n`)
      }
    },
    stop() {},
  }
}

/** A table being copied, as the live display shows it. */
interface ActiveTable {
  read: number
  /** Rows the interrupted run read (a resume): part of `read`, not of this run's rate. */
  carried: number
  total?: number
  started: number
}

/**
 * The live display: one overall line (tables done, rows, this run's rate, ETA) and one line per table being
 * copied — never one per table of the run. The block is redrawn in place, each line cut to the terminal's
 * width (a wrapped line would shift the redraw) and the block to its height less one (a taller block scrolls,
 * and a redraw would then repeat lines): active tables past that are counted on one line.
 */
export function liveDisplay(out: Terminal, now: () => number = Date.now): { onProgress(e: ProgressEvent): void; stop(): void } {
  const active = new Map<string, ActiveTable>()
  const state = {
    phase: 'connect' as string,
    tables: undefined as number | undefined,
    done: 0,
    failed: 0,
    rows: undefined as number | undefined,
    finishedRead: 0,
    finishedOwn: 0,
    copyStarted: undefined as number | undefined,
    copyEnded: undefined as number | undefined,
  }
  let drawn = 0
  let lastDraw = 0
  let stopped = false

  const ownRows = () => state.finishedOwn + [...active.values()].reduce((n, t) => n + t.read - t.carried, 0)
  const allRows = () => state.finishedRead + [...active.values()].reduce((n, t) => n + t.read, 0)

  function overall(): string {
    if (state.copyStarted === undefined) return `dbferry: ${state.phase} …`
    // the rate is this run's rows over the copy's own time: rows an interrupted run read count in neither
    const elapsed = Math.max((state.copyEnded ?? now()) - state.copyStarted, 1)
    const rate = (ownRows() * 1000) / elapsed
    const read = allRows()
    const tables = `tables ${state.done}${state.tables !== undefined ? `/${state.tables}` : ''} done${state.failed ? `, ${state.failed} stopped` : ''}`
    const rows = `${count(read)}${state.rows !== undefined ? `/${count(Math.max(state.rows, read))}` : ''} rows`
    const eta = state.rows !== undefined && rate > 0 && state.rows > read ? ` | ETA ${duration(((state.rows - read) * 1000) / rate)}` : ''
    const after = state.copyEnded !== undefined && state.phase !== 'done' ? ` | ${state.phase} …` : ''
    return `${tables} | ${rows} | ${count(Math.round(rate))} rows/s${state.copyEnded === undefined ? eta : ''}${after}`
  }

  function tableLine(name: string, t: ActiveTable, width: number): string {
    const rate = ((t.read - t.carried) * 1000) / Math.max(now() - t.started, 1)
    const total = t.total !== undefined ? Math.max(t.total, t.read) : undefined
    const bar = total ? `${meter(t.read / total, 20)} ${String(Math.floor((t.read * 100) / total)).padStart(3)}% ` : ''
    return `  ${name.padEnd(Math.min(width, 30))} ${bar}${count(t.read)}${total !== undefined ? `/${count(total)}` : ''} rows | ${count(Math.round(rate))} rows/s`
  }

  function draw(force: boolean): void {
    if (stopped || (!force && now() - lastDraw < REDRAW_MS)) return
    lastDraw = now()
    const columns = Math.max(out.columns ?? 80, 20)
    const room = Math.max((out.rows ?? 24) - 1, 1)
    const names = [...active.keys()]
    const width = Math.max(...names.map((n) => n.length), 5)
    // the overall line, then as many tables as fit; when some do not, the last line counts them
    const shown = names.length <= room - 1 ? names : names.slice(0, Math.max(room - 2, 0))
    const lines = [overall(), ...shown.map((n) => tableLine(n, active.get(n)!, width))]
    if (shown.length < names.length && room > 1) lines.push(`  … and ${names.length - shown.length} more table(s) being copied`)
    const text = lines.slice(0, room).map((l) => cut(l, columns - 1))
    // back to the block's first line, clear to the end of the screen, draw the block again
    out.write(`${drawn > 0 ? `\r\x1b[${drawn}A` : ''}\x1b[J${text.join('\n')}\n`)
    drawn = text.length
  }

  return {
    onProgress(e) {
      if (e.type === 'phase') {
        if (state.phase === 'copy' && e.phase !== 'copy') state.copyEnded = now()
        state.phase = e.phase
        if (e.phase === 'copy') {
          state.copyStarted = now()
          state.tables = e.tables
          state.done = e.done ?? 0
          state.rows = e.rows
        }
        draw(true)
      } else if (e.type === 'queue') {
        // a line above the block, which is drawn again below it
        out.write(`${drawn > 0 ? `\r\x1b[${drawn}A` : ''}\x1b[J${queueLine(e)}\n`)
        drawn = 0
        draw(true)
      } else if (e.type === 'table-start') {
        active.set(e.table, { read: e.carried ?? 0, carried: e.carried ?? 0, total: e.total, started: now() })
        draw(true)
      } else if (e.type === 'batch') {
        const t = active.get(e.table)
        if (!t) return
        t.read = e.read
        if (e.total !== undefined) t.total = e.total
        draw(false)
      } else if (e.type === 'table-end') {
        const t = active.get(e.table)
        active.delete(e.table)
        state.finishedRead += e.read
        state.finishedOwn += e.read - (t?.carried ?? 0)
        // a table stopped before its end is not done: it is counted apart, never shown as complete
        if (e.status === 'failed') state.failed++
        else state.done++
        draw(true)
      }
    },
    stop() {
      if (stopped) return
      if (state.copyStarted !== undefined) state.copyEnded ??= now()
      active.clear()
      draw(true)
      stopped = true
    },
  }
}

/** `1234567` → `1,234,567`. */
function count(n: number): string {
  return n.toLocaleString('en-US')
}

/** A duration in milliseconds as `45s`, `3m05s` or `2h03m`. */
function duration(ms: number): string {
  const s = Math.ceil(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** A bar of `width` characters filled to `fraction` (0–1). */
function meter(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.floor(fraction * width)))
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`
}

/** The line cut to `width` characters (the terminal would wrap a longer one). */
function cut(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(width - 1, 0))}…`
}

/** What a queue run's coordinator says once it has enqueued the chunks: the run id workers serve. */
export function queueLine(e: Extract<ProgressEvent, { type: 'queue' }>): string {
  return `queue run ${e.run}: ${e.chunks} chunk job(s) in ${e.queue}; workers: dbferry worker --queue <url> (--run ${e.run})`
}
