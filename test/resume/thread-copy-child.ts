// a --jobs copy with threads in its own process, so a test can kill -9 it (kill-threads.test.ts):
// argv = from to journal batchRows jobs chunkRows [--resume]
import { ferry } from '../../src/ferry.js'

const [from, to, journal, batchRows, jobs, chunkRows, ...flags] = process.argv.slice(2)
let batches = 0
const report = await ferry({
  from: from!,
  to: to!,
  journal: journal!,
  batchRows: Number(batchRows),
  jobs: Number(jobs),
  chunkRows: Number(chunkRows),
  threads: true,
  resume: flags.includes('--resume'),
  onProgress(e) {
    if (e.type === 'batch') process.stdout.write(`batch ${++batches}\n`)
  },
})
process.stdout.write(`REPORT ${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`)
