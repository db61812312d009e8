import { open, type FileHandle } from 'node:fs/promises'
import type { TableWriter, WriteResult } from '../../dialect.js'
import type { Row, TableSchema } from '../../schema/types.js'
import { recordFormatter } from './csv-format.js'
import type { CsvOptions } from './csv-options.js'
import { encodeText } from './encoding.js'

/** Output encoding of CSV files dbferry writes: `auto` means UTF-8. */
export function outputEncoding(options: Pick<CsvOptions, 'encoding'>): string {
  return options.encoding === 'auto' || options.encoding === '' ? 'utf8' : options.encoding
}

/**
 * Writes one table's rows to a CSV file. `fresh` files get the BOM (if asked, or always for UTF-16) and the
 * header; otherwise rows are appended. Every row given is written (CSV refuses nothing), so `rejected` is
 * always empty.
 */
export class CsvFileWriter implements TableWriter {
  #handle: FileHandle | undefined
  readonly #format: (values: readonly unknown[]) => string
  readonly #encoding: string
  #pending = ''

  private constructor(
    readonly path: string,
    readonly table: TableSchema,
    readonly options: CsvOptions,
    booleans?: readonly [string, string],
  ) {
    this.#format = recordFormatter(options, booleans) as (values: readonly unknown[]) => string
    this.#encoding = outputEncoding(options)
  }

  /**
   * Opens `path` for `table`; `fresh` truncates and writes BOM and header. `header` defaults to the column
   * names; `booleans` to `true`/`false`.
   */
  static async open(
    path: string,
    table: TableSchema,
    options: CsvOptions,
    fresh: boolean,
    header: readonly string[] = table.columns.map((c) => c.name),
    booleans?: readonly [string, string],
  ): Promise<CsvFileWriter> {
    const w = new CsvFileWriter(path, table, options, booleans)
    w.#handle = await open(path, fresh ? 'w' : 'a')
    if (fresh) {
      const bom = options.bom || w.#encoding.toLowerCase().startsWith('utf16') || w.#encoding.toLowerCase().startsWith('utf-16')
      const head = options.header ? w.#format(header) : ''
      await w.#handle.write(encodeText(head, w.#encoding, bom))
    }
    return w
  }

  async write(rows: Row[]): Promise<WriteResult> {
    let s = this.#pending
    for (const r of rows) s += this.#format(r)
    this.#pending = ''
    if (s.length > 0) await this.#handle!.write(encodeText(s, this.#encoding))
    return { written: rows.length, rejected: [] }
  }

  /** Writes raw text (already formatted) — for multi-table files' separators. */
  async writeText(text: string): Promise<void> {
    await this.#handle!.write(encodeText(text, this.#encoding))
  }

  async close(): Promise<void> {
    const h = this.#handle
    this.#handle = undefined
    if (h) {
      await h.close()
    }
  }

  async abort(): Promise<void> {
    await this.close()
  }
}
