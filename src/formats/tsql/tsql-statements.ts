import { createReadStream } from 'node:fs'
import iconv from 'iconv-lite'
import { SchemaError } from '../../errors.js'
import { LexError, NeedMore, TsqlLexer } from './tsql-lexer.js'
import { TsqlParser, type BatchVariable, type Statement } from './tsql-parser.js'
import type { ScriptRange } from './tsql-table-state.js'

/** Which encoding a script is in, from its first bytes. */
export function detectEncoding(head: Uint8Array): { encoding: 'utf8' | 'utf16le' | 'utf16be'; bom: number } {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', bom: 3 }
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', bom: 2 }
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', bom: 2 }
  // no BOM: ASCII text in UTF-16 has every other byte zero
  if (head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0) return { encoding: 'utf16le', bom: 0 }
  if (head.length >= 4 && head[0] === 0 && head[1] !== 0 && head[2] === 0 && head[3] !== 0) return { encoding: 'utf16be', bom: 0 }
  return { encoding: 'utf8', bom: 0 }
}

async function readHead(path: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of createReadStream(path, { start: 0, end: 3 })) {
    chunks.push(c as Buffer)
    n += (c as Buffer).length
  }
  return Buffer.concat(chunks, n)
}

/** A parsed statement with the line it starts on (1-based) and, where known, its byte range in the file. */
export interface LocatedStatement {
  statement: Statement
  line: number
  /** Byte offset of the statement's first token; undefined when offsets cannot be tracked exactly. */
  byteStart?: number
  /** Byte offset just past the statement. */
  byteEnd?: number
}

/**
 * Streams the statements of a script file: decodes UTF-8 or UTF-16 (with or without BOM) chunk by chunk and
 * parses on a buffer that holds at most one statement plus one chunk. With `range`, reads only those bytes
 * (which must start at a statement boundary). `variables`: the batch's variables where the read starts, kept
 * up to date as statements are parsed (the caller may look at them between statements); default none.
 */
export async function* scriptStatements(path: string, chunkBytes = 256 * 1024, range?: ScriptRange, variables: Map<string, BatchVariable> = new Map()): AsyncGenerator<LocatedStatement> {
  const { encoding, bom } = detectEncoding(await readHead(path))
  const decoder = iconv.getDecoder(encoding === 'utf8' ? 'utf8' : encoding === 'utf16le' ? 'utf16le' : 'utf16-be')
  const lex = new TsqlLexer()
  const parser = new TsqlParser(lex, variables)
  let line = range?.line ?? 1
  // byte offset of lex.text[0]; exact while decoded text re-encodes to the bytes read
  let textByte = range?.start ?? bom
  let exact = true
  const bytesOf = (from: number, to: number) => (encoding === 'utf8' ? Buffer.byteLength(lex.text.slice(from, to), 'utf8') : 2 * (to - from))
  const stream = createReadStream(path, { start: range?.start ?? bom, ...(range ? { end: range.end - 1 } : {}), highWaterMark: chunkBytes })
  const iterator = stream[Symbol.asyncIterator]()
  let done = false
  const pull = async () => {
    const r = await iterator.next()
    const text = r.done ? (decoder.end() ?? '') : decoder.write(r.value as Buffer)
    // a replacement character may stand for bytes of another length: stop trusting offsets
    if (encoding === 'utf8' && text.includes('\uFFFD')) exact = false
    if (r.done) done = true
    lex.append(text, done)
  }
  await pull()
  try {
    for (;;) {
      const start = lex.pos
      let statement: Statement
      try {
        statement = parser.parse()
      } catch (e) {
        if (e instanceof NeedMore && !done) {
          lex.reset(start)
          await pull()
          continue
        }
        if (e instanceof LexError) throw new SchemaError(`${path}, line ${line}: ${e.message}`, { cause: e })
        throw e
      }
      if (statement.kind === 'eof') return
      const tokenStart = Math.max(start, Math.min(parser.statementStart, lex.pos))
      const stmtLine = line + countNewlines(lex.text, start, tokenStart)
      line = stmtLine + countNewlines(lex.text, tokenStart, lex.pos)
      const located: LocatedStatement = { statement, line: stmtLine }
      if (exact) {
        located.byteStart = textByte + bytesOf(0, tokenStart)
        located.byteEnd = textByte + bytesOf(0, lex.pos)
      }
      yield located
      const end = lex.pos
      textByte += bytesOf(0, end)
      lex.compact()
    }
  } finally {
    stream.destroy()
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n++
  return n
}
