import type pg from 'pg'
import copyStreams from 'pg-copy-streams'
import type { CsvLoad, CsvText } from '../../src/dialect.js'
import { AbortError } from '../../src/errors.js'
import type { TableSchema } from '../../src/schema/types.js'
import { quoteIdent } from './postgres-reader.js'
import { columnDdlType } from './postgres-types.js'
import { isComputedOnTarget } from './postgres-writer.js'

/**
 * The pass-through path into PostgreSQL: a whole CSV file streamed into one `COPY … FROM STDIN (FORMAT csv)`
 * inside a transaction that the caller commits once it has checked the row count. The server's CSV rules
 * match the strict CSV the source checks: an unquoted field equal to the NULL marker is NULL and a quoted one
 * never is (PostgreSQL's default without FORCE_NULL), `ESCAPE` applies only inside quotes, and the session
 * settings (ISO dates, UTC, hex bytea) read canonical text as the values the row path would send.
 */

/** A `COPY` option value as a string literal (`escapeLiteral` also handles backslashes). */
function literal(client: pg.Client | pg.PoolClient, s: string): string {
  return client.escapeLiteral(s)
}

/** The `COPY` statement for `text` into `table` (columns in the file's order). */
export function csvCopySql(client: pg.Client | pg.PoolClient, schema: string, table: TableSchema, text: CsvText): string {
  const f = text.format
  const options = [
    'FORMAT csv',
    `HEADER ${f.header ? 'true' : 'false'}`,
    `DELIMITER ${literal(client, f.delimiter)}`,
    `QUOTE ${literal(client, f.quote)}`,
    `ESCAPE ${literal(client, f.escape)}`,
    `NULL ${literal(client, f.null)}`,
    `ENCODING ${f.encoding === 'latin1' ? "'LATIN1'" : "'UTF8'"}`,
  ]
  return `COPY ${quoteIdent(schema)}.${quoteIdent(table.name)} (${text.columns.map(quoteIdent).join(', ')}) FROM STDIN WITH (${options.join(', ')})`
}

/** Why this table's text cannot go through `COPY … (FORMAT csv)` as the row path would write it, if so. */
function declined(table: TableSchema, text: CsvText): string | undefined {
  const byName = new Map(table.columns.map((c) => [c.name, c]))
  for (const name of text.columns) {
    const c = byName.get(name)
    if (!c) return `the target table has no column ${name}`
    if (isComputedOnTarget(c)) return `column ${name} is computed by the target`
    // arrays arrive as JSON and are rewritten as array literals on the row path
    if (columnDdlType(c).endsWith('[]')) return `column ${name} is an array`
  }
  const listed = new Set(text.columns)
  const missing = table.columns.filter((c) => !listed.has(c.name) && !isComputedOnTarget(c))
  if (missing.length > 0) return `the file has no field for ${missing.map((c) => c.name).join(', ')}`
  return undefined
}

/**
 * Loads `text` into `table` in one transaction left open (see {@link CsvLoad}). On any failure — the server
 * refuses a value, `text.bytes` throws, the signal aborts — the COPY is cancelled, the transaction rolled
 * back and the error rethrown.
 */
export async function loadCsvText(
  client: pg.Client | pg.PoolClient,
  schema: string,
  table: TableSchema,
  text: CsvText,
  signal?: AbortSignal,
): Promise<CsvLoad | string> {
  const why = declined(table, text)
  if (why !== undefined) return why
  const sql = csvCopySql(client, schema, table, text)
  await client.query('BEGIN; SET CONSTRAINTS ALL IMMEDIATE')
  const rollback = () => client.query('ROLLBACK').then(() => undefined)
  try {
    const stream = client.query(copyStreams.from(sql))
    let serverError: unknown
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve)
      stream.on('error', (error) => {
        serverError ??= error
        reject(error)
      })
    })
    done.catch(() => {})
    try {
      for await (const chunk of text.bytes) {
        if (serverError !== undefined) break
        if (signal?.aborted) throw new AbortError()
        if (!stream.write(chunk)) {
          // wait for the socket, or for the server's refusal
          await new Promise<void>((resolve) => {
            const go = () => {
              stream.off('drain', go)
              stream.off('error', go)
              resolve()
            }
            stream.on('drain', go)
            stream.on('error', go)
          })
        }
      }
    } catch (error) {
      // the source's check (or an abort) stops the COPY: the server gets CopyFail and discards it
      stream.destroy(error instanceof Error ? error : new Error(String(error)))
      await done.catch(() => {})
      throw error
    }
    if (serverError === undefined) stream.end()
    await done
    const rows = (stream as unknown as { rowCount: number }).rowCount
    return {
      rows,
      commit: async () => {
        await client.query('COMMIT')
      },
      rollback,
    }
  } catch (error) {
    await rollback().catch(() => {})
    throw error
  }
}
