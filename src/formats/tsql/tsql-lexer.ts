/**
 * A tokenizer for T-SQL scripts that works on a growing text buffer: the parser asks for tokens, and when a
 * token might continue past what has been read so far the lexer throws {@link NeedMore}; the caller appends
 * the next chunk and re-parses the statement from its start. Memory is bounded by the longest statement.
 */

/** One token. `text` is the token's value: an identifier without its brackets, a string without quotes. */
export interface Token {
  type: 'word' | 'qid' | 'string' | 'number' | 'binary' | 'punct' | 'go' | 'eof'
  text: string
  /** Offset of the token's first character in the buffer. */
  start: number
  end: number
}

/** Thrown when the buffer ends inside a token (or before the next one) and more input may follow. */
export class NeedMore extends Error {
  constructor() {
    super('more input needed')
  }
}

/** Thrown for text that is not T-SQL at all (an unterminated string at the end of the file). */
export class LexError extends Error {}

const WORD_START = /[A-Za-z_@#\u00C0-\uFFFF]/
const DIGIT = /[0-9]/
// sticky patterns match at lastIndex without copying the buffer
const SPACE = /\s*/y
const WORD = /[A-Za-z0-9_@#$\u00C0-\uFFFF]+/y
const HEX = /[0-9A-Fa-f]*/y
const NUMBER = /\d*\.?\d*(?:[eE][+-]?\d+)?/y

/** The lexer over one buffer. `final` says the buffer holds the rest of the input. */
export class TsqlLexer {
  text = ''
  pos = 0
  final = false
  #peeked: Token | undefined

  /** Appends text read from the source. */
  append(chunk: string, final: boolean): void {
    this.text += chunk
    this.final = final
    this.#peeked = undefined
  }

  /** Drops the consumed text before `pos` (after a complete statement). Returns how many chars were dropped. */
  compact(): number {
    const n = this.pos
    if (n > 0) {
      this.text = this.text.slice(n)
      this.pos = 0
      this.#peeked = undefined
    }
    return n
  }

  /** Moves back to an earlier position (a statement's start) to re-parse after more input arrived. */
  reset(pos: number): void {
    this.pos = pos
    this.#peeked = undefined
  }

  peek(): Token {
    if (!this.#peeked) {
      const save = this.pos
      this.#peeked = this.#scan()
      this.pos = save
    }
    return this.#peeked
  }

  next(): Token {
    const t = this.peek()
    this.pos = t.end
    this.#peeked = undefined
    return t
  }

  #more(): never {
    throw new NeedMore()
  }

  #skipSpaceAndComments(): void {
    const s = this.text
    for (;;) {
      SPACE.lastIndex = this.pos
      SPACE.test(s)
      this.pos = SPACE.lastIndex
      if (this.pos >= s.length) return
      if (s[this.pos] === '-' ) {
        if (this.pos + 1 >= s.length) {
          if (!this.final) this.#more()
          return
        }
        if (s[this.pos + 1] !== '-') return
        const nl = s.indexOf('\n', this.pos)
        if (nl < 0) {
          if (!this.final) this.#more()
          this.pos = s.length
          return
        }
        this.pos = nl + 1
        continue
      }
      if (s[this.pos] === '/') {
        if (this.pos + 1 >= s.length) {
          if (!this.final) this.#more()
          return
        }
        if (s[this.pos + 1] !== '*') return
        // T-SQL block comments nest
        let depth = 0
        let i = this.pos
        while (i < s.length) {
          if (s[i] === '/' && s[i + 1] === '*') {
            depth++
            i += 2
          } else if (s[i] === '*' && s[i + 1] === '/') {
            depth--
            i += 2
            if (depth === 0) break
          } else i++
        }
        if (depth > 0) {
          if (!this.final) this.#more()
          throw new LexError('unterminated /* comment at the end of the script')
        }
        this.pos = i
        continue
      }
      return
    }
  }

  #scan(): Token {
    this.#skipSpaceAndComments()
    const s = this.text
    const start = this.pos
    if (start >= s.length) {
      if (!this.final) this.#more()
      return { type: 'eof', text: '', start, end: start }
    }
    const c = s[start]!
    let tok: Token
    if ((c === 'N' || c === 'n') && s[start + 1] === "'") {
      tok = this.#string(start + 1, start)
    } else if (c === "'") {
      tok = this.#string(start, start)
    } else if (c === '[') {
      let i = start + 1
      let out = ''
      for (;;) {
        const j = s.indexOf(']', i)
        if (j < 0 || j + 1 >= s.length) {
          if (!this.final) this.#more()
          if (j < 0) throw new LexError('unterminated [identifier] at the end of the script')
        }
        out += s.slice(i, j)
        if (s[j + 1] === ']') {
          out += ']'
          i = j + 2
          continue
        }
        tok = { type: 'qid', text: out, start, end: j + 1 }
        break
      }
    } else if (c === '"') {
      const j = s.indexOf('"', start + 1)
      if (j < 0) {
        if (!this.final) this.#more()
        throw new LexError('unterminated "identifier" at the end of the script')
      }
      tok = { type: 'qid', text: s.slice(start + 1, j), start, end: j + 1 }
    } else if (c === '0' && (s[start + 1] === 'x' || s[start + 1] === 'X')) {
      HEX.lastIndex = start + 2
      HEX.test(s)
      const i = HEX.lastIndex
      tok = { type: 'binary', text: s.slice(start + 2, i), start, end: i }
    } else if (DIGIT.test(c) || (c === '.' && DIGIT.test(s[start + 1] ?? '')) || (c === '$' && /[0-9.]/.test(s[start + 1] ?? ''))) {
      // a money literal ($12.50) is a number; the currency sign is not part of the value
      const from = c === '$' ? start + 1 : start
      NUMBER.lastIndex = from
      const m = NUMBER.exec(s)!
      tok = { type: 'number', text: m[0], start, end: from + m[0].length }
    } else if (WORD_START.test(c)) {
      WORD.lastIndex = start
      WORD.test(s)
      const i = WORD.lastIndex
      tok = { type: 'word', text: s.slice(start, i), start, end: i }
      if (tok.text.toUpperCase() === 'GO' && this.#atLineStart(start)) {
        const nl = s.indexOf('\n', i)
        if (nl < 0 && !this.final) this.#more()
        const rest = s.slice(i, nl < 0 ? s.length : nl)
        if (/^\s*(\d+)?\s*(--.*)?$/.test(rest)) tok = { type: 'go', text: 'GO', start, end: nl < 0 ? s.length : nl + 1 }
      }
    } else {
      tok = { type: 'punct', text: c, start, end: start + 1 }
    }
    if (tok.end >= s.length && !this.final) this.#more()
    return tok
  }

  #atLineStart(at: number): boolean {
    for (let i = at - 1; i >= 0; i--) {
      const ch = this.text[i]!
      if (ch === '\n') return true
      if (ch !== ' ' && ch !== '\t' && ch !== '\r') return false
    }
    // the start of the buffer is a statement boundary, where a GO can stand
    return true
  }

  #string(quote: number, start: number): Token {
    const s = this.text
    let i = quote + 1
    let out = ''
    for (;;) {
      const j = s.indexOf("'", i)
      if (j < 0 || j + 1 >= s.length) {
        if (!this.final) this.#more()
        if (j < 0) throw new LexError('unterminated string at the end of the script')
      }
      out += s.slice(i, j)
      if (s[j + 1] === "'") {
        out += "'"
        i = j + 2
        continue
      }
      return { type: 'string', text: out, start, end: j + 1 }
    }
  }
}
