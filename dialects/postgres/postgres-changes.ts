import type { ChangeCaptureSql } from '../../src/dialect.js'
import { capturedKey, CHANGE_TABLE, deleteChangesSql, pastId, TRIGGER_PREFIX, triggerName } from '../../src/catchup/names.js'
import type { TableSchema } from '../../src/schema/types.js'
import { postgresSql } from './postgres-sql.js'

/**
 * PostgreSQL change capture: one plpgsql trigger function per schema, `dbferry_capture()`, and one
 * `AFTER INSERT OR UPDATE OR DELETE … FOR EACH ROW` trigger per table that passes its key columns as the
 * trigger's arguments. The function adds the key as a JSON array (`jsonb_build_array` of the columns' values)
 * to `dbferry_changes`: the old key for an update or delete, the new key for an insert, and both for an
 * update that changed the key.
 */

const q = postgresSql.quoteIdentifier
const text = (s: string) => `'${s.replace(/'/g, "''")}'`
const MAX_NAME = 63
const FUNCTION = 'dbferry_capture'

/** `schema.name`, or the bare name when no schema is known (the session's search path decides). */
const qualified = (name: string, schema: string | undefined) => (schema ? `${q(schema)}.${q(name)}` : q(name))

/** PostgreSQL's {@link ChangeCaptureSql}. */
export const postgresChanges: ChangeCaptureSql = Object.freeze({
  mechanism: 'AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW triggers calling a plpgsql function',
  createChangeTable: (schema: string | undefined) => [
    `CREATE TABLE IF NOT EXISTS ${qualified(CHANGE_TABLE, schema)} (id bigserial PRIMARY KEY, table_name text NOT NULL, key_json text NOT NULL, changed_at timestamptz NOT NULL DEFAULT now())`,
    // the change table is named with its schema here, so the function works whatever a writer's search_path is
    `CREATE OR REPLACE FUNCTION ${qualified(FUNCTION, schema)}() RETURNS trigger LANGUAGE plpgsql AS $dbferry$
DECLARE
  old_key jsonb := '[]'::jsonb;
  new_key jsonb := '[]'::jsonb;
  col text;
BEGIN
  FOREACH col IN ARRAY TG_ARGV LOOP
    IF TG_OP <> 'INSERT' THEN old_key := old_key || jsonb_build_array(to_jsonb(OLD) -> col); END IF;
    IF TG_OP <> 'DELETE' THEN new_key := new_key || jsonb_build_array(to_jsonb(NEW) -> col); END IF;
  END LOOP;
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO ${qualified(CHANGE_TABLE, schema)} (table_name, key_json) VALUES (TG_TABLE_NAME, old_key::text);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND new_key IS DISTINCT FROM old_key) THEN
    INSERT INTO ${qualified(CHANGE_TABLE, schema)} (table_name, key_json) VALUES (TG_TABLE_NAME, new_key::text);
  END IF;
  RETURN NULL;
END
$dbferry$`,
  ],
  dropChangeTable: (schema: string | undefined) => [`DROP FUNCTION IF EXISTS ${qualified(FUNCTION, schema)}() CASCADE`, `DROP TABLE IF EXISTS ${qualified(CHANGE_TABLE, schema)}`],
  install(table: TableSchema, schema: string | undefined): string[] {
    const key = capturedKey(table)
    return [
      ...postgresChanges.remove(table.name, schema),
      `CREATE TRIGGER ${q(triggerName('all', table.name, MAX_NAME))} AFTER INSERT OR UPDATE OR DELETE ON ${qualified(table.name, schema)} FOR EACH ROW EXECUTE FUNCTION ${qualified(FUNCTION, schema)}(${key.map(text).join(', ')})`,
    ]
  },
  remove: (table: string, schema: string | undefined) => [`DROP TRIGGER IF EXISTS ${q(triggerName('all', table, MAX_NAME))} ON ${qualified(table, schema)}`],
  listTriggers: (schema: string | undefined) =>
    `SELECT c.relname AS table_name, t.tgname AS trigger_name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace ` +
    `WHERE NOT t.tgisinternal AND left(t.tgname, ${TRIGGER_PREFIX.length}) = ${text(TRIGGER_PREFIX)} AND n.nspname = ${schema ? text(schema) : 'current_schema()'} ORDER BY 1, 2`,
  changeTableExists: (schema: string | undefined) => `SELECT 1 AS present WHERE to_regclass(${text(qualified(CHANGE_TABLE, schema))}) IS NOT NULL`,
  readChanges: (limit: number, schema: string | undefined, after?: bigint) =>
    `SELECT id, table_name, key_json FROM ${qualified(CHANGE_TABLE, schema)}${pastId(after)} ORDER BY id LIMIT ${Math.floor(limit)}`,
  deleteChanges: (ids: readonly (number | bigint)[], schema: string | undefined) => deleteChangesSql(qualified(CHANGE_TABLE, schema), ids),
  upsert(table: TableSchema, columns: readonly string[], literals: readonly string[], schema: string | undefined): string[] {
    const key = capturedKey(table)
    const rest = columns.filter((c) => !key.includes(c))
    const action = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`
    // OVERRIDING SYSTEM VALUE: a GENERATED ALWAYS identity takes the source's key as the copy wrote it
    return [`INSERT INTO ${qualified(table.name, schema)} (${columns.map(q).join(', ')}) OVERRIDING SYSTEM VALUE VALUES (${literals.join(', ')}) ON CONFLICT (${key.map(q).join(', ')}) ${action}`]
  },
})
