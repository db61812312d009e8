import { createHash } from 'node:crypto'
import iconv from 'iconv-lite'
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

/**
 * A raw value from a script: text (numbers stay text, to keep every digit), bytes, NULL, a function the reader
 * evaluates per row at load time (`NEWID()`, `GETDATE()`…), the column's `DEFAULT`, or an expression dbferry
 * does not evaluate.
 */
export type RawValue = string | Uint8Array | null | { call: ValueFunction } | { unsupported: string }

/** Functions evaluated at load time; `default` is the DEFAULT keyword of a VALUES list. */
export type ValueFunction = 'newid' | 'getdate' | 'getutcdate' | 'sysdatetime' | 'sysutcdatetime' | 'sysdatetimeoffset' | 'default'

const VALUE_FUNCTIONS: Record<string, ValueFunction> = {
  NEWID: 'newid', NEWSEQUENTIALID: 'newid', GETDATE: 'getdate', GETUTCDATE: 'getutcdate', SYSDATETIME: 'sysdatetime',
  SYSUTCDATETIME: 'sysutcdatetime', SYSDATETIMEOFFSET: 'sysdatetimeoffset',
}

/**
 * A variable of the current batch (`DECLARE @v type = value`, `SET @v = value`): its value, and whether its
 * type is national (`nvarchar`, `nchar`, `ntext`, `sysname`), which decides the bytes HASHBYTES hashes.
 */
export interface BatchVariable {
  value: RawValue
  national: boolean
  /** The declared type, lowercase (`varchar`, `int`…), which an assigned value is fitted to. */
  typeName: string
  /** A character or binary type's length (`varchar(10)`); absent for `max` and other types. */
  length?: number
}

const NATIONAL_TYPES = /^(nvarchar|nchar|ntext|sysname)$/
const TEXT_TYPES = /^(varchar|char|nvarchar|nchar|text|ntext|sysname)$/
const INTEGER_TYPES = /^(int|bigint|smallint|tinyint|bit)$/

/** HASHBYTES algorithms → node's names. */
const HASH_ALGORITHMS: Record<string, string> = { MD5: 'md5', SHA: 'sha1', SHA1: 'sha1', SHA2_256: 'sha256', SHA2_512: 'sha512' }

/** A WHERE condition the reader can apply: comparisons of a column with literals, joined by AND, OR, NOT. */
export type Predicate =
  | { op: 'and' | 'or'; left: Predicate; right: Predicate }
  | { op: 'not'; of: Predicate }
  | { op: 'compare'; column: string; compare: '=' | '<>' | '<' | '>' | '<=' | '>='; value: RawValue }
  | { op: 'null'; column: string; negated: boolean }
  | { op: 'in'; column: string; values: RawValue[]; negated: boolean }

/** A column of a CREATE TABLE. */
export interface ColumnDef {
  name: string
  /** The type as written, lowercased: `nvarchar`, `decimal`, … */
  typeName: string
  /** Arguments: numbers, or -1 for `max`. */
  args: number[]
  nullable: boolean
  /** Whether NULL or NOT NULL was written (otherwise a user-defined type's nullability applies). */
  nullSpecified?: boolean
  identity: boolean
  /** `IDENTITY(seed, increment)`; default (1, 1). */
  identitySeed?: number
  identityIncrement?: number
  /** `AS (expr)` computed column. */
  computed?: string
  default?: string
  /** The name of the DEFAULT constraint, when written (`CONSTRAINT DF_x DEFAULT 0`). */
  defaultName?: string
  collation?: string
  primaryKey?: boolean
  unique?: boolean
}

/** A key or a foreign key from a CREATE TABLE or ALTER TABLE. */
export type ConstraintDef =
  | { kind: 'primary' | 'unique'; name?: string; columns: string[] }
  | { kind: 'foreign'; name?: string; columns: string[]; ref: QualifiedName; refColumns: string[]; onDelete?: string; onUpdate?: string }
  | { kind: 'default'; name?: string; column: string; expression: string }
  | { kind: 'check'; name?: string; expression: string }

/** `SET DATEFORMAT`: the order in which numeric date literals name day, month and year. Default `mdy`. */
export type DateFormat = 'mdy' | 'dmy' | 'ymd' | 'ydm' | 'myd' | 'dym'

/** One parsed statement. `line` is set by the source. */
export type Statement =
  | { kind: 'go' }
  | { kind: 'eof' }
  | { kind: 'create_table'; table: QualifiedName; columns: ColumnDef[]; constraints: ConstraintDef[] }
  | { kind: 'insert'; table: QualifiedName; columns?: string[]; rows: RawValue[][] }
  | { kind: 'update'; table: QualifiedName; set: { column: string; value: RawValue }[]; where?: Predicate }
  | { kind: 'delete'; table: QualifiedName; where?: Predicate }
  | { kind: 'set_identity_insert'; table: QualifiedName; on: boolean }
  | { kind: 'set_dateformat'; format: DateFormat }
  /** `EXEC sp_addtype` / `CREATE TYPE … FROM`: a name for a base type, with its nullability when given. */
  | { kind: 'type_alias'; name: QualifiedName; base: ColumnDef }
  | { kind: 'drop_table'; tables: QualifiedName[]; ifExists: boolean }
  | { kind: 'alter_add'; table: QualifiedName; constraints: ConstraintDef[] }
  | { kind: 'alter_drop'; table: QualifiedName; constraints: string[] }
  | { kind: 'create_index'; table: QualifiedName; name: string; unique: boolean; columns: string[] }
  | { kind: 'object'; type: 'view' | 'function' | 'procedure' | 'trigger'; name: QualifiedName; definition: string }
  /** Understood and without effect on the data (USE, SET ANSI_NULLS, CHECK CONSTRAINT, transactions…). */
  | { kind: 'noop'; text: string }
  /** Not understood, not applied; `data`: it would have changed rows, tables or keys. */
  | { kind: 'skipped'; text: string; reason: string; data: boolean; writes: QualifiedName[] }

const STATEMENT_WORDS = new Set([
  'INSERT', 'CREATE', 'ALTER', 'SET', 'USE', 'DROP', 'PRINT', 'IF', 'BEGIN', 'END', 'COMMIT', 'ROLLBACK',
  'DECLARE', 'EXEC', 'EXECUTE', 'UPDATE', 'DELETE', 'GRANT', 'DENY', 'REVOKE', 'TRUNCATE', 'SELECT', 'WHILE',
  'MERGE', 'OPEN', 'FETCH', 'CLOSE', 'DEALLOCATE', 'RAISERROR', 'ELSE',
])

const SESSION_OPTIONS = new Set([
  'ANSI_NULLS', 'QUOTED_IDENTIFIER', 'NOCOUNT', 'ANSI_PADDING', 'ANSI_WARNINGS', 'ARITHABORT', 'XACT_ABORT',
  'CONCAT_NULL_YIELDS_NULL', 'NUMERIC_ROUNDABORT', 'ANSI_NULL_DFLT_ON', 'ANSI_DEFAULTS', 'DATEFORMAT',
  'DATEFIRST', 'LANGUAGE', 'IMPLICIT_TRANSACTIONS', 'TRANSACTION', 'LOCK_TIMEOUT', 'DEADLOCK_PRIORITY',
])

class Syntax extends Error {}

const DATA_WORDS = /\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|BULK\s+INSERT|CREATE\s+TABLE|ALTER\s+TABLE|DROP\s+TABLE|INTO\s+[^@\s])/i

/**
 * Whether a statement the reader did not apply would have changed data, tables or keys: INSERT, UPDATE,
 * DELETE, MERGE, TRUNCATE, BULK INSERT, CREATE/ALTER/DROP TABLE, SELECT … INTO, an IF, WHILE or BEGIN … END
 * holding one, and any procedure other than a system one (`sp_…`, except `sp_executesql` running such a
 * statement), since a procedure may write anything.
 */
export function changesData(text: string): boolean {
  const first = /^\s*(\w+)(?:\s+(\w+))?/.exec(text)
  const w = first?.[1]?.toUpperCase() ?? ''
  const next = first?.[2]?.toUpperCase() ?? ''
  if (w === 'EXEC' || w === 'EXECUTE') {
    const proc = /^EXEC(?:UTE)?\s+(?:@\w+\s*=\s*)?(?:\[?\w+\]?\.)*\[?(\w+)\]?/i.exec(text.trim())
    const name = proc?.[1] ?? ''
    return !/^sp_/i.test(name) || (/^sp_executesql$/i.test(name) && DATA_WORDS.test(text.slice(proc![0].length)))
  }
  if (['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'BULK'].includes(w)) return true
  if (['CREATE', 'ALTER', 'DROP'].includes(w)) return next === 'TABLE'
  if (['IF', 'WHILE', 'BEGIN', 'ELSE'].includes(w)) return DATA_WORDS.test(text)
  if (w === 'SELECT' || w === 'WITH') return /\bINTO\s+[^@\s]/i.test(text)
  return false
}

const PART = String.raw`(?:\[(?:[^\]]|\]\])+\]|"[^"]+"|[\w#$]+)`
const WRITES = new RegExp(String.raw`\b(?:INSERT\s+(?:INTO\s+)?|UPDATE\s+|DELETE\s+(?:FROM\s+)?|MERGE\s+(?:INTO\s+)?|TRUNCATE\s+TABLE\s+|ALTER\s+TABLE\s+|BULK\s+INSERT\s+)(${PART}(?:\s*\.\s*${PART})*)`, 'gi')

const SOURCES = new RegExp(String.raw`\b(?:FROM|JOIN)\s+(${PART}(?:\s*\.\s*${PART})*)(?:\s+AS)?\s+(${PART})`, 'gi')

function nameOf(written: string): QualifiedName {
  const parts = written.split(/\s*\.\s*(?=[\["\w#$])/).map((p) => p.replace(/^\[|\]$/g, '').replace(/\]\]/g, ']').replace(/^"|"$/g, ''))
  const name = parts[parts.length - 1]!
  return parts.length >= 2 ? { schema: parts[parts.length - 2]!, name } : { name }
}

/** A statement's text with its comments blanked (strings kept, so `'--'` in a literal stays). */
export function withoutComments(text: string): string {
  return text.replace(/'(?:[^']|'')*'?|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g, (m) => (m.startsWith("'") ? m : ' '))
}

/**
 * The tables a statement's code writes to (INSERT, UPDATE, DELETE, MERGE… anywhere in it, comments aside),
 * each once; an alias (`UPDATE p … FROM tblPolicy p`) stands for the table its FROM or JOIN names.
 */
export function tablesWritten(text: string): QualifiedName[] {
  const code = withoutComments(text)
  const aliases = new Map<string, QualifiedName>()
  for (const m of code.matchAll(SOURCES)) {
    const alias = nameOf(m[2]!).name
    if (!/^(ON|WHERE|INNER|LEFT|RIGHT|FULL|CROSS|OUTER|JOIN|SET|GROUP|ORDER|WITH)$/i.test(alias)) aliases.set(alias.toLowerCase(), nameOf(m[1]!))
  }
  const out = new Map<string, QualifiedName>()
  for (const m of code.matchAll(WRITES)) {
    const written = nameOf(m[1]!)
    if (/^(SET|INTO|FROM|TOP|@)/i.test(written.name)) continue
    const q = (!written.schema && aliases.get(written.name.toLowerCase())) || written
    out.set(`${(q.schema ?? 'dbo').toLowerCase()}.${q.name.toLowerCase()}`, q)
  }
  return [...out.values()]
}

/** A value assigned to a variable, fitted to its type as SQL Server fits it: text cut to the length, integers whole. */
function assigned(value: RawValue, to: BatchVariable): RawValue {
  if (typeof value === 'string') {
    if (TEXT_TYPES.test(to.typeName)) {
      const cut = to.length !== undefined ? value.slice(0, to.length) : value
      return /^n?char$/.test(to.typeName) && to.length !== undefined ? cut.padEnd(to.length) : cut
    }
    if (INTEGER_TYPES.test(to.typeName) && !/^[+-]?\d+$/.test(value.trim())) return { unsupported: `${value} assigned to an ${to.typeName} variable` }
  }
  if (value instanceof Uint8Array && to.length !== undefined) return value.slice(0, to.length)
  return value
}

/** Parses statements from a {@link TsqlLexer}. */
export class TsqlParser {
  /**
   * @param variables the batch's variables (name lowercase, with its `@`) as they stand where parsing starts;
   *   the parser keeps them up to date (DECLARE, SET, a statement not applied that assigns one) and empties
   *   them at GO. Default: none.
   */
  constructor(
    readonly lex: TsqlLexer,
    readonly variables: Map<string, BatchVariable> = new Map(),
  ) {}

  /** Whether the expression last read has a national type (N'…', nvarchar): what HASHBYTES hashes. */
  #national = false

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
      // a batch's variables end with it
      this.variables.clear()
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
      case 'UPDATE':
        return this.#update()
      case 'DELETE':
        return this.#delete()
      case 'EXEC':
      case 'EXECUTE':
        return this.#exec()
      case 'DROP':
        return this.#drop()
      case 'TRUNCATE': {
        this.lex.next()
        this.#expectWord('TABLE')
        return { kind: 'delete', table: this.#name() }
      }
      case 'IF': {
        const drop = this.#ifExistsDrop()
        if (drop) return drop
        throw new Syntax('IF (conditions and loops are not evaluated)')
      }
      case 'WHILE':
        throw new Syntax('WHILE (conditions and loops are not evaluated)')
      case 'DECLARE':
        return this.#declare()
      case 'END': {
        // END TRY: the statements of the TRY block were read one by one
        this.lex.next()
        if (!this.#accept('TRY')) throw new Syntax('END without BEGIN')
        return { kind: 'noop', text: 'END TRY' }
      }
      case 'BEGIN':
      case 'COMMIT': {
        this.lex.next()
        if (w === 'BEGIN' && this.#accept('TRY')) return { kind: 'noop', text: 'BEGIN TRY' }
        if (w === 'BEGIN' && this.#isWord('CATCH')) return this.#catch()
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

  /**
   * `IF EXISTS (SELECT * FROM sysobjects WHERE id = object_id('t') …) DROP TABLE t` and `IF OBJECT_ID('t'[, 'U'])
   * IS NOT NULL DROP TABLE t`: the condition asks whether the dropped table exists, so the statement is
   * `DROP TABLE IF EXISTS t`. Undefined (position kept) for any other IF.
   */
  #ifExistsDrop(): Statement | undefined {
    const start = this.lex.pos
    const sameName = (a: string, b: QualifiedName) => {
      const parts = a.split('.').map((p) => p.trim().replace(/^\[|\]$/g, '').replace(/^"|"$/g, ''))
      const name = parts[parts.length - 1]!.toLowerCase()
      const schema = (parts.length >= 2 ? parts[parts.length - 2]! : 'dbo').toLowerCase()
      return name === b.name.toLowerCase() && schema === (b.schema ?? 'dbo').toLowerCase()
    }
    try {
      this.lex.next()
      let object: string | undefined
      if (this.#accept('EXISTS')) {
        // the subquery: object_id('name') is the object asked about; the rest narrows it to a user table
        const inner = this.#group()
        const m = /^\s*SELECT\s+\*\s+FROM\s+(?:dbo\.)?sysobjects\s+WHERE\s+id\s*=\s*object_id\s*\(\s*N?'((?:[^']|'')+)'\s*\)\s*(?:AND\s+(?:OBJECTPROPERTY\s*\(\s*id\s*,\s*N?'IsUserTable'\s*\)\s*=\s*1|sysstat\s*&\s*0xf\s*=\s*3|type\s*=\s*N?'U'))?\s*$/i.exec(inner)
        object = m?.[1]?.replace(/''/g, "'")
      } else if (this.#isWord('OBJECT_ID')) {
        this.lex.next()
        this.#expectPunct('(')
        const name = this.lex.next()
        let type = 'U'
        if (this.#punct(',')) type = this.lex.next().text
        this.#expectPunct(')')
        this.#expectWord('IS')
        this.#expectWord('NOT')
        this.#expectWord('NULL')
        if (name.type === 'string' && /^U$/i.test(type.trim())) object = name.text
      }
      if (object === undefined || !this.#accept('DROP') || !this.#accept('TABLE')) throw new Syntax('IF')
      const table = this.#name()
      if (!sameName(object, table) || this.#punct(',')) throw new Syntax('IF')
      return { kind: 'drop_table', tables: [table], ifExists: true }
    } catch (e) {
      if (!(e instanceof Syntax)) throw e
      this.lex.reset(start)
      return undefined
    }
  }

  /** `DECLARE @a type [= value], …`: the batch's variables; a cursor or table variable is not evaluated. */
  #declare(): Statement {
    this.lex.next()
    const declared: [string, BatchVariable][] = []
    do {
      const t = this.lex.next()
      if (t.type !== 'word' || !t.text.startsWith('@')) throw new Syntax(`DECLARE ${t.text} (cursors are not evaluated)`)
      this.#accept('AS')
      if (this.#isWord('TABLE') || this.#isWord('CURSOR')) throw new Syntax(`DECLARE ${t.text} ${this.lex.peek().text} (table variables and cursors are not evaluated)`)
      const type = this.#name().name.toLowerCase()
      const [length] = this.#typeArgs()
      const variable: BatchVariable = { value: null, national: NATIONAL_TYPES.test(type), typeName: type, ...(length !== undefined && length > 0 ? { length } : {}) }
      if (this.#punct('=')) variable.value = assigned(this.#expression(), variable)
      declared.push([t.text.toLowerCase(), variable])
    } while (this.#punct(','))
    for (const [name, v] of declared) this.variables.set(name, v)
    return { kind: 'noop', text: 'DECLARE' }
  }

  /**
   * `BEGIN CATCH … END CATCH` (BEGIN read): it runs only when a statement of the TRY block fails, and the
   * reader applies the TRY block's statements as succeeding. Listed when it would change data, else a no-op.
   */
  #catch(): Statement {
    const start = this.lex.pos
    this.lex.next()
    const end = this.#skipBlock()
    this.#accept('CATCH')
    const whole = `BEGIN${this.lex.text.slice(start, end)} CATCH`.replace(/\s+/g, ' ').trim()
    if (!changesData(whole)) return { kind: 'noop', text: 'BEGIN CATCH … END CATCH' }
    const text = whole.length > 120 ? `${whole.slice(0, 117)}…` : whole
    return { kind: 'skipped', text, reason: 'a CATCH block runs only when the TRY block fails; its statements were applied as succeeding', data: false, writes: [] }
  }

  #set(): Statement {
    this.lex.next()
    if (this.lex.peek().type === 'word' && this.lex.peek().text.startsWith('@') && !this.lex.peek().text.startsWith('@@')) {
      const name = this.lex.next().text.toLowerCase()
      const known = this.variables.get(name)
      if (!known) throw new Syntax(`SET ${name} of a variable not declared in this batch`)
      this.#expectPunct('=')
      const value = this.#expression()
      this.variables.set(name, { ...known, value: assigned(value, known) })
      return { kind: 'noop', text: `SET ${name}` }
    }
    const opt = this.lex.next()
    const o = opt.text.toUpperCase()
    if (o === 'IDENTITY_INSERT') {
      const table = this.#name()
      const v = this.lex.next()
      if (!/^(ON|OFF)$/i.test(v.text)) throw new Syntax('IDENTITY_INSERT needs ON or OFF')
      return { kind: 'set_identity_insert', table, on: v.text.toUpperCase() === 'ON' }
    }
    if (o === 'DATEFORMAT') {
      const v = this.lex.next().text.toLowerCase()
      if (!/^(mdy|dmy|ymd|ydm|myd|dym)$/.test(v)) throw new Syntax(`SET DATEFORMAT ${v}`)
      return { kind: 'set_dateformat', format: v as DateFormat }
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
    if (kind === 'TYPE') {
      this.lex.next()
      const name = this.#name()
      if (!this.#accept('FROM')) throw new Syntax('CREATE TYPE … AS TABLE (table types hold no data)')
      const base = this.#typeOf(name.name)
      this.#columnOptions(base, [])
      return { kind: 'type_alias', name, base }
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

  /** A default's expression as written: `((0))`, `'n/a'`, `-1`, `getdate()`. */
  #defaultText(): string {
    if (this.#opensList()) return `(${this.#group()})`
    const start = this.lex.peek().start
    this.#expression()
    return this.lex.text.slice(start, this.lex.pos).trim()
  }

  #typeArgs(): number[] {
    const args: number[] = []
    if (!(this.lex.peek().type === 'punct' && this.lex.peek().text === '(')) return args
    this.lex.next()
    for (;;) {
      const negative = this.#punct('-')
      const t = this.lex.next()
      if (t.type === 'number') args.push(negative ? -Number(t.text) : Number(t.text))
      else if (this.#word(t, 'MAX')) args.push(-1)
      else throw new Syntax('bad type arguments')
      if (this.#punct(',')) continue
      this.#expectPunct(')')
      return args
    }
  }

  #opensList(): boolean {
    return this.lex.peek().type === 'punct' && this.lex.peek().text === '('
  }

  /**
   * A key, foreign key, default or check. After a column (`column` given), the column list may be left out
   * (it is that column) or written (a table constraint SQL Server accepts without a comma before it).
   */
  #constraint(name: string | undefined, column?: string): ConstraintDef {
    const columnsOr = () => (column !== undefined && !this.#opensList() ? [column] : this.#identList())
    if (this.#accept('PRIMARY')) {
      this.#expectWord('KEY')
      this.#accept('CLUSTERED') || this.#accept('NONCLUSTERED')
      const columns = columnsOr()
      this.#storageClauses()
      return { kind: 'primary', ...(name ? { name } : {}), columns }
    }
    if (this.#accept('UNIQUE')) {
      this.#accept('CLUSTERED') || this.#accept('NONCLUSTERED')
      const columns = columnsOr()
      this.#storageClauses()
      return { kind: 'unique', ...(name ? { name } : {}), columns }
    }
    if (this.#isWord('FOREIGN') || (column !== undefined && this.#isWord('REFERENCES'))) {
      if (this.#accept('FOREIGN')) this.#expectWord('KEY')
      const columns = columnsOr()
      this.#expectWord('REFERENCES')
      const ref = this.#name()
      // without a column list the reference is the table's primary key (resolved by the source)
      const refColumns = this.#opensList() ? this.#identList() : []
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
      const expression = this.#defaultText()
      this.#expectWord('FOR')
      const column = this.#ident()
      return { kind: 'default', ...(name ? { name } : {}), column, expression }
    }
    if (this.#accept('CHECK')) {
      if (this.#accept('NOT')) {
        this.#expectWord('FOR')
        this.#expectWord('REPLICATION')
      }
      return { kind: 'check', ...(name ? { name } : {}), expression: this.#group() }
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
      if (this.#accept('NOT')) this.#expectWord('NULL')
      return { name, typeName: '', args: [], nullable: true, identity: false, computed }
    }
    const col = this.#typeOf(name)
    this.#columnOptions(col, constraints)
    return col
  }

  /** A type as written after a column's name: `[dbo].[nvarchar](50)`, `decimal(18, 2)`. */
  #typeOf(name: string): ColumnDef {
    const typeParts = this.#name()
    return { name, typeName: typeParts.name.toLowerCase(), args: this.#typeArgs(), nullable: true, identity: false }
  }

  /** NULL, NOT NULL, IDENTITY, COLLATE, DEFAULT and inline constraints, in any order. */
  #columnOptions(col: ColumnDef, constraints: ConstraintDef[]): void {
    for (;;) {
      const t = this.lex.peek()
      if (t.type !== 'word') break
      const w = t.text.toUpperCase()
      if (w === 'NOT') {
        this.lex.next()
        if (this.#accept('FOR')) {
          this.#expectWord('REPLICATION')
          continue
        }
        this.#expectWord('NULL')
        col.nullable = false
        col.nullSpecified = true
      } else if (w === 'NULL') {
        this.lex.next()
        col.nullSpecified = true
      } else if (w === 'IDENTITY') {
        this.lex.next()
        const [seed, increment] = this.#typeArgs()
        col.identity = true
        if (seed !== undefined) col.identitySeed = seed
        if (increment !== undefined) col.identityIncrement = increment
      } else if (w === 'COLLATE') {
        this.lex.next()
        col.collation = this.#ident()
      } else if (w === 'DEFAULT') {
        this.lex.next()
        col.default = this.#defaultText()
      } else if (w === 'CONSTRAINT') {
        this.lex.next()
        const cname = this.#ident()
        if (this.#isWord('DEFAULT')) {
          this.lex.next()
          col.default = this.#defaultText()
          col.defaultName = cname
        } else constraints.push(this.#constraint(cname, col.name))
      } else if (w === 'PRIMARY' || w === 'UNIQUE' || w === 'CHECK' || w === 'REFERENCES' || w === 'FOREIGN') {
        constraints.push(this.#constraint(undefined, col.name))
      } else if (w === 'ROWGUIDCOL' || w === 'SPARSE' || w === 'FILESTREAM') {
        this.lex.next()
      } else break
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
    let v = this.#collated()
    let national = this.#national
    while (this.lex.peek().type === 'punct' && this.lex.peek().text === '+') {
      this.lex.next()
      const r = this.#collated()
      national ||= this.#national
      if (typeof v === 'string' && typeof r === 'string') v = v + r
      else if (v === null || r === null) v = null
      else v = { unsupported: 'an expression with +' }
    }
    this.#national = national
    return v
  }

  /** A primary with an optional `COLLATE name`, which changes how text compares, not its value. */
  #collated(): RawValue {
    const v = this.#primary()
    if (this.#isWord('COLLATE')) {
      const national = this.#national
      this.lex.next()
      this.#ident()
      this.#national = national
    }
    return v
  }

  #primary(): RawValue {
    this.#national = false
    const t = this.lex.next()
    switch (t.type) {
      case 'string':
        this.#national = /^n$/i.test(this.lex.text[t.start] ?? '')
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
        if (w === 'DEFAULT') return { call: 'default' }
        if (w === 'CURRENT_TIMESTAMP') return { call: 'getdate' }
        const fn = VALUE_FUNCTIONS[w]
        if (fn && this.lex.peek().type === 'punct' && this.lex.peek().text === '(') {
          this.#expectPunct('(')
          this.#expectPunct(')')
          return { call: fn }
        }
        if (w.startsWith('$')) return w.slice(1)
        if (w.startsWith('@')) return this.#variable(t.text)
        if (w === 'CAST' || w === 'TRY_CAST') {
          this.#expectPunct('(')
          const v = this.#expression()
          this.#expectWord('AS')
          const type = this.#name().name.toLowerCase()
          this.#typeArgs()
          this.#expectPunct(')')
          this.#national = NATIONAL_TYPES.test(type)
          return v instanceof Uint8Array && TEXT_TYPES.test(type) ? { unsupported: `CAST of binary to ${type}` } : v
        }
        if (w === 'CONVERT' || w === 'TRY_CONVERT') {
          this.#expectPunct('(')
          const type = this.#name().name.toLowerCase()
          this.#typeArgs()
          this.#expectPunct(',')
          const v = this.#expression()
          let style: string | undefined
          if (this.#punct(',')) style = this.lex.next().text
          this.#expectPunct(')')
          this.#national = NATIONAL_TYPES.test(type)
          // binary to text: style 1 is 0x and hex digits, 2 the digits alone (SQL Server writes them uppercase)
          if (v instanceof Uint8Array && TEXT_TYPES.test(type)) {
            const hex = Buffer.from(v).toString('hex').toUpperCase()
            if (style === '1') return `0x${hex}`
            if (style === '2') return hex
            return { unsupported: `CONVERT of binary to ${type}${style !== undefined ? ` with style ${style}` : ''}` }
          }
          // a style other than the ISO ones changes how text is read: not evaluated
          if (style !== undefined && !/^(20|21|23|120|121|126|127|0|1|2)$/.test(style) && typeof v === 'string') return { unsupported: `CONVERT with style ${style}` }
          return v
        }
        if (w === 'HASHBYTES' && this.#opensList()) return this.#hashbytes()
        if (w === 'CONCAT' && this.#opensList()) return this.#concat()
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
      case 'qid':
        return { unsupported: `[${t.text}]` }
      default:
        throw new Syntax(`unexpected ${t.type} in VALUES`)
    }
  }

  /** A batch variable's value; one not declared in this batch is refused by SQL Server: not evaluated. */
  #variable(name: string): RawValue {
    if (name.startsWith('@@')) return { unsupported: name }
    const v = this.variables.get(name.toLowerCase())
    if (!v) return { unsupported: `${name} (not declared in this batch)` }
    this.#national = v.national
    return v.value
  }

  /** `HASHBYTES('SHA2_256', x)` (HASHBYTES read): the digest of x's bytes, cp1252 for varchar, UTF-16LE for nvarchar. */
  #hashbytes(): RawValue {
    this.#expectPunct('(')
    const algorithm = this.lex.next()
    this.#expectPunct(',')
    const input = this.#expression()
    const national = this.#national
    this.#expectPunct(')')
    this.#national = false
    const hash = HASH_ALGORITHMS[algorithm.text.toUpperCase()]
    if (algorithm.type !== 'string' || !hash) return { unsupported: `HASHBYTES('${algorithm.text}', …)` }
    if (input === null) return null
    if (typeof input === 'object' && !(input instanceof Uint8Array)) return input
    const bytes = input instanceof Uint8Array ? input : national ? Buffer.from(input, 'utf16le') : iconv.encode(input, 'win1252')
    return new Uint8Array(createHash(hash).update(bytes).digest())
  }

  /** `CONCAT(a, b, …)` (CONCAT read): the texts joined, NULL as empty text. */
  #concat(): RawValue {
    this.#expectPunct('(')
    let out = ''
    let national = false
    for (;;) {
      const v = this.#expression()
      national ||= this.#national
      if (v instanceof Uint8Array || (v !== null && typeof v === 'object')) {
        this.#closeList()
        return v instanceof Uint8Array ? { unsupported: 'CONCAT of binary' } : v
      }
      if (v !== null) out += v
      if (this.#punct(',')) continue
      this.#expectPunct(')')
      break
    }
    this.#national = national
    return out
  }

  /** Skips to the `)` closing the list being read. */
  #closeList(): void {
    let depth = 1
    for (;;) {
      const t = this.lex.next()
      if (t.type === 'eof') throw new Syntax('unbalanced parentheses')
      if (t.type === 'punct' && t.text === '(') depth++
      else if (t.type === 'punct' && t.text === ')' && --depth === 0) return
    }
  }

  /** A default's expression (`((0))`, `(getdate())`) as a value; {@link Syntax} when it is not one. */
  value(): RawValue {
    const v = this.#expression()
    if (this.lex.peek().type !== 'eof') throw new Syntax('more than a value')
    return v
  }

  /** After UPDATE or DELETE: the statement must end here, or what follows (a FROM, a JOIN) changes its meaning. */
  #endOfStatement(what: string): void {
    const t = this.lex.peek()
    if (t.type === 'eof' || t.type === 'go' || (t.type === 'punct' && t.text === ';')) return
    if (t.type === 'word' && STATEMENT_WORDS.has(t.text.toUpperCase())) return
    throw new Syntax(`${what} with ${t.text} (only comparisons of columns with literals are applied)`)
  }

  #update(): Statement {
    this.lex.next()
    if (this.#accept('STATISTICS')) {
      // the optimizer's statistics, not data
      this.#name()
      for (;;) {
        const t = this.lex.peek()
        if (t.type === 'eof' || t.type === 'go' || (t.type === 'punct' && t.text === ';') || (t.type === 'word' && STATEMENT_WORDS.has(t.text.toUpperCase()))) break
        this.lex.next()
      }
      return { kind: 'noop', text: 'UPDATE STATISTICS' }
    }
    if (this.#isWord('TOP')) throw new Syntax('UPDATE TOP')
    const table = this.#name()
    this.#expectWord('SET')
    const set: { column: string; value: RawValue }[] = []
    do {
      const column = this.#name().name
      this.#expectPunct('=')
      const value = this.#expression()
      if (value !== null && typeof value === 'object' && 'unsupported' in value) throw new Syntax(`UPDATE … SET ${column} = ${value.unsupported} (only literals are applied)`)
      set.push({ column, value })
    } while (this.#punct(','))
    const where = this.#accept('WHERE') ? this.#predicate() : undefined
    this.#endOfStatement('UPDATE')
    return { kind: 'update', table, set, ...(where ? { where } : {}) }
  }

  #delete(): Statement {
    this.lex.next()
    if (this.#isWord('TOP')) throw new Syntax('DELETE TOP')
    this.#accept('FROM')
    const table = this.#name()
    const where = this.#accept('WHERE') ? this.#predicate() : undefined
    this.#endOfStatement('DELETE')
    return { kind: 'delete', table, ...(where ? { where } : {}) }
  }

  #predicate(): Predicate {
    let left = this.#conjunction()
    while (this.#accept('OR')) left = { op: 'or', left, right: this.#conjunction() }
    return left
  }

  #conjunction(): Predicate {
    let left = this.#condition()
    while (this.#accept('AND')) left = { op: 'and', left, right: this.#condition() }
    return left
  }

  #condition(): Predicate {
    if (this.#accept('NOT')) return { op: 'not', of: this.#condition() }
    if (this.#punct('(')) {
      const p = this.#predicate()
      this.#expectPunct(')')
      return p
    }
    const column = this.#name().name
    if (this.#accept('IS')) {
      const negated = this.#accept('NOT')
      this.#expectWord('NULL')
      return { op: 'null', column, negated }
    }
    const negated = this.#accept('NOT')
    if (this.#accept('IN')) {
      this.#expectPunct('(')
      const values: RawValue[] = []
      do values.push(this.#literal())
      while (this.#punct(','))
      this.#expectPunct(')')
      return { op: 'in', column, values, negated }
    }
    if (negated) throw new Syntax('NOT before an operator other than IN')
    const compare = this.#comparison()
    return { op: 'compare', column, compare, value: this.#literal() }
  }

  #comparison(): '=' | '<>' | '<' | '>' | '<=' | '>=' {
    const a = this.lex.next()
    if (a.type !== 'punct') throw new Syntax(`${a.text} in WHERE (only comparisons with literals are applied)`)
    const b = this.lex.peek()
    const two = b.type === 'punct' && b.start === a.end ? a.text + b.text : ''
    if (two === '<>' || two === '<=' || two === '>=' || two === '!=') {
      this.lex.next()
      return two === '!=' ? '<>' : two
    }
    if (a.text === '=' || a.text === '<' || a.text === '>') return a.text
    throw new Syntax(`${a.text} in WHERE`)
  }

  /** A literal on the right of a comparison: a column or an expression there is not applied. */
  #literal(): RawValue {
    const v = this.#expression()
    if (v !== null && typeof v === 'object' && 'unsupported' in v) throw new Syntax(`${v.unsupported} in WHERE (only literals are applied)`)
    return v
  }

  /** `EXEC sp_addtype name, 'base', 'NOT NULL'` declares a type; any other EXEC is not run. */
  #exec(): Statement {
    this.lex.next()
    const proc = this.#name()
    if (proc.name.toLowerCase() !== 'sp_addtype') throw new Syntax(`EXEC ${proc.name} (procedures are not run)`)
    const args: string[] = []
    do {
      if (this.lex.peek().type === 'word' && this.lex.peek().text.startsWith('@')) {
        this.lex.next()
        this.#expectPunct('=')
      }
      const t = this.lex.next()
      if (t.type !== 'string' && t.type !== 'word' && t.type !== 'qid') throw new Syntax('sp_addtype arguments')
      args.push(t.text)
    } while (this.#punct(','))
    const [name, base, nulls] = args
    if (name === undefined || base === undefined) throw new Syntax('sp_addtype needs a name and a base type')
    const inner = new TsqlParser(new TsqlLexer())
    inner.lex.append(base, true)
    const def = inner.#typeOf(name)
    if (nulls !== undefined) {
      def.nullable = !/^not\s+null$/i.test(nulls.trim())
      def.nullSpecified = true
    }
    return { kind: 'type_alias', name: { name }, base: def }
  }

  /** `DROP TABLE [IF EXISTS] t, …`; other DROPs change no data and are listed. */
  #drop(): Statement {
    this.lex.next()
    if (!this.#accept('TABLE')) throw new Syntax(`DROP ${this.lex.peek().text}`)
    const ifExists = this.#accept('IF')
    if (ifExists) this.#expectWord('EXISTS')
    const tables: QualifiedName[] = []
    do tables.push(this.#name())
    while (this.#punct(','))
    return { kind: 'drop_table', tables, ifExists }
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
    if (this.#accept('DROP')) {
      const names: string[] = []
      do {
        this.#expectWord('CONSTRAINT')
        if (this.#accept('IF')) this.#expectWord('EXISTS')
        names.push(this.#ident())
      } while (this.#punct(','))
      return { kind: 'alter_drop', table, constraints: names }
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
    const end = this.#skipStatement()
    const raw = this.lex.text.slice(start, end)
    const whole = raw.replace(/\s+/g, ' ').trim()
    const text = whole.length > 120 ? `${whole.slice(0, 117)}…` : whole
    const code = withoutComments(raw)
    const data = changesData(code)
    // a variable this statement would have assigned no longer has the value the reader knows
    for (const m of code.matchAll(/(@\w+)\s*=(?!=)/g)) {
      const name = m[1]!.toLowerCase()
      const v = this.variables.get(name)
      if (v) this.variables.set(name, { ...v, value: { unsupported: `${m[1]} (assigned by a statement not applied)` } })
    }
    return { kind: 'skipped', text, reason, data, writes: data ? tablesWritten(code) : [] }
  }

  /**
   * Moves past one statement the parser does not understand; returns where it ends. IF and WHILE take the
   * statement (or BEGIN … END block) they govern, and its ELSE; MERGE runs to its semicolon; anything else
   * runs to the next statement keyword at parenthesis depth 0.
   */
  #skipStatement(): number {
    const firstTok = this.lex.next()
    const firstWord = firstTok.type === 'word' ? firstTok.text.toUpperCase() : ''
    if (firstWord === 'BEGIN' && !this.#isWord('TRAN') && !this.#isWord('TRANSACTION')) return this.#skipBlock()
    let end = firstTok.end
    let depth = firstTok.type === 'punct' && firstTok.text === '(' ? 1 : 0
    for (;;) {
      const t = this.lex.peek()
      if (t.type === 'eof' || t.type === 'go') break
      if (firstWord === 'MERGE') {
        if (t.type === 'punct' && t.text === ';') break
      } else if (depth === 0 && t.type === 'word') {
        const w = t.text.toUpperCase()
        const stop = STATEMENT_WORDS.has(w) && !(w === 'SET' && firstWord === 'UPDATE') && !(w === 'SELECT' && (firstWord === 'INSERT' || firstWord === 'DECLARE'))
        if (stop) break
      }
      this.lex.next()
      if (t.type === 'punct' && t.text === '(') depth++
      if (t.type === 'punct' && t.text === ')') depth = Math.max(0, depth - 1)
      end = t.end
    }
    if (firstWord === 'IF' || firstWord === 'WHILE') {
      // the governed statement belongs to the condition: applying it alone would ignore the condition
      end = this.#governed(end)
      if (firstWord === 'IF' && this.#isWord('ELSE')) {
        this.lex.next()
        end = this.#governed(end)
      }
    }
    return end
  }

  #governed(end: number): number {
    const t = this.lex.peek()
    if (t.type === 'eof' || t.type === 'go') return end
    this.#punct(';')
    return this.#skipStatement()
  }

  /** Past `BEGIN … END` (BEGIN already read), counting nested BEGIN/CASE … END. */
  #skipBlock(): number {
    let depth = 1
    for (;;) {
      const t = this.lex.peek()
      if (t.type === 'eof' || t.type === 'go') return t.start
      this.lex.next()
      if (t.type !== 'word') continue
      const w = t.text.toUpperCase()
      if ((w === 'BEGIN' && !this.#isWord('TRAN') && !this.#isWord('TRANSACTION')) || w === 'CASE') depth++
      else if (w === 'END' && --depth === 0) return t.end
    }
  }
}
