import type { Connection, Dialect } from '../dialect.js'
import { ConnectionError, RowError, isDbferryError, type RowFailureKind } from '../errors.js'
import { valueToJson } from '../schema/rows.js'
import type { ColumnSchema, Row, TableSchema, Value } from '../schema/types.js'
import { ConversionFailure, makeConverter } from '../schema/values.js'
import { keyColumnsOf } from './keys.js'

/** Writes catch-up rows into one target: upserts and deletes by key, one statement (or batch) per row. */
export interface TargetApplier {
  /** Inserts the row, or updates the row with its key. Returns a `RowError` when the target refuses it. */
  upsert(table: TableSchema, row: Row): Promise<RowError | undefined>
  /** Deletes the row with this key (values of the source's key, converted to the target's key columns). */
  delete(table: TableSchema, key: readonly Value[]): Promise<RowError | undefined>
}

/**
 * The applier of a target engine with change SQL (`dialect.changes.upsert`) and `query`: values go as the
 * engine's literals (`sql.literal`, the escaping its SQL script target uses), columns the target computes
 * itself (a generated column in its own SQL) are left out as the bulk copy leaves them out.
 */
export function targetApplier(target: Connection, schema: string | undefined): TargetApplier {
  const dialect = target.dialect as Dialect
  const sql = dialect.sql
  const changes = dialect.changes!
  const query = target.query!.bind(target)
  const written = (c: ColumnSchema) => !(c.generated === true && c.default?.kind === 'expression' && c.default.dialect === dialect.name)

  const refused = (error: unknown, table: TableSchema, key: Record<string, unknown>, row?: Row): RowError => {
    const driverError = isDbferryError(error) && error.cause !== undefined ? error.cause : error
    const read = dialect.errors.classify(driverError)
    if (read?.connectionLost) throw new ConnectionError(`lost the connection to ${target.description} during catch-up of ${table.name}: ${(error as Error).message}`, { table: table.name, cause: error, driver: read.driver })
    const kind = (read?.kind ?? 'target_rejected') as RowFailureKind
    const column = read?.driver.column ?? (isDbferryError(error) ? error.column : undefined) ?? (row ? columnAtFault(table, row, kind) : undefined)
    const index = column === undefined ? -1 : table.columns.findIndex((c) => c.name === column)
    const message = `${table.name}: ${error instanceof Error ? error.message : String(error)}`
    return new RowError(kind, message, {
      table: table.name,
      key,
      ...(column !== undefined ? { column } : {}),
      ...(row && index >= 0 ? { value: row[index] } : {}),
      ...(row ? { row } : {}),
      cause: error,
      ...(read ? { driver: read.driver } : {}),
    })
  }

  const keyOf = (table: TableSchema, row: Row) => {
    const o: Record<string, unknown> = {}
    for (const c of keyColumnsOf(table)) o[c.name] = valueToJson(row[table.columns.indexOf(c)])
    return o
  }

  return {
    async upsert(table, row) {
      const columns: string[] = []
      const literals: string[] = []
      table.columns.forEach((c, i) => {
        if (!written(c)) return
        columns.push(c.name)
        literals.push(sql.literal(row[i] ?? null, c))
      })
      try {
        for (const s of changes.upsert(table, columns, literals, schema)) await query(s)
        return undefined
      } catch (error) {
        return refused(error, table, keyOf(table, row), row)
      }
    },
    async delete(table, key) {
      const columns = keyColumnsOf(table)
      const values: Value[] = []
      const o: Record<string, unknown> = {}
      for (let i = 0; i < columns.length; i++) {
        const c = columns[i]!
        const v = key[i] === null || key[i] === undefined ? null : makeConverter(c.type)(key[i])
        if (v instanceof ConversionFailure) return new RowError(v.kind, `${table.name}.${c.name}: ${v.reason}`, { table: table.name, column: c.name, value: key[i] })
        values.push(v)
        o[c.name] = valueToJson(v)
      }
      const where = columns.map((c, i) => `${sql.quoteIdentifier(c.name)} = ${sql.literal(values[i]!, c)}`).join(' AND ')
      try {
        await query(`DELETE FROM ${sql.tableName(table, schema)} WHERE ${where}`)
        return undefined
      } catch (error) {
        return refused(error, table, o)
      }
    },
  }
}

/**
 * The column a refusal is about when the engine does not say (PostgreSQL names none for a value too long):
 * the one column whose value breaks the rule the kind names — text longer than its declared length, NULL in a
 * NOT NULL column. Undefined when none or several do.
 */
function columnAtFault(table: TableSchema, row: Row, kind: RowFailureKind): string | undefined {
  const suspects = table.columns.filter((c, i) => {
    const v = row[i]
    if (kind === 'not_null') return v === null && !c.nullable
    if (kind === 'truncation' && c.type.kind === 'text' && c.type.length !== undefined) return typeof v === 'string' && [...v].length > c.type.length
    return false
  })
  return suspects.length === 1 ? suspects[0]!.name : undefined
}
