// a copy run in its own process that a test kills -9: argv = from to journal batchRows delayMs [--resume].
// Each batch waits delayMs first, so a target that groups batches per commit (MySQL: every 2 s) has committed
// some of them before the kill.
import { ferry } from '../../src/ferry.js'
import type { Transform } from '../../src/transforms/transform.js'

const [from, to, journal, batchRows, delayMs, flag] = process.argv.slice(2)
const delay = Number(delayMs)
const slow: Transform = {
  name: 'slow',
  table: () => ({ batch: async (rows) => (await new Promise((r) => setTimeout(r, delay)), rows) }),
}
let batches = 0
const report = await ferry({
  from: from!,
  to: to!,
  journal: journal!,
  batchRows: Number(batchRows),
  resume: flag === '--resume',
  transforms: delay > 0 ? [slow] : [],
  onProgress(e) {
    if (e.type === 'batch') process.stdout.write(`batch ${++batches}\n`)
  },
})
process.stdout.write(`REPORT ${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`)
