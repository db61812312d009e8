import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs'
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { once } from 'node:events'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  BaseDialect,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  ReadOptions,
  SnapshotInfo, SourceTableState,
  TableWriter,
} from '../../dialect.js'
import { fileState } from '../file-state.js'
import { ConnectionError, RowError, SchemaError, UsageError } from '../../errors.js'
import { orderTables } from '../../plan/order.js'
import type { ColumnSchema, DatabaseSchema, LogicalType, TableSchema } from '../../schema/types.js'
import { parseFileUrl } from '../csv/csv-connection.js'
import { recordFormatter } from '../csv/csv-format.js'
import { checkCsvOptions, CSV_DEFAULTS, csvOptionsFromQuery, type CsvOptions } from '../csv/csv-options.js'
import { readCsvItems, readCsvTable, type CsvItem } from '../csv/csv-source.js'
import { CsvFileWriter, outputEncoding } from '../csv/csv-target.js'
import { encodeText } from '../csv/encoding.js'
import { inferColumnType } from '../csv/infer-types.js'
import { readMultiCsv } from './multicsv-reader.js'

/** web2py's conventions: `<NULL>` for NULL, CRLF line ends, `True`/`False`. */
export const MULTICSV_DEFAULTS: Readonly<CsvOptions> = Object.freeze({ ...CSV_DEFAULTS, null: '<NULL>', eol: '\r\n' as const })

/** Options for a multi-table CSV file besides the URL form `multicsv:./export.csv?null=<NULL>`. */
export interface MultiCsvConnectOptions extends ConnectOptions {
  /** The file. */
  path: string
  /** CSV options; defaults {@link MULTICSV_DEFAULTS}. */
  csv?: Partial<CsvOptions>
  /** Column types keyed `table.column`. Default: inferred from each table's first rows. */
  types?: Readonly<Record<string, LogicalType>>
  /** Table definitions (keys, foreign keys, types) to use instead of inference. */
  tables?: readonly TableSchema[]
}

/** Opens a multi-table CSV connection from a URL or {@link MultiCsvConnectOptions}. */
export async function openMultiCsv(dialect: BaseDialect, target: string | object, options: ConnectOptions = {}): Promise<MultiCsvConnection> {
  let o: MultiCsvConnectOptions
  if (typeof target === 'string') {
    const { path, query } = parseFileUrl(target, 'multicsv')
    o = { ...options, path, csv: csvOptionsFromQuery(query, MULTICSV_DEFAULTS) }
  } else {
    const t = target as MultiCsvConnectOptions
    if (typeof t.path !== 'string') throw new UsageError('multicsv.connect needs { path }')
    o = { ...options, ...t }
  }
  const csv = checkCsvOptions({ ...MULTICSV_DEFAULTS, ...o.csv, header: true })
  return new MultiCsvConnection(dialect, resolve(o.path), o.path, csv, o)
}

/** The internal form of a table's section: CSV with the original line number as the first field. */
const PART_OPTIONS: CsvOptions = { ...CSV_DEFAULTS, header: false, eol: '\n' }

interface Section {
  name: string
  header: string[]
  sample: (string | null)[][]
  rejected: RowError[]
  part: string
  rows: number
}

/**
 * One web2py-style multi-table CSV file as a source and a target. As a source, the first `introspect`
 * reads the file once and splits it into a temporary file per table (so tables can be read in any order,
 * parents first); as a target, tables are written to temporary parts and assembled in foreign-key order
 * (parents first) by `finalize`.
 */
export class MultiCsvConnection implements Connection {
  readonly description: string
  #sections: Map<string, Section> | undefined
  #tmp: string | undefined
  #parts = new Map<string, string>()
  #started = new Set<string>()

  constructor(
    readonly dialect: BaseDialect,
    readonly path: string,
    display: string,
    readonly csv: CsvOptions,
    readonly options: MultiCsvConnectOptions,
  ) {
    this.description = `multicsv:${display}`
  }

  async #tempDir(): Promise<string> {
    this.#tmp ??= await mkdtemp(join(tmpdir(), 'dbferry-multicsv-'))
    return this.#tmp
  }

  async #index(): Promise<Map<string, Section>> {
    if (this.#sections) return this.#sections
    if (!existsSync(this.path)) throw new ConnectionError(`no such file: ${this.path}`)
    const dir = await this.#tempDir()
    const sections = new Map<string, Section>()
    const format = recordFormatter(PART_OPTIONS)
    let current: Section | undefined
    let out: WriteStream | undefined
    let pending = ''
    const flush = async (force: boolean) => {
      if (out && (force || pending.length > 1 << 20)) {
        if (!out.write(pending)) await once(out, 'drain')
        pending = ''
      }
    }
    const closePart = async () => {
      await flush(true)
      if (out) {
        out.end()
        await once(out, 'finish')
      }
      out = undefined
    }
    const orphan: RowError[] = []
    const want = Math.max(1, this.csv.sampleRows)
    for await (const events of readMultiCsv(this.path, this.csv, this.options.fallbackEncoding)) {
      for (const e of events) {
        switch (e.kind) {
          case 'table': {
            await closePart()
            const name = e.name
            const part = join(dir, `${sections.size}.csv`)
            current = sections.get(name) ?? { name, header: [], sample: [], rejected: [], part, rows: 0 }
            if (!sections.has(name)) sections.set(name, current)
            out = createWriteStream(current.part, { flags: 'a' })
            break
          }
          case 'header':
            if (current && current.header.length === 0) current.header = e.columns
            break
          case 'row':
            if (!current) break
            if (current.sample.length < want && e.fields.length === current.header.length) current.sample.push(e.fields)
            current.rows++
            pending += format([String(e.line), ...e.fields])
            await flush(false)
            break
          case 'malformed': {
            const err = new RowError('malformed_record', `${this.options.path} line ${e.line}: ${e.reason}`, {
              table: current?.name,
              key: `line ${e.line}`,
              row: [e.raw],
            })
            if (current) current.rejected.push(err)
            else orphan.push(err)
            break
          }
          case 'invalid': {
            const err = new RowError('invalid_encoding', `${this.options.path} line ${e.line}: bytes that are not valid UTF-8 (give the file's encoding, e.g. ?encoding=cp1252)`, {
              table: current?.name,
              key: `line ${e.line}`,
              row: e.fields,
            })
            if (current) current.rejected.push(err)
            else orphan.push(err)
            break
          }
          case 'end':
            break
        }
      }
    }
    await closePart()
    if (orphan.length > 0) {
      throw new SchemaError(`${this.options.path} is not a multi-table CSV file: ${orphan[0]!.message}`)
    }
    this.#sections = sections
    return sections
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    const sections = await this.#index()
    const given = new Map((this.options.tables ?? []).map((t) => [t.name, t]))
    const types = this.options.types ?? {}
    const tables: TableSchema[] = []
    for (const s of sections.values()) {
      if (options.tables && !options.tables.includes(s.name)) continue
      // a table exported without rows has no header: nothing to create or load
      if (s.header.length === 0) continue
      const g = given.get(s.name)
      const columns: ColumnSchema[] = s.header.map((h, i) => {
        const gc = g?.columns.find((c) => c.name === h)
        const override = types[`${s.name}.${h}`]
        if (gc) return { ...gc, ...(override ? { type: override } : {}) }
        const type = override ?? (this.csv.inferTypes ? inferColumnType(s.sample.map((r) => r[i] ?? null)) : { kind: 'text' as const })
        return { name: h, type, nativeType: '', nullable: true }
      })
      const t: TableSchema = {
        name: s.name,
        columns,
        uniques: g?.uniques ?? [],
        indexes: g?.indexes ?? [],
        foreignKeys: g?.foreignKeys ?? [],
        rowCountEstimate: s.rows + s.rejected.length,
      }
      if (g?.primaryKey) t.primaryKey = g.primaryKey
      else if (s.header.includes('id') && !g) t.primaryKey = { columns: ['id'] }
      tables.push(t)
    }
    return { dialect: this.dialect.name, tables, objects: [] }
  }

  /** Table names in file order, including tables exported without rows. */
  async tableNames(): Promise<string[]> {
    return [...(await this.#index()).keys()]
  }

  async snapshot(): Promise<SnapshotInfo> {
    return { guarantee: 'none (file)' }
  }

  /** The file's size and modification time: what resume compares. */
  async tableState(): Promise<SourceTableState> {
    return fileState(this.path)
  }

  async count(table: TableSchema): Promise<number> {
    const s = (await this.#index()).get(table.origin ?? table.name)
    return s ? s.rows + s.rejected.length : 0
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    const s = (await this.#index()).get(table.origin ?? table.name) ?? (await this.#index()).get(table.name)
    if (!s) throw new UsageError(`no table ${JSON.stringify(table.name)} in ${this.description}`)
    const items = async function* (): AsyncGenerator<CsvItem[]> {
      if (!existsSync(s.part)) return
      for await (const batch of readCsvItems(s.part, PART_OPTIONS)) {
        yield batch.map((it): CsvItem => (it.kind === 'record' ? { kind: 'record', line: Number(it.fields[0]), fields: it.fields.slice(1) } : it))
      }
    }
    yield* readCsvTable(
      { path: s.part, file: this.options.path, options: { ...this.csv, header: false }, header: s.header, preRejected: s.rejected, items },
      table,
      options,
    )
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (existsSync(this.path)) {
      if (options.mode === 'create') throw new SchemaError(`${this.path} exists (use mode truncate or recreate)`, { code: 'target_exists' })
      if (options.mode === 'append') throw new UsageError('a multi-table CSV file cannot be appended to; use mode truncate or recreate')
    }
    await mkdir(dirname(this.path), { recursive: true })
    const dir = await this.#tempDir()
    schema.tables.forEach((t, i) => this.#parts.set(t.name, join(dir, `out-${i}.csv`)))
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    const part = this.#parts.get(table.name)
    if (!part) throw new UsageError(`table ${table.name} was not prepared on ${this.description}`)
    const fresh = !this.#started.has(table.name)
    this.#started.add(table.name)
    const header = table.columns.map((c) => `${table.name}.${c.name}`)
    // the part is assembled later; BOM and encoding apply to the whole file
    return CsvFileWriter.open(part, table, { ...this.csv, encoding: 'utf8', bom: false }, fresh, header, ['True', 'False'])
  }

  async finalize(schema: DatabaseSchema, _options: FinalizeOptions): Promise<ConstraintProblem[]> {
    const encoding = outputEncoding(this.csv)
    const out = createWriteStream(this.path)
    const put = async (text: string, first = false) => {
      if (!out.write(encodeText(text, encoding, first && (this.csv.bom || encoding.startsWith('utf16'))))) await once(out, 'drain')
    }
    const eol = this.csv.eol
    let first = true
    for (const name of orderTables(schema).order) {
      const t = schema.tables.find((x) => x.name === name)!
      if (!this.#started.has(name)) await (await this.openWriter(t)).close()
      await put(`TABLE ${name}${eol}`, first)
      first = false
      const part = this.#parts.get(name)!
      if ((await stat(part)).size > 0) {
        if (encoding === 'utf8') {
          for await (const chunk of createReadStream(part)) if (!out.write(chunk)) await once(out, 'drain')
        } else {
          for await (const chunk of createReadStream(part, { encoding: 'utf8' })) await put(chunk as string)
        }
      }
      await put(`${eol}${eol}`)
    }
    await put('END', first)
    out.end()
    await once(out, 'finish')
    return []
  }

  async close(): Promise<void> {
    if (this.#tmp) await rm(this.#tmp, { recursive: true, force: true })
    this.#tmp = undefined
  }
}
