import { connect, type ConnectionSpec } from '../connect.js'
import type { Connection, DialectCapabilities, TargetMode } from '../dialect.js'
import { makeRowFitter } from '../pipeline/fit-rows.js'
import type { ColumnSchema, DatabaseSchema, ForeignKeySchema, KeySchema, LogicalType, Row, TableSchema } from '../schema/types.js'

/** A column as a fixture declares it. `nullable` defaults to true. */
export interface FixtureColumn {
  /** The column's name. */
  name: string
  /** Its logical type; each engine declares it as its type map says. */
  type: LogicalType
  /** Whether it accepts NULL. Default true. */
  nullable?: boolean
  /** An identity / serial / auto-increment column. Default false. */
  autoIncrement?: boolean
}

/**
 * A table as a fixture declares it: columns with logical types, keys and rows. `looseRows` hold values only a
 * database with type affinity (SQLite) can store — the dirt of real files, such as text in an INTEGER column —
 * and are written only where the target's `storesAnyValue` capability is set.
 */
export interface FixtureTable {
  /** The table's name. */
  name: string
  /** The columns, in row order. */
  columns: FixtureColumn[]
  /** The primary key's columns. Absent: no primary key. */
  primaryKey?: string[]
  /** Unique keys, each a list of columns. Default none. */
  uniques?: string[][]
  /** Secondary indexes (`unique` default false), created after the rows. Default none. */
  indexes?: { name: string; columns: string[]; unique?: boolean }[]
  /** Foreign keys (`name` absent: the engine picks one), created after the rows. Default none. */
  foreignKeys?: { columns: string[]; refTable: string; refColumns: string[]; name?: string }[]
  /** Rows as canonical values aligned with `columns`; a row the engine cannot store is skipped (see `holdableRows`). */
  rows: Row[]
  /** Rows written only where the target's `storesAnyValue` is set (see above). Default none. */
  looseRows?: unknown[][]
}

/** A fixture: tables and rows declared once, buildable in any dialect. */
export interface Fixture {
  /** Names the fixture in errors (`fixture <name>: <table> refused 2 row(s)`). */
  name: string
  /** The tables, created and filled in this order. */
  tables: FixtureTable[]
}

/** Declares a fixture (an identity function for types). */
export function defineFixture(fixture: Fixture): Fixture {
  return fixture
}

/** The fixture's schema in dbferry's logical model. */
export function fixtureSchema(fixture: Fixture): DatabaseSchema {
  return {
    dialect: 'fixture',
    objects: [],
    tables: fixture.tables.map((t): TableSchema => ({
      name: t.name,
      columns: t.columns.map(
        (c): ColumnSchema => ({
          name: c.name,
          type: c.type,
          nativeType: '',
          nullable: c.nullable ?? true,
          ...(c.autoIncrement ? { autoIncrement: true } : {}),
        }),
      ),
      primaryKey: t.primaryKey ? ({ columns: t.primaryKey } satisfies KeySchema) : undefined,
      uniques: (t.uniques ?? []).map((columns) => ({ columns })),
      indexes: (t.indexes ?? []).map((i) => ({ name: i.name, columns: i.columns, unique: i.unique ?? false })),
      foreignKeys: (t.foreignKeys ?? []).map((f): ForeignKeySchema => ({ ...f, origin: 'source' })),
    })),
  }
}

/**
 * Builds the fixture in a database through dbferry's own dialect (`sqlite:./x.db`, `postgres://…`, or an open
 * connection): creates the tables (mode `recreate` by default), writes the rows, then indexes and keys.
 * Throws if the target refuses any row, so a fixture never builds short.
 */
export async function buildFixture(
  fixture: Fixture,
  to: ConnectionSpec,
  options: { mode?: TargetMode } = {},
): Promise<{ skipped: Record<string, number> }> {
  const { connection, owned } = await connect(to, { create: true })
  try {
    return await buildInto(fixture, connection, options.mode ?? 'recreate')
  } finally {
    if (owned) await connection.close()
  }
}

/**
 * The rows of a fixture table that a database with these capabilities can hold: loose rows only where any
 * value goes, and no row with a value the engine cannot store (U+0000 in text, non-finite floats).
 */
export function holdableRows(table: FixtureTable, caps: DialectCapabilities): Row[] {
  const schema = fixtureSchema({ name: '', tables: [table] }).tables[0]!
  const fit = makeRowFitter(schema, schema, caps)
  const rows = [...table.rows, ...(caps.storesAnyValue ? ((table.looseRows ?? []) as Row[]) : [])]
  if (!fit) return rows
  return rows.filter((r) => fit(r.slice(), () => {}, () => {}) !== undefined)
}

async function buildInto(fixture: Fixture, connection: Connection, mode: TargetMode): Promise<{ skipped: Record<string, number> }> {
  const schema = fixtureSchema(fixture)
  await connection.prepareTarget(schema, { mode })
  const skipped: Record<string, number> = {}
  for (const [i, t] of fixture.tables.entries()) {
    const rows = holdableRows(t, connection.dialect.capabilities)
    const all = t.rows.length + (t.looseRows?.length ?? 0)
    if (rows.length < all) skipped[t.name] = all - rows.length
    if (rows.length === 0) continue
    const writer = await connection.openWriter(schema.tables[i]!)
    const res = await writer.write(rows)
    await writer.close()
    if (res.rejected.length > 0) {
      throw new Error(`fixture ${fixture.name}: ${t.name} refused ${res.rejected.length} row(s): ${res.rejected[0]!.message}`)
    }
  }
  await connection.finalize(schema, {})
  return { skipped }
}
