import { NeedMore, TsqlLexer, type Token } from './tsql-lexer.js'

/**
 * Statement parser for the T-SQL that "Generate Scripts" tools write: CREATE TABLE, INSERT … VALUES (one row
 * or many), SET IDENTITY_INSERT and session options, ALTER TABLE … ADD CONSTRAINT (primary key, unique,
 * foreign key, default, check), CREATE INDEX, USE, GO. Views, functions and procedures are captured as
 * objects. Anything else is returned as `skipped` so the source can list it.
 */

/** A name as written: `[dbo].[X]` → `{ schema: 'dbo', name: 'X' }`. */
export interface QualifiedName {
  schema?: string
  name: string
}

/** A raw value from a script: text (numbers stay text, to keep every digit), bytes, NULL, or an expression dbferry does not evaluate. */
export type RawValue = string | Uint8Array | null | { unsupported: string }

/** A column of a CREATE TABLE. */
export interface ColumnDef {
  name: string
  /** The type as written, lowercased: `nvarchar`, `decimal`, … */
  typeName: string
  /** Arguments: numbers, or -1 for `max`. */
  args: number[]
  nullable: boolean
  identity: boolean
  /** `AS (expr)` computed column. */
  computed?: string
  default?: string
  collation?: string
  primaryKey?: boolean
  unique?: boolean
}

/** A key or a foreign key from a CREATE TABLE or ALTER TABLE. */
export type ConstraintDef =
  | { kind: 'primary' | 'unique'; name?: string; columns: string[] }
  | { kind: 'foreign'; name?: string; columns: string[]; ref: QualifiedName; refColumns: string[]; onDelete?: string; onUpdate?: string }
  | { kind: 'default'; name?: string; column: string; expression: string }
  | { kind: 'check'; name?: string }

/** One parsed statement. `line` is set by the source. */
export type Statement =
  | { kind: 'go' }
  | { kind: 'eof' }
  | { kind: 'create_table'; table: QualifiedName; columns: ColumnDef[]; constraints: ConstraintDef[] }
  | { kind: 'insert'; table: QualifiedName; columns?: string[]; rows: RawValue[][] }
  | { kind: 'alter_add'; table: QualifiedName; constraints: ConstraintDef[] }
  | { kind: 'create_index'; table: QualifiedName; name: string; unique: boolean; columns: string[] }
  | { kind: 'object'; type: 'view' | 'function' | 'procedure' | 'trigger'; name: QualifiedName; definition: string }
  /** Understood and without effect on the data (USE, SET ANSI_NULLS, CHECK CONSTRAINT, transactions…). */
  | { kind: 'noop'; text: string }
  | { kind: 'skipped'; text: string; reason: string }

const STATEMENT_WORDS = new Set([
  'INSERT', 'CREATE', 'ALTER', 'SET', 'USE', 'DROP', 'PRINT', 'IF', 'BEGIN', 'END', 'COMMIT', 'ROLLBACK',
  'DECLARE', 'EXEC', 'EXECUTE', 'UPDATE', 'DELETE', 'GRANT', 'DENY', 'REVOKE', 'TRUNCATE', 'SELECT', 'WHILE',
])

const SESSION_OPTIONS = new Set([
  'ANSI_NULLS', 'QUOTED_IDENTIFIER', 'NOCOUNT', 'ANSI_PADDING', 'ANSI_WARNINGS', 'ARITHABORT', 'XACT_ABORT',
  'CONCAT_NULL_YIELDS_NULL', 'NUMERIC_ROUNDABORT', 'ANSI_NULL_DFLT_ON', 'ANSI_DEFAULTS', 'DATEFORMAT',
  'DATEFIRST', 'LANGUAGE', 'IMPLICIT_TRANSACTIONS', 'TRANSACTION', 'LOCK_TIMEOUT', 'DEADLOCK_PRIORITY',
])

class Syntax extends Error {}

/** Parses statements from a {@link TsqlLexer}. */
export class TsqlParser {
  constructor(readonly lex: TsqlLexer) {}

  #word(t: Token, w: string): boolean {
    return t.type === 'word' && t.text.toUpperCase() === w
  }

  #isWord(w: string): boolean {
    return this.#word(this.lex.peek(), w)
  }

  #accept(w: string): boolean {
    if (this.#isWord(w)) {
      this.lex.next()
      return true
    }
    return false
  }

  #expectWord(w: string): void {
    const t = this.lex.next()
    if (!this.#word(t, w)) throw new Syntax(`expected ${w}, found ${t.text || t.type}`)
  }

  #punct(p: string): boolean {
    const t = this.lex.peek()
    if (t.type === 'punct' && t.text === p) {
      this.lex.next()
      return true
    }
    return false
  }

  #expectPunct(p: string): void {
    const t = this.lex.next()
    if (t.type !== 'punct' || t.text !== p) throw new Syntax(`expected ${p}, found ${t.text || t.type}`)
  }

  #ident(): string {
    const t = this.lex.next()
    if (t.type === 'qid' || t.type === 'word') return t.text
    throw new Syntax(`expected a name, found ${t.text || t.type}`)
  }

  #name(): QualifiedName {
    const parts = [this.#ident()]
    while (this.#punct('.')) parts.push(this.#ident())
    const name = parts[parts.length - 1]!
    const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined
    return schema === undefined ? { name } : { schema, name }
  }

  #identList(): string[] {
    this.#expectPunct('(')
    const out: string[] = []
    for (;;) {
      out.push(this.#ident())
      this.#accept('ASC') || this.#accept('DESC')
      if (this.#punct(',')) continue
      this.#expectPunct(')')
      return out
    }
  }

  /** Skips a balanced parenthesised group (the opening paren not yet consumed); returns its inner text. */
  #group(): string {
    const open = this.lex.next()
    if (open.type !== 'punct' || open.text !== '(') throw new Syntax('expected (')
    let depth = 1
    for (;;) {
      const t = this.lex.next()
      if (t.type === 'eof') throw new Syntax('unbalanced parentheses')
      if (t.type === 'punct' && t.text === '(') depth++
      else if (t.type === 'punct' && t.text === ')' && --depth === 0) return this.lex.text.slice(open.end, t.start)
    }
  }

  /** Skips `WITH (…)`, `ON [PRIMARY]`, `TEXTIMAGE_ON [PRIMARY]` storage clauses. */
  #storageClauses(): void {
    for (;;) {
      if (this.#isWord('WITH')) {
        this.lex.next()
        if (this.lex.peek().type === 'punct' && this.lex.peek().text === '(') this.#group()
        continue
      }
      if (this.#isWord('ON') || this.#isWord('TEXTIMAGE_ON') || this.#isWord('FILESTREAM_ON')) {
        const save = this.lex.pos
        this.lex.next()
        const t = this.lex.peek()
        // ON DELETE / ON UPDATE belong to the foreign key, not to storage
        if (t.type === 'word' && /^(DELETE|UPDATE)$/i.test(t.text)) {
          this.lex.reset(save)
          return
        }
        this.lex.next()
        if (this.lex.peek().type === 'punct' && this.lex.peek().text === '(') this.#group()
        continue
      }
      return
    }
  }

  /** Buffer offset of the first token of the statement last returned by {@link parse}. */
  statementStart = 0

  /** The next statement. Throws {@link NeedMore} when the buffer ends inside it. */
  parse(): Statement {
    const first = this.lex.peek()
    this.statementStart = first.start
    if (first.type === 'eof') return { kind: 'eof' }
    if (first.type === 'go') {
      this.lex.next()
      return { kind: 'go' }
    }
    if (first.type === 'punct' && first.text === ';') {
      this.lex.next()
      return { kind: 'noop', text: ';' }
    }
    const start = this.lex.pos
    try {
      const s = this.#statement()
      this.#punct(';')
      return s
    } catch (e) {
      if (e instanceof NeedMore || !(e instanceof Syntax)) throw e
      this.lex.reset(start)
      return this.#skip(e.message)
    }
  }

  #statement(): Statement {
    const t = this.lex.peek()
    const w = t.type === 'word' ? t.text.toUpperCase() : ''
    switch (w) {
      case 'USE':
        this.lex.next()
        this.#ident()
        return { kind: 'noop', text: 'USE' }
      case 'SET':
        return this.#set()
      case 'CREATE':
        return this.#create()
      case 'INSERT':
        return this.#insert()
      case 'ALTER':
        return this.#alter()
      case 'BEGIN':
      case 'COMMIT': {
        this.lex.next()
        if (this.#accept('TRANSACTION') || this.#accept('TRAN')) {
          if (this.lex.peek().type === 'word' && !STATEMENT_WORDS.has(this.lex.peek().text.toUpperCase())) this.lex.next()
          return { kind: 'noop', text: `${w} TRANSACTION` }
        }
        if (w === 'COMMIT') return { kind: 'noop', text: 'COMMIT' }
        throw new Syntax('BEGIN block')
      }
      default:
        throw new Syntax(`${t.text || t.type} statement`)
    }
  }

  #set(): Statement {
    this.lex.next()
    const opt = this.lex.next()
    const o = opt.text.toUpperCase()
    if (o === 'IDENTITY_INSERT') {
      this.#name()
      const v = this.lex.next()
      if (!/^(ON|OFF)$/i.test(v.text)) throw new Syntax('IDENTITY_INSERT needs ON or OFF')
      return { kind: 'noop', text: `SET IDENTITY_INSERT ${v.text.toUpperCase()}` }
    }
    if (!SESSION_OPTIONS.has(o)) throw new Syntax(`SET ${opt.text}`)
    if (o === 'TRANSACTION') {
      // SET TRANSACTION ISOLATION LEVEL …
      while (this.lex.peek().type === 'word' && !STATEMENT_WORDS.has(this.lex.peek().text.toUpperCase())) this.lex.next()
      return { kind: 'noop', text: 'SET TRANSACTION' }
    }
    this.lex.next()
    return { kind: 'noop', text: `SET ${o}` }
  }

  #create(): Statement {
    const start = this.lex.pos
    this.lex.next()
    if (this.#accept('OR')) this.#expectWord('ALTER')
    const kind = this.lex.peek().text.toUpperCase()
    if (kind === 'TABLE') {
      this.lex.next()
      return this.#createTable()
    }
    if (kind === 'UNIQUE' || kind === 'CLUSTERED' || kind === 'NONCLUSTERED' || kind === 'INDEX') {
      let unique = false
      while (!this.#isWord('INDEX')) {
        if (this.lex.next().text.toUpperCase() === 'UNIQUE') unique = true
      }
      this.lex.next()
      const name = this.#ident()
      this.#expectWord('ON')
      const table = this.#name()
      const columns = this.#identList()
      if (this.#accept('INCLUDE')) this.#group()
      if (this.#isWord('WHERE')) throw new Syntax('filtered index')
      this.#storageClauses()
      return { kind: 'create_index', table, name, unique, columns }
    }
    const objectKinds: Record<string, 'view' | 'function' | 'procedure' | 'trigger'> = {
      VIEW: 'view', FUNCTION: 'function', PROCEDURE: 'procedure', PROC: 'procedure', TRIGGER: 'trigger',
    }
    const type = objectKinds[kind]
    if (type) {
      this.lex.next()
      const name = this.#name()
      // the body runs to the end of the batch: these must be alone in theirs
      let end = this.lex.pos
      for (;;) {
        const t = this.lex.peek()
        if (t.type === 'go' || t.type === 'eof') break
        this.lex.next()
        end = t.end
      }
      return { kind: 'object', type, name, definition: this.lex.text.slice(start, end).trim() }
    }
    throw new Syntax(`CREATE ${kind}`)
  }

  #typeArgs(): number[] {
    const args: number[] = []
    if (!(this.lex.peek().type === 'punct' && this.lex.peek().text === '(')) return args
    this.lex.next()
    for (;;) {
      const t = this.lex.next()
      if (t.type === 'number') args.push(Number(t.text))
      else if (this.#word(t, 'MAX')) args.push(-1)
      else throw new Syntax('bad type arguments')
      if (this.#punct(',')) continue
      this.#expectPunct(')')
      return args
    }
  }

  #constraint(name: string | undefined): ConstraintDef {
    if (this.#accept('PRIMARY')) {
      this.#expectWord('KEY')
      this.#accept('CLUSTERED') || this.#accept('NONCLUSTERED')
      const columns = this.#identList()
      this.#storageClauses()
      return { kind: 'primary', ...(name ? { name } : {}), columns }
    }
    if (this.#accept('UNIQUE')) {
      this.#accept('CLUSTERED') || this.#accept('NONCLUSTERED')
      const columns = this.#identList()
      this.#storageClauses()
      return { kind: 'unique', ...(name ? { name } : {}), columns }
    }
    if (this.#accept('FOREIGN')) {
      this.#expectWord('KEY')
      const columns = this.#identList()
      this.#expectWord('REFERENCES')
      const ref = this.#name()
      const refColumns = this.#identList()
      const fk: ConstraintDef & { kind: 'foreign' } = { kind: 'foreign', ...(name ? { name } : {}), columns, ref, refColumns }
      while (this.#isWord('ON')) {
        this.lex.next()
        const which = this.lex.next().text.toUpperCase()
        let action = this.lex.next().text.toUpperCase()
        if (action === 'NO' || action === 'SET') action += ` ${this.lex.next().text.toUpperCase()}`
        if (which === 'DELETE') fk.onDelete = action
        else fk.onUpdate = action
      }
      if (this.#accept('NOT')) {
        this.#expectWord('FOR')
        this.#expectWord('REPLICATION')
      }
      return fk
    }
    if (this.#accept('DEFAULT')) {
      const expression = this.lex.peek().type === 'punct' ? `(${this.#group()})` : this.lex.next().text
      this.#expectWord('FOR')
      const column = this.#ident()
      return { kind: 'default', ...(name ? { name } : {}), column, expression }
    }
    if (this.#accept('CHECK')) {
      this.#group()
      return { kind: 'check', ...(name ? { name } : {}) }
    }
    throw new Syntax('constraint')
  }

  #createTable(): Statement {
    const table = this.#name()
    this.#expectPunct('(')
    const columns: ColumnDef[] = []
    const constraints: ConstraintDef[] = []
    for (;;) {
      if (this.#isWord('CONSTRAINT') || this.#isWord('PRIMARY') || this.#isWord('UNIQUE') || this.#isWord('FOREIGN') || this.#isWord('CHECK')) {
        const name = this.#accept('CONSTRAINT') ? this.#ident() : undefined
        constraints.push(this.#constraint(name))
      } else {
        columns.push(this.#column(constraints))
      }
      if (this.#punct(',')) continue
      this.#expectPunct(')')
      break
    }
    this.#storageClauses()
    return { kind: 'create_table', table, columns, constraints }
  }

  #column(constraints: ConstraintDef[]): ColumnDef {
    const name = this.#ident()
    if (this.#accept('AS')) {
      const computed = this.lex.peek().type === 'punct' ? this.#group() : this.lex.next().text
      this.#accept('PERSISTED')
      return { name, typeName: '', args: [], nullable: true, identity: false, computed }
    }
    const typeParts = this.#name()
    const col: ColumnDef = { name, typeName: typeParts.name.toLowerCase(), args: this.#typeArgs(), nullable: true, identity: false }
    for (;;) {
      const t = this.lex.peek()
      if (t.type !== 'word') break
      const w = t.text.toUpperCase()
      if (w === 'NOT') {
        this.lex.next()
        this.#expectWord('NULL')
        col.nullable = false
      } else if (w === 'NULL') {
        this.lex.next()
      } else if (w === 'IDENTITY') {
        this.lex.next()
        this.#typeArgs()
        col.identity = true
      } else if (w === 'COLLATE') {
        this.lex.next()
        col.collation = this.#ident()
      } else if (w === 'DEFAULT') {
        this.lex.next()
        col.default = this.lex.peek().type === 'punct' && this.lex.peek().text === '(' ? `(${this.#group()})` : this.lex.next().text
      } else if (w === 'CONSTRAINT') {
        this.lex.next()
        const cname = this.#ident()
        if (this.#isWord('DEFAULT')) {
          this.lex.next()
          col.default = this.lex.peek().type === 'punct' ? `(${this.#group()})` : this.lex.next().text
        } else this.#inlineKey(col, constraints, cname)
      } else if (w === 'PRIMARY' || w === 'UNIQUE' || w === 'CHECK' || w === 'REFERENCES' || w === 'FOREIGN') {
        this.#inlineKey(col, constraints, undefined)
      } else if (w === 'ROWGUIDCOL' || w === 'SPARSE' || w === 'FILESTREAM') {
        this.lex.next()
      } else break
    }
    return col
  }

  #inlineKey(col: ColumnDef, constraints: ConstraintDef[], name: string | undefined): void {
    if (this.#accept('PRIMARY')) {
      this.#expectWord('KEY')
      this.#accept('CLUSTERED') || this.#accept('NONCLUSTERED')
      constraints.push({ kind: 'primary', ...(name ? { name } : {}), columns: [col.name] })
    } else if (this.#accept('UNIQUE')) {
      this.#accept('CLUSTERED') || this.#accept('NONCLUSTERED')
      constraints.push({ kind: 'unique', ...(name ? { name } : {}), columns: [col.name] })
    } else if (this.#accept('CHECK')) {
      this.#group()
    } else {
      this.#accept('FOREIGN') && this.#expectWord('KEY')
      this.#expectWord('REFERENCES')
      const ref = this.#name()
      const refColumns = this.lex.peek().type === 'punct' && this.lex.peek().text === '(' ? this.#identList() : []
      constraints.push({ kind: 'foreign', ...(name ? { name } : {}), columns: [col.name], ref, refColumns })
    }
  }

  #insert(): Statement {
    this.lex.next()
    this.#accept('INTO')
    const table = this.#name()
    let columns: string[] | undefined
    if (this.lex.peek().type === 'punct' && this.lex.peek().text === '(') columns = this.#identList()
    if (!this.#accept('VALUES')) throw new Syntax('INSERT without VALUES (INSERT … SELECT / EXEC)')
    const rows: RawValue[][] = []
    for (;;) {
      this.#expectPunct('(')
      const row: RawValue[] = []
      for (;;) {
        row.push(this.#expression())
        if (this.#punct(',')) continue
        this.#expectPunct(')')
        break
      }
      rows.push(row)
      if (!this.#punct(',')) break
    }
    return { kind: 'insert', table, ...(columns ? { columns } : {}), rows }
  }

  #expression(): RawValue {
    let v = this.#primary()
    while (this.lex.peek().type === 'punct' && this.lex.peek().text === '+') {
      this.lex.next()
      const r = this.#primary()
      if (typeof v === 'string' && typeof r === 'string') v = v + r
      else if (v === null || r === null) v = null
      else v = { unsupported: 'an expression with +' }
    }
    return v
  }

  #primary(): RawValue {
    const t = this.lex.next()
    switch (t.type) {
      case 'string':
        return t.text
      case 'number':
        return t.text
      case 'binary':
        return Buffer.from(t.text.length % 2 ? `0${t.text}` : t.text, 'hex')
      case 'punct': {
        if (t.text === '-' || t.text === '+') {
          const n = this.lex.next()
          if (n.type !== 'number') throw new Syntax('a sign without a number')
          return t.text === '-' ? `-${n.text}` : n.text
        }
        if (t.text === '(') {
          const v = this.#expression()
          this.#expectPunct(')')
          return v
        }
        throw new Syntax(`unexpected ${t.text} in VALUES`)
      }
      case 'word': {
        const w = t.text.toUpperCase()
        if (w === 'NULL') return null
        if (w.startsWith('$')) return w.slice(1)
        if (w === 'CAST' || w === 'TRY_CAST') {
          this.#expectPunct('(')
          const v = this.#expression()
          this.#expectWord('AS')
          this.#name()
          this.#typeArgs()
          this.#expectPunct(')')
          return v
        }
        if (w === 'CONVERT' || w === 'TRY_CONVERT') {
          this.#expectPunct('(')
          this.#name()
          this.#typeArgs()
          this.#expectPunct(',')
          const v = this.#expression()
          let style: string | undefined
          if (this.#punct(',')) style = this.lex.next().text
          this.#expectPunct(')')
          // a style other than the ISO ones changes how text is read: not evaluated
          if (style !== undefined && !/^(20|21|23|120|121|126|127|0|1|2)$/.test(style) && typeof v === 'string') return { unsupported: `CONVERT with style ${style}` }
          return v
        }
        if ((w === 'CHAR' || w === 'NCHAR') && this.lex.peek().text === '(') {
          this.#expectPunct('(')
          const n = this.lex.next()
          this.#expectPunct(')')
          return String.fromCharCode(Number(n.text))
        }
        if (this.lex.peek().type === 'punct' && this.lex.peek().text === '(') {
          this.#group()
          return { unsupported: `${t.text}(…)` }
        }
        return { unsupported: t.text }
      }
      default:
        throw new Syntax(`unexpected ${t.type} in VALUES`)
    }
  }

  #alter(): Statement {
    this.lex.next()
    this.#expectWord('TABLE')
    const table = this.#name()
    if (this.#accept('WITH')) {
      this.#accept('CHECK') || this.#accept('NOCHECK')
    }
    if (this.#isWord('CHECK') || this.#isWord('NOCHECK')) {
      this.lex.next()
      this.#expectWord('CONSTRAINT')
      this.lex.next()
      return { kind: 'noop', text: 'ALTER TABLE … CHECK CONSTRAINT' }
    }
    this.#expectWord('ADD')
    const constraints: ConstraintDef[] = []
    for (;;) {
      const name = this.#accept('CONSTRAINT') ? this.#ident() : undefined
      constraints.push(this.#constraint(name))
      if (!this.#punct(',')) break
    }
    return { kind: 'alter_add', table, constraints }
  }

  /** Skips an unsupported statement up to the next statement keyword at paren depth 0, or GO. */
  #skip(reason: string): Statement {
    const start = this.lex.pos
    const firstTok = this.lex.next()
    const firstWord = firstTok.text.toUpperCase()
    let end = firstTok.end
    let depth = firstTok.type === 'punct' && firstTok.text === '(' ? 1 : 0
    for (;;) {
      const t = this.lex.peek()
      if (t.type === 'eof' || t.type === 'go') break
      if (depth === 0 && t.type === 'word') {
        const w = t.text.toUpperCase()
        const stop = STATEMENT_WORDS.has(w) && !(w === 'SET' && firstWord === 'UPDATE') && !(w === 'SELECT' && firstWord === 'INSERT')
        if (stop) break
      }
      this.lex.next()
      if (t.type === 'punct' && t.text === '(') depth++
      if (t.type === 'punct' && t.text === ')') depth = Math.max(0, depth - 1)
      end = t.end
    }
    const text = this.lex.text.slice(start, end).replace(/\s+/g, ' ').trim()
    return { kind: 'skipped', text: text.length > 120 ? `${text.slice(0, 117)}…` : text, reason }
  }
}
