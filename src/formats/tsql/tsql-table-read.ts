import type { ReadBatch, ReadOptions } from '../../dialect.js'
import { RowError } from '../../errors.js'
import type { ColumnSchema, Row, TableSchema, Value } from '../../schema/types.js'
import { ConversionFailure, makeConverter, valueSize, type Converter } from '../../schema/values.js'
import { readDateLiteral } from './tsql-dates.js'
import type { DateFormat, Predicate, QualifiedName, RawValue, Statement } from './tsql-parser.js'
import { scriptStatements } from './tsql-statements.js'
import type { TableState } from './tsql-table-state.js'
import { callValue, defaultValue } from './tsql-values.js'
import { matches, type WhereColumn } from './tsql-where.js'

/** `schema.name`, lowercase: how SQL Server (case-insensitive by default) tells tables apart. */
export function keyOf(q: QualifiedName): string {
  return `${(q.schema ?? 'dbo').toLowerCase()}.${q.name.toLowerCase()}`
}

/** A statement that failed as SQL Server would fail it: its rows are rejected with the reason. */
class Refused extends Error {}

type Insert = Extract<Statement, { kind: 'insert' }>
type Fix = { column: string; kind: string; message: string; row: Row }

/**
 * Replays one table's statements in script order, as SQL Server would run them: INSERTs with their column
 * lists, IDENTITY_INSERT, generated identities, defaults for left-out columns, `NEWID()` and the clock
 * functions evaluated per row, date literals read under the session's DATEFORMAT, UPDATE and DELETE applied
 * to the rows held so far. Statements SQL Server would refuse are rejected with its reason.
 */
export class TableReplay {
  readonly #state: TableState
  readonly #wanted: string
  readonly #loadedAt: Date
  readonly #columns: ColumnSchema[]
  readonly #converters: Converter[]
  #dateFormat: DateFormat
  #identityInsert: boolean
  #defaults: (string | undefined)[]
  #lastIdentity: number | undefined
  readonly #defaultValues = new Map<string, RawValue>()
  /** Rows in source-column order (held until the end when the table is changed by UPDATE or DELETE). */
  held: Row[] = []
  /** Rejected rows and refused statements, in order. */
  rejected: RowError[] = []
  fixes: Fix[] = []
  /** Fixes of held rows: counted only for the rows still held when they go out (a DELETE may remove them). */
  #heldFixes: Fix[] = []

  constructor(state: TableState, wanted: string, loadedAt: Date, output: TableSchema) {
    this.#state = state
    this.#wanted = wanted
    this.#loadedAt = loadedAt
    // the engine may hand back narrowed or retyped columns: convert those with its types, the rest with ours
    this.#columns = state.schema.columns.map((c) => output.columns.find((o) => o.name.toLowerCase() === c.name.toLowerCase()) ?? c)
    this.#converters = this.#columns.map((c) => makeConverter(c.type))
    this.#dateFormat = state.session?.dateFormat ?? 'mdy'
    this.#identityInsert = state.session?.identityInsert ?? false
    this.#defaults = [...(state.session?.defaults ?? state.createDefaults)]
  }

  /** Feeds one statement of the script; returns the source rows it added (already held when the table changes). */
  apply(s: Statement, line: number): Row[] {
    switch (s.kind) {
      case 'set_dateformat':
        this.#dateFormat = s.format
        return []
      case 'set_identity_insert':
        if (keyOf(s.table) === this.#wanted) this.#identityInsert = s.on
        return []
      case 'create_table':
        if (keyOf(s.table) === this.#wanted) this.#defaults = [...this.#state.createDefaults]
        return []
      case 'alter_add':
        if (keyOf(s.table) !== this.#wanted) return []
        for (const k of s.constraints) {
          const i = k.kind === 'default' ? this.#state.index.get(k.column.toLowerCase()) : undefined
          if (k.kind === 'default' && i !== undefined) this.#defaults[i] = k.expression
        }
        return []
      case 'alter_drop':
        if (keyOf(s.table) !== this.#wanted) return []
        for (const name of s.constraints) {
          const i = this.#state.defaultNames.get(name.toLowerCase())
          if (i !== undefined) this.#defaults[i] = undefined
        }
        return []
      case 'insert':
        return keyOf(s.table) === this.#wanted ? this.#insert(s, line) : []
      case 'update':
      case 'delete':
        if (keyOf(s.table) === this.#wanted) this.#change(s, line)
        return []
      default:
        return []
    }
  }

  #insert(s: Insert, line: number): Row[] {
    const state = this.#state
    const name = state.schema.name
    const refuse = (reason: string) => {
      for (const raw of s.rows) this.rejected.push(new RowError('malformed_record', `line ${line}: ${reason}`, { table: name, key: `line ${line}`, row: raw.map(rawForJournal) }))
      return []
    }
    const identity = state.identity
    let targets: number[]
    if (s.columns) {
      const bad = s.columns.find((c) => !state.index.has(c.toLowerCase()))
      if (bad !== undefined) return refuse(`INSERT names column ${bad}, which ${name} does not have`)
      targets = s.columns.map((c) => state.index.get(c.toLowerCase())!)
      const namesIdentity = identity !== undefined && targets.includes(identity.index)
      if (namesIdentity && !this.#identityInsert) return refuse(`cannot insert an explicit value into the identity column of ${name} while IDENTITY_INSERT is OFF (SQL Server refuses the statement)`)
      if (identity && !namesIdentity && this.#identityInsert) return refuse(`IDENTITY_INSERT is ON for ${name}, so the INSERT must give the identity column (SQL Server refuses the statement)`)
    } else {
      if (identity && this.#identityInsert) return refuse(`IDENTITY_INSERT is ON for ${name}, so the INSERT needs a column list (SQL Server refuses the statement)`)
      // no column list: the values go to every column SQL Server fills from a list, identity and computed ones aside
      targets = state.schema.columns.flatMap((c, i) => (c.generated || i === identity?.index ? [] : [i]))
    }
    const out: Row[] = []
    for (const raw of s.rows) {
      if (raw.length !== targets.length) {
        this.rejected.push(new RowError('malformed_record', `line ${line}: ${raw.length} values for ${targets.length} columns`, { table: name, key: `line ${line}`, row: raw.map(rawForJournal) }))
        continue
      }
      const given = new Map<number, RawValue>()
      targets.forEach((ci, vi) => given.set(ci, raw[vi]!))
      const row = this.#row(given, line, raw)
      if (row) out.push(row)
    }
    if (state.changed) {
      this.held.push(...out)
      return []
    }
    return out
  }

  /** One row of source values, or undefined when a value does not convert (the reject is recorded). */
  #row(given: Map<number, RawValue>, line: number, raw: RawValue[]): Row | undefined {
    const cols = this.#state.schema.columns
    const row: Row = new Array(cols.length).fill(null)
    const fixes: { column: string; kind: string; message: string }[] = []
    for (let i = 0; i < cols.length; i++) {
      if (cols[i]!.generated) continue
      let v = given.get(i)
      let from = 'value'
      if (v === undefined || (v !== null && typeof v === 'object' && 'call' in v && v.call === 'default')) {
        if (i === this.#state.identity?.index) {
          row[i] = this.#nextIdentity()
          continue
        }
        v = this.#defaultOf(i)
        from = 'default'
      }
      const value = this.#value(i, v, line, fixes, from)
      if (value instanceof RowError) {
        this.rejected.push(new RowError(value.code, value.message, { table: this.#state.schema.name, column: value.column, value: value.value, key: `line ${line}`, row: raw.map(rawForJournal) }))
        return undefined
      }
      row[i] = value
    }
    const id = this.#state.identity
    if (id && given.has(id.index) && typeof row[id.index] === 'number') this.#sawIdentity(row[id.index] as number)
    for (const f of fixes) (this.#state.changed ? this.#heldFixes : this.fixes).push({ ...f, row })
    return row
  }

  /** A value for column `i` from the script, converted; a RowError when it does not convert. */
  #value(i: number, v: RawValue, line: number, fixes: { column: string; kind: string; message: string }[], from: string): Value | RowError {
    const c = this.#columns[i]!
    const table = this.#state.schema.name
    if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      if ('unsupported' in v) {
        return new RowError('type_conversion', `line ${line}: ${c.name}: ${from === 'default' ? `its default ${v.unsupported}` : v.unsupported} is an expression dbferry does not evaluate`, { table, column: c.name, value: v.unsupported })
      }
      v = callValue(v.call === 'default' ? 'getdate' : v.call, this.#loadedAt)
      fixes.push({ column: c.name, kind: 'generated', message: `line ${line}: ${c.name} generated at load time (${from === 'default' ? 'its default' : 'a function in VALUES'})` })
    }
    // SQL Server stores any number other than 0 in a bit column as 1
    if (typeof v === 'string' && /^bit$/i.test(this.#state.schema.columns[i]!.nativeType) && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim())) v = Number(v) === 0 ? '0' : '1'
    if (typeof v === 'string' && (c.type.kind === 'date' || c.type.kind === 'timestamp')) {
      const d = readDateLiteral(v, this.#dateFormat, this.#state.legacyDates.has(i))
      if (d && c.type.kind === 'date') {
        // SQL Server keeps the date of a date-and-time literal given to a date column
        if (d.time !== undefined && !/^00:00:00(\.0*)?$/.test(d.time)) fixes.push({ column: c.name, kind: 'date_truncated', message: `line ${line}: ${c.name}: ${v} cut to its date ${d.date}` })
        v = d.date
      } else if (d) v = `${d.date} ${d.time ?? '00:00:00'}`
    }
    const converted = this.#converters[i]!(v)
    if (converted instanceof ConversionFailure) {
      return new RowError(converted.kind, `line ${line}: ${c.name}: ${converted.reason}`, { table, column: c.name, value: v instanceof Uint8Array ? `0x${Buffer.from(v).toString('hex')}` : v })
    }
    return converted
  }

  #defaultOf(i: number): RawValue {
    const sql = this.#defaults[i]
    if (sql === undefined) return null
    let v = this.#defaultValues.get(sql)
    if (v === undefined) {
      v = defaultValue(sql)
      this.#defaultValues.set(sql, v)
    }
    return v
  }

  /** SQL Server's next identity: the seed first, then the last value (generated or inserted) plus the increment. */
  #nextIdentity(): number {
    const id = this.#state.identity!
    this.#lastIdentity = this.#lastIdentity === undefined ? id.seed : this.#lastIdentity + id.increment
    return this.#lastIdentity
  }

  #sawIdentity(v: number): void {
    const id = this.#state.identity!
    const ahead = (a: number, b: number) => (id.increment > 0 ? a > b : a < b)
    if (this.#lastIdentity === undefined ? !ahead(id.seed, v) : ahead(v, this.#lastIdentity)) this.#lastIdentity = v
  }

  /** UPDATE or DELETE on the rows held so far; the whole statement is refused when a literal does not fit. */
  #change(s: Extract<Statement, { kind: 'update' | 'delete' }>, line: number): void {
    const name = this.#state.schema.name
    try {
      const column = (c: string): WhereColumn => {
        const index = this.#state.index.get(c.toLowerCase())
        if (index === undefined) throw new Refused(`${name} has no column ${c}`)
        return { index, column: this.#columns[index]!, convert: (v) => this.#literal(index, v as RawValue, line) }
      }
      const hit = (row: Row) => (s.where ? matches(s.where as Predicate, row, column) : true)
      if (s.kind === 'delete') {
        this.held = this.held.filter((r) => !hit(r))
        const kept = new Set(this.held)
        this.#heldFixes = this.#heldFixes.filter((f) => kept.has(f.row))
        return
      }
      const sets = s.set.map((a) => {
        const c = column(a.column)
        if (c.index === this.#state.identity?.index) throw new Refused(`cannot update the identity column ${a.column}`)
        return c
      })
      const updated = this.held.map((r) => {
        if (!hit(r)) return r
        const next = [...r]
        sets.forEach((c, k) => {
          next[c.index] = this.#literal(c.index, s.set[k]!.value, line)
        })
        return next
      })
      // the fixes follow their rows into the updated copies
      const moved = new Map(this.held.map((r, k) => [r, updated[k]!]))
      for (const f of this.#heldFixes) f.row = moved.get(f.row) ?? f.row
      this.held = updated
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e)
      this.rejected.push(new RowError('malformed_record', `line ${line}: ${s.kind.toUpperCase()} not applied: ${reason}`, { table: name, key: `line ${line}` }))
    }
  }

  /** The rows held to the end (the table is changed by UPDATE or DELETE), their fixes moved out with them. */
  releaseHeld(): Row[] {
    this.fixes.push(...this.#heldFixes.splice(0))
    return this.held.splice(0)
  }

  /** A literal of an UPDATE or WHERE, as the column's value. */
  #literal(i: number, v: RawValue, line: number): Value {
    const fixes: { column: string; kind: string; message: string }[] = []
    const value = this.#value(i, v, line, fixes, 'value')
    if (value instanceof RowError) throw new Refused(value.message)
    return value
  }
}

/**
 * Reads one table of a script: replays the statements of its range and yields the rows in the order SQL
 * Server would hold them, with the fixes counted per column and the statements not applied rejected last.
 */
export async function* readTable(path: string, state: TableState, table: TableSchema, options: ReadOptions, loadedAt: Date): AsyncIterable<ReadBatch> {
  const wanted = keyOf({ schema: table.schema, name: table.name })
  const replay = new TableReplay(state, wanted, loadedAt, table)
  // output column → source column
  const positions = table.columns.map((c) => state.index.get(c.name.toLowerCase()))
  const keyCols = (table.primaryKey?.columns ?? []).map((k) => table.columns.findIndex((c) => c.name === k))
  let batch: ReadBatch = { rows: [], rejected: [] }
  let bytes = 0
  let ordinal = 0
  let skipping = options.after !== undefined
  const afterKey = options.after ? JSON.stringify(options.after.map(String)) : ''
  const flush = (): ReadBatch => {
    const b = batch
    batch = { rows: [], rejected: [] }
    bytes = 0
    return b
  }
  const project = (r: Row): Row => positions.map((p) => (p === undefined ? null : (r[p] ?? null)))
  const take = (rows: Row[]): boolean => {
    // fixes and rejects first, in script order, with the rows that carry them
    if (!skipping) {
      for (const f of replay.fixes.splice(0)) {
        batch.fixed = batch.fixed ?? {}
        batch.fixed[f.column] = (batch.fixed[f.column] ?? 0) + 1
        ;(batch.fixes ??= []).push({ ...f, row: project(f.row) })
      }
      for (const e of replay.rejected.splice(0)) {
        batch.rejected.push(e)
        ordinal++
      }
    } else {
      replay.fixes.length = 0
      ordinal += replay.rejected.splice(0).length
    }
    for (const r of rows) {
      ordinal++
      const row = project(r)
      const key = keyCols.length > 0 ? keyCols.map((k) => row[k] ?? null) : [ordinal]
      if (skipping) {
        if (JSON.stringify(key.map(String)) === afterKey) skipping = false
        continue
      }
      batch.rows.push(row)
      batch.lastKey = key
      for (const v of row) bytes += valueSize(v)
    }
    return batch.rows.length >= options.batchRows || bytes >= options.batchBytes
  }
  if (state.rows > 0 || state.unapplied.length > 0) {
    const range = state.seekable ? state.range : undefined
    if (state.rows > 0) {
      const variables = new Map(range ? state.session?.variables : undefined)
      for await (const { statement: s, line } of scriptStatements(path, undefined, range, variables)) {
        options.signal?.throwIfAborted()
        if (take(replay.apply(s, line))) yield flush()
      }
    }
    // held rows (the table was changed by UPDATE or DELETE) go out now, in batches
    const held = replay.releaseHeld()
    for (let i = 0; i < held.length || (i === 0 && (replay.rejected.length > 0 || replay.fixes.length > 0)); i += options.batchRows) {
      if (take(held.slice(i, i + options.batchRows))) yield flush()
    }
    for (const u of state.unapplied) {
      if (!skipping) batch.rejected.push(new RowError('malformed_record', `line ${u.line}: not applied: ${u.text} (${u.reason})`, { table: table.name, key: `line ${u.line}` }))
    }
  }
  if (batch.rows.length > 0 || batch.rejected.length > 0 || batch.fixed) yield flush()
}

function rawForJournal(v: RawValue): unknown {
  if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`
  if (v !== null && typeof v === 'object') return 'unsupported' in v ? v.unsupported : `${v.call}()`
  return v
}
