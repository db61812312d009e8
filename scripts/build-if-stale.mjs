#!/usr/bin/env node
// Builds dist/ with tsup only when what it is built from changed since the last build, and quietly: one line
// on stderr while it builds, tsup's own output only when the build fails. `npm run demo` and `npm run bench`
// start with it, so a second run starts at once.
//
// "Changed" is by content, not by file times: a SHA-256 over the path and bytes of every file under src/ and
// dialects/ and of package.json, tsconfig.json and tsup.config.ts, kept in dist/.build-hash after a build
// that succeeded. --force builds whatever the hash says; --check prints "fresh" or "stale" and builds
// nothing (exit 0 either way).

import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const HASH_FILE = join(root, 'dist/.build-hash')
const INPUT_DIRS = ['src', 'dialects']
const INPUT_FILES = ['package.json', 'tsconfig.json', 'tsup.config.ts']
// what must exist for dist/ to be usable at all (a build cut short leaves some out)
const OUTPUTS = ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/cli/main.js']

function files(dir) {
  const out = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...files(path))
    else if (entry.isFile()) out.push(path)
  }
  return out
}

/** The hash of every input of the build, by path and content. */
function inputHash() {
  const hash = createHash('sha256')
  const paths = [...INPUT_DIRS.flatMap((d) => files(join(root, d))), ...INPUT_FILES.map((f) => join(root, f))]
  for (const path of paths.map((p) => relative(root, p).split('\\').join('/')).sort()) {
    hash.update(`${path}\0`)
    hash.update(readFileSync(join(root, path)))
    hash.update('\0')
  }
  return hash.digest('hex')
}

function fresh(hash) {
  return OUTPUTS.every((f) => existsSync(join(root, f))) && existsSync(HASH_FILE) && readFileSync(HASH_FILE, 'utf8').trim() === hash
}

const args = new Set(process.argv.slice(2))
const before = inputHash()
if (args.has('--check')) {
  console.log(fresh(before) ? 'fresh' : 'stale')
  process.exit(0)
}
if (!args.has('--force') && fresh(before)) process.exit(0)

process.stderr.write('dbferry: building dist/ (sources changed since the last build) …\n')
const started = Date.now()
const tsup = join(root, 'node_modules/tsup/dist/cli-default.js')
const result = spawnSync(process.execPath, [tsup, '--silent'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })
if (result.status !== 0) {
  process.stderr.write(result.stdout ?? '')
  process.stderr.write(result.stderr ?? '')
  process.stderr.write(`dbferry: the build failed (exit ${result.status ?? result.signal})\n`)
  process.exit(1)
}
// an input edited while tsup ran leaves the hash of before the build: the next run builds again
writeFileSync(HASH_FILE, `${before}\n`)
process.stderr.write(`dbferry: built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
