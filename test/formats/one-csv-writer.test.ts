import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { csvDocument } from '../../src/formats/csv/csv-format.js'
import { CsvRecordParser } from '../../src/formats/csv/csv-parser.js'

const root = process.cwd()

/** Every `.ts` file under `dir`, tests left out. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(root, dir, f))
}

/** The packages shipped code imports (`pkg` or `@scope/pkg` of every bare specifier). */
function importedPackages(): Set<string> {
  const found = new Set<string>()
  for (const file of [...sources('src'), ...sources('dialects')]) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)['"]([^'".][^'"]*)['"]/g)) {
      const spec = m[1]!
      if (spec.startsWith('node:')) continue
      const parts = spec.split('/')
      found.add(spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!)
    }
  }
  return found
}

describe('one CSV writer', () => {
  it('every runtime dependency is imported by shipped code, and no CSV library is among them', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const used = importedPackages()
    const unused = Object.keys(pkg.dependencies).filter((d) => !used.has(d))
    expect(unused, 'dependencies nothing in src/ or dialects/ imports').toEqual([])
    expect([...used].filter((p) => p.startsWith('csv-'))).toEqual([])
  })

  // values that need every rule of the writer: quotes, the delimiter, both line ends, NULL beside ""
  const rows = [
    [1, 'plain', null, 'he said "hi"', true],
    [2, 'a,b', '', 'two\nlines', false],
    [3, 'crlf\r\nend', ' lead space', '""', 12345678901234567890n],
  ] as const

  it('csvDocument writes what an independent parser (csv-parse) reads back', () => {
    const text = csvDocument(['id', 'a', 'b', 'c', 'd'], rows)
    const records = parse(text, { columns: true }) as Record<string, string>[]
    expect(records).toEqual(
      rows.map((r) => ({ id: String(r[0]), a: r[1], b: r[2] ?? '', c: r[3], d: String(r[4]) })),
    )
    // NULL and the empty string stay apart: unquoted empty against ""
    expect(text.split('\n')[2]).toBe('2,"a,b","","two')
  })

  it('csvDocument output reads back through the CSV source parser with NULLs intact', () => {
    const parser = new CsvRecordParser()
    const items = [...parser.push(csvDocument(['id', 'a', 'b', 'c', 'd'], rows)), ...parser.end()]
    const fields = items.filter((i) => i.kind === 'record').map((i) => (i.kind === 'record' ? i.fields : []))
    expect(fields).toEqual([['id', 'a', 'b', 'c', 'd'], ...rows.map((r) => r.map((v) => (v === null ? null : String(v))))])
  })
})
