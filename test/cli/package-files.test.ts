import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = process.cwd()

describe('the published package', () => {
  it('npm pack ships the licence, the readme, the changelog and the build', { timeout: 20_000 }, async () => {
    expect(existsSync(join(root, 'dist/index.js')), 'dist/index.js is missing: run `npm run build` first').toBe(true)
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, timeout: 18_000, maxBuffer: 64 << 20 })
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path)
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'package.json']))
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the dbferry authors\n/)
  })

  it('package.json says where the project lives and what it is about', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
    expect(pkg).toMatchObject({
      license: 'MIT',
      repository: { type: 'git', url: 'git+https://github.com/dbferry/dbferry.git' },
      homepage: 'https://github.com/dbferry/dbferry#readme',
      bugs: { url: 'https://github.com/dbferry/dbferry/issues' },
      sideEffects: false,
    })
    expect(pkg.keywords).toEqual(expect.arrayContaining(['database', 'migration', 'sqlite', 'postgresql', 'mysql', 'mariadb', 'sql-server', 'duckdb', 'etl', 'cli']))
    expect(pkg.files).toContain('LICENSE')
  })
})
