import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { progressDisplay } from '../../src/cli/progress-display.js'
import type { ProgressEvent } from '../../src/pipeline/progress.js'

/**
 * A terminal of `rows` × `columns` as a user sees it: text wraps at the right edge, a newline on the last row
 * scrolls the top row into the scrollback, and the cursor and erase sequences a display uses (CSI A/B/C/D/G/H,
 * J, K) act on the screen. Other sequences (colours, cursor visibility) are ignored.
 */
class FakeTerminal extends Writable {
  readonly isTTY = true
  readonly scrollback: string[] = []
  readonly screen: string[]
  #row = 0
  #col = 0
  constructor(readonly rows: number, readonly columns: number) {
    super({ decodeStrings: false })
    this.screen = Array.from({ length: rows }, () => '')
  }
  override _write(chunk: string | Buffer, _e: BufferEncoding, cb: () => void): void {
    this.#feed(String(chunk))
    cb()
  }
  /** Everything the user can scroll through: the scrollback, then the screen without its empty tail. */
  lines(): string[] {
    const screen = [...this.screen]
    while (screen.length > 0 && screen.at(-1) === '') screen.pop()
    return [...this.scrollback, ...screen]
  }
  #newline(): void {
    this.#col = 0
    if (this.#row < this.rows - 1) this.#row++
    else this.scrollback.push(this.screen.shift()!), this.screen.push('')
  }
  #feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!
      if (ch === '\x1b') {
        const m = /^\x1b\[(\??)([\d;]*)([A-Za-z])/.exec(text.slice(i))
        if (!m) continue
        i += m[0].length - 1
        if (m[1]) continue
        const n = Number(m[2]!.split(';')[0] || 0)
        const line = this.screen[this.#row]!
        switch (m[3]) {
          case 'A': this.#row = Math.max(0, this.#row - (n || 1)); break
          case 'B': this.#row = Math.min(this.rows - 1, this.#row + (n || 1)); break
          case 'C': this.#col += n || 1; break
          case 'D': this.#col = Math.max(0, this.#col - (n || 1)); break
          case 'G': this.#col = Math.max(0, (n || 1) - 1); break
          case 'H': this.#row = Math.max(0, (n || 1) - 1); this.#col = 0; break
          case 'K': this.screen[this.#row] = n === 2 ? '' : n === 1 ? ' '.repeat(this.#col) + line.slice(this.#col) : line.slice(0, this.#col); break
          case 'J':
            this.screen[this.#row] = line.slice(0, this.#col)
            for (let r = this.#row + 1; r < this.rows; r++) this.screen[r] = ''
            break
        }
      } else if (ch === '\n') this.#newline()
      else if (ch === '\r') this.#col = 0
      else {
        if (this.#col >= this.columns) this.#newline()
        const line = this.screen[this.#row]!.padEnd(this.#col)
        this.screen[this.#row] = line.slice(0, this.#col) + ch + line.slice(this.#col + 1)
        this.#col++
      }
    }
  }
}

function display(term: FakeTerminal) {
  const d = progressDisplay({ stdout: term, stderr: term, env: {}, cwd: '.' }, 'tty')
  return { emit: (e: ProgressEvent) => d.onProgress!(e), stop: () => d.stop() }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('the progress display on a terminal', () => {
  it('many tables on a small terminal: one overall line plus the tables being copied, never a line twice', () => {
    const term = new FakeTerminal(10, 100)
    const { emit, stop } = display(term)
    const tables = Array.from({ length: 120 }, (_, i) => `table_${String(i).padStart(3, '0')}`)
    emit({ type: 'phase', phase: 'copy', tables: tables.length, done: 0, rows: tables.length * 1000 })
    // four at a time, as --concurrency 4 copies them
    for (let i = 0; i < tables.length; i += 4) {
      const group = tables.slice(i, i + 4)
      for (const t of group) emit({ type: 'table-start', table: t, total: 1000 })
      for (let read = 250; read <= 1000; read += 250) {
        vi.advanceTimersByTime(150)
        for (const t of group) emit({ type: 'batch', table: t, read, written: read, rejected: 0, dropped: 0, total: 1000, elapsedMs: 150 })
      }
      for (const t of group) emit({ type: 'table-end', table: t, read: 1000, written: 1000, rejected: 0, dropped: 0, ms: 600, status: 'done' })
      // while a group runs, the screen shows the overall line and exactly the active tables
      if (i === 60) {
        const shown = term.lines()
        expect(shown).toHaveLength(1)
        expect(shown[0]).toMatch(/^tables 64\/120 done/)
      }
    }
    emit({ type: 'phase', phase: 'finalize' })
    stop()
    const all = term.lines()
    // nothing piled up in the scrollback: the block was redrawn in place
    expect(term.scrollback).toEqual([])
    expect(all).toHaveLength(1)
    expect(all[0]).toMatch(/^tables 120\/120 done \| 120,000\/120,000 rows \| [\d,]+ rows\/s/)
  })

  it('more active tables than rows: the block fits the terminal and counts the rest', () => {
    const term = new FakeTerminal(6, 80)
    const { emit } = display(term)
    emit({ type: 'phase', phase: 'copy', tables: 30, done: 0 })
    for (let i = 0; i < 30; i++) emit({ type: 'table-start', table: `t${i}`, total: 100 })
    for (let round = 1; round <= 5; round++) {
      vi.advanceTimersByTime(200)
      for (let i = 0; i < 30; i++) emit({ type: 'batch', table: `t${i}`, read: round * 10, written: round * 10, rejected: 0, dropped: 0, total: 100, elapsedMs: 200 * round })
    }
    const shown = term.lines()
    expect(term.scrollback).toEqual([])
    expect(shown.length).toBeLessThanOrEqual(5)
    expect(shown[0]).toMatch(/^tables 0\/30 done/)
    expect(shown.at(-1)).toMatch(/… and \d+ more table\(s\) being copied/)
    expect(new Set(shown).size).toBe(shown.length)
  })

  it('long table names never wrap (a wrapped line would break the redraw)', () => {
    const term = new FakeTerminal(12, 40)
    const { emit } = display(term)
    emit({ type: 'phase', phase: 'copy', tables: 3, done: 0, rows: 3_000_000 })
    for (const t of ['a_really_long_table_name_that_goes_on_and_on', 'b', 'c']) emit({ type: 'table-start', table: t, total: 1_000_000 })
    for (let round = 1; round <= 20; round++) {
      vi.advanceTimersByTime(200)
      emit({ type: 'batch', table: 'b', read: round * 1000, written: round * 1000, rejected: 0, dropped: 0, total: 1_000_000, elapsedMs: 200 * round })
    }
    expect(term.scrollback).toEqual([])
    expect(term.lines()).toHaveLength(4)
    for (const line of term.lines()) expect(line.length).toBeLessThan(40)
  })

  it('after a resume the rate counts only the rows this run read, and the ETA follows from it', () => {
    const term = new FakeTerminal(10, 120)
    const { emit } = display(term)
    emit({ type: 'phase', phase: 'copy', tables: 1, done: 0, rows: 2_000_000 })
    // the interrupted run read 1.9 million rows; this one reads 10 000 a second
    emit({ type: 'table-start', table: 'readings', total: 2_000_000, carried: 1_900_000 })
    for (let s = 1; s <= 5; s++) {
      vi.advanceTimersByTime(1000)
      emit({ type: 'batch', table: 'readings', read: 1_900_000 + s * 10_000, written: 1_900_000 + s * 10_000, rejected: 0, dropped: 0, total: 2_000_000, elapsedMs: s * 1000 })
    }
    const [overall, table] = term.lines()
    expect(overall).toContain('1,950,000/2,000,000 rows | 10,000 rows/s | ETA 5s')
    expect(table).toMatch(/readings .*97% 1,950,000\/2,000,000 rows \| 10,000 rows\/s/)
  })

  it('a table stopped by Ctrl-C is not shown as complete', () => {
    const term = new FakeTerminal(10, 120)
    const { emit, stop } = display(term)
    emit({ type: 'phase', phase: 'copy', tables: 1, done: 0, rows: 200_000 })
    emit({ type: 'table-start', table: 't', total: 200_000 })
    vi.advanceTimersByTime(1000)
    emit({ type: 'batch', table: 't', read: 30_000, written: 30_000, rejected: 0, dropped: 0, total: 200_000, elapsedMs: 1000 })
    emit({ type: 'table-end', table: 't', read: 30_000, written: 30_000, rejected: 0, dropped: 0, ms: 1000, status: 'failed' })
    stop()
    const text = term.lines().join('\n')
    expect(text).not.toContain('100%')
    expect(text).toMatch(/tables 0\/1 done, 1 stopped \| 30,000\/200,000 rows/)
  })
})

describe('the progress log lines (not a terminal)', () => {
  it('a table stopped before its end says so', () => {
    let out = ''
    const sink = new Writable({ write(c, _e, cb) { out += c; cb() } })
    const d = progressDisplay({ stdout: sink, stderr: sink, env: {}, cwd: '.' }, 'lines')
    d.onProgress!({ type: 'table-start', table: 't', total: 100, carried: 40 })
    d.onProgress!({ type: 'table-end', table: 't', read: 60, written: 60, rejected: 0, dropped: 0, ms: 5, status: 'failed' })
    expect(out).toBe('[dbferry] t: start (~100 rows), 40 read before the interruption\n[dbferry] t: stopped, not finished: 60 read, 60 written, 0 rejected, 0 dropped in 5 ms\n')
  })
})
