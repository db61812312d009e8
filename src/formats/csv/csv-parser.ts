/**
 * A streaming CSV record parser over decoded text. It keeps what csv libraries usually throw away and a
 * migration needs: whether a field was quoted (so `""` and the NULL marker stay distinct), the line each
 * record starts on, and recovery after a malformed record (the parser resumes on the next line, so one
 * unbalanced quote costs one record, not the rest of the file).
 */

/** Options of {@link CsvRecordParser}. */
export interface CsvParseOptions {
  /** Default `,`. */
  delimiter?: string
  /** Default `"`; empty disables quoting. */
  quote?: string
  /** Default: the quote (doubled quotes). */
  escape?: string
  /** The unquoted field read as NULL. Default `''`; undefined disables NULL detection. */
  null?: string | undefined
  /** Longest record in characters before an open quote is declared unbalanced. Default 16 Mi. */
  maxRecordChars?: number
}

/** One parsed item: a record, a blank line, or a malformed record with its first line's text. */
export type CsvItem =
  | { kind: 'record'; fields: (string | null)[]; line: number }
  | { kind: 'blank'; line: number }
  | { kind: 'malformed'; line: number; reason: string; raw: string }

type Attempt =
  | { kind: 'record'; fields: (string | null)[]; end: number; lines: number }
  | { kind: 'blank'; end: number }
  | { kind: 'incomplete' }
  | { kind: 'malformed'; reason: string }

const LF = 10
const CR = 13

function countLf(s: string, from: number, to: number): number {
  let n = 0
  let i = s.indexOf('\n', from)
  while (i >= 0 && i < to) {
    n++
    i = s.indexOf('\n', i + 1)
  }
  return n
}

/** Parses CSV text pushed in chunks; call {@link CsvRecordParser.push} per chunk and `end()` at the end. */
export class CsvRecordParser {
  #buf = ''
  #line = 1
  readonly #delim: number
  readonly #quote: number
  readonly #quoteChar: string
  readonly #escChar: string
  readonly #null: string | undefined
  readonly #max: number
  readonly #delimChar: string
  /** the text has line breaks that are a lone CR (old Mac files): scan character by character */
  #loneCr = false
  #checkedCr = false

  constructor(options: CsvParseOptions = {}) {
    const d = options.delimiter ?? ','
    const q = options.quote ?? '"'
    this.#delim = d.charCodeAt(0)
    this.#delimChar = d
    this.#quote = q === '' ? -1 : q.charCodeAt(0)
    this.#quoteChar = q
    this.#escChar = options.escape ?? q
    this.#null = 'null' in options ? options.null : ''
    this.#max = options.maxRecordChars ?? 16 * 1024 * 1024
  }

  /** The line number the next record starts on (1-based). */
  get line(): number {
    return this.#line
  }

  /** Adds text and returns the complete items it finished. */
  push(chunk: string): CsvItem[] {
    if (!this.#checkedCr && chunk.length > 0) {
      this.#checkedCr = true
      this.#loneCr = /\r(?!\n)/.test(chunk.slice(0, 1 << 16).replace(/\r$/, ''))
    }
    this.#buf = this.#buf.length === 0 ? chunk : this.#buf + chunk
    return this.#run(false)
  }

  /** Ends the input and returns the remaining items. */
  end(): CsvItem[] {
    return this.#run(true)
  }

  #run(final: boolean): CsvItem[] {
    const out: CsvItem[] = []
    const s = this.#buf
    let pos = 0
    while (pos < s.length) {
      const a = this.#record(s, pos, final)
      if (a.kind === 'incomplete') {
        if (s.length - pos <= this.#max) break
        // an open quote that never closes: give up on this record at its first line
        this.#skipMalformed(s, pos, 'an unbalanced quote (or a record longer than maxRecordChars)', out, (p) => (pos = p))
        continue
      }
      if (a.kind === 'malformed') {
        this.#skipMalformed(s, pos, a.reason, out, (p) => (pos = p))
        continue
      }
      if (a.kind === 'blank') {
        out.push({ kind: 'blank', line: this.#line })
        this.#line++
        pos = a.end
        continue
      }
      out.push({ kind: 'record', fields: a.fields, line: this.#line })
      this.#line += a.lines
      pos = a.end
    }
    this.#buf = pos >= s.length ? '' : s.slice(pos)
    return out
  }

  #skipMalformed(s: string, pos: number, reason: string, out: CsvItem[], setPos: (p: number) => void): void {
    let nl = s.indexOf('\n', pos)
    const cr = s.indexOf('\r', pos)
    if (cr >= 0 && (nl < 0 || cr < nl)) nl = s.charCodeAt(cr + 1) === LF ? cr + 1 : cr
    const end = nl < 0 ? s.length : nl + 1
    const raw = s.slice(pos, nl < 0 ? s.length : end).replace(/\r?\n$|\r$/, '')
    out.push({ kind: 'malformed', line: this.#line, reason, raw: raw.length > 500 ? raw.slice(0, 500) + '…' : raw })
    this.#line++
    setPos(end)
  }

  #record(s: string, start: number, final: boolean): Attempt {
    const len = s.length
    const first = s.charCodeAt(start)
    if (first === LF) return { kind: 'blank', end: start + 1 }
    if (first === CR) {
      if (start + 1 >= len && !final) return { kind: 'incomplete' }
      return { kind: 'blank', end: s.charCodeAt(start + 1) === LF ? start + 2 : start + 1 }
    }
    const fields: (string | null)[] = []
    let lines = 0
    let i = start
    // next delimiter and next LF at or after i: indexOf is several times faster than a charCodeAt loop
    let nextDelim = -1
    let nextLf = -1
    for (;;) {
      let value: string | null
      if (i < len && s.charCodeAt(i) === this.#quote) {
        // quoted field
        let j = i + 1
        let v = ''
        const q = this.#quoteChar
        const e = this.#escChar
        for (;;) {
          const kq = s.indexOf(q, j)
          const ke = e !== '' && e !== q ? s.indexOf(e, j) : -1
          if (ke >= 0 && (kq < 0 || ke < kq)) {
            if (ke + 1 >= len) return final ? { kind: 'malformed', reason: 'an unbalanced quote' } : { kind: 'incomplete' }
            const next = s[ke + 1]!
            if (next === q || next === e) {
              v += s.slice(j, ke) + next
              j = ke + 2
            } else {
              v += s.slice(j, ke + 1)
              j = ke + 1
            }
            continue
          }
          if (kq < 0) return final ? { kind: 'malformed', reason: 'an unbalanced quote' } : { kind: 'incomplete' }
          if (e === q && kq + 1 >= len && !final) return { kind: 'incomplete' }
          if (e === q && s.charCodeAt(kq + 1) === this.#quote) {
            v += s.slice(j, kq) + q
            j = kq + 2
            continue
          }
          v += s.slice(j, kq)
          lines += countLf(s, i, kq)
          i = kq + 1
          break
        }
        value = v
        if (i < len) {
          const c = s.charCodeAt(i)
          if (c !== this.#delim && c !== LF && c !== CR) return { kind: 'malformed', reason: `a character after a closing quote` }
        }
      } else {
        let j: number
        if (this.#loneCr) {
          j = i
          const d = this.#delim
          while (j < len) {
            const c = s.charCodeAt(j)
            if (c === d || c === LF || c === CR) break
            j++
          }
        } else {
          if (nextDelim < i) {
            nextDelim = s.indexOf(this.#delimChar, i)
            if (nextDelim < 0) nextDelim = len
          }
          if (nextLf < i) {
            nextLf = s.indexOf('\n', i)
            if (nextLf < 0) nextLf = len
          }
          j = nextDelim < nextLf ? nextDelim : nextLf
          // the CR of a CRLF ends the field too
          if (j === nextLf && j > i && s.charCodeAt(j - 1) === CR) j--
          else if (j === len && j > i && s.charCodeAt(j - 1) === CR) j--
        }
        if (j >= len && !final) return { kind: 'incomplete' }
        const raw = s.slice(i, j)
        value = raw === this.#null ? null : raw
        i = j
      }
      fields.push(value)
      if (i >= len) {
        if (!final) return { kind: 'incomplete' }
        return { kind: 'record', fields, end: len, lines }
      }
      const c = s.charCodeAt(i)
      if (c === this.#delim) {
        i++
        continue
      }
      if (c === LF) return { kind: 'record', fields, end: i + 1, lines: lines + 1 }
      // CR: a CRLF pair, or a lone CR ending the line
      if (i + 1 >= len && !final) return { kind: 'incomplete' }
      return { kind: 'record', fields, end: s.charCodeAt(i + 1) === LF ? i + 2 : i + 1, lines: lines + 1 }
    }
  }
}
