import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import * as api from '../../src/index.js'
import { run } from '../../src/cli/run.js'

/**
 * Runs the command sequence of docs/file-workflows.md ("export, clean, split, ordered import") as written, on
 * the sahana example, and checks what lands in the imported database — so the guide cannot drift from the code.
 */
const DOC = readFileSync(resolve(__dirname, '../../docs/file-workflows.md'), 'utf8')
const SH = /```sh\n([\s\S]*?)```/.exec(DOC)![1]!
const CONFIG = /```ts\n([\s\S]*?)```/.exec(DOC)![1]!

function commandLines(sh: string): string[][] {
  const out: string[][] = []
  for (const raw of sh.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const loop = /^for (\w+) in ([^;]+); do (.*); done$/.exec(line)
    if (loop) {
      for (const v of loop[2]!.trim().split(/\s+/)) out.push(loop[3]!.replaceAll(`$${loop[1]}`, v).split(/\s+/))
    } else out.push(line.split(/\s+/))
  }
  return out
}

describe('docs/file-workflows.md', () => {
  it('src/index.ts exports `transforms`, which the guide\'s config imports from dbferry', () => {
    expect('transforms' in api, 'add `export { transforms } from \'./transforms/index.js\'` to src/index.ts').toBe(true)
  })

  it('the web2py workflow runs as written on the sahana example', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dbferry-workflow-'))
    // until the public entry exports `transforms`, point the config at the module itself
    const config = 'transforms' in api ? CONFIG : CONFIG.replace("from 'dbferry'", `from '${resolve(__dirname, '../../src/transforms/index.ts')}'`)
    writeFileSync(join(cwd, 'clean.config.ts'), config)
    const lines = commandLines(SH)
    expect(lines.length).toBe(7)
    for (const words of lines) {
      expect(words.slice(0, 2)).toEqual(['npx', 'dbferry'])
      let out = ''
      const io = {
        stdout: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
        stderr: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
        env: {},
        cwd,
      }
      const prev = process.cwd()
      process.chdir(cwd) // sqlite: and file paths in the config are relative to the working directory
      let code: number
      try {
        code = await run([...words.slice(2), ...(words[2] === 'copy' ? ['--quiet'] : [])], io)
      } finally {
        process.chdir(prev)
      }
      // 3: done with rows rejected (the junk), dropped (duplicates) or stubbed — all reported
      expect([0, 3], `${words.join(' ')}\n${out}`).toContain(code)
    }
    const db = new Database(join(cwd, 'work', 'imported.db'), { readonly: true })
    try {
      expect(db.prepare('SELECT count(*) FROM or_sector').pluck().get()).toBe(16)
      expect(db.prepare('SELECT name FROM or_sector WHERE id = 14').pluck().get()).toBe('Unknown sector 14')
      expect(db.prepare('SELECT count(*) FROM auth_user').pluck().get()).toBe(4)
      // people whose user was a case-duplicate now point at the kept user
      expect(db.prepare('SELECT user_id FROM pr_person ORDER BY id').pluck().all()).toEqual([1, 2, 2, 4, 2, 6, null])
      expect(db.prepare("SELECT count(*) FROM or_organisation WHERE description LIKE '%' || char(10) || '%'").pluck().get()).toBe(0)
      expect(db.prepare('SELECT count(*) FROM or_office').pluck().get()).toBe(4)
    } finally {
      db.close()
    }
    // the split put parents first
    const first = readFileSync(join(cwd, 'work', 'parts', 'clean.1.csv'), 'utf8')
    expect(first).toMatch(/^TABLE auth_user\r\n/)
    expect(first).toContain('TABLE or_sector\r\n')
  })
})
