/**
 * Splits a MySQL script (a mysqldump file) into statements, streaming over bytes: strings may hold any
 * bytes (mysqldump writes BLOBs raw inside string literals), so nothing is decoded here. Knows quotes with
 * backslash escapes, backtick identifiers, `--`/`#`/`/* … *\/` comments, `/*!40101 … *\/` version comments
 * (their content is SQL, kept in the statement) and `DELIMITER` lines (triggers and routines).
 */

/** One statement: its bytes (without the delimiter), where it starts in the file, and its line. */
export interface DumpStatement {
  text: Buffer
  /** Byte offset of the statement's first byte in the input. */
  offset: number
  /** Byte offset just after the statement's delimiter. */
  end: number
  /** 1-based line of the statement's first significant byte (after leading blank lines and comments). */
  line: number
  /** 1-based line at `offset` (where a reader of the range from `offset` starts counting). */
  offsetLine: number
}

const enum S {
  Normal,
  Single,
  Double,
  Tick,
  Line,
  Block,
}

const NL = 0x0a
const BS = 0x5c

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d
}

/** A streaming statement splitter: `push` chunks, then `end`. */
export class StatementSplitter {
  #buf: Buffer = Buffer.alloc(0)
  /** file offset of #buf[0] */
  #base: number
  #start = 0
  #scan = 0
  #state = S.Normal
  #line: number
  #startLine: number
  #offsetLine: number
  #delim: Buffer = Buffer.from(';')
  /** only whitespace and comments seen since the statement started */
  #blank = true

  /** `offset`/`line`: where the input starts in its file (when reading a range). */
  constructor(offset = 0, line = 1) {
    this.#base = offset
    this.#line = line
    this.#startLine = line
    this.#offsetLine = line
  }

  /** File offset where the statement in progress (not yet returned) starts. */
  get pendingOffset(): number {
    return this.#base + this.#start
  }

  push(chunk: Buffer): DumpStatement[] {
    if (this.#start > 0) {
      this.#base += this.#start
      this.#scan -= this.#start
      this.#buf = this.#buf.subarray(this.#start)
      this.#start = 0
    }
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk])
    return this.#run(false)
  }

  end(): DumpStatement[] {
    const out = this.#run(true)
    const rest = this.#buf.subarray(this.#start)
    if (!this.#blank && rest.length > 0) {
      out.push({ text: Buffer.from(rest), offset: this.#base + this.#start, end: this.#base + this.#buf.length, line: this.#startLine, offsetLine: this.#offsetLine })
    }
    this.#buf = Buffer.alloc(0)
    this.#start = 0
    this.#scan = 0
    return out
  }

  #emit(out: DumpStatement[], endIdx: number, next: number): void {
    if (!this.#blank) {
      out.push({
        text: Buffer.from(this.#buf.subarray(this.#start, endIdx)),
        offset: this.#base + this.#start,
        end: this.#base + next,
        line: this.#startLine,
        offsetLine: this.#offsetLine,
      })
    }
    this.#start = next
    this.#startLine = this.#line
    this.#offsetLine = this.#line
    this.#blank = true
  }

  #run(final: boolean): DumpStatement[] {
    const out: DumpStatement[] = []
    const b = this.#buf
    const n = b.length
    let i = this.#scan
    const d = this.#delim
    while (i < n) {
      const c = b[i]!
      switch (this.#state) {
        case S.Single:
        case S.Double: {
          const q = this.#state === S.Single ? 0x27 : 0x22
          // fast scan to the next quote or backslash
          while (i < n && b[i] !== q && b[i] !== BS) {
            if (b[i] === NL) this.#line++
            i++
          }
          if (i >= n) break
          if (b[i] === BS) {
            if (i + 1 >= n) {
              if (!final) {
                this.#scan = i
                return out
              }
              i++
              break
            }
            if (b[i + 1] === NL) this.#line++
            i += 2
            break
          }
          this.#state = S.Normal
          i++
          break
        }
        case S.Tick:
          if (c === NL) this.#line++
          if (c === 0x60) this.#state = S.Normal
          i++
          break
        case S.Line:
          if (c === NL) {
            this.#line++
            this.#state = S.Normal
          }
          i++
          break
        case S.Block:
          if (c === NL) this.#line++
          if (c === 0x2a) {
            if (i + 1 >= n && !final) {
              this.#scan = i
              return out
            }
            if (b[i + 1] === 0x2f) {
              this.#state = S.Normal
              i += 2
              break
            }
          }
          i++
          break
        case S.Normal: {
          if (c === NL) {
            this.#line++
            i++
            break
          }
          if (isSpace(c)) {
            i++
            break
          }
          // DELIMITER lines are client commands, not SQL: they change the delimiter
          if (this.#blank && (c === 0x44 || c === 0x64) && i + 10 > n && !final) {
            this.#scan = i
            return out
          }
          if (this.#blank && (c === 0x44 || c === 0x64) && this.#isDelimiterCommand(i)) {
            const nl = b.indexOf(NL, i)
            if (nl < 0 && !final) {
              this.#scan = i
              return out
            }
            const lineEnd = nl < 0 ? n : nl
            const word = b.subarray(i + 9, lineEnd).toString('latin1').trim()
            if (word.length > 0) this.#delim = Buffer.from(word, 'latin1')
            const next = nl < 0 ? n : nl + 1
            if (nl >= 0) this.#line++
            this.#start = next
            this.#startLine = this.#line
            this.#offsetLine = this.#line
            this.#blank = true
            i = next
            return [...out, ...this.#continue(final, i)]
          }
          if (c === d[0] && this.#matchDelim(i)) {
            if (i + d.length > n && !final) {
              this.#scan = i
              return out
            }
            this.#emit(out, i, i + d.length)
            i += d.length
            break
          }
          if (c === 0x27) {
            this.#state = S.Single
            this.#mark()
          } else if (c === 0x22) {
            this.#state = S.Double
            this.#mark()
          } else if (c === 0x60) {
            this.#state = S.Tick
            this.#mark()
          } else if (c === 0x23) this.#state = S.Line
          else if (c === 0x2d || c === 0x2f) {
            if (i + 2 >= n && !final) {
              this.#scan = i
              return out
            }
            const c1 = b[i + 1]
            if (c === 0x2d && c1 === 0x2d && (i + 2 >= n || isSpace(b[i + 2]!))) this.#state = S.Line
            else if (c === 0x2f && c1 === 0x2a && b[i + 2] !== 0x21) {
              this.#state = S.Block
              i += 2
              break
            } else this.#mark()
          } else this.#mark()
          i++
          break
        }
      }
    }
    this.#scan = i
    return out
  }

  #mark(): void {
    if (this.#blank) this.#startLine = this.#line
    this.#blank = false
  }

  #continue(final: boolean, i: number): DumpStatement[] {
    this.#scan = i
    return this.#run(final)
  }

  #isDelimiterCommand(i: number): boolean {
    const b = this.#buf
    if (i + 10 > b.length) return false
    return b.subarray(i, i + 9).toString('latin1').toUpperCase() === 'DELIMITER' && isSpace(b[i + 9]!)
  }

  #matchDelim(i: number): boolean {
    const d = this.#delim
    const b = this.#buf
    for (let k = 1; k < d.length; k++) {
      if (i + k >= b.length) return true // decided when more bytes arrive
      if (b[i + k] !== d[k]) return false
    }
    return true
  }
}
