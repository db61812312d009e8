import type { Dialect, SnapshotInfo } from '../dialect.js'
import type { DatabaseSchema } from '../schema/types.js'

/**
 * One report note per generated column the target does not recreate: its expression is another engine's
 * SQL, so a target with `capabilities.plainGeneratedColumns` creates it as a plain column holding the
 * source's values. A column whose expression is the target's own is recreated and gets no note; a target
 * without the flag gets none either (what it does with such a column is its own to say).
 */
export function generatedColumnNotes(schema: DatabaseSchema, target: Pick<Dialect, 'name' | 'capabilities'>): string[] {
  if (target.capabilities.plainGeneratedColumns !== true) return []
  return schema.tables.flatMap((t) =>
    t.columns.flatMap((c) => {
      if (!c.generated) return []
      const d = c.default
      if (d?.kind === 'expression' && d.dialect === target.name) return []
      const expression = d?.kind === 'expression' ? ` AS ${d.sql}` : ''
      return [`${t.name}.${c.name}: generated column${expression}, copied as a plain column with its values (the expression is not recreated on ${target.name})`]
    }),
  )
}

/** `snapshot` with `notes` added after the source's own (a copy: the source's array is left as it is). */
export function withNotes(snapshot: SnapshotInfo, notes: readonly string[]): SnapshotInfo {
  return notes.length === 0 ? snapshot : { ...snapshot, notes: [...(snapshot.notes ?? []), ...notes] }
}
