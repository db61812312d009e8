// Memory of the key stores behind dedupe and fixDanglingForeignKeys: fills one with e-mail-like keys
// (`user123@example.org`, each mapped to its row number, as dedupe's winners map holds them) and reports
// time, heap, array buffers and RSS. Each store runs in its own process, so the numbers do not mix.
//
//   node bench/key-store.mjs [keys]                 every store below, one after the other
//   node bench/key-store.mjs [keys] <store>         one store: map | table | spilled
//
// map: a JS Map<string, number> (what the stores held before); table: dbferry's SpillingKeyMap with
// maxInMemory above the key count (its in-memory KeyTable); spilled: SpillingKeyMap with the default
// maxInMemory (1 000 000), so it moves to a temporary SQLite file. Needs `npm run build` (or BENCH_CLI).
import { execFileSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { builtCli } from './lib.mjs'

const keys = Number(process.argv[2] ?? 10_000_000)
const store = process.argv[3]
const STORES = ['map', 'table', 'spilled']

if (!store) {
  console.log(`${keys.toLocaleString('en')} e-mail-like keys → row numbers; node ${process.version}`)
  console.log('store     fill s   heap MB   buffers MB   RSS MB   peak RSS MB   bytes/key (heap+buffers)')
  for (const s of STORES) {
    const out = execFileSync(process.execPath, ['--expose-gc', '--max-old-space-size=8192', fileURLToPath(import.meta.url), String(keys), s], { encoding: 'utf8' })
    process.stdout.write(out)
  }
  process.exit(0)
}

const dist = dirname(dirname(builtCli()))
const { SpillingKeyMap } = await import(pathToFileURL(join(dist, 'index.js')).href)
const mb = (n) => (n / 2 ** 20).toFixed(0)

global.gc()
const before = process.memoryUsage()
let peak = before.rss
const started = performance.now()
let map
if (store === 'map') map = new Map()
else map = new SpillingKeyMap({ maxInMemory: store === 'table' ? keys + 1 : undefined })
for (let i = 1; i <= keys; i++) {
  // a fresh flat string per key, as a driver hands them over
  const key = `user${i}@example.org`.toLowerCase()
  if (map.get(key) === undefined) {
    const p = map.set(key, i)
    if (p) await p
  }
  if ((i & 0xfffff) === 0) peak = Math.max(peak, process.memoryUsage().rss)
}
const seconds = (performance.now() - started) / 1000
// every key is still there
for (const i of [1, keys >> 1, keys]) if (map.get(`user${i}@example.org`) !== i) throw new Error(`${store}: lost key ${i}`)
global.gc()
const after = process.memoryUsage()
peak = Math.max(peak, after.rss)
const heap = after.heapUsed - before.heapUsed
const buffers = after.arrayBuffers - before.arrayBuffers
console.log(
  [
    store.padEnd(8),
    seconds.toFixed(1).padStart(7),
    mb(heap).padStart(9),
    mb(buffers).padStart(12),
    mb(after.rss).padStart(8),
    mb(peak).padStart(13),
    ((heap + buffers) / keys).toFixed(0).padStart(12),
  ].join(' '),
)
map.close?.()
