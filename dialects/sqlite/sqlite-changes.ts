import type { ChangeCaptureSql } from '../../src/dialect.js'
import { capturedKey, CHANGE_TABLE, deleteChangesSql, pastId, TRIGGER_PREFIX, triggerName } from '../../src/catchup/names.js'
import type { TableSchema } from '../../src/schema/types.js'
import { sqliteSql } from './sqlite-sql.js'

/**
 * SQLite change capture: three AFTER triggers per table (insert, update, delete) that add the row's key as
 * `json_array(…)` to `dbferry_changes`. An update adds the old key, and the new one when the key changed.
 */

const q = sqliteSql.quoteIdentifier
const text = (s: string) => `'${s.replace(/'/g, "''")}'`
// SQLite keeps names of any length; the cap only keeps generated names readable
const MAX_NAME = 128

const keyJson = (row: 'NEW' | 'OLD', key: readonly string[]) => `json_array(${key.map((c) => `${row}.${q(c)}`).join(', ')})`
const insertEntry = (table: string, json: string) => `INSERT INTO ${q(CHANGE_TABLE)} (table_name, key_json) VALUES (${text(table)}, ${json})`

/** SQLite's {@link ChangeCaptureSql}. */
export const sqliteChanges: ChangeCaptureSql = Object.freeze({
  mechanism: 'AFTER INSERT, AFTER UPDATE and AFTER DELETE triggers (json_array of the key)',
  createChangeTable: () => [
    `CREATE TABLE IF NOT EXISTS ${q(CHANGE_TABLE)} (id INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, key_json TEXT NOT NULL, changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))`,
  ],
  dropChangeTable: () => [`DROP TABLE IF EXISTS ${q(CHANGE_TABLE)}`],
  install(table: TableSchema): string[] {
    const key = capturedKey(table)
    const t = q(table.name)
    const same = key.map((c) => `OLD.${q(c)} IS NEW.${q(c)}`).join(' AND ')
    return [
      ...sqliteChanges.remove(table.name, undefined),
      `CREATE TRIGGER ${q(triggerName('i', table.name, MAX_NAME))} AFTER INSERT ON ${t} BEGIN ${insertEntry(table.name, keyJson('NEW', key))}; END`,
      `CREATE TRIGGER ${q(triggerName('u', table.name, MAX_NAME))} AFTER UPDATE ON ${t} BEGIN ${insertEntry(table.name, keyJson('OLD', key))}; ` +
        `INSERT INTO ${q(CHANGE_TABLE)} (table_name, key_json) SELECT ${text(table.name)}, ${keyJson('NEW', key)} WHERE NOT (${same}); END`,
      `CREATE TRIGGER ${q(triggerName('d', table.name, MAX_NAME))} AFTER DELETE ON ${t} BEGIN ${insertEntry(table.name, keyJson('OLD', key))}; END`,
    ]
  },
  remove: (table: string) => ['i', 'u', 'd'].map((k) => `DROP TRIGGER IF EXISTS ${q(triggerName(k, table, MAX_NAME))}`),
  listTriggers: () => `SELECT tbl_name AS table_name, name AS trigger_name FROM sqlite_schema WHERE type = 'trigger' AND substr(name, 1, ${TRIGGER_PREFIX.length}) = ${text(TRIGGER_PREFIX)} ORDER BY tbl_name, name`,
  changeTableExists: () => `SELECT 1 AS present FROM sqlite_schema WHERE type = 'table' AND name = ${text(CHANGE_TABLE)}`,
  readChanges: (limit: number, _schema: string | undefined, after?: bigint) =>
    `SELECT id, table_name, key_json FROM ${q(CHANGE_TABLE)}${pastId(after)} ORDER BY id LIMIT ${Math.floor(limit)}`,
  deleteChanges: (ids: readonly (number | bigint)[]) => deleteChangesSql(q(CHANGE_TABLE), ids),
  upsert(table: TableSchema, columns: readonly string[], literals: readonly string[]): string[] {
    const key = capturedKey(table)
    const rest = columns.filter((c) => !key.includes(c))
    const action = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`
    return [`INSERT INTO ${q(table.name)} (${columns.map(q).join(', ')}) VALUES (${literals.join(', ')}) ON CONFLICT (${key.map(q).join(', ')}) ${action}`]
  },
})
