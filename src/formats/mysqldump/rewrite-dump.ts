import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import type { Writable } from 'node:stream'
import { SchemaError } from '../../errors.js'
import type { DatabaseSchema, TableSchema } from '../../schema/types.js'
import type { Transform } from '../../transforms/transform.js'
import { parseCreateTable } from './create-table.js'
import { loadEngine } from '../../engines.js'
import { classifyStatement } from './mysqldump-connection.js'
import { StatementSplitter } from './statement-splitter.js'

/** Options of {@link rewriteDump}. */
export interface RewriteDumpOptions {
  /** Schema transforms applied to every `CREATE TABLE` (e.g. `rewriteEngine()`, `rewriteCharset()`). */
  transforms: readonly Transform[]
}

/** What {@link rewriteDump} changed. */
export interface RewriteDumpResult {
  statements: number
  tables: { table: string; changes: string[] }[]
}

/** MyISAM-only table options that InnoDB refuses (`ROW_FORMAT=FIXED`) or ignores. */
const MYISAM_ONLY = /\s+(ROW_FORMAT\s*=\s*FIXED|PACK_KEYS\s*=\s*\w+|DELAY_KEY_WRITE\s*=\s*\w+|CHECKSUM\s*=\s*\w+)/gi

/**
 * Replaces words in the code of a SQL statement — never inside strings, comments' quoted text, or
 * identifiers — with `replace(match)`.
 */
function replaceInCode(sql: string, re: RegExp, replace: (m: RegExpExecArray) => string): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const c = sql[i]!
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      while (j < sql.length) {
        if (sql[j] === '\\' && c !== '`') {
          j += 2
          continue
        }
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            j += 2
            continue
          }
          break
        }
        j++
      }
      out += sql.slice(i, j + 1)
      i = j + 1
      continue
    }
    let j = i
    while (j < sql.length && sql[j] !== "'" && sql[j] !== '"' && sql[j] !== '`') j++
    const code = sql.slice(i, j)
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g')
    out += code.replace(g, (...args) => {
      const m = args.slice(0, -2) as unknown as RegExpExecArray
      return replace(m)
    })
    i = j
  }
  return out
}

function norm(cs: string | undefined): string | undefined {
  return cs === undefined ? undefined : cs.toLowerCase() === 'utf8' ? 'utf8mb3' : cs.toLowerCase()
}

/** Rewrites one CREATE TABLE statement's text to match what the transforms made of its table. */
export function rewriteCreateTable(sql: string, before: TableSchema, after: TableSchema): { sql: string; changes: string[] } {
  const changes: string[] = []
  let out = sql
  if (after.engine !== undefined && before.engine !== undefined && after.engine.toLowerCase() !== before.engine.toLowerCase()) {
    out = replaceInCode(out, /\b(ENGINE|TYPE)(\s*=\s*)(\w+)/i, (m) => `${m[1]}${m[2]}${after.engine}`)
    changes.push(`engine ${before.engine} → ${after.engine}`)
    if (before.engine.toLowerCase() === 'myisam') {
      const dropped: string[] = []
      out = replaceInCode(out, MYISAM_ONLY, (m) => {
        dropped.push(m[1]!.replace(/\s+/g, ''))
        return ''
      })
      if (dropped.length > 0) changes.push(`dropped MyISAM-only ${dropped.join(', ')}`)
    }
  }
  // charsets and collations: pairs old → new from the table and its columns
  const charsets = new Map<string, string>()
  const collations = new Map<string, string | undefined>()
  const note = (b: { charset?: string; collation?: string }, a: { charset?: string; collation?: string }) => {
    if (b.charset && a.charset && norm(b.charset) !== norm(a.charset)) charsets.set(b.charset.toLowerCase(), a.charset)
    if (b.collation && b.collation !== a.collation) collations.set(b.collation.toLowerCase(), a.collation)
  }
  note(before, after)
  for (const c of before.columns) {
    const a = after.columns.find((x) => (x.origin ?? x.name) === c.name)
    if (a) note(c, a)
  }
  if (charsets.size > 0) {
    out = replaceInCode(out, /\b(CHARACTER\s+SET|CHARSET)(\s*=?\s*)(\w+)/i, (m) => {
      const to = charsets.get(m[3]!.toLowerCase()) ?? (m[3]!.toLowerCase() === 'utf8' ? charsets.get('utf8mb3') : undefined)
      return to ? `${m[1]}${m[2]}${to}` : m[0]
    })
    changes.push(...[...charsets].map(([f, t]) => `charset ${f} → ${t}`))
  }
  if (collations.size > 0) {
    out = replaceInCode(out, /(\s+)(COLLATE)(\s*=?\s*)(\w+)/i, (m) => {
      const key = m[4]!.toLowerCase()
      if (!collations.has(key)) return m[0]
      const to = collations.get(key)
      return to ? `${m[1]}${m[2]}${m[3]}${to}` : ''
    })
    changes.push(...[...collations].map(([f, t]) => `collation ${f} → ${t ?? '(charset default)'}`))
  }
  return { sql: out, changes }
}

async function write(out: Writable, data: Buffer | string): Promise<void> {
  if (!out.write(data)) await once(out, 'drain')
}

/**
 * Streams a mysqldump file to a new file through schema transforms, without a server: every `CREATE TABLE`
 * is parsed, the transforms' `schema` steps run on it, and its text is rewritten where the engine, charsets or
 * collations changed. Every other byte (data, comments, `DELIMITER` blocks) is copied unchanged.
 *
 * @example
 * await rewriteDump('in.sql', 'out.sql', { transforms: [rewriteEngine(), rewriteCharset()] })
 */
export async function rewriteDump(input: string, output: string, options: RewriteDumpOptions): Promise<RewriteDumpResult> {
  const result: RewriteDumpResult = { statements: 0, tables: [] }
  const types = (await loadEngine('mysql')).types
  const splitter = new StatementSplitter()
  const out = createWriteStream(output)
  // the input not yet copied: bytes from `pendingAt` on
  let pending: Buffer = Buffer.alloc(0)
  let pendingAt = 0
  const copyTo = async (offset: number) => {
    if (offset > pendingAt) {
      await write(out, pending.subarray(0, offset - pendingAt))
      pending = pending.subarray(offset - pendingAt)
      pendingAt = offset
    }
  }
  const handle = async (statements: ReturnType<StatementSplitter['push']>) => {
    for (const st of statements) {
      result.statements++
      if (classifyStatement(st.text).kind !== 'create-table') continue
      const sql = st.text.toString('utf8')
      let before: TableSchema
      try {
        before = parseCreateTable(sql, types)
      } catch (e) {
        throw new SchemaError(`${input} line ${st.line}: ${(e as Error).message}`, { cause: e })
      }
      let schema: DatabaseSchema = { dialect: 'mysql', tables: [before], objects: [] }
      for (const t of options.transforms) if (t.schema) schema = t.schema(schema, { sourceDialect: 'mysql', targetDialect: 'mysql' })
      const after = schema.tables[0]
      if (!after) continue
      const r = rewriteCreateTable(sql, before, after)
      if (r.changes.length === 0) continue
      await copyTo(st.offset)
      await write(out, r.sql)
      pending = pending.subarray(st.text.length)
      pendingAt += st.text.length
      result.tables.push({ table: before.name, changes: r.changes })
    }
  }
  try {
    for await (const chunk of createReadStream(input, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      await handle(splitter.push(chunk))
      // keep only what a statement in progress may still rewrite
      const keepFrom = splitter.pendingOffset
      await copyTo(keepFrom)
    }
    await handle(splitter.end())
    await write(out, pending)
  } finally {
    out.end()
    await once(out, 'finish')
  }
  return result
}
