import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Connection, BaseDialect, DialectTypes, PrepareOptions, ReadBatch, ReadOptions, SnapshotInfo, SourceTableState } from '../../dialect.js'
import { fileState } from '../file-state.js'
import { ConnectionError, SchemaError, UsageError } from '../../errors.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, LogicalType, ObjectSchema, TableSchema } from '../../schema/types.js'
import type { BatchVariable, ColumnDef, ConstraintDef, DateFormat, QualifiedName, Statement } from './tsql-parser.js'
import { scriptStatements } from './tsql-statements.js'
import { keyOf, readTable } from './tsql-table-read.js'
import { portableDefault } from './tsql-values.js'
import type { SkippedStatement, TableState } from './tsql-table-state.js'

export { detectEncoding, scriptStatements, type LocatedStatement } from './tsql-statements.js'
export type { ScriptRange, SkippedStatement } from './tsql-table-state.js'

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
  // a column declared `timestamp` is SQL Server's rowversion, not a date and time
  if (def.typeName === 'timestamp') return 'rowversion'
  const args = def.args.map((a) => (a < 0 ? 'max' : String(a)))
  return args.length > 0 ? `${def.typeName}(${args.join(',')})` : def.typeName
}

/**
 * A T-SQL script as a read-only source (`tsql:./script.sql`). `introspect` scans the file once for its DDL
 * and row counts; `read` scans a table's part again and replays it as SQL Server would (see `TableReplay`).
 * Every statement is applied or listed in {@link TsqlSource.skippedStatements} with its line and reason; those
 * that would have changed data (`data: true`) are also rejected in their table's read, so the run is not clean.
 */
export class TsqlSource implements Connection {
  readonly description: string
  /** Statements not applied, with their line and reason (filled by the first scan). */
  readonly skippedStatements: SkippedStatement[] = []
  /** What the scan wants the report to show besides skipped statements (replaced objects, CHECKs, rowversion). */
  readonly #notes: string[] = []
  #schema: DatabaseSchema | undefined
  #tables = new Map<string, TableState>()
  #types = new Map<string, ColumnDef>()
  /** The load's moment: what GETDATE() and its kin give every row. */
  readonly #loadedAt = new Date()

  constructor(
    readonly dialect: BaseDialect,
    readonly path: string,
    /** SQL Server's type map, which reads the script's column declarations. */
    readonly types: DialectTypes,
  ) {
    this.description = `T-SQL script ${path}`
  }

  /** Lists a statement not applied; one that changes data is also rejected in the table it writes to. */
  #skip(entry: SkippedStatement, table?: QualifiedName, listed = false): void {
    if (!listed) this.skippedStatements.push(entry)
    const state = table ? this.#tables.get(keyOf(table)) : undefined
    if (entry.data && state) state.unapplied.push(entry)
  }

  async #scan(): Promise<DatabaseSchema> {
    if (this.#schema) return this.#schema
    try {
      await stat(this.path)
    } catch (e) {
      throw new ConnectionError(`cannot open T-SQL script ${this.path}`, { cause: e })
    }
    const objects = new Map<string, { object: ObjectSchema; line: number; name: QualifiedName; kind: string }>()
    const orphans = new Map<string, { name: string; rows: number; line: number }>()
    let dateFormat: DateFormat = 'mdy'
    let identityInsert: string | undefined
    const variables = new Map<string, BatchVariable>()
    for await (const { statement: s, line, byteStart, byteEnd } of scriptStatements(this.path, undefined, undefined, variables)) {
      const touch = (state: TableState) => {
        if (byteStart === undefined || byteEnd === undefined) state.seekable = false
        else if (state.range) state.range.end = byteEnd
        else {
          state.range = { start: byteStart, end: byteEnd, line }
          state.session = { dateFormat, identityInsert: identityInsert === keyOf(state.schema), defaults: [...state.defaults], variables: new Map(variables) }
        }
      }
      switch (s.kind) {
        case 'create_table':
          this.#createTable(s, line)
          break
        case 'set_dateformat':
          dateFormat = s.format
          break
        case 'set_identity_insert':
          identityInsert = s.on ? keyOf(s.table) : identityInsert === keyOf(s.table) ? undefined : identityInsert
          break
        case 'insert':
        case 'update':
        case 'delete': {
          const t = this.#tables.get(keyOf(s.table))
          if (t) {
            touch(t)
            if (s.kind === 'insert') t.rows += s.rows.length
            else t.changed = true
          } else if (s.kind === 'insert') {
            const o = orphans.get(keyOf(s.table)) ?? { name: displayName(s.table), rows: 0, line }
            o.rows += s.rows.length
            orphans.set(keyOf(s.table), o)
          } else this.#skip({ line, text: `${s.kind.toUpperCase()} ${displayName(s.table)}`, reason: 'the script does not create this table', data: true })
          break
        }
        case 'alter_add':
        case 'alter_drop':
        case 'create_index': {
          const t = this.#tables.get(keyOf(s.table))
          // a default added or dropped while rows still come changes what later INSERTs get
          if (t && t.range && s.kind !== 'create_index' && this.#touchesDefaults(t, s)) touch(t)
          this.#alter(s, line)
          break
        }
        case 'type_alias':
          this.#types.set(s.name.name.toLowerCase(), s.base)
          break
        case 'drop_table':
          for (const name of s.tables) {
            if (this.#tables.delete(keyOf(name))) this.#notes.push(`line ${line}: DROP TABLE ${displayName(name)}: the table and its rows are gone, as in SQL Server`)
            else if (!s.ifExists) this.#skip({ line, text: `DROP TABLE ${displayName(name)}`, reason: 'the script does not create this table' })
          }
          break
        case 'object': {
          const object: ObjectSchema = { name: s.name.name, ...(s.name.schema && s.name.schema.toLowerCase() !== 'dbo' ? { schema: s.name.schema } : {}), type: s.type === 'trigger' ? 'procedure' : s.type, definition: s.definition, dependsOn: [] }
          const earlier = objects.get(keyOf(s.name))
          // SQL Server's names are case-insensitive: a second definition of the name replaces the first
          if (earlier) {
            objects.delete(keyOf(s.name))
            this.#notes.push(`line ${line}: CREATE ${s.type.toUpperCase()} ${displayName(s.name)} replaces ${displayName(earlier.name)} of line ${earlier.line} (SQL Server's names are case-insensitive; the later definition is kept)`)
          }
          objects.set(keyOf(s.name), { object, line, name: s.name, kind: s.type })
          if (s.type === 'trigger') this.#skip({ line, text: `CREATE TRIGGER ${displayName(s.name)}`, reason: 'triggers are not recreated' })
          break
        }
        case 'skipped':
          if (s.writes.length === 0) this.#skip({ line, text: s.text, reason: s.reason, data: s.data })
          else for (const [i, table] of s.writes.entries()) this.#skip({ line, text: s.text, reason: s.reason, data: s.data }, table, i > 0)
          break
        default:
          break
      }
    }
    for (const o of orphans.values()) this.#skip({ line: o.line, text: `INSERT ${o.name} (${o.rows} rows)`, reason: 'the script does not create this table', data: true })
    this.#resolveReferences()
    const tables = [...this.#tables.values()].map((t) => ({ ...t.schema, rowCountEstimate: t.rows }))
    // dependencies of objects: names of tables and other objects their text mentions
    const list = [...objects.values()].map((o) => o.object)
    const names = [...tables.map((t) => t.name), ...list.map((o) => o.name)]
    for (const o of list) {
      const body = (o.definition ?? '').toLowerCase()
      o.dependsOn = names.filter((n) => n !== o.name && new RegExp(`(^|[^a-z0-9_])\\[?${escapeRe(n.toLowerCase())}\\]?($|[^a-z0-9_])`).test(body))
    }
    this.#schema = { dialect: 'mssql', tables, objects: list }
    return this.#schema
  }

  #touchesDefaults(t: TableState, s: Extract<Statement, { kind: 'alter_add' | 'alter_drop' }>): boolean {
    if (s.kind === 'alter_add') return s.constraints.some((k) => k.kind === 'default')
    return s.constraints.some((n) => t.defaultNames.has(n.toLowerCase()))
  }

  /**
   * `REFERENCES t` without columns means t's primary key, known once the whole script is read; the table and
   * columns a key references take their declared spelling (SQL Server matches names without regard to case).
   */
  #resolveReferences(): void {
    for (const t of this.#tables.values()) {
      t.schema.foreignKeys = t.schema.foreignKeys.filter((fk) => {
        const ref = [...this.#tables.values()].find((r) => r.schema.name.toLowerCase() === fk.refTable.toLowerCase())
        if (ref) {
          fk.refTable = ref.schema.name
          fk.refColumns = fk.refColumns.map((c) => ref.schema.columns[ref.index.get(c.toLowerCase()) ?? -1]?.name ?? c)
        }
        if (fk.refColumns.length > 0) return true
        const pk = ref?.schema.primaryKey?.columns
        if (pk && pk.length === fk.columns.length) {
          fk.refColumns = [...pk]
          return true
        }
        this.#skip({ line: 0, text: `FOREIGN KEY ${fk.name ?? ''} ${t.schema.name} (${fk.columns.join(', ')}) REFERENCES ${fk.refTable}`.replace(/  +/g, ' '), reason: 'it names no columns and the referenced table has no matching primary key', data: true })
        return false
      })
    }
  }

  /** A column's declaration with a user-defined type (sp_addtype, CREATE TYPE … FROM) replaced by its base. */
  #resolveType(c: ColumnDef): ColumnDef {
    const alias = this.#types.get(c.typeName)
    if (!alias) return c
    return { ...c, typeName: alias.typeName, args: alias.args, nullable: c.nullSpecified ? c.nullable : alias.nullable }
  }

  #createTable(s: Extract<Statement, { kind: 'create_table' }>, line: number): void {
    const columns: ColumnSchema[] = []
    const createDefaults: (string | undefined)[] = []
    const defaultNames = new Map<string, number>()
    const legacyDates = new Set<number>()
    let identity: TableState['identity']
    for (const written of s.columns) {
      const c = this.#resolveType(written)
      createDefaults.push(c.default)
      if (c.defaultName) defaultNames.set(c.defaultName.toLowerCase(), columns.length)
      if (c.computed !== undefined) {
        columns.push({ name: c.name, type: { kind: 'text' }, nativeType: '', nullable: true, generated: true, default: { kind: 'expression', sql: c.computed, dialect: 'mssql' } })
        continue
      }
      const mapped = columnTypeOf(c, this.types)
      if ('rejected' in mapped) throw new SchemaError(`${this.path}, line ${line}: ${displayName(s.table)}.${c.name}: ${mapped.rejected}`)
      if (c.identity) identity = { index: columns.length, seed: c.identitySeed ?? 1, increment: c.identityIncrement ?? 1 }
      if (/^(datetime|smalldatetime)$/.test(c.typeName)) legacyDates.add(columns.length)
      // rowversion: SQL Server fills it from a database-wide counter no target keeps, so it is copied as
      // nullable bytes (the values a script gives, else none) rather than invented
      const rowversion = mapped.nativeType === 'rowversion'
      if (rowversion) this.#notes.push(`${s.table.name}.${c.name}: rowversion, copied as nullable binary(8) without generated values`)
      columns.push({
        name: c.name,
        type: mapped.type,
        nativeType: mapped.nativeType,
        nullable: c.nullable || rowversion,
        ...(c.identity ? { autoIncrement: true } : {}),
        ...(c.collation ? { collation: c.collation } : {}),
        ...(c.default !== undefined ? { default: portableDefault(c.default, mapped.type) } : {}),
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
    const state: TableState = {
      schema: table,
      index: new Map(columns.map((c, i) => [c.name.toLowerCase(), i])),
      rows: 0,
      seekable: true,
      ...(identity ? { identity } : {}),
      defaults: [...createDefaults],
      createDefaults,
      defaultNames,
      legacyDates,
      changed: false,
      unapplied: [],
    }
    if (this.#tables.has(keyOf(s.table))) this.#skip({ line, text: `CREATE TABLE ${displayName(s.table)}`, reason: 'the table already exists (SQL Server refuses the statement)', data: true })
    else {
      this.#tables.set(keyOf(s.table), state)
      this.#applyConstraints(state, s.constraints, line)
    }
  }

  #applyConstraints(state: TableState, constraints: readonly ConstraintDef[], line: number): void {
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
        const fk = {
          ...(k.name ? { name: k.name } : {}),
          columns: k.columns.map((c) => this.#columnName(state, c)),
          refTable: this.#tables.get(keyOf(k.ref))?.schema.name ?? k.ref.name,
          refColumns: k.refColumns.length > 0 ? k.refColumns : (this.#tables.get(keyOf(k.ref))?.schema.primaryKey?.columns ?? []),
          ...(k.onDelete ? { onDelete: k.onDelete } : {}),
          ...(k.onUpdate ? { onUpdate: k.onUpdate } : {}),
          origin: 'source' as const,
        }
        // the same key added again (after a DROP CONSTRAINT the parser kept, or twice by name) is one key
        const same = (o: ForeignKeySchema) =>
          (fk.name !== undefined && o.name?.toLowerCase() === fk.name.toLowerCase()) ||
          (o.refTable === fk.refTable && o.columns.join() === fk.columns.join() && o.refColumns.join() === fk.refColumns.join())
        t.foreignKeys = [...t.foreignKeys.filter((o) => !same(o)), fk]
      } else if (k.kind === 'default') {
        const i = state.index.get(k.column.toLowerCase())
        const col = t.columns[i ?? -1]
        if (col && i !== undefined) {
          col.default = portableDefault(k.expression, col.type)
          state.defaults[i] = k.expression
          if (k.name) state.defaultNames.set(k.name.toLowerCase(), i)
        }
      } else if (k.kind === 'check') {
        this.#notes.push(`line ${line}: ${t.name}: CHECK ${k.name ? `${k.name} ` : ''}(${k.expression.trim()}) is not copied`)
      }
    }
  }

  #columnName(state: TableState, name: string): string {
    const i = state.index.get(name.toLowerCase())
    if (i === undefined) throw new SchemaError(`${this.path}: table ${state.schema.name} has no column ${name}`)
    return state.schema.columns[i]!.name
  }

  #alter(s: Extract<Statement, { kind: 'alter_add' | 'alter_drop' | 'create_index' }>, line: number): void {
    const state = this.#tables.get(keyOf(s.table))
    if (!state) {
      this.#skip({ line, text: `${s.kind === 'create_index' ? 'CREATE INDEX ON' : 'ALTER TABLE'} ${displayName(s.table)}`, reason: 'the script does not create this table', data: s.kind !== 'create_index' })
      return
    }
    if (s.kind === 'alter_add') this.#applyConstraints(state, s.constraints, line)
    else if (s.kind === 'alter_drop') this.#dropConstraints(state, s.constraints, line)
    else state.schema.indexes.push({ name: s.name, unique: s.unique, columns: s.columns.map((c) => this.#columnName(state, c)) })
  }

  /** `ALTER TABLE … DROP CONSTRAINT`: removes the key, foreign key or default of that name. */
  #dropConstraints(state: TableState, names: readonly string[], line: number): void {
    const t = state.schema
    for (const name of names) {
      const n = name.toLowerCase()
      const is = (o: { name?: string }) => o.name?.toLowerCase() === n
      const before = t.foreignKeys.length + t.uniques.length + (t.primaryKey ? 1 : 0)
      t.foreignKeys = t.foreignKeys.filter((o) => !is(o))
      t.uniques = t.uniques.filter((o) => !is(o))
      if (t.primaryKey && is(t.primaryKey)) delete t.primaryKey
      const d = state.defaultNames.get(n)
      if (d !== undefined) {
        delete t.columns[d]!.default
        state.defaults[d] = undefined
      }
      if (before === t.foreignKeys.length + t.uniques.length + (t.primaryKey ? 1 : 0) && d === undefined) {
        this.#skip({ line, text: `ALTER TABLE ${t.name} DROP CONSTRAINT ${name}`, reason: 'no constraint of that name (SQL Server refuses the statement)' })
      }
    }
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    const schema = await this.#scan()
    if (!options.tables) return schema
    const want = new Set(options.tables)
    return { ...schema, tables: schema.tables.filter((t) => want.has(t.name)) }
  }

  /**
   * The guarantee text, and notes listing every statement not applied (`line N: skipped …`, with `changes
   * data` on those that would have changed rows, tables or keys), replaced objects, CHECKs and computed
   * columns. `notApplied` counts the data statements: a run with any is not clean.
   */
  async snapshot(): Promise<SnapshotInfo & { notApplied: number }> {
    await this.#scan()
    let guarantee = 'none needed: a script file read as it is'
    const skipped = this.skippedStatements
    if (skipped.length > 0) {
      const shown = skipped.slice(0, 10).map((s) => `line ${s.line}: ${s.text} (${s.reason})`)
      guarantee += `; ${skipped.length} statement(s) not understood and skipped: ${shown.join('; ')}${skipped.length > 10 ? '; …' : ''}`
    }
    const notApplied = skipped.filter((s) => s.data).length
    if (notApplied > 0) guarantee += `; ${notApplied} of them would have changed data: the copy is not what SQL Server would hold`
    const notes = [
      ...skipped.map((s) => `line ${s.line}: skipped ${s.text} (${s.reason})${s.data ? ' — changes data' : ''}`),
      ...this.#notes,
      ...(this.#schema?.tables ?? []).flatMap((t) => t.columns.filter((c) => c.generated).map((c) => `${t.name}.${c.name}: computed column, not copied`)),
    ]
    return { guarantee, ...(notes.length > 0 ? { notes } : {}), notApplied }
  }

  /** The file's size and modification time: what resume compares. */
  async tableState(): Promise<SourceTableState> {
    return fileState(this.path)
  }

  async count(table: TableSchema): Promise<number> {
    await this.#scan()
    const state = this.#stateOf(table)
    return state.rows + state.unapplied.length
  }

  #stateOf(table: TableSchema): TableState {
    const state = this.#tables.get(keyOf({ schema: table.schema, name: table.name }))
    if (!state) throw new UsageError(`the script ${this.path} has no table ${table.name}`)
    return state
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    await this.#scan()
    yield* readTable(this.path, this.#stateOf(table), table, options, this.#loadedAt)
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
