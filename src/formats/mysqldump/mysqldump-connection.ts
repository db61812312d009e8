import { createReadStream, existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  BaseDialect,
  DialectTypes,
  ReadBatch,
  ReadOptions,
  SnapshotInfo, SourceTableState,
  TableWriter,
} from '../../dialect.js'
import { fileState } from '../file-state.js'
import { AbortError, ConnectionError, RowError, SchemaError, UsageError } from '../../errors.js'
import type { DatabaseSchema, ObjectSchema, Row, TableSchema, Value } from '../../schema/types.js'
import { ConversionFailure } from '../../schema/values.js'
import { parseFileUrl } from '../csv/csv-connection.js'
import { parseCreateTable } from './create-table.js'
import { loadEngine } from '../../engines.js'
import { dumpConverter, dumpTextDecoder } from './dump-values.js'
import { parseInsertHead, skipSpaceAndComments, valuesRows, ValuesSyntaxError } from './insert-values.js'
import { StatementSplitter, type DumpStatement } from './statement-splitter.js'

/** What kind of statement a dump statement is, from its first words. */
export type StatementKind = 'create-table' | 'create-view' | 'insert' | 'set-names' | 'create-program' | 'other'

/** A trigger, routine or event a dump creates, which dbferry does not carry. */
export interface DumpProgram {
  type: 'trigger' | 'procedure' | 'function' | 'event'
  name: string
  /** Triggers: when they fire (`BEFORE INSERT ON t`). */
  on?: string
}

// a definer's user and host may be quoted and hold spaces (`my user`@`%`)
const DEFINER = '(?:DEFINER\\s*=\\s*(?:`(?:[^`]|``)*`|\'[^\']*\'|[^\\s@]+)(?:\\s*@\\s*(?:`(?:[^`]|``)*`|\'[^\']*\'|[^\\s`\']+))?\\s+)?'
const NAME = '(?:`((?:[^`]|``)+)`|([\\w$]+))'
const PROGRAM_HEAD = new RegExp(
  `^CREATE\\s+(?:OR\\s+REPLACE\\s+)?${DEFINER}` +
    '(?:AGGREGATE\\s+)?(TRIGGER|PROCEDURE|FUNCTION|EVENT)\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?' +
    `${NAME}(?:\\s*\\.\\s*${NAME})?` +
    `(?:\\s+((?:BEFORE|AFTER)\\s+(?:INSERT|UPDATE|DELETE)\\s+ON\\s+${NAME}(?:\\s*\\.\\s*${NAME})?))?`,
  'i',
)
const unquote = (quoted: string | undefined, bare: string | undefined) => (quoted !== undefined ? quoted.replace(/``/g, '`') : bare)

/** The trigger, procedure, function or event a `CREATE` statement's head (version comments joined) names. */
function parseProgram(head: string): DumpProgram | undefined {
  const m = PROGRAM_HEAD.exec(head)
  if (!m) return undefined
  const program: DumpProgram = { type: m[1]!.toLowerCase() as DumpProgram['type'], name: (unquote(m[4], m[5]) ?? unquote(m[2], m[3]))! }
  if (m[6] !== undefined) {
    const table = unquote(m[9], m[10]) ?? unquote(m[7], m[8])
    program.on = `${m[6].replace(/\s+ON\s+[\s\S]*$/i, '').replace(/\s+/g, ' ').toUpperCase()} ON ${table}`
  }
  return program
}

const SET_NAMES = /SET\s+NAMES\s+'?([A-Za-z0-9_]+)/i
const VIEW_HEAD = new RegExp(`^CREATE\\s+(?:OR\\s+REPLACE\\s+)?(?:ALGORITHM\\s*=\\s*\\w+\\s+)?${DEFINER}(?:SQL\\s+SECURITY\\s+\\w+\\s+)?VIEW\\s`, 'i')

// the name follows the head (a definer named `view …` is no view name), the body the first AS after it
const VIEW_STATEMENT = new RegExp(`${VIEW_HEAD.source}\\s*${NAME}(?:\\s*\\.\\s*${NAME})?[\\s\\S]*?\\bAS\\s+([\\s\\S]*)$`, 'i')

/** A view's name and body from its CREATE VIEW statement (version-comment wrappers removed). */
export function parseCreateView(text: Buffer): { name: string; definition: string } | undefined {
  // the statement's bytes may begin with the dump's comments (`-- Final view structure for view …`)
  const sql = text
    .toString('utf8', skipSpaceAndComments(text, 0))
    .replace(/\/\*!\d*\s?/g, '')
    .replace(/\*\//g, '')
    .trim()
  const m = VIEW_STATEMENT.exec(sql)
  if (!m) return undefined
  const name = (m[3] ?? m[4] ?? m[1] ?? m[2])!.replace(/``/g, '`')
  return { name, definition: m[5]!.trim() }
}

/**
 * Classifies a statement by its first significant bytes (comments and version-comment openers skipped):
 * `program` names a trigger, procedure, function or event (`create-program`), which dbferry does not carry.
 */
export function classifyStatement(text: Buffer): { kind: StatementKind; names?: string; program?: DumpProgram } {
  let i = skipSpaceAndComments(text, 0)
  if (text[i] === 0x2f && text[i + 1] === 0x2a && text[i + 2] === 0x21) {
    i += 3
    while (text[i]! >= 0x30 && text[i]! <= 0x39) i++
    i = skipSpaceAndComments(text, i)
  }
  // `/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=… */ /*!50001 VIEW …`: one statement in pieces
  const head = text.toString('latin1', i, i + 400).replace(/\*\/\s*\/\*!\d*/g, ' ')
  if (VIEW_HEAD.test(head)) return { kind: 'create-view' }
  if (/^CREATE\s+(TEMPORARY\s+)?TABLE\s/i.test(head)) return { kind: 'create-table' }
  if (/^(INSERT|REPLACE)\s/i.test(head)) return { kind: 'insert' }
  if (/^CREATE\s/i.test(head) && parseProgram(head)) {
    // names may be any UTF-8: parse them from the text decoded as such
    const program = parseProgram(text.toString('utf8', i, i + 400).replace(/\*\/\s*\/\*!\d*/g, ' '))
    if (program) return { kind: 'create-program', program }
  }
  const m = SET_NAMES.exec(head)
  if (m && /^SET\s/i.test(head)) return { kind: 'set-names', names: m[1]! }
  return { kind: 'other' }
}

/** Streams the statements of a file (or a byte range of it). */
export async function* dumpStatements(path: string, range?: { start: number; end: number; line: number }): AsyncGenerator<DumpStatement[]> {
  const splitter = new StatementSplitter(range?.start ?? 0, range?.line ?? 1)
  const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end - 1 } : {}) })
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const st = splitter.push(chunk)
      if (st.length > 0) yield st
    }
    const rest = splitter.end()
    if (rest.length > 0) yield rest
  } finally {
    stream.destroy()
  }
}

interface TableIndex {
  schema: TableSchema
  ranges: { start: number; end: number; line: number }[]
  /** Rows estimated from the VALUES lists (`),(` separators), for progress. */
  rows: number
}

/** Counts the rows of a VALUES list by its `),(` separators: an estimate (a string may hold one). */
function countTuples(text: Buffer, from: number): number {
  let n = 1
  let i = text.indexOf('),(', from)
  while (i >= 0) {
    n++
    i = text.indexOf('),(', i + 3)
  }
  return n
}

/** Options for a dump file besides the URL form `mysqldump:./dump.sql`. */
export interface MysqldumpConnectOptions extends ConnectOptions {
  path: string
}

/** Opens a mysqldump file as a source connection. */
export async function openMysqldump(dialect: BaseDialect, target: string | object, options: ConnectOptions = {}): Promise<MysqldumpConnection> {
  let path: string
  if (typeof target === 'string') {
    const p = parseFileUrl(target, 'mysqldump')
    for (const k of p.query.keys()) throw new UsageError(`unknown mysqldump option ${JSON.stringify(k)}`)
    path = p.path
  } else {
    path = (target as MysqldumpConnectOptions).path
    if (typeof path !== 'string') throw new UsageError('mysqldump.connect needs { path }')
  }
  if (!existsSync(resolve(path))) throw new ConnectionError(`no such file: ${path}`)
  // MySQL's type map reads the dump's column declarations; it loads no driver
  return new MysqldumpConnection(dialect, resolve(path), path, options, (await loadEngine('mysql')).types)
}

/**
 * A mysqldump file as a source. `introspect` streams the file once, parsing `CREATE TABLE` statements and
 * noting where each table's `INSERT`s are; `read` streams only those byte ranges and parses the rows.
 * Memory stays bounded by one statement (mysqldump keeps them near `net_buffer_length`).
 */
export class MysqldumpConnection implements Connection {
  readonly description: string
  #index: Map<string, TableIndex> | undefined
  #views: ObjectSchema[] = []
  /** Triggers, routines and events the dump creates, with the line of each. */
  #programs: (DumpProgram & { line: number })[] = []
  #names = 'utf8mb4'

  constructor(
    readonly dialect: BaseDialect,
    readonly path: string,
    display: string,
    readonly options: ConnectOptions,
    /** MySQL's type map. */
    readonly types: DialectTypes,
  ) {
    this.description = `mysqldump:${display}`
  }

  async #scan(): Promise<Map<string, TableIndex>> {
    if (this.#index) return this.#index
    const index = new Map<string, TableIndex>()
    const orphans = new Map<string, string[] | undefined>()
    const views = new Map<string, string>()
    let namesSeen = false
    for await (const batch of dumpStatements(this.path)) {
      for (const st of batch) {
        const c = classifyStatement(st.text)
        if (c.kind === 'set-names' && !namesSeen) {
          this.#names = c.names!
          namesSeen = true
        } else if (c.kind === 'create-table') {
          let t: TableSchema
          try {
            t = parseCreateTable(st.text.toString('utf8'), this.types)
          } catch (e) {
            throw new SchemaError(`${this.description} line ${st.line}: ${(e as Error).message}`, { cause: e })
          }
          index.set(t.name, { schema: t, ranges: index.get(t.name)?.ranges ?? [], rows: index.get(t.name)?.rows ?? 0 })
        } else if (c.kind === 'create-program') {
          this.#programs.push({ ...c.program!, line: st.line })
        } else if (c.kind === 'create-view') {
          const v = parseCreateView(st.text)
          if (v) views.set(v.name, v.definition)
        } else if (c.kind === 'insert') {
          let head
          try {
            head = parseInsertHead(st.text)
          } catch {
            head = undefined
          }
          if (!head) continue
          let entry = index.get(head.table)
          if (!entry) {
            if (!orphans.has(head.table)) orphans.set(head.table, head.columns)
            continue
          }
          entry.rows += countTuples(st.text, head.valuesAt)
          const last = entry.ranges[entry.ranges.length - 1]
          if (last && last.end === st.offset) last.end = st.end
          else entry.ranges.push({ start: st.offset, end: st.end, line: st.offsetLine })
        }
      }
    }
    if (orphans.size > 0) {
      throw new SchemaError(`${this.description} has INSERTs for tables it never creates: ${[...orphans.keys()].join(', ')}`)
    }
    // older dumps create a placeholder table for each view before the view itself
    for (const name of views.keys()) if (index.get(name)?.ranges.length === 0) index.delete(name)
    this.#views = [...views].map(([name, definition]) => ({
      name,
      type: 'view' as const,
      definition,
      dependsOn: [...index.keys(), ...views.keys()].filter((t) => t !== name && new RegExp('`' + t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '`').test(definition)),
    }))
    this.#index = index
    return index
  }

  async introspect(options: { tables?: readonly string[] } = {}): Promise<DatabaseSchema> {
    const index = await this.#scan()
    const tables = [...index.values()]
      .map((e) => ({ ...e.schema, rowCountEstimate: e.rows }))
      .filter((t) => !options.tables || options.tables.includes(t.name))
    return { dialect: 'mysql', tables, objects: this.#views }
  }

  /**
   * No snapshot (a file), and the triggers, procedures, functions and events the dump creates, each named in
   * `notes` with its line: dbferry copies tables and views only. Triggers and events count as `notApplied`:
   * they change data by themselves (on every later write, on a schedule), so a target without them behaves
   * differently and the run is not clean. A missing procedure or function changes nothing until it is called,
   * and then fails loudly: noted, not counted.
   */
  async snapshot(): Promise<SnapshotInfo> {
    await this.#scan()
    if (this.#programs.length === 0) return { guarantee: 'none (file)' }
    const notes = this.#programs.map((p) => {
      const acts = p.type === 'trigger' || p.type === 'event'
      const why = acts ? `it changes data ${p.type === 'trigger' ? 'on later writes' : 'on its schedule'}; create it on the target yourself` : 'create it on the target yourself if it is needed'
      return `line ${p.line}: CREATE ${p.type.toUpperCase()} ${p.name}${p.on !== undefined ? ` (${p.on})` : ''} is not copied (dbferry copies tables and views): ${why}`
    })
    const notApplied = this.#programs.filter((p) => p.type === 'trigger' || p.type === 'event').length
    return { guarantee: 'none (file)', notes, ...(notApplied > 0 ? { notApplied } : {}) }
  }

  /** The file's size and modification time: what resume compares. */
  async tableState(): Promise<SourceTableState> {
    return fileState(this.path)
  }

  async count(table: TableSchema): Promise<number> {
    let n = 0
    for await (const b of this.read(table, { batchRows: 100_000, batchBytes: 1 << 30 })) n += b.rows.length + b.rejected.length
    return n
  }

  async *read(table: TableSchema, options: ReadOptions): AsyncIterable<ReadBatch> {
    const index = await this.#scan()
    const name = table.origin ?? table.name
    const entry = index.get(name) ?? index.get(table.name)
    if (!entry) throw new UsageError(`no table ${JSON.stringify(name)} in ${this.description}`)
    let fixed: Record<string, number> = {}
    let fixedAny = false
    const dumpColumns = entry.schema.columns.map((c) => c.name)
    const converters = table.columns.map((c) =>
      dumpConverter(
        c,
        dumpTextDecoder(this.#names, this.options.fallbackEncoding, () => {
          fixed[c.name] = (fixed[c.name] ?? 0) + 1
          fixedAny = true
        }),
      ),
    )
    const positional = table.columns.map((c) => dumpColumns.indexOf(c.origin ?? c.name))
    const after = options.after
    let rows: Row[] = []
    let rejected: RowError[] = []
    let bytes = 0
    let lastKey: Value[] = []
    const flush = (): ReadBatch => {
      const b: ReadBatch = { rows, rejected, lastKey }
      if (fixedAny) {
        b.fixed = fixed
        fixed = {}
        fixedAny = false
      }
      rows = []
      rejected = []
      bytes = 0
      return b
    }
    for (const range of entry.ranges) {
      for await (const batch of dumpStatements(this.path, range)) {
        if (options.signal?.aborted) throw new AbortError()
        for (const st of batch) {
          if (classifyStatement(st.text).kind !== 'insert') continue
          let head
          try {
            head = parseInsertHead(st.text)
          } catch {
            head = undefined
          }
          if (!head || head.table !== entry.schema.name) continue
          const map = head.columns ? table.columns.map((c) => head.columns!.indexOf(c.origin ?? c.name)) : positional
          const width = head.columns ? head.columns.length : dumpColumns.length
          let k = 0
          try {
            for (const raw of valuesRows(st.text, head.valuesAt)) {
              k++
              if (after && (st.offset < (after[0] as number) || (st.offset === after[0] && k <= (after[1] as number)))) continue
              lastKey = [st.offset, k]
              const key = `line ${st.line} row ${k}`
              if (raw.length !== width) {
                rejected.push(
                  new RowError('malformed_record', `${name}: a row with ${raw.length} values where the table has ${width} columns (${key})`, {
                    table: table.name,
                    key,
                    row: raw.map(rawToJson),
                  }),
                )
                continue
              }
              const row: Value[] = new Array(map.length)
              let bad: RowError | undefined
              for (let c = 0; c < map.length; c++) {
                const at = map[c]!
                if (at < 0) {
                  row[c] = null
                  continue
                }
                const r = raw[at]!
                if (r.k === 'str' || r.k === 'hex') bytes += r.bytes.length
                const v = converters[c]!(r)
                if (v instanceof ConversionFailure || (typeof v === 'object' && v !== null && 'zeroDate' in v)) {
                  const col = table.columns[c]!.name
                  const zero = !(v instanceof ConversionFailure)
                  const why = zero ? `${JSON.stringify((v as { zeroDate: string }).zeroDate)} is a zero date` : (v as ConversionFailure).reason
                  const kind = zero ? 'zero_date' : (v as ConversionFailure).reason.includes('character set') ? 'invalid_encoding' : (v as ConversionFailure).kind
                  bad = new RowError(kind, `${table.name}.${col}: ${why} (${key})`, { table: table.name, key, column: col, value: rawToJson(r), row: raw.map(rawToJson) })
                  break
                }
                row[c] = v as Value
              }
              if (bad) rejected.push(bad)
              else rows.push(row)
              if (rows.length + rejected.length >= options.batchRows || bytes >= options.batchBytes) yield flush()
            }
          } catch (e) {
            if (!(e instanceof ValuesSyntaxError)) throw e
            rejected.push(
              new RowError('malformed_record', `${name}: cannot parse the INSERT at line ${st.line} after row ${k}: ${e.message}; the rest of that statement is skipped`, {
                table: table.name,
                key: `line ${st.line} row ${k + 1}`,
                row: [st.text.toString('utf8', Math.max(0, e.at - 40), e.at + 40)],
              }),
            )
          }
        }
      }
    }
    if (rows.length > 0 || rejected.length > 0 || fixedAny) yield flush()
  }

  async prepareTarget(): Promise<void> {
    throw new UsageError('a mysqldump file is only a source; write a script with sqlscript:./out.sql?dialect=mysql')
  }

  async openWriter(): Promise<TableWriter> {
    throw new UsageError('a mysqldump file is only a source')
  }

  async finalize(): Promise<ConstraintProblem[]> {
    throw new UsageError('a mysqldump file is only a source')
  }

  async close(): Promise<void> {}
}

function rawToJson(r: import('./insert-values.js').RawValue): unknown {
  switch (r.k) {
    case 'null':
      return null
    case 'num':
    case 'word':
      return r.text
    case 'bits':
      return r.value.toString()
    case 'hex':
      return `\\x${r.bytes.toString('hex')}`
    case 'str':
      return r.binary ? `\\x${r.bytes.toString('hex')}` : r.bytes.toString('utf8')
  }
}
