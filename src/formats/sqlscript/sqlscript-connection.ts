import { existsSync } from 'node:fs'
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type {
  ConnectOptions,
  Connection,
  ConstraintProblem,
  BaseDialect,
  Dialect,
  DialectCapabilities,
  FinalizeOptions,
  PrepareOptions,
  ReadBatch,
  SnapshotInfo,
  TableWriter,
  WriteResult,
} from '../../dialect.js'
import { SchemaError, UsageError } from '../../errors.js'
import { orderTables } from '../../plan/order.js'
import type { DatabaseSchema, Row, TableSchema } from '../../schema/types.js'
import { parseFileUrl } from '../csv/csv-connection.js'
import { ENGINE_NAMES, loadEngine } from '../../engines.js'

/** Options for a SQL script target besides the URL form `sqlscript:./out.sql?dialect=postgres`. */
export interface SqlScriptConnectOptions extends ConnectOptions {
  path: string
  /** `postgres`, `mysql`, `sqlite` or `mssql`. Required. */
  dialect: string
}

/** Opens a SQL script target. */
export async function openSqlScript(base: BaseDialect, target: string | object, options: ConnectOptions = {}): Promise<SqlScriptConnection> {
  let path: string
  let engineName: string | undefined
  if (typeof target === 'string') {
    const p = parseFileUrl(target, 'sqlscript')
    path = p.path
    engineName = p.query.get('dialect') ?? undefined
    for (const k of p.query.keys()) if (k !== 'dialect') throw new UsageError(`unknown sqlscript option ${JSON.stringify(k)}`)
  } else {
    const t = target as SqlScriptConnectOptions
    path = t.path
    engineName = t.dialect
  }
  const engine = engineName === undefined ? undefined : await loadEngine(engineName).catch(() => undefined)
  if (!engine) {
    throw new UsageError(`sqlscript needs ?dialect=postgres or another engine of ${ENGINE_NAMES.join(', ')}${engineName ? ` (got ${JSON.stringify(engineName)})` : ''}`)
  }
  void options
  // the connection's dialect carries the engine's limits, so rows are fitted for that engine
  const dialect: BaseDialect = { ...base, name: `sqlscript`, capabilities: scriptCapabilities(engine) }
  return new SqlScriptConnection(dialect, engine, resolve(path), path)
}

/** What a script for `engine` can hold: the engine's limits (narrowed where its literals hold less), written as a file. */
function scriptCapabilities(engine: Dialect): DialectCapabilities {
  const c = engine.capabilities
  const narrowed = engine.sql.script.capabilities ?? {}
  return Object.freeze({
    transactionalDdl: false,
    bulkPath: 'file',
    schemas: false,
    enforcesForeignKeys: false,
    unvalidatedForeignKeys: false,
    concurrentSnapshotReads: false,
    storesAnyValue: false,
    maxIdentifierLength: c.maxIdentifierLength,
    identifierLengthUnit: c.identifierLengthUnit,
    textHoldsNul: narrowed.textHoldsNul ?? c.textHoldsNul,
    floatHoldsNonFinite: narrowed.floatHoldsNonFinite ?? c.floatHoldsNonFinite,
    maxTimestampPrecision: narrowed.maxTimestampPrecision ?? c.maxTimestampPrecision,
  })
}

/**
 * A SQL script as a target: `prepareTarget` writes the DDL, each writer appends multi-row INSERTs with the
 * engine's literal escaping, `finalize` adds indexes, foreign keys and identity positions. Nothing is ever
 * run: the script is for someone else to run (`psql -f`, `mysql <`, `sqlite3 db <`, `sqlcmd -i`).
 */
export class SqlScriptConnection implements Connection {
  readonly description: string
  #handle: FileHandle | undefined
  #chain: Promise<void> = Promise.resolve()

  constructor(
    readonly dialect: BaseDialect,
    readonly engine: Dialect,
    readonly path: string,
    display: string,
  ) {
    this.description = `sqlscript:${display} (${engine.name})`
  }

  /** Appends statements, in call order (concurrent writers never interleave within a statement). */
  #append(statements: string[]): Promise<void> {
    if (statements.length === 0) return this.#chain
    const text = statements.map((s) => `${s};\n`).join('')
    this.#chain = this.#chain.then(async () => {
      await this.#handle!.write(text)
    })
    return this.#chain
  }

  async introspect(): Promise<DatabaseSchema> {
    throw new UsageError('a SQL script is only a target')
  }

  async snapshot(): Promise<SnapshotInfo> {
    throw new UsageError('a SQL script is only a target')
  }

  async count(): Promise<number> {
    throw new UsageError('a SQL script is only a target')
  }

  // eslint-disable-next-line require-yield
  async *read(): AsyncIterable<ReadBatch> {
    throw new UsageError('a SQL script is only a target')
  }

  async prepareTarget(schema: DatabaseSchema, options: PrepareOptions): Promise<void> {
    if (existsSync(this.path) && options.mode === 'create') {
      throw new SchemaError(`${this.path} exists (use mode recreate to overwrite it)`, { code: 'target_exists' })
    }
    await mkdir(dirname(this.path), { recursive: true })
    this.#handle = await open(this.path, 'w')
    const e = this.engine.sql
    const out: string[] = [...e.script.header]
    const ordered = orderTables(schema).order.map((n) => schema.tables.find((t) => t.name === n)!)
    if (options.mode === 'recreate') for (const t of [...ordered].reverse()) out.push(e.dropTable(t))
    if (options.mode === 'truncate') for (const t of [...ordered].reverse()) out.push(`DELETE FROM ${e.quoteIdentifier(t.name)}`)
    if (options.mode === 'create' || options.mode === 'recreate') for (const t of ordered) out.push(e.createTable(t))
    await this.#handle.write(`-- ${this.engine.name} script: ${schema.tables.length} tables\n`)
    await this.#append(out)
  }

  async openWriter(table: TableSchema): Promise<TableWriter> {
    if (!this.#handle) throw new UsageError(`${this.description}: prepareTarget first`)
    const e = this.engine.sql
    const head = `INSERT INTO ${e.quoteIdentifier(table.name)} (${table.columns.map((c) => e.quoteIdentifier(c.name)).join(', ')}) VALUES\n`
    const per = e.script.rowsPerInsert(table.columns.length)
    const [before, after] = e.script.aroundInserts?.(table) ?? [[], []]
    const cols = table.columns
    return {
      write: async (rows: Row[]): Promise<WriteResult> => {
        if (rows.length === 0) return { written: 0, rejected: [] }
        const statements: string[] = [...before]
        for (let i = 0; i < rows.length; i += per) {
          const chunk = rows.slice(i, i + per)
          statements.push(head + chunk.map((r) => `(${r.map((v, k) => e.literal(v, cols[k]!)).join(', ')})`).join(',\n'))
        }
        statements.push(...after)
        await this.#append(statements)
        return { written: rows.length, rejected: [] }
      },
      close: async () => {
        await this.#chain
      },
    }
  }

  async finalize(schema: DatabaseSchema, _options: FinalizeOptions): Promise<ConstraintProblem[]> {
    const e = this.engine.sql
    const out: string[] = []
    for (const t of schema.tables) for (const i of t.indexes) {
      const sql = e.createIndex(t, i)
      if (sql) out.push(sql)
    }
    // engines that declare foreign keys in CREATE TABLE had them written there
    if (!e.foreignKeysInCreate) for (const t of schema.tables) for (const fk of t.foreignKeys) out.push(e.addForeignKey(t, fk)!)
    for (const t of schema.tables) out.push(...e.resetIdentity(t))
    out.push(...e.script.footer)
    await this.#append(out)
    return []
  }

  async close(): Promise<void> {
    await this.#chain.catch(() => {})
    await this.#handle?.close()
    this.#handle = undefined
  }
}
