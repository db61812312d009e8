#!/usr/bin/env node
// `npm run bench -- <name> [args…]`: builds dist/ if its sources changed (scripts/build-if-stale.mjs), then
// runs bench/<name>.mjs (or bench/<name>.sh) with the arguments after the name and the environment as they
// are (BENCH_ROWS, BENCH_RUNS, … as each benchmark's header describes). Without a name, lists the benchmarks
// with the first line of each one's header; bench/README.md has the results measured so far.

import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const benchDir = join(root, 'bench')
// helpers the benchmarks import, not benchmarks
const NOT_BENCHMARKS = new Set(['lib.mjs', 'make-people.mjs'])

function benchmarks() {
  return readdirSync(benchDir)
    .filter((f) => (f.endsWith('.mjs') || f.endsWith('.sh')) && !NOT_BENCHMARKS.has(f))
    .sort()
    .map((file) => {
      const header = readFileSync(join(benchDir, file), 'utf8')
        .split('\n')
        .find((l) => /^(\/\/|#) \S/.test(l) && !l.startsWith('#!'))
      return { name: file.replace(/\.(mjs|sh)$/, ''), file, summary: (header ?? '').replace(/^(\/\/|#) /, '') }
    })
}

const [name, ...rest] = process.argv.slice(2)
const all = benchmarks()
if (name === undefined || name === '--help' || name === '-h') {
  console.log('usage: npm run bench -- <name> [args…]   (results so far: bench/README.md)\n')
  const width = Math.max(...all.map((b) => b.name.length))
  for (const b of all) console.log(`  ${b.name.padEnd(width)}  ${b.summary}`)
  process.exit(0)
}
const bench = all.find((b) => b.name === name || b.file === name)
if (!bench) {
  console.error(`npm run bench: no benchmark "${name}"; one of: ${all.map((b) => b.name).join(', ')}`)
  process.exit(2)
}
const build = spawnSync(process.execPath, [join(root, 'scripts/build-if-stale.mjs')], { cwd: root, stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)
const path = join(benchDir, bench.file)
const result = bench.file.endsWith('.sh')
  ? spawnSync('bash', [path, ...rest], { cwd: root, stdio: 'inherit' })
  : spawnSync(process.execPath, [path, ...rest], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
