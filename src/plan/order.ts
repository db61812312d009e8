import type { DatabaseSchema, ForeignKeySchema } from '../schema/types.js'

/** A foreign key the planner could not honour by order (a self-reference or part of a cycle). */
export interface DeferredForeignKey {
  /** The child table's name. */
  table: string
  /** The key, as the child declares it. */
  foreignKey: ForeignKeySchema
  /** `self_reference`: the table references itself; `cycle`: set aside to break a cycle of tables. */
  reason: 'self_reference' | 'cycle'
}

/** The load order of a run. */
export interface LoadOrder {
  /** Every table, parents before children. */
  order: string[]
  /**
   * Numbered stages: every table of stage N depends only on tables of stages < N (once deferred keys are
   * set aside). Tables of one stage can load concurrently.
   */
  stages: string[][]
  /** Keys whose parent cannot load first. They are still created after the data, like every key. */
  deferred: DeferredForeignKey[]
}

/**
 * Orders tables by their foreign keys, parents first. Cycles are broken by deferring the fewest keys the
 * greedy choice finds (the edge into the table with most remaining dependencies is set aside first), and
 * a self-reference never blocks its own table. Ties keep the schema's order, so the result is deterministic.
 *
 * Because dbferry creates foreign keys after the data, a deferred key needs no second pass: its rows load
 * as they are, and the key is created (and validated) at the end.
 */
export function orderTables(schema: Pick<DatabaseSchema, 'tables'>): LoadOrder {
  const names = schema.tables.map((t) => t.name)
  const known = new Set(names)
  const deferred: DeferredForeignKey[] = []
  // parents[t] = set of tables t depends on
  const parents = new Map<string, Set<string>>(names.map((n) => [n, new Set()]))
  const edges = new Map<string, ForeignKeySchema[]>() // "child\0parent" -> fks
  for (const t of schema.tables) {
    for (const fk of t.foreignKeys) {
      if (!known.has(fk.refTable)) continue
      if (fk.refTable === t.name) {
        deferred.push({ table: t.name, foreignKey: fk, reason: 'self_reference' })
        continue
      }
      parents.get(t.name)!.add(fk.refTable)
      const k = `${t.name}\0${fk.refTable}`
      edges.set(k, [...(edges.get(k) ?? []), fk])
    }
  }

  const stages: string[][] = []
  const placed = new Set<string>()
  while (placed.size < names.length) {
    const ready = names.filter((n) => !placed.has(n) && [...parents.get(n)!].every((p) => placed.has(p)))
    if (ready.length > 0) {
      stages.push(ready)
      for (const n of ready) placed.add(n)
      continue
    }
    // a cycle: defer the edges of the table whose unmet parents are fewest, so it can go next
    const waiting = names.filter((n) => !placed.has(n))
    let pick = waiting[0]!
    let best = Infinity
    for (const n of waiting) {
      const unmet = [...parents.get(n)!].filter((p) => !placed.has(p)).length
      if (unmet < best) {
        best = unmet
        pick = n
      }
    }
    for (const p of [...parents.get(pick)!]) {
      if (placed.has(p)) continue
      parents.get(pick)!.delete(p)
      for (const fk of edges.get(`${pick}\0${p}`) ?? []) deferred.push({ table: pick, foreignKey: fk, reason: 'cycle' })
    }
  }
  return { order: stages.flat(), stages, deferred }
}

/**
 * Groups the stages of `order` into at most `count` consecutive groups of roughly equal table counts, so a
 * file-based load can be split into "these N files, in this order" with parents in earlier groups.
 */
export function groupStages(order: LoadOrder, count: number): string[][] {
  const n = Math.max(1, Math.min(count, order.stages.length))
  const total = order.order.length
  const groups: string[][] = []
  let current: string[] = []
  let remainingGroups = n
  let remainingTables = total
  for (const [i, stage] of order.stages.entries()) {
    current.push(...stage)
    const stagesLeft = order.stages.length - i - 1
    const target = remainingTables / remainingGroups
    if (remainingGroups > 1 && (current.length >= target || stagesLeft < remainingGroups)) {
      groups.push(current)
      remainingTables -= current.length
      remainingGroups -= 1
      current = []
    }
  }
  if (current.length > 0) groups.push(current)
  return groups
}
