import { existsSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  CsvText,
  BaseDialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SnapshotInfo,
  SourceTableState,
  TableWriter,
} from '../../dialect.js'
import { ConnectionError, SchemaError, UsageError } from '../../errors.js'
import { fileState } from '../file-state.js'
import type { ColumnSchema, DatabaseSchema, LogicalType, TableSchema } from '../../schema/types.js'
import { checkCsvOptions, CSV_DEFAULTS, csvOptionsFromQuery, type CsvOptions } from './csv-options.js'
import { countCsvRecords, readCsvTable, sampleCsv, type CsvTableSource } from './csv-source.js'
import { fileTypeName } from './csv-format.js'
import { openCsvText } from './csv-pass-through.js'
import { CsvFileWriter } from './csv-target.js'
import { inferColumnType } from './infer-types.js'

/** The file holding the schema of a CSV folder (written by the CSV target, read by the source). */
export const SIDECAR_NAME = 'dbferry.schema.json'

/**
 * Options for opening CSV files as a connection, besides the URL form `csv:./dir?delimiter=;`.
 * Pass it as the first argument of `csv.connect` (`csv.connect({ path: './dir', types: { 'orders.total': … } })`).
 */
export interface CsvConnectOptions extends ConnectOptions {
  /** A folder (one file per table) or one `.csv` file. */
  path: string
  /** CSV dialect options; see {@link CsvOptions} for defaults. */
  csv?: Partial<CsvOptions>
  /**
   * Column types, keyed `table.column` (or `column` for every table). Default, in this order: `tables`, the
   * target's table when it exists (modes truncate and append), the sidecar, a sample.
   */
  types?: Readonly<Record<string, LogicalType>>
  /** Table definitions to use instead of inference (columns by name; keys and foreign keys kept). */
  tables?: readonly TableSchema[]
  /** Read and write the schema sidecar (`dbferry.schema.json`, or `<file>.schema.json`). Default true. */
  sidecar?: boolean
}

const FILE_EXT = /\.(csv|tsv|txt)$/i

/** Where a column's type came from, in the order they take precedence. */
type TypeOrigin = 'given types' | 'the given schema' | 'the target table' | 'the schema file' | 'inferred' | 'text (inference off)'

/** The table of `tables` named `name`, or else the only one named so ignoring case. */
function byNameOrCase<T extends { name: string }>(items: readonly T[] | undefined, name: string): T | undefined {
  if (!items) return undefined
  const exact = items.find((t) => t.name === name)
  if (exact) return exact
  const folded = items.filter((t) => t.name.toLowerCase() === name.toLowerCase())
  return folded.length === 1 ? folded[0] : undefined
}

/** Splits `csv:./x?a=b` into a path and its query. */
export function parseFileUrl(url: string, scheme: string): { path: string; query: URLSearchParams } {
  let rest = url.slice(scheme.length + 1)
  if (rest.startsWith('//')) rest = rest.slice(2)
  const q = rest.indexOf('?')
  const path = q >= 0 ? rest.slice(0, q) : rest
  if (path === '') throw new UsageError(`${scheme}: needs a path, e.g. ${scheme}:./data`)
  return { path: decodeURIComponent(path), query: new URLSearchParams(q >= 0 ? rest.slice(q + 1) : '') }
}

/** Opens a CSV connection from a URL or {@link CsvConnectOptions}. */
export async function openCsv(dialect: BaseDialect, target: string | object, options: ConnectOptions = {}): Promise<CsvConnection> {
  let o: CsvConnectOptions
  if (typeof target === 'string') {
    const { path, query } = parseFileUrl(target, 'csv')
    const sidecar = query.get('sidecar')
    query.delete('sidecar')
    o = { ...options, path, csv: csvOptionsFromQuery(query), sidecar: sidecar === null ? undefined : !['false', '0', 'no'].includes(sidecar) }
  } else {
    const t = target as CsvConnectOptions
    if (typeof t.path !== 'string') throw new UsageError('csv.connect needs { path }')
    o = { ...options, ...t }
  }
  const csv = checkCsvOptions({ ...CSV_DEFAULTS, ...o.csv })
  const abs = resolve(o.path)
  const isFile = FILE_EXT.test(abs) || (existsSync(abs) && statSync(abs).isFile())
  return new CsvConnection(dialect, abs, o.path, isFile, csv, o)
}

/**
 * A folder of CSV files (one per table, table name = file name) or one CSV file, as a source and a target.
 */
export class CsvConnection implements Connection {
  readonly description: string
  #sources = new Map<string, CsvTableSource>()
  #started = new Set<string>()
  #schema: DatabaseSchema | undefined
  #targetTables: readonly TableSchema[] | undefined
  /** What the report shows about how the files were read: where each table's column types came from. */
  #snapshot: SnapshotInfo = { guarantee: 'none (file)' }
  #typeNotes = new Map<string, string>()

  constructor(
    readonly dialect: BaseDialect,
    readonly path: string,
    display: string,
    readonly isFile: boolean,
    readonly csv: CsvOptions,
    readonly options: CsvConnectOptions,
  ) {
    this.description = `csv:${display}`
  }

  get #sidecarPath(): string {
    return this.isFile ? join(dirname(this.path), basename(this.path, extname(this.path)) + '.schema.json') : join(this.path, SIDECAR_NAME)
  }

  #fileOf(table: string): string {
    return this.isFile ? this.path : join(this.path, `${table}.csv`)
  }

  /** The tables of the sidecar file, by name. */
  async #sidecar(): Promise<Map<string, TableSchema>> {
    const m = new Map<string, TableSchema>()
    if (this.options.sidecar === false) return m
    try {
      const parsed = JSON.parse(await readFile(this.#sidecarPath, 'utf8')) as { tables?: TableSchema[] }
      for (const t of parsed.tables ?? []) if (!m.has(t.name)) m.set(t.name, t)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SchemaError(`cannot read ${this.#sidecarPath}: ${(e as Error).message}`, { cause: e })
    }
    return m
  }

  /**
   * Takes the column types of tables that exist on the target: a column the target table has (by name, or
   * by name ignoring case when that is unambiguous) gets its type instead of one inferred or read from the
   * sidecar; `types` and `tables` given in the options still win.
   */
  useTargetTables(tables: readonly TableSchema[]): void {
    this.#targetTables = tables
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    let files: string[]
    if (this.isFile) {
      if (!existsSync(this.path)) throw new ConnectionError(`no such file: ${this.path}`)
      files = [this.path]
    } else {
      let names: string[]
      try {
        names = await readdir(this.path)
      } catch (e) {
        throw new ConnectionError(`cannot read the folder ${this.path}: ${(e as Error).message}`, { cause: e })
      }
      files = names.filter((n) => FILE_EXT.test(n)).sort().map((n) => join(this.path, n))
    }
    const sidecar = await this.#sidecar()
    const tables: TableSchema[] = []
    for (const file of files) {
      const name = basename(file, extname(file))
      if (options.tables && !options.tables.includes(name)) continue
      const sample = await sampleCsv(file, this.csv, this.options.fallbackEncoding)
      const size = (await stat(file)).size
      tables.push(this.#tableFrom(name, sample.header, sample.rows, size, sidecar.get(name)))
      this.#sources.set(name, { path: file, file: basename(file), options: this.csv, header: sample.header, fallbackEncoding: this.options.fallbackEncoding })
    }
    return { dialect: this.dialect.name, tables, objects: [] }
  }

  /**
   * Builds a table from a header and sample. A column's type comes from, in order: `types`, `tables`, the
   * target's existing table, the sidecar, the sample; the note it leaves for the report says which.
   */
  #tableFrom(name: string, header: string[], rows: (string | null)[][], size: number, sidecar: TableSchema | undefined): TableSchema {
    const types = this.options.types ?? {}
    const listed = this.options.tables?.find((t) => t.name === name)
    const given = listed ?? sidecar
    const target = byNameOrCase(this.#targetTables, name)
    const origins: TypeOrigin[] = []
    const columns: ColumnSchema[] = header.map((h, i) => {
      const g = given?.columns.find((c) => c.name === h)
      const override = types[`${name}.${h}`] ?? types[h]
      const t = byNameOrCase(target?.columns, h)
      let column: ColumnSchema
      if (g) column = { ...g }
      else column = { name: h, type: { kind: 'text' }, nativeType: '', nullable: true }
      if (override) {
        column.type = override
        origins.push('given types')
      } else if (listed && g) origins.push('the given schema')
      else if (t) {
        column.type = t.type
        origins.push('the target table')
      } else if (g) origins.push('the schema file')
      else if (this.csv.inferTypes) {
        column.type = inferColumnType(rows.map((r) => (r.length === header.length ? r[i] ?? null : null)))
        origins.push('inferred')
      } else origins.push('text (inference off)')
      return column
    })
    this.#noteTypes(name, columns, origins, rows.length)
    const names = new Set(header)
    const keep = (cols: string[]) => cols.every((c) => names.has(c))
    const avg = rows.length > 0 ? rows.reduce((s, r) => s + r.reduce((a, f) => a + (f?.length ?? 0) + 1, 0), 0) / rows.length : 0
    const t: TableSchema = {
      name,
      columns,
      uniques: (given?.uniques ?? []).filter((k) => keep(k.columns)),
      indexes: (given?.indexes ?? []).filter((k) => keep(k.columns)),
      foreignKeys: (given?.foreignKeys ?? []).filter((k) => keep(k.columns)),
    }
    if (given?.primaryKey && keep(given.primaryKey.columns)) t.primaryKey = given.primaryKey
    if (avg > 0) t.rowCountEstimate = Math.max(rows.length, Math.round(size / avg))
    return t
  }

  /** Records, for the report and `plan`, where the column types of `table` came from. */
  #noteTypes(table: string, columns: readonly ColumnSchema[], origins: readonly TypeOrigin[], sampled: number): void {
    const label = (o: TypeOrigin) => (o === 'inferred' ? `inferred from ${sampled} sampled row${sampled === 1 ? '' : 's'}` : `from ${o}`)
    const list = (idx: number[]) => idx.map((i) => `${columns[i]!.name} ${fileTypeName(columns[i]!.type)}`).join(', ')
    const groups = new Map<TypeOrigin, number[]>()
    origins.forEach((o, i) => groups.set(o, [...(groups.get(o) ?? []), i]))
    const parts = [...groups].map(([o, idx]) => (o.startsWith('text') ? `${o}: ${list(idx)}` : `${label(o)}: ${list(idx)}`))
    this.#typeNotes.set(table, `${table}: column types ${parts.join('; ')}`)
    // the snapshot object is the one the report holds: it shows the notes of every table read so far
    this.#snapshot.notes = [...this.#typeNotes.values()]
  }

  async snapshot(): Promise<SnapshotInfo> {
    return this.#snapshot
  }

  /** The table's file's size and modification time: what resume compares. */
  async tableState(table: TableSchema): Promise<SourceTableState> {
    return fileState((await this.#source(table)).path)
  }

  async count(table: TableSchema): Promise<number> {
    const src = await this.#source(table)
    return countCsvRecords(src.path, this.csv, this.options.fallbackEncoding)
  }

  async #source(table: TableSchema): Promise<CsvTableSource> {
    const name = table.origin ?? table.name
    if (!this.#sources.has(name)) await this.introspect({ tables: [name] })
    const s = this.#sources.get(name) ?? this.#sources.get(table.name)
    if (!s) throw new UsageError(`no CSV file for table ${JSON.stringify(name)} in ${this.description}`)
    return s
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    yield* readCsvTable(await this.#source(table), table, options)
  }

  /** The table's file as bytes for a target that parses CSV itself (see `openCsvText`). */
  async csvText(table: TableSchema): Promise<CsvText | string> {
    return openCsvText(await this.#source(table), table)
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (this.isFile && schema.tables.length > 1) {
      throw new UsageError(`${this.description} is one file but the run has ${schema.tables.length} tables: give a folder (csv:./dir)`)
    }
    await mkdir(this.isFile ? dirname(this.path) : this.path, { recursive: true })
    for (const t of schema.tables) {
      const file = this.#fileOf(t.name)
      if (existsSync(file)) {
        if (options.mode === 'create') throw new SchemaError(`${file} exists (use mode truncate, recreate or append)`, { code: 'target_exists', table: t.name })
        if (options.mode === 'append') this.#started.add(t.name)
        else await rm(file)
      }
    }
    this.#schema = schema
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    const fresh = !this.#started.has(table.name)
    this.#started.add(table.name)
    return CsvFileWriter.open(this.#fileOf(table.name), table, this.csv, fresh)
  }

  async finalize(schema: DatabaseSchema, _options: FinalizeOptions): Promise<ConstraintProblem[]> {
    // tables with no rows still get their file (header only)
    for (const t of schema.tables) {
      if (!this.#started.has(t.name)) await (await this.openWriter(t)).close()
    }
    if (this.options.sidecar !== false) {
      const body = { dbferry: 1, note: 'column types and keys of the CSV files beside this one', tables: (this.#schema ?? schema).tables }
      await writeFile(this.#sidecarPath, JSON.stringify(body, null, 2) + '\n')
    }
    return []
  }

  async close(): Promise<void> {}
}
