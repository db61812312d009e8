import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import { assertStoreAvailable, backup, openJournalFile, openKeyStore, openSpillStore, queryJournal, type DriverLoader } from '../../src/store/index.js'

const dir = mkdtempSync(join(tmpdir(), 'dbferry-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// Node itself, importing better-sqlite3 from a folder outside the project, gives the very error a user
// without the package gets; the loader throws it again (vitest's own module loader would resolve the package)
const nodeError = JSON.parse(
  execFileSync(process.execPath, ['--input-type=module', '-e', "try { await import('better-sqlite3') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }"], {
    cwd: dir,
    encoding: 'utf8',
  }),
) as { code: string; message: string }
const missing: DriverLoader = () => Promise.reject(Object.assign(new Error(nodeError.message), { code: nodeError.code }))

async function failure(run: () => Promise<unknown>): Promise<UsageError> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(UsageError)
  return error as UsageError
}

describe('the store without better-sqlite3', () => {
  it('simulates what Node throws for a missing package', () => {
    expect(nodeError.code).toBe('ERR_MODULE_NOT_FOUND')
    expect(nodeError.message).toMatch(/^Cannot find package 'better-sqlite3' imported from /)
  })

  it('assertStoreAvailable throws not_available, naming the package, the use and the way out', async () => {
    const e = await failure(() => assertStoreAvailable('the journal', missing))
    expect(e.code).toBe('not_available')
    expect(e.message).toBe('the journal needs the package better-sqlite3, which is not installed: npm install better-sqlite3 (or run without a journal: --no-journal)')
    expect((e.cause as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND')
  })

  it('every store names what needed it, before touching any file', async () => {
    const journal = join(dir, 'journal.sqlite')
    expect((await failure(() => openJournalFile(journal, missing))).message).toMatch(/^the journal needs the package better-sqlite3/)
    expect(existsSync(journal)).toBe(false)
    const keys = await failure(() => openKeyStore(missing))
    expect([keys.code, keys.message]).toEqual(['not_available', 'spilling keys to disk needs the package better-sqlite3, which is not installed: npm install better-sqlite3'])
    const source = join(dir, 'source.db')
    writeFileSync(source, '')
    const copy = join(dir, 'copy.db')
    expect((await failure(() => backup(source, copy, {}, missing))).message).toMatch(/^backup needs the package better-sqlite3/)
    expect(existsSync(copy)).toBe(false)
    expect((await failure(() => queryJournal(journal, {}, missing))).message).toMatch(/^reading a journal needs the package better-sqlite3/)
  })

  it('passes, and changes nothing, when the package is there', async () => {
    await expect(assertStoreAvailable('the journal')).resolves.toBeUndefined()
  })

  it('does not turn other loading failures into not_available', async () => {
    const broken: DriverLoader = () => Promise.reject(new Error('the native module was built for another Node'))
    await expect(assertStoreAvailable('backup', broken)).rejects.toThrow('the native module was built for another Node')
  })

  it('a key set spills into memory instead, keeping every key and value (strings, numbers, -0)', async () => {
    const { store, onDisk } = await openSpillStore(missing)
    expect(onDisk).toBe(false)
    store.put((entry) => {
      for (let i = 0; i < 1000; i++) entry(`k${i}`, i % 2 ? i : `v${i}`)
      entry('neg', -0)
    })
    store.put((entry) => entry('k1', 'again'))
    expect([store.get('k1'), store.get('k2'), store.get('k999'), store.has('k1000'), Object.is(store.get('neg'), 0)]).toEqual(['again', 'v2', 999, false, true])
    store.close()
  })

  it('a key set still spills to disk when the package is there, and other failures are not hidden', async () => {
    const { store, onDisk } = await openSpillStore()
    expect(onDisk).toBe(true)
    store.close()
    await expect(openSpillStore(() => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full')
  })
})
