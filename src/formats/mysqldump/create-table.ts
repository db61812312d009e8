import type { DialectTypes } from '../../dialect.js'
import { SchemaError } from '../../errors.js'
import type { ColumnDefault, ColumnSchema, ForeignKeySchema, IndexSchema, KeySchema, LogicalType, TableSchema } from '../../schema/types.js'
import { ConversionFailure, makeConverter } from '../../schema/values.js'

/**
 * Parses the `CREATE TABLE` statements mysqldump writes into dbferry's schema model: columns with their
 * MySQL type (mapped to logical types by the MySQL dialect's type map), NULL-ability, defaults,
 * auto_increment, charset and collation; primary, unique and secondary keys; foreign keys; and the table's
 * engine, charset and collation. FULLTEXT and SPATIAL keys are MySQL-only and are left out.
 */

type Tok = { t: 'id' | 'word' | 'str' | 'num' | 'p'; v: string; at: number }

/** Tokenizes SQL text: backtick identifiers, words, quoted strings (escapes decoded), numbers, punctuation. */
export function tokenize(sql: string): Tok[] {
  const out: Tok[] = []
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    if (c === '-' && sql[i + 1] === '-' && (i + 2 >= n || /\s/.test(sql[i + 2]!))) {
      const e = sql.indexOf('\n', i)
      i = e < 0 ? n : e + 1
      continue
    }
    if (c === '#') {
      const e = sql.indexOf('\n', i)
      i = e < 0 ? n : e + 1
      continue
    }
    if (c === '/' && sql[i + 1] === '*') {
      if (sql[i + 2] === '!') {
        // version comment: its content is SQL; drop the opener and the version number
        i += 3
        while (i < n && /\d/.test(sql[i]!)) i++
        continue
      }
      const e = sql.indexOf('*/', i + 2)
      i = e < 0 ? n : e + 2
      continue
    }
    if (c === '*' && sql[i + 1] === '/') {
      i += 2
      continue
    }
    if (c === '`') {
      let v = ''
      let j = i + 1
      for (;;) {
        const e = sql.indexOf('`', j)
        if (e < 0) throw new SchemaError(`unterminated identifier in ${sql.slice(i, i + 40)}`)
        v += sql.slice(j, e)
        if (sql[e + 1] === '`') {
          v += '`'
          j = e + 2
          continue
        }
        i = e + 1
        break
      }
      out.push({ t: 'id', v, at: i })
      continue
    }
    if (c === "'" || c === '"') {
      let v = ''
      let j = i + 1
      for (;;) {
        if (j >= n) throw new SchemaError(`unterminated string in ${sql.slice(i, i + 40)}`)
        const ch = sql[j]!
        if (ch === '\\') {
          v += unescapeChar(sql[j + 1] ?? '')
          j += 2
          continue
        }
        if (ch === c) {
          if (sql[j + 1] === c) {
            v += c
            j += 2
            continue
          }
          j++
          break
        }
        v += ch
        j++
      }
      out.push({ t: 'str', v, at: i })
      i = j
      continue
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9.]/.test(sql[i + 1] ?? '')) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const m = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i, i + 80))!
      out.push({ t: 'num', v: m[0], at: i })
      i += m[0].length
      continue
    }
    if (/[A-Za-z_$@\u0080-\uffff]/.test(c)) {
      const m = /^[A-Za-z0-9_$@\u0080-\uffff]+/.exec(sql.slice(i, i + 256))!
      out.push({ t: 'word', v: m[0], at: i })
      i += m[0].length
      continue
    }
    out.push({ t: 'p', v: c, at: i })
    i++
  }
  return out
}

function unescapeChar(c: string): string {
  switch (c) {
    case '0':
      return '\0'
    case 'b':
      return '\b'
    case 'n':
      return '\n'
    case 'r':
      return '\r'
    case 't':
      return '\t'
    case 'Z':
      return '\x1a'
    case '%':
      return '\\%'
    case '_':
      return '\\_'
    default:
      return c
  }
}

class Cursor {
  i = 0
  constructor(readonly toks: Tok[]) {}
  peek(k = 0): Tok | undefined {
    return this.toks[this.i + k]
  }
  next(): Tok | undefined {
    return this.toks[this.i++]
  }
  isWord(w: string, k = 0): boolean {
    const t = this.peek(k)
    return t !== undefined && t.t === 'word' && t.v.toUpperCase() === w
  }
  isP(p: string, k = 0): boolean {
    const t = this.peek(k)
    return t !== undefined && t.t === 'p' && t.v === p
  }
  eatWord(w: string): boolean {
    if (this.isWord(w)) {
      this.i++
      return true
    }
    return false
  }
  eatP(p: string): boolean {
    if (this.isP(p)) {
      this.i++
      return true
    }
    return false
  }
  name(): string {
    const t = this.next()
    if (!t || (t.t !== 'id' && t.t !== 'word' && t.t !== 'str')) throw new SchemaError(`expected a name, got ${t ? JSON.stringify(t.v) : 'the end'}`)
    return t.v
  }
  /** Skips a balanced parenthesised group starting at the current `(`; returns its tokens. */
  group(): Tok[] {
    if (!this.eatP('(')) return []
    const start = this.i
    let depth = 1
    while (this.i < this.toks.length) {
      const t = this.toks[this.i++]!
      if (t.t === 'p' && t.v === '(') depth++
      else if (t.t === 'p' && t.v === ')' && --depth === 0) return this.toks.slice(start, this.i - 1)
    }
    throw new SchemaError('unbalanced parentheses')
  }
  done(): boolean {
    return this.i >= this.toks.length
  }
}

/** Splits the tokens of a group at top-level commas. */
function splitItems(toks: Tok[]): Tok[][] {
  const items: Tok[][] = []
  let cur: Tok[] = []
  let depth = 0
  for (const t of toks) {
    if (t.t === 'p' && t.v === '(') depth++
    if (t.t === 'p' && t.v === ')') depth--
    if (depth === 0 && t.t === 'p' && t.v === ',') {
      items.push(cur)
      cur = []
    } else cur.push(t)
  }
  if (cur.length > 0) items.push(cur)
  return items
}

/** Reads a key's column list: `(`a`,`b`(10))` → names and prefix lengths. */
function keyColumns(c: Cursor): { columns: string[]; lengths: (number | undefined)[] } {
  const items = splitItems(c.group())
  const columns: string[] = []
  const lengths: (number | undefined)[] = []
  for (const it of items) {
    const name = it[0]
    if (!name) continue
    columns.push(name.v)
    const len = it[1]?.v === '(' ? Number(it[2]?.v) : undefined
    lengths.push(Number.isFinite(len) ? len : undefined)
  }
  return { columns, lengths }
}

/**
 * A column's logical type from its declaration with MySQL's own type map (`types`, the MySQL dialect's), as
 * information_schema would print it: `bool` is `tinyint(1)`, `dec`/`fixed` are `decimal`, `double precision`
 * is `double`.
 */
function typeOf(base: string, columnType: string, types: DialectTypes): LogicalType {
  let declared = columnType
  if (base === 'bool' || base === 'boolean') declared = 'tinyint(1)'
  else if (base === 'dec' || base === 'fixed') declared = `decimal${columnType.slice(base.length)}`
  else if (base === 'double') declared = columnType.replace(/ precision\b/, '')
  const mapped = types.toLogical(declared)
  if ('reject' in mapped) throw new SchemaError(`type ${columnType}: ${mapped.reject}`)
  return mapped
}

function literalText(t: Tok | undefined): string | undefined {
  if (!t) return undefined
  if (t.t === 'str' || t.t === 'num') return t.v
  return undefined
}

function parseColumn(toks: Tok[], types: DialectTypes): ColumnSchema {
  const c = new Cursor(toks)
  const name = c.name()
  const baseTok = c.next()
  if (!baseTok) throw new SchemaError(`column ${name} has no type`)
  const base = baseTok.v.toLowerCase()
  let columnType = base
  const params: string[] = []
  if (c.isP('(')) {
    const g = c.group()
    const parts = splitItems(g).map((it) => it.map((t) => (t.t === 'str' ? `'${t.v.replace(/'/g, "''")}'` : t.v)).join(''))
    params.push(...parts)
    columnType += `(${parts.join(',')})`
  }
  while (!c.done() && c.peek()!.t === 'word' && ['UNSIGNED', 'SIGNED', 'ZEROFILL', 'BINARY', 'PRECISION'].includes(c.peek()!.v.toUpperCase())) {
    columnType += ` ${c.next()!.v.toLowerCase()}`
  }
  const type = typeOf(base, columnType, types)
  const col: ColumnSchema = { name, type, nativeType: columnType, nullable: true }
  let defaultText: string | undefined
  let defaultTok: Tok | undefined
  while (!c.done()) {
    if (c.eatWord('NOT')) {
      c.eatWord('NULL')
      col.nullable = false
    } else if (c.eatWord('NULL')) col.nullable = true
    else if (c.eatWord('DEFAULT')) {
      if (c.isP('(')) {
        const g = c.group()
        col.default = { kind: 'expression', sql: g.map((t) => t.v).join(' '), dialect: 'mysql' }
      } else {
        defaultTok = c.next()
        if (defaultTok?.t === 'word') {
          const w = defaultTok.v.toUpperCase()
          if (w === 'CURRENT_TIMESTAMP' || w === 'NOW' || w === 'LOCALTIMESTAMP') {
            if (c.isP('(')) c.group()
            col.default = { kind: 'now' }
          } else if (w !== 'NULL') col.default = { kind: 'expression', sql: defaultTok.v, dialect: 'mysql' }
        } else defaultText = literalText(defaultTok)
      }
    } else if (c.eatWord('AUTO_INCREMENT')) col.autoIncrement = true
    else if (c.eatWord('CHARACTER')) {
      c.eatWord('SET')
      col.charset = c.name()
    } else if (c.eatWord('CHARSET')) col.charset = c.name()
    else if (c.eatWord('COLLATE')) col.collation = c.name()
    else if (c.eatWord('COMMENT')) c.next()
    else if (c.eatWord('GENERATED') || c.isWord('AS')) {
      col.generated = true
      c.eatWord('ALWAYS')
      c.eatWord('AS')
      c.group()
    } else if (c.eatWord('ON')) {
      // ON UPDATE CURRENT_TIMESTAMP[(n)]
      c.eatWord('UPDATE')
      c.next()
      if (c.isP('(')) c.group()
    } else if (c.isP('(')) c.group()
    else c.next()
  }
  if (defaultText !== undefined) {
    const v = makeConverter(type)(defaultText)
    if (!(v instanceof ConversionFailure)) col.default = { kind: 'value', value: v } satisfies ColumnDefault
  }
  if (col.charset === undefined && col.collation !== undefined) col.charset = col.collation.split('_')[0]

  return col
}

/** The table name of a `CREATE TABLE` statement (the last part of `db`.`t`). */
export function createTableName(toks: Tok[]): string | undefined {
  const c = new Cursor(toks)
  if (!c.eatWord('CREATE')) return undefined
  c.eatWord('TEMPORARY')
  if (!c.eatWord('TABLE')) return undefined
  if (c.eatWord('IF')) {
    c.eatWord('NOT')
    c.eatWord('EXISTS')
  }
  let name = c.name()
  while (c.eatP('.')) name = c.name()
  return name
}

/** Parses one `CREATE TABLE` statement (text without the delimiter). */
export function parseCreateTable(sql: string, types: DialectTypes): TableSchema {
  const toks = tokenize(sql)
  const c = new Cursor(toks)
  c.eatWord('CREATE')
  c.eatWord('TEMPORARY')
  if (!c.eatWord('TABLE')) throw new SchemaError(`not a CREATE TABLE: ${sql.slice(0, 60)}`)
  if (c.eatWord('IF')) {
    c.eatWord('NOT')
    c.eatWord('EXISTS')
  }
  let name = c.name()
  while (c.eatP('.')) name = c.name()
  if (c.eatWord('LIKE')) throw new SchemaError(`CREATE TABLE ${name} LIKE … is not supported in dump files`, { table: name })
  const body = splitItems(c.group())
  const table: TableSchema = { name, columns: [], uniques: [], indexes: [], foreignKeys: [] }
  for (const item of body) {
    const ic = new Cursor(item)
    const first = item[0]
    if (!first) continue
    const w = first.t === 'word' ? first.v.toUpperCase() : ''
    let constraintName: string | undefined
    if (w === 'CONSTRAINT') {
      ic.next()
      if (!ic.isWord('PRIMARY') && !ic.isWord('UNIQUE') && !ic.isWord('FOREIGN') && !ic.isWord('CHECK')) constraintName = ic.name()
    }
    if (first.t === 'id' || (first.t === 'word' && !['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'KEY', 'INDEX', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK', 'PERIOD'].includes(w))) {
      table.columns.push(parseColumn(item, types))
      continue
    }
    if (ic.eatWord('PRIMARY')) {
      ic.eatWord('KEY')
      if (!ic.isP('(')) ic.next()
      table.primaryKey = { columns: keyColumns(ic).columns } satisfies KeySchema
    } else if (ic.eatWord('UNIQUE')) {
      if (!ic.eatWord('KEY')) ic.eatWord('INDEX')
      const keyName = ic.isP('(') ? constraintName : ic.name()
      const { columns, lengths } = keyColumns(ic)
      table.uniques.push({ name: keyName, columns })
      if (lengths.some((l) => l !== undefined)) {
        // a prefix unique key cannot be a plain unique constraint elsewhere: keep it as a MySQL index too
        table.uniques.pop()
        table.indexes.push({ name: keyName ?? `${name}_${columns.join('_')}_key`, columns, unique: true, lengths })
      }
    } else if (ic.eatWord('KEY') || ic.eatWord('INDEX')) {
      const keyName = ic.isP('(') ? `${name}_${item.map((t) => t.v).join('_')}` : ic.name()
      const { columns, lengths } = keyColumns(ic)
      const idx: IndexSchema = { name: keyName, columns, unique: false }
      if (lengths.some((l) => l !== undefined)) idx.lengths = lengths
      table.indexes.push(idx)
    } else if (ic.eatWord('FOREIGN')) {
      ic.eatWord('KEY')
      if (!ic.isP('(')) ic.next()
      const { columns } = keyColumns(ic)
      ic.eatWord('REFERENCES')
      let refTable = ic.name()
      while (ic.eatP('.')) refTable = ic.name()
      const { columns: refColumns } = keyColumns(ic)
      const fk: ForeignKeySchema = { columns, refTable, refColumns, origin: 'source' }
      if (constraintName) fk.name = constraintName
      while (!ic.done()) {
        if (ic.eatWord('ON')) {
          const which = ic.next()!.v.toUpperCase()
          let action = ic.next()!.v.toUpperCase()
          if (action === 'SET' || action === 'NO') action += ` ${ic.next()!.v.toUpperCase()}`
          if (which === 'DELETE') fk.onDelete = action
          else fk.onUpdate = action
        } else ic.next()
      }
      table.foreignKeys.push(fk)
    }
    // FULLTEXT, SPATIAL and CHECK are MySQL-specific and left out
  }
  // table options: ENGINE=…, DEFAULT CHARSET=…, COLLATE=…
  while (!c.done()) {
    const t = c.next()!
    if (t.t !== 'word') continue
    const k = t.v.toUpperCase()
    if (k === 'ENGINE' || k === 'TYPE') {
      c.eatP('=')
      table.engine = c.name()
    } else if (k === 'CHARSET' || (k === 'CHARACTER' && c.eatWord('SET'))) {
      c.eatP('=')
      table.charset = c.name()
    } else if (k === 'COLLATE') {
      c.eatP('=')
      table.collation = c.name()
    }
  }
  if (table.charset === undefined && table.collation !== undefined) table.charset = table.collation.split('_')[0]
  if (table.columns.length === 0) throw new SchemaError(`CREATE TABLE ${name} has no columns`, { table: name })
  return table
}
