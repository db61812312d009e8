import { readdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Connection } from '../dialect.js'
import { UsageError, redact } from '../errors.js'
import type { DatabaseSchema, ObjectSchema } from '../schema/types.js'

/**
 * The outcome of one object (view, function, procedure): one the user supplied SQL for, or one of the source's,
 * created from its own definition or listed as not created.
 */
export interface ObjectOutcome {
  /** The object's name as supplied, or the source's with its schema (`dbo.vw_x`). */
  name: string
  /** Whether it was created. */
  ok: boolean
  /** Why it was not created: the target's error, or why it was not attempted. Absent when `ok`. */
  error?: string
}

const KIND_RANK: Record<ObjectSchema['type'], number> = { view: 0, function: 1, procedure: 2 }

function bare(name: string): string {
  const parts = name.split('.')
  return parts[parts.length - 1]!.replace(/^[["`]|[\]"`]$/g, '').toLowerCase()
}

/**
 * Orders objects so each comes after the objects it depends on (`dependsOn`, matched by name with or without
 * schema): views before the functions that read them. Ties keep views before functions before procedures,
 * then the given order; a dependency cycle is broken by that same order. `schema` only supplies dependencies
 * of objects the list names without them.
 */
export function orderObjects(objects: readonly ObjectSchema[], schema?: DatabaseSchema): ObjectSchema[] {
  const known = new Map((schema?.objects ?? []).map((o) => [bare(o.name), o]))
  const byName = new Map(objects.map((o) => [bare(o.name), o]))
  const deps = new Map(
    objects.map((o) => {
      const listed = o.dependsOn.length > 0 ? o.dependsOn : known.get(bare(o.name))?.dependsOn ?? []
      return [o, new Set(listed.map(bare).filter((d) => byName.has(d) && d !== bare(o.name)))] as const
    }),
  )
  const rank = (o: ObjectSchema) => KIND_RANK[o.type] * objects.length + objects.indexOf(o)
  // objects, not names, are what is done: two names that differ only by case are two objects, and a
  // dependency on that name waits for both
  const done = new Set<ObjectSchema>()
  const pending = new Map<string, number>()
  for (const o of objects) pending.set(bare(o.name), (pending.get(bare(o.name)) ?? 0) + 1)
  const out: ObjectSchema[] = []
  while (out.length < objects.length) {
    const left = objects.filter((o) => !done.has(o))
    const ready = left.filter((o) => [...deps.get(o)!].every((d) => pending.get(d) === 0))
    // a cycle: take the best-ranked remaining object anyway
    const pool = ready.length > 0 ? ready : left
    const next = pool.reduce((a, b) => (rank(b) < rank(a) ? b : a))
    done.add(next)
    pending.set(bare(next.name), pending.get(bare(next.name))! - 1)
    out.push(next)
  }
  return out
}

function kindOfSql(text: string): ObjectSchema['type'] {
  const m = /\bcreate\s+(?:or\s+(?:replace|alter)\s+)?(?:materialized\s+|temp(?:orary)?\s+|recursive\s+)*(view|function|procedure|proc)\b/i.exec(text)
  const k = m?.[1]?.toLowerCase()
  return k === 'function' ? 'function' : k === 'procedure' || k === 'proc' ? 'procedure' : 'view'
}

function mentions(text: string, name: string): boolean {
  const n = bare(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`(^|[^a-z0-9_$])${n}($|[^a-z0-9_$])`, 'i').test(text)
}

/** The message for a source object the user supplied no target SQL for. */
export const NOT_SUPPLIED = 'not created: no SQL was supplied for it (the objects option)'

/** The message for a source object of another engine whose SQL dbferry does not translate. */
function notTranslated(from: string, target: Connection): string {
  return `not created: its ${from} SQL is not translated to ${target.dialect.name}; supply the target's SQL for it (the objects option)`
}

/** Whether source and target are one engine, so that a source object's own definition runs on the target as it is. */
function sameEngine(target: Connection, schema: DatabaseSchema | undefined): boolean {
  return schema !== undefined && schema.dialect === target.dialect.name
}

/**
 * A source object's definition as a statement the same engine runs: a full `CREATE …` as the source keeps it
 * (SQLite, SQL Server), or a view's query (PostgreSQL, MySQL keep only that) made into `CREATE VIEW`.
 * Undefined when the source kept no definition.
 */
function ownDefinition(target: Connection, o: ObjectSchema): string | undefined {
  const text = o.definition?.trim()
  if (!text) return undefined
  if (/^create\b/i.test(text)) return text
  if (o.type !== 'view') return undefined
  const q = (n: string) => target.dialect.sql?.quoteIdentifier(n) ?? n
  return `CREATE VIEW ${o.schema ? `${q(o.schema)}.` : ''}${q(o.name)} AS ${text.replace(/;\s*$/, '')}`
}

/**
 * Runs user-supplied SQL for views and functions on the target, after the data, in dependency order. The
 * order uses the source's dependencies where the source knows the object, and otherwise (or in addition)
 * which other supplied objects the SQL text mentions. A failure is reported and the run goes on. Source
 * objects with no SQL supplied are created from their own definition when source and target are one engine,
 * and otherwise listed, in their place, as not created (with the reason). Never throws: it runs after
 * the data, so a failure of the step itself (a target that cannot run SQL) is every object's outcome, with
 * the note that the data copy is complete.
 *
 * @param sqlByName `{ 'dbo.vw_x': 'CREATE VIEW …' }`; names may carry a schema.
 */
export async function runObjects(target: Connection, sqlByName: Readonly<Record<string, string>>, schema?: DatabaseSchema): Promise<ObjectOutcome[]> {
  try {
    return await createObjects(target, sqlByName, schema)
  } catch (error) {
    // runs after the data: whatever goes wrong here is the objects' outcome, never the copy's
    const message = `${redact(error instanceof Error ? error.message : String(error))}; the data copy is complete`
    const names = [...Object.keys(sqlByName), ...(schema?.objects ?? []).map((o) => (o.schema ? `${o.schema}.${o.name}` : o.name))]
    return [...new Set(names)].map((name) => ({ name, ok: false, error: message }))
  }
}

async function createObjects(target: Connection, sqlByName: Readonly<Record<string, string>>, schema?: DatabaseSchema): Promise<ObjectOutcome[]> {
  const names = Object.keys(sqlByName)
  if (names.length > 0 && !target.execute) throw new UsageError(`${target.description} cannot run SQL, so objects cannot be created there`)
  const known = new Map((schema?.objects ?? []).map((o) => [bare(o.name), o]))
  const supplied = new Set(names.map(bare))
  const objects: ObjectSchema[] = names.map((name) => {
    const text = sqlByName[name]!
    const source = known.get(bare(name))
    const inferred = names.filter((other) => other !== name && mentions(text, other))
    return { name, type: source?.type ?? kindOfSql(text), dependsOn: [...new Set([...(source?.dependsOn ?? []), ...inferred])] }
  })
  const own = new Map<string, string>()
  for (const o of schema?.objects ?? []) {
    if (supplied.has(bare(o.name))) continue
    const name = o.schema ? `${o.schema}.${o.name}` : o.name
    objects.push({ ...o, name })
    const text = sameEngine(target, schema) ? ownDefinition(target, o) : undefined
    if (text !== undefined) own.set(name, text)
  }
  if (own.size > 0 && !target.execute) throw new UsageError(`${target.description} cannot run SQL, so objects cannot be created there`)
  const outcomes: ObjectOutcome[] = []
  for (const o of orderObjects(objects)) {
    const text = sqlByName[o.name] ?? own.get(o.name)
    if (text === undefined) {
      outcomes.push({ name: o.name, ok: false, error: sameEngine(target, schema) || !schema ? NOT_SUPPLIED : notTranslated(schema.dialect, target) })
      continue
    }
    try {
      await target.execute!(text)
      outcomes.push({ name: o.name, ok: true })
    } catch (error) {
      outcomes.push({ name: o.name, ok: false, error: redact(error instanceof Error ? error.message : String(error)) })
    }
  }
  return outcomes
}

/**
 * Reads a folder of `.sql` files as objects: `vw_x.sql` (or `dbo.vw_x.sql`) becomes the object `vw_x`
 * (`dbo.vw_x`). Files are read in name order; other files are ignored.
 */
export async function objectsFromFolder(dir: string): Promise<Record<string, string>> {
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.sql')).sort()
  const out: Record<string, string> = {}
  for (const f of files) out[basename(f, f.slice(-4))] = await readFile(join(dir, f), 'utf8')
  return out
}
