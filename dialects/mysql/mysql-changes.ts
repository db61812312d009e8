import type { ChangeCaptureSql } from '../../src/dialect.js'
import { capturedKey, CHANGE_TABLE, deleteChangesSql, pastId, TRIGGER_PREFIX, triggerName } from '../../src/catchup/names.js'
import type { TableSchema } from '../../src/schema/types.js'
import { mysqlSql } from './mysql-sql.js'

/**
 * MySQL/MariaDB change capture: three AFTER triggers per table (INSERT, UPDATE, DELETE) that add the row's key
 * as `JSON_ARRAY(…)` of NEW or OLD to `dbferry_changes`. An update adds the old key, and the new one when the
 * key changed (compared with `<=>`).
 */

const q = mysqlSql.quoteIdentifier
// the literal is written for the server's default (backslash-escaping) SQL mode
const text = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
const MAX_NAME = 64

const keyJson = (row: 'NEW' | 'OLD', key: readonly string[]) => `JSON_ARRAY(${key.map((c) => `${row}.${q(c)}`).join(', ')})`

/** MySQL/MariaDB's {@link ChangeCaptureSql}. */
export const mysqlChanges: ChangeCaptureSql = Object.freeze({
  mechanism: 'AFTER INSERT, AFTER UPDATE and AFTER DELETE triggers (JSON_ARRAY of the key)',
  createChangeTable: () => [
    `CREATE TABLE IF NOT EXISTS ${q(CHANGE_TABLE)} (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, table_name varchar(255) NOT NULL, key_json text NOT NULL, changed_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  ],
  dropChangeTable: () => [`DROP TABLE IF EXISTS ${q(CHANGE_TABLE)}`],
  install(table: TableSchema): string[] {
    const key = capturedKey(table)
    const t = q(table.name)
    const entry = (json: string) => `INSERT INTO ${q(CHANGE_TABLE)} (table_name, key_json) VALUES (${text(table.name)}, ${json})`
    const same = key.map((c) => `OLD.${q(c)} <=> NEW.${q(c)}`).join(' AND ')
    return [
      ...mysqlChanges.remove(table.name, undefined),
      `CREATE TRIGGER ${q(triggerName('i', table.name, MAX_NAME))} AFTER INSERT ON ${t} FOR EACH ROW ${entry(keyJson('NEW', key))}`,
      // one statement (no BEGIN … END), so no client needs a DELIMITER
      `CREATE TRIGGER ${q(triggerName('u', table.name, MAX_NAME))} AFTER UPDATE ON ${t} FOR EACH ROW INSERT INTO ${q(CHANGE_TABLE)} (table_name, key_json) ` +
        `SELECT ${text(table.name)}, ${keyJson('OLD', key)} UNION ALL SELECT ${text(table.name)}, ${keyJson('NEW', key)} FROM DUAL WHERE NOT (${same})`,
      `CREATE TRIGGER ${q(triggerName('d', table.name, MAX_NAME))} AFTER DELETE ON ${t} FOR EACH ROW ${entry(keyJson('OLD', key))}`,
    ]
  },
  remove: (table: string) => ['i', 'u', 'd'].map((k) => `DROP TRIGGER IF EXISTS ${q(triggerName(k, table, MAX_NAME))}`),
  listTriggers: () =>
    `SELECT EVENT_OBJECT_TABLE AS table_name, TRIGGER_NAME AS trigger_name FROM information_schema.TRIGGERS ` +
    `WHERE TRIGGER_SCHEMA = DATABASE() AND LEFT(TRIGGER_NAME, ${TRIGGER_PREFIX.length}) = ${text(TRIGGER_PREFIX)} ORDER BY 1, 2`,
  changeTableExists: () => `SELECT 1 AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${text(CHANGE_TABLE)}`,
  readChanges: (limit: number, _schema: string | undefined, after?: bigint) =>
    `SELECT id, table_name, key_json FROM ${q(CHANGE_TABLE)}${pastId(after)} ORDER BY id LIMIT ${Math.floor(limit)}`,
  deleteChanges: (ids: readonly (number | bigint)[]) => deleteChangesSql(q(CHANGE_TABLE), ids),
  upsert(table: TableSchema, columns: readonly string[], literals: readonly string[]): string[] {
    const key = capturedKey(table)
    const rest = columns.filter((c) => !key.includes(c))
    // with only key columns, setting the first key part to itself makes a present row a no-op
    const set = (rest.length === 0 ? [key[0]!] : rest).map((c) => `${q(c)} = VALUES(${q(c)})`).join(', ')
    return [`INSERT INTO ${q(table.name)} (${columns.map(q).join(', ')}) VALUES (${literals.join(', ')}) ON DUPLICATE KEY UPDATE ${set}`]
  },
})
