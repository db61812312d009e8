import { existsSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, extname, join, resolve } from 'node:path'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  Dialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SnapshotInfo,
  TableWriter,
} from '../../dialect.js'
import { ConnectionError, SchemaError, UsageError } from '../../errors.js'
import type { ColumnSchema, DatabaseSchema, LogicalType, TableSchema } from '../../schema/types.js'
import { checkCsvOptions, CSV_DEFAULTS, csvOptionsFromQuery, type CsvOptions } from './csv-options.js'
import { countCsvRecords, readCsvTable, sampleCsv, type CsvTableSource } from './csv-source.js'
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
  /** Column types, keyed `table.column` (or `column` for every table). Default: inferred from a sample. */
  types?: Readonly<Record<string, LogicalType>>
  /** Table definitions to use instead of inference (columns by name; keys and foreign keys kept). */
  tables?: readonly TableSchema[]
  /** Read and write the schema sidecar (`dbferry.schema.json`, or `<file>.schema.json`). Default true. */
  sidecar?: boolean
}

const FILE_EXT = /\.(csv|tsv|txt)$/i

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
export async function openCsv(dialect: Dialect, target: string | object, options: ConnectOptions = {}): Promise<CsvConnection> {
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

  constructor(
    readonly dialect: Dialect,
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

  async #sidecar(): Promise<Map<string, TableSchema>> {
    const m = new Map<string, TableSchema>()
    for (const t of this.options.tables ?? []) m.set(t.name, t)
    if (this.options.sidecar === false) return m
    try {
      const parsed = JSON.parse(await readFile(this.#sidecarPath, 'utf8')) as { tables?: TableSchema[] }
      for (const t of parsed.tables ?? []) if (!m.has(t.name)) m.set(t.name, t)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new SchemaError(`cannot read ${this.#sidecarPath}: ${(e as Error).message}`, { cause: e })
    }
    return m
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
    const given = await this.#sidecar()
    const tables: TableSchema[] = []
    for (const file of files) {
      const name = basename(file, extname(file))
      if (options.tables && !options.tables.includes(name)) continue
      const sample = await sampleCsv(file, this.csv, this.options.fallbackEncoding)
      const size = (await stat(file)).size
      tables.push(this.#tableFrom(name, sample.header, sample.rows, given.get(name), size))
      this.#sources.set(name, { path: file, file: basename(file), options: this.csv, header: sample.header, fallbackEncoding: this.options.fallbackEncoding })
    }
    return { dialect: this.dialect.name, tables, objects: [] }
  }

  /** Builds a table from a header and sample, with given definitions and type overrides taking precedence. */
  #tableFrom(name: string, header: string[], rows: (string | null)[][], given: TableSchema | undefined, size: number): TableSchema {
    const types = this.options.types ?? {}
    const columns: ColumnSchema[] = header.map((h, i) => {
      const g = given?.columns.find((c) => c.name === h)
      const override = types[`${name}.${h}`] ?? types[h]
      if (g) return { ...g, ...(override ? { type: override } : {}) }
      const type = override ?? (this.csv.inferTypes ? inferColumnType(rows.map((r) => (r.length === header.length ? r[i] ?? null : null))) : { kind: 'text' as const })
      return { name: h, type, nativeType: '', nullable: true }
    })
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

  async snapshot(): Promise<SnapshotInfo> {
    return { guarantee: 'none (file)' }
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
