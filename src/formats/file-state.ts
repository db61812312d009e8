import { stat } from 'node:fs/promises'
import type { SourceTableState } from '../dialect.js'

/**
 * A file source's state for resume's check: its size and modification time. Reading the file to count its
 * records would cost as much as the copy; any edit changes one of the two (a copy that does not keep the
 * time is reported as a change too, which only costs a fresh start).
 */
export async function fileState(path: string): Promise<SourceTableState> {
  const s = await stat(path)
  return { bytes: s.size, modified: s.mtime.toISOString() }
}
