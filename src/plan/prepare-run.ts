import type { Connection } from '../dialect.js'
import { UsageError } from '../errors.js'
import type { FerryOptions } from '../options.js'
import { fitIdentifiers, type Rename } from '../schema/identifiers.js'
import { withoutChangeTable } from '../catchup/names.js'
import { selectSchema } from '../schema/select.js'
import type { DatabaseSchema } from '../schema/types.js'
import { orderTables, type LoadOrder } from './order.js'
import type { TablePair } from './table-pair.js'

/** The schema of a run as planned: source and target shapes, order, renames. */
export interface PreparedRun {
  sourceSchema: DatabaseSchema
  targetSchema: DatabaseSchema
  pairs: TablePair[]
  order: LoadOrder
  renames: Rename[]
}

/** Applies selection, declared keys, schema transforms and identifier rules. */
export function prepareRun(
  introspected: DatabaseSchema,
  target: Pick<Connection, 'dialect'>,
  options: Pick<FerryOptions, 'tables' | 'foreignKeys' | 'types' | 'transforms' | 'identifiers'>,
): PreparedRun {
  // a captured source's change table is the capture's, never the application's
  const { schema: sourceSchema } = selectSchema(withoutChangeTable(introspected), options)
  let schema: DatabaseSchema = {
    ...sourceSchema,
    // each column keeps the dialect its native type belongs to: the target schema carries the target's name
    tables: sourceSchema.tables.map((t) => ({
      ...t,
      origin: t.name,
      columns: t.columns.map((c) => ({ ...c, origin: c.name, nativeDialect: c.nativeDialect ?? introspected.dialect })),
    })),
  }
  for (const t of options.transforms ?? []) {
    if (t.schema) schema = t.schema(schema, { sourceDialect: introspected.dialect, targetDialect: target.dialect.name })
  }
  const fitted = fitIdentifiers(schema, target.dialect.capabilities, options.identifiers)
  const targetSchema = { ...fitted.schema, dialect: target.dialect.name }
  const bySource = new Map(sourceSchema.tables.map((t) => [t.name, t]))
  const pairs = targetSchema.tables.map((t) => {
    const source = bySource.get(t.origin ?? t.name)
    if (!source) throw new UsageError(`a transform produced table ${t.name}, which has no source table`)
    return { source, target: t }
  })
  return { sourceSchema, targetSchema, pairs, order: orderTables(targetSchema), renames: fitted.renames }
}

/**
 * Gives a source that infers its column types (CSV files) the tables that already exist on the target, so a
 * kept table's types come from there. File targets have no column types to give.
 */
export async function useExistingTargetTypes(source: Connection, target: Connection): Promise<void> {
  if (!source.useTargetTables || target.dialect.capabilities.bulkPath === 'file') return
  source.useTargetTables((await target.introspect()).tables)
}
