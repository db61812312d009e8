import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ENGINE_NAMES, isEngine, loadEngine } from '../../src/registry.js'

// every engine is a folder of the same files, each exporting the same names (the engine's name in place of X)
const CONTRACT: Record<string, string[]> = {
  'X-dialect.ts': ['XDialect'],
  'X-connection.ts': ['XConnection', 'connectX'],
  'X-introspector.ts': ['introspectX'],
  'X-reader.ts': ['readXTable'],
  'X-writer.ts': ['finalizeXTarget', 'openXWriter', 'prepareXTarget'],
  'X-types.ts': ['XTypes'],
  'X-sql.ts': ['XSql'],
  'X-errors.ts': ['XErrors'],
  'index.ts': ['X', 'XConnection', 'XDialect', 'XErrors', 'XSql', 'XTypes'],
}
// files an engine has when it has the feature, with the same exported names: change capture (`Dialect.changes`)
const OPTIONAL: Record<string, { names: string[]; has: (d: Awaited<ReturnType<typeof loadEngine>>) => boolean }> = {
  'X-changes.ts': { names: ['XChanges'], has: (d) => d.changes !== undefined },
}
// files that every file format may load: they must not load the driver
const DRIVER_FREE = ['X-dialect.ts', 'X-types.ts', 'X-sql.ts', 'X-errors.ts']

const root = join(import.meta.dirname, '..', '..', 'dialects')
const generic = (engine: string, name: string) => name.replace(new RegExp(engine, 'ig'), 'X')

describe('the dialect contract', () => {
  it('the registry names every folder under dialects/, and nothing else', () => {
    const folders = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)
    expect([...ENGINE_NAMES].sort()).toEqual(folders.sort())
  })

  for (const engine of ENGINE_NAMES) {
    describe(engine, () => {
      it('has exactly the contract files, and an optional one exactly when it has the feature', async () => {
        const d = await loadEngine(engine)
        const optional = Object.entries(OPTIONAL).filter(([, o]) => o.has(d)).map(([f]) => f)
        const files = readdirSync(join(root, engine)).filter((f) => f.endsWith('.ts'))
        expect(files.map((f) => generic(engine, f)).sort()).toEqual([...Object.keys(CONTRACT), ...optional].sort())
      })

      const present = Object.entries(OPTIONAL).filter(([f]) => existsSync(join(root, engine, f.replace('X', engine))))
      for (const [file, names] of [...Object.entries(CONTRACT), ...present.map(([f, o]) => [f, o.names] as const)]) {
        it(`${file.replace('X', engine)} exports exactly ${names.join(', ')}`, async () => {
          const mod = (await import(join(root, engine, file.replace('X', engine)))) as Record<string, unknown>
          expect(Object.keys(mod).map((n) => generic(engine, n)).sort()).toEqual(names)
        })
      }

      it('its dialect, types, sql and errors files load no driver and no connection code', async () => {
        const d = await loadEngine(engine)
        for (const file of DRIVER_FREE) {
          const text = readFileSync(join(root, engine, file.replace('X', engine)), 'utf8')
          const valueImports = [...text.matchAll(/^import\s+(?!type\b)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!)
          for (const spec of valueImports) {
            expect(d.drivers.some((p) => spec === p || spec.startsWith(`${p}/`)), `${file}: ${spec}`).toBe(false)
            expect(/-(connection|reader|writer|introspector)\.js$/.test(spec), `${file}: ${spec}`).toBe(false)
          }
        }
      })

      it('its dialect object carries the contract', async () => {
        const d = await loadEngine(engine)
        expect(isEngine(d)).toBe(true)
        expect(d.name).toBe(engine)
        expect(Object.isFrozen(d.capabilities)).toBe(true)
        expect(d.drivers.length).toBeGreaterThan(0)
        expect(typeof d.types.toNative({ kind: 'int32' })).toBe('string')
        expect(d.types.toLogical(d.types.toNative({ kind: 'int64' }))).toEqual({ kind: 'int64' })
        expect(d.sql.quoteIdentifier('a')).not.toBe('a')
        expect(d.errors.classify(new TypeError('not a driver error'))).toBeUndefined()
        expect(d.accepts({})).toBe(false)
        expect(d.accepts('x')).toBe(false)
      })
    })
  }
})
