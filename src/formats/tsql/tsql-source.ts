import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import iconv from 'iconv-lite'
import type { Connection, BaseDialect, DialectTypes, PrepareOptions, ReadBatch, ReadOptions, SnapshotInfo, SourceTableState } from '../../dialect.js'
import { fileState } from '../file-state.js'
import { ConnectionError, RowError, SchemaError, UsageError } from '../../errors.js'
import type { ColumnSchema, DatabaseSchema, LogicalType, ObjectSchema, Row, TableSchema, Value } from '../../schema/types.js'
import { ConversionFailure, makeConverter, valueSize, type Converter } from '../../schema/values.js'
import { LexError, NeedMore, TsqlLexer } from './tsql-lexer.js'
import { TsqlParser, type ColumnDef, type QualifiedName, type RawValue, type Statement } from './tsql-parser.js'

/** A statement the reader did not understand and skipped, with where it is. */
export interface SkippedStatement {
  line: number
  text: string
  reason: string
}

/** Which encoding a script is in, from its first bytes. */
export function detectEncoding(head: Uint8Array): { encoding: 'utf8' | 'utf16le' | 'utf16be'; bom: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', bom: 3 }
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', bom: 2 }
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', bom: 2 }
  // no BOM: ASCII text in UTF-16 has every other byte zero
  if (head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0) return { encoding: 'utf16le', bom: 0 }
  if (head.length >= 4 && head[0] === 0 && head[1] !== 0 && head[2] === 0 && head[3] !== 0) return { encoding: 'utf16be', bom: 0 }
  return { encoding: 'utf8', bom: 0 }
}

async function readHead(path: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of createReadStream(path, { start: 0, end: 3 })) {
    chunks.push(c as Buffer)
    n += (c as Buffer).length
  }
  return Buffer.concat(chunks, n)
}

/** A parsed statement with the line it starts on (1-based) and, where known, its byte range in the file. */
export interface LocatedStatement {
  statement: Statement
  line: number
  /** Byte offset of the statement's first token; undefined when offsets cannot be tracked exactly. */
  byteStart?: number
  /** Byte offset just past the statement. */
  byteEnd?: number
}

/** Where to start and stop reading a script: a statement boundary found by an earlier scan. */
export interface ScriptRange {
  start: number
  end: number
  /** The line at `start`. */
  line: number
}

/**
 * Streams the statements of a script file: decodes UTF-8 or UTF-16 (with or without BOM) chunk by chunk and
 * parses on a buffer that holds at most one statement plus one chunk. With `range`, reads only those bytes
 * (which must start at a statement boundary).
 */
export async function* scriptStatements(path: string, chunkBytes = 256 * 1024, range?: ScriptRange): AsyncGenerator<LocatedStatement> {
  const { encoding, bom } = detectEncoding(await readHead(path))
  const decoder = iconv.getDecoder(encoding === 'utf8' ? 'utf8' : encoding === 'utf16le' ? 'utf16le' : 'utf16-be')
  const lex = new TsqlLexer()
  const parser = new TsqlParser(lex)
  let line = range?.line ?? 1
  // byte offset of lex.text[0]; exact while decoded text re-encodes to the bytes read
  let textByte = range?.start ?? bom
  let exact = true
  const bytesOf = (from: number, to: number) => (encoding === 'utf8' ? Buffer.byteLength(lex.text.slice(from, to), 'utf8') : 2 * (to - from))
  const stream = createReadStream(path, { start: range?.start ?? bom, ...(range ? { end: range.end - 1 } : {}), highWaterMark: chunkBytes })
  const iterator = stream[Symbol.asyncIterator]()
  let done = false
  const pull = async () => {
    const r = await iterator.next()
    const text = r.done ? (decoder.end() ?? '') : decoder.write(r.value as Buffer)
    // a replacement character may stand for bytes of another length: stop trusting offsets
    if (encoding === 'utf8' && text.includes('\uFFFD')) exact = false
    if (r.done) done = true
    lex.append(text, done)
  }
  await pull()
  try {
    for (;;) {
      const start = lex.pos
      let statement: Statement
      try {
        statement = parser.parse()
      } catch (e) {
        if (e instanceof NeedMore && !done) {
          lex.reset(start)
          await pull()
          continue
        }
        if (e instanceof LexError) throw new SchemaError(`${path}, line ${line}: ${e.message}`, { cause: e })
        throw e
      }
      if (statement.kind === 'eof') return
      const tokenStart = Math.max(start, Math.min(parser.statementStart, lex.pos))
      const stmtLine = line + countNewlines(lex.text, start, tokenStart)
      line = stmtLine + countNewlines(lex.text, tokenStart, lex.pos)
      const located: LocatedStatement = { statement, line: stmtLine }
      if (exact) {
        located.byteStart = textByte + bytesOf(0, tokenStart)
        located.byteEnd = textByte + bytesOf(0, lex.pos)
      }
      yield located
      const end = lex.pos
      textByte += bytesOf(0, end)
      lex.compact()
    }
  } finally {
    stream.destroy()
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++
  return n
}

function keyOf(q: QualifiedName): string {
  return `${(q.schema ?? 'dbo').toLowerCase()}.${q.name.toLowerCase()}`
}

function displayName(q: QualifiedName): string {
  return `${q.schema ?? 'dbo'}.${q.name}`
}

/**
 * Builds a column's logical type from a T-SQL declaration (`nvarchar(50)`, `decimal(18,2)`, `datetime2(7)`,
 * `sysname`) with SQL Server's own type map (`types`, the SQL Server dialect's); the declaration as written is
 * the column's native type.
 */
export function columnTypeOf(def: ColumnDef, types: DialectTypes): { type: LogicalType; nativeType: string } | { rejected: string } {
  const declared = declaredType(def)
  const mapped = types.toLogical(declared)
  if ('reject' in mapped) return { rejected: mapped.reject }
  return { type: mapped, nativeType: declared }
}

/** A declaration as SQL Server would print it: `sysname` is `nvarchar(128)`; a length of -1 is `max`. */
function declaredType(def: ColumnDef): string {
  if (def.typeName === 'sysname') return 'nvarchar(128)'
  const args = def.args.map((a) => (a < 0 ? 'max' : String(a)))
  return args.length > 0 ? `${def.typeName}(${args.join(',')})` : def.typeName
}

interface TableState {
  schema: TableSchema
  /** Column name (lowercase) → index. */
  index: Map<string, number>
  rows: number
  /** Bytes from the first INSERT of the table to the end of its last, when every offset was exact. */
  range?: ScriptRange
  /** False once an INSERT of the table had no exact offset: reads scan the whole file. */
  seekable: boolean
}

/**
 * A T-SQL script as a read-only source (`tsql:./script.sql`). `introspect` scans the file once for its DDL
 * and row counts; `read` scans it again and yields the rows of one table. Statements the reader does not
 * understand are listed in {@link TsqlSource.skippedStatements} and in the snapshot's guarantee text.
 */
export class TsqlSource implements Connection {
  readonly description: string
  /** Statements skipped because dbferry does not understand them (filled by the first scan). */
  readonly skippedStatements: SkippedStatement[] = []
  #schema: DatabaseSchema | undefined
  #tables = new Map<string, TableState>()

  constructor(
    readonly dialect: BaseDialect,
    readonly path: string,
    /** SQL Server's type map, which reads the script's column declarations. */
    readonly types: DialectTypes,
  ) {
    this.description = `T-SQL script ${path}`
  }

  async #scan(): Promise<DatabaseSchema> {
    if (this.#schema) return this.#schema
    try {
      await stat(this.path)
    } catch (e) {
      throw new ConnectionError(`cannot open T-SQL script ${this.path}`, { cause: e })
    }
    const objects: ObjectSchema[] = []
    const orphanInserts = new Map<string, { name: string; rows: number; line: number }>()
    for await (const { statement: s, line, byteStart, byteEnd } of scriptStatements(this.path)) {
      switch (s.kind) {
        case 'create_table':
          this.#createTable(s, line)
          break
        case 'insert': {
          const t = this.#tables.get(keyOf(s.table))
          if (t) {
            t.rows += s.rows.length
            if (byteStart === undefined || byteEnd === undefined) t.seekable = false
            else if (t.range) t.range.end = byteEnd
            else t.range = { start: byteStart, end: byteEnd, line }
          } else {
            const o = orphanInserts.get(keyOf(s.table)) ?? { name: displayName(s.table), rows: 0, line }
            o.rows += s.rows.length
            orphanInserts.set(keyOf(s.table), o)
          }
          break
        }
        case 'alter_add':
        case 'create_index':
          this.#alter(s, line)
          break
        case 'object':
          objects.push({ name: s.name.name, ...(s.name.schema && s.name.schema.toLowerCase() !== 'dbo' ? { schema: s.name.schema } : {}), type: s.type === 'trigger' ? 'procedure' : s.type, definition: s.definition, dependsOn: [] })
          if (s.type === 'trigger') this.skippedStatements.push({ line, text: `CREATE TRIGGER ${displayName(s.name)}`, reason: 'triggers are not recreated' })
          break
        case 'skipped':
          this.skippedStatements.push({ line, text: s.text, reason: s.reason })
          break
        default:
          break
      }
    }
    for (const o of orphanInserts.values()) {
      this.skippedStatements.push({ line: o.line, text: `INSERT ${o.name} (${o.rows} rows)`, reason: 'the script does not create this table' })
    }
    const tables = [...this.#tables.values()].map((t) => ({ ...t.schema, rowCountEstimate: t.rows }))
    // dependencies of objects: names of tables and other objects their text mentions
    const names = [...tables.map((t) => t.name), ...objects.map((o) => o.name)]
    for (const o of objects) {
      const body = (o.definition ?? '').toLowerCase()
      o.dependsOn = names.filter((n) => n !== o.name && new RegExp(`(^|[^a-z0-9_])\\[?${escapeRe(n.toLowerCase())}\\]?($|[^a-z0-9_])`).test(body))
    }
    this.#schema = { dialect: 'mssql', tables, objects }
    return this.#schema
  }

  #createTable(s: Extract<Statement, { kind: 'create_table' }>, line: number): void {
    const columns: ColumnSchema[] = []
    for (const c of s.columns) {
      if (c.computed !== undefined) {
        columns.push({ name: c.name, type: { kind: 'text' }, nativeType: '', nullable: true, generated: true, default: { kind: 'expression', sql: c.computed, dialect: 'mssql' } })
        continue
      }
      const mapped = columnTypeOf(c, this.types)
      if ('rejected' in mapped) throw new SchemaError(`${this.path}, line ${line}: ${displayName(s.table)}.${c.name}: ${mapped.rejected}`)
      columns.push({
        name: c.name,
        type: mapped.type,
        nativeType: mapped.nativeType,
        nullable: c.nullable,
        ...(c.identity ? { autoIncrement: true } : {}),
        ...(c.collation ? { collation: c.collation } : {}),
        ...(c.default !== undefined ? { default: { kind: 'expression' as const, sql: c.default, dialect: 'mssql' } } : {}),
      })
    }
    const table: TableSchema = {
      name: s.table.name,
      ...(s.table.schema && s.table.schema.toLowerCase() !== 'dbo' ? { schema: s.table.schema } : {}),
      columns,
      uniques: [],
      indexes: [],
      foreignKeys: [],
    }
    const state: TableState = { schema: table, index: new Map(columns.map((c, i) => [c.name.toLowerCase(), i])), rows: 0, seekable: true }
    this.#tables.set(keyOf(s.table), state)
    this.#applyConstraints(state, s.constraints)
  }

  #applyConstraints(state: TableState, constraints: Extract<Statement, { kind: 'create_table' }>['constraints']): void {
    const t = state.schema
    for (const k of constraints) {
      if (k.kind === 'primary') {
        t.primaryKey = { ...(k.name ? { name: k.name } : {}), columns: k.columns.map((c) => this.#columnName(state, c)) }
        for (const c of t.primaryKey.columns) {
          const col = t.columns[state.index.get(c.toLowerCase())!]
          if (col) col.nullable = false
        }
      } else if (k.kind === 'unique') t.uniques.push({ ...(k.name ? { name: k.name } : {}), columns: k.columns.map((c) => this.#columnName(state, c)) })
      else if (k.kind === 'foreign') {
        t.foreignKeys.push({
          ...(k.name ? { name: k.name } : {}),
          columns: k.columns.map((c) => this.#columnName(state, c)),
          refTable: this.#tables.get(keyOf(k.ref))?.schema.name ?? k.ref.name,
          refColumns: k.refColumns.length > 0 ? k.refColumns : (this.#tables.get(keyOf(k.ref))?.schema.primaryKey?.columns ?? []),
          ...(k.onDelete ? { onDelete: k.onDelete } : {}),
          ...(k.onUpdate ? { onUpdate: k.onUpdate } : {}),
          origin: 'source',
        })
      } else if (k.kind === 'default') {
        const col = t.columns[state.index.get(k.column.toLowerCase()) ?? -1]
        if (col) col.default = { kind: 'expression', sql: k.expression, dialect: 'mssql' }
      }
    }
  }

  #columnName(state: TableState, name: string): string {
    const i = state.index.get(name.toLowerCase())
    if (i === undefined) throw new SchemaError(`${this.path}: table ${state.schema.name} has no column ${name}`)
    return state.schema.columns[i]!.name
  }

  #alter(s: Extract<Statement, { kind: 'alter_add' | 'create_index' }>, line: number): void {
    const state = this.#tables.get(keyOf(s.table))
    if (!state) {
      this.skippedStatements.push({ line, text: `${s.kind === 'alter_add' ? 'ALTER TABLE' : 'CREATE INDEX ON'} ${displayName(s.table)}`, reason: 'the script does not create this table' })
      return
    }
    if (s.kind === 'alter_add') this.#applyConstraints(state, s.constraints)
    else state.schema.indexes.push({ name: s.name, unique: s.unique, columns: s.columns.map((c) => this.#columnName(state, c)) })
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    const schema = await this.#scan()
    if (!options.tables) return schema
    const want = new Set(options.tables)
    return { ...schema, tables: schema.tables.filter((t) => want.has(t.name)) }
  }

  async snapshot(): Promise<SnapshotInfo> {
    await this.#scan()
    let guarantee = 'none needed: a script file read as it is'
    if (this.skippedStatements.length > 0) {
      const shown = this.skippedStatements.slice(0, 10).map((s) => `line ${s.line}: ${s.text} (${s.reason})`)
      guarantee += `; ${this.skippedStatements.length} statement(s) not understood and skipped: ${shown.join('; ')}${this.skippedStatements.length > 10 ? '; …' : ''}`
    }
    const notes = [
      ...this.skippedStatements.map((s) => `line ${s.line}: skipped ${s.text} (${s.reason})`),
      ...(this.#schema?.tables ?? []).flatMap((t) => t.columns.filter((c) => c.generated).map((c) => `${t.name}.${c.name}: computed column, not copied`)),
    ]
    return { guarantee, ...(notes.length > 0 ? { notes } : {}) }
  }

  /** The file's size and modification time: what resume compares. */
  async tableState(): Promise<SourceTableState> {
    return fileState(this.path)
  }

  async count(table: TableSchema): Promise<number> {
    await this.#scan()
    return this.#stateOf(table).rows
  }

  #stateOf(table: TableSchema): TableState {
    const state = this.#tables.get(keyOf({ schema: table.schema, name: table.name }))
    if (!state) throw new UsageError(`the script ${this.path} has no table ${table.name}`)
    return state
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    await this.#scan()
    const state = this.#stateOf(table)
    const wanted = keyOf({ schema: table.schema, name: table.name })
    // the engine may hand back a table whose columns were narrowed or reordered: align by name
    const positions = table.columns.map((c) => state.index.get(c.name.toLowerCase()))
    const converters: Converter[] = table.columns.map((c) => makeConverter(c.type))
    const keyCols = table.primaryKey?.columns ?? []
    let rows: Row[] = []
    let rejected: RowError[] = []
    let bytes = 0
    let ordinal = 0
    let lastKey: readonly Value[] | undefined
    let skipping = options.after !== undefined
    const afterKey = options.after ? JSON.stringify(options.after.map(String)) : ''
    const flush = (): ReadBatch => {
      const b: ReadBatch = { rows, rejected, ...(lastKey ? { lastKey } : {}) }
      rows = []
      rejected = []
      bytes = 0
      return b
    }
    // only the bytes between the table's first and last INSERT are read again, when the first scan knew them
    if (state.rows === 0) return
    const range = state.seekable ? state.range : undefined
    for await (const { statement: s, line } of scriptStatements(this.path, undefined, range)) {
      options.signal?.throwIfAborted()
      if (s.kind !== 'insert' || keyOf(s.table) !== wanted) continue
      // source column index → position in the INSERT's value list
      const order = s.columns ? s.columns.map((c) => state.index.get(c.toLowerCase())) : state.schema.columns.flatMap((c, i) => (c.generated ? [] : [i]))
      if (order.some((i) => i === undefined)) {
        const bad = s.columns!.find((c) => !state.index.has(c.toLowerCase()))
        for (const raw of s.rows) {
          ordinal++
          rejected.push(new RowError('malformed_record', `line ${line}: INSERT names column ${bad}, which ${table.name} does not have`, { table: table.name, key: `line ${line}`, row: raw.map(rawForJournal) }))
        }
        continue
      }
      const sourcePos = new Map<number, number>()
      order.forEach((ci, vi) => sourcePos.set(ci!, vi))
      for (const raw of s.rows) {
        ordinal++
        if (raw.length !== order.length) {
          rejected.push(new RowError('malformed_record', `line ${line}: ${raw.length} values for ${order.length} columns`, { table: table.name, key: `line ${line}`, row: raw.map(rawForJournal) }))
          continue
        }
        const row: Row = new Array(table.columns.length)
        let error: RowError | undefined
        for (let i = 0; i < table.columns.length; i++) {
          const p = positions[i]
          const vi = p === undefined ? undefined : sourcePos.get(p)
          const v: RawValue = vi === undefined ? null : raw[vi]!
          if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
            error = new RowError('type_conversion', `line ${line}: ${table.columns[i]!.name}: ${v.unsupported} is an expression dbferry does not evaluate`, { table: table.name, column: table.columns[i]!.name, value: v.unsupported })
            break
          }
          const c = converters[i]!(v)
          if (c instanceof ConversionFailure) {
            error = new RowError(c.kind, `line ${line}: ${table.columns[i]!.name}: ${c.reason}`, { table: table.name, column: table.columns[i]!.name, value: v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : v })
            break
          }
          row[i] = c
        }
        const key = keyCols.length > 0 ? keyCols.map((k) => row[table.columns.findIndex((c) => c.name === k)] ?? null) : [ordinal]
        if (skipping) {
          if (JSON.stringify(key.map(String)) === afterKey) skipping = false
          continue
        }
        if (error) {
          rejected.push(new RowError(error.code as 'type_conversion', error.message, { table: table.name, column: error.column, value: error.value, key: `line ${line}`, row: raw.map(rawForJournal) }))
          lastKey = key
          continue
        }
        rows.push(row)
        lastKey = key
        for (const v of row) bytes += valueSize(v)
        if (rows.length >= options.batchRows || bytes >= options.batchBytes) yield flush()
      }
    }
    if (rows.length > 0 || rejected.length > 0) yield flush()
  }

  async prepareTarget(_schema: DatabaseSchema, _options: PrepareOptions): Promise<void> {
    throw new UsageError('a T-SQL script is read-only: it can only be a source')
  }
  async openWriter(): Promise<never> {
    throw new UsageError('a T-SQL script is read-only: it can only be a source')
  }
  async finalize(): Promise<never> {
    throw new UsageError('a T-SQL script is read-only: it can only be a source')
  }
  async close(): Promise<void> {}
}

function rawForJournal(v: RawValue): unknown {
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`
  if (v !== null && typeof v === 'object') return v.unsupported
  return v
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Resolves `tsql:./x.sql`, `tsql:/abs/x.sql` and `tsql:///abs/x.sql` to a file path. */
export function scriptPath(url: string): string {
  let p = url.replace(/^tsql:/i, '')
  if (p.startsWith('//')) p = p.slice(2)
  if (p === '') throw new UsageError('tsql: needs a file path, e.g. tsql:./dump.sql')
  return resolve(p)
}
