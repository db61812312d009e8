import type { ChangeCaptureSql } from '../../src/dialect.js'
import { capturedKey, CHANGE_TABLE, deleteChangesSql, pastId, TRIGGER_PREFIX, triggerName } from '../../src/catchup/names.js'
import type { ColumnSchema, TableSchema } from '../../src/schema/types.js'
import { mssqlSql } from './mssql-sql.js'

/**
 * SQL Server change capture: one `AFTER INSERT, UPDATE, DELETE` trigger per table that adds the keys of the
 * `deleted` and `inserted` rows, as JSON arrays, to `dbferry_changes` (a UNION, so a plain update adds its key
 * once and an update of the key adds both). Triggers work on every edition and on the Babelfish stand-in;
 * real SQL Server could use Change Tracking instead where it is enabled, but a trigger gives the same change
 * table on every engine.
 */

const q = mssqlSql.quoteIdentifier
const nstring = (s: string) => `N'${s.replace(/'/g, "''")}'`
const MAX_NAME = 128
const qualified = (name: string, schema: string | undefined) => mssqlSql.tableName({ name }, schema)

function keyColumns(table: TableSchema): ColumnSchema[] {
  return capturedKey(table).map((k) => table.columns.find((c) => c.name === k)!)
}

/** One key part as JSON text: integers and bits as numbers, everything else as an escaped string. */
function jsonPart(alias: string, column: ColumnSchema): string {
  const e = `${alias}.${q(column.name)}`
  const kind = column.type.kind
  if (kind === 'int16' || kind === 'int32' || kind === 'int64' || kind === 'boolean') return `CAST(${e} AS nvarchar(40))`
  // dates and times in ISO 8601 (style 126), which reads back the same whatever the session's DATEFORMAT
  const style = kind === 'date' || kind === 'time' || kind === 'timestamp' || kind === 'timestamptz' ? ', 126' : ''
  return `N'"' + STRING_ESCAPE(CONVERT(nvarchar(max), ${e}${style}), 'json') + N'"'`
}

const keyJson = (alias: string, key: readonly ColumnSchema[]) => `N'[' + ${key.map((c) => jsonPart(alias, c)).join(` + N',' + `)} + N']'`

const hasIdentity = (table: TableSchema) => table.columns.some((c) => c.autoIncrement && !c.generated)

/** SQL Server's {@link ChangeCaptureSql}. */
export const mssqlChanges: ChangeCaptureSql = Object.freeze({
  mechanism: 'an AFTER INSERT, UPDATE, DELETE trigger reading inserted/deleted (Change Tracking is not used)',
  createChangeTable: (schema: string | undefined) => [
    `IF OBJECT_ID(${nstring(qualified(CHANGE_TABLE, schema))}, N'U') IS NULL CREATE TABLE ${qualified(CHANGE_TABLE, schema)} (id bigint IDENTITY(1,1) NOT NULL PRIMARY KEY, table_name nvarchar(256) NOT NULL, key_json nvarchar(max) NOT NULL, changed_at datetime2 NOT NULL DEFAULT SYSUTCDATETIME())`,
  ],
  dropChangeTable: (schema: string | undefined) => [`IF OBJECT_ID(${nstring(qualified(CHANGE_TABLE, schema))}, N'U') IS NOT NULL DROP TABLE ${qualified(CHANGE_TABLE, schema)}`],
  install(table: TableSchema, schema: string | undefined): string[] {
    const key = keyColumns(table)
    const name = qualified(triggerName('all', table.name, MAX_NAME), schema)
    return [
      ...mssqlChanges.remove(table.name, schema),
      `CREATE TRIGGER ${name} ON ${qualified(table.name, schema)} AFTER INSERT, UPDATE, DELETE AS
BEGIN
  SET NOCOUNT ON;
  INSERT INTO ${qualified(CHANGE_TABLE, schema)} (table_name, key_json)
  SELECT ${nstring(table.name)}, ${keyJson('d', key)} FROM deleted d
  UNION SELECT ${nstring(table.name)}, ${keyJson('i', key)} FROM inserted i;
END`,
    ]
  },
  remove(table: string, schema: string | undefined): string[] {
    const name = qualified(triggerName('all', table, MAX_NAME), schema)
    return [`IF OBJECT_ID(${nstring(name)}, N'TR') IS NOT NULL DROP TRIGGER ${name}`]
  },
  listTriggers: (schema: string | undefined) =>
    `SELECT t.name AS table_name, tr.name AS trigger_name FROM sys.triggers tr JOIN sys.tables t ON t.object_id = tr.parent_id JOIN sys.schemas s ON s.schema_id = t.schema_id ` +
    `WHERE LEFT(tr.name, ${TRIGGER_PREFIX.length}) = ${nstring(TRIGGER_PREFIX)} AND s.name = ${schema ? nstring(schema) : 'SCHEMA_NAME()'} ORDER BY t.name, tr.name`,
  changeTableExists: (schema: string | undefined) => `SELECT 1 AS present WHERE OBJECT_ID(${nstring(qualified(CHANGE_TABLE, schema))}, N'U') IS NOT NULL`,
  readChanges: (limit: number, schema: string | undefined, after?: bigint) =>
    `SELECT TOP (${Math.floor(limit)}) id, table_name, key_json FROM ${qualified(CHANGE_TABLE, schema)}${pastId(after)} ORDER BY id`,
  deleteChanges: (ids: readonly (number | bigint)[], schema: string | undefined) => deleteChangesSql(qualified(CHANGE_TABLE, schema), ids),
  upsert(table: TableSchema, columns: readonly string[], literals: readonly string[], schema: string | undefined): string[] {
    const key = keyColumns(table).map((c) => c.name)
    const t = qualified(table.name, schema)
    const lit = new Map(columns.map((c, i) => [c, literals[i]!]))
    const where = key.map((k) => `${q(k)} = ${lit.get(k)}`).join(' AND ')
    // an identity column cannot be updated: it is in the key (and equal) or left as it is
    const identity = new Set(table.columns.filter((c) => c.autoIncrement).map((c) => c.name))
    const rest = columns.filter((c) => !key.includes(c) && !identity.has(c))
    const insert = `INSERT INTO ${t} (${columns.map(q).join(', ')}) VALUES (${literals.join(', ')});`
    // no MERGE: the Babelfish stand-in lacks it, and UPDATE-then-INSERT in one transaction is as exact
    const body =
      rest.length === 0
        ? `IF NOT EXISTS (SELECT 1 FROM ${t} WHERE ${where}) ${insert}`
        : `UPDATE ${t} SET ${rest.map((c) => `${q(c)} = ${lit.get(c)}`).join(', ')} WHERE ${where}; IF @@ROWCOUNT = 0 ${insert}`
    if (!hasIdentity(table)) return [`BEGIN TRANSACTION; ${body} COMMIT;`]
    // IDENTITY_INSERT is per session: switched off again whatever happens, so a pooled session never keeps it
    return [
      `SET IDENTITY_INSERT ${t} ON;
BEGIN TRY
  BEGIN TRANSACTION; ${body} COMMIT;
  SET IDENTITY_INSERT ${t} OFF;
END TRY
BEGIN CATCH
  IF @@TRANCOUNT > 0 ROLLBACK;
  SET IDENTITY_INSERT ${t} OFF;
  THROW;
END CATCH`,
    ]
  },
})
