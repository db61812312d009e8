// a copy run in its own process, so a test can kill -9 it: argv = from to journal batchRows [--resume]
import { ferry } from '../../src/ferry.js'

const [from, to, journal, batchRows, flag] = process.argv.slice(2)
let batches = 0
const report = await ferry({
  from: from!,
  to: to!,
  journal: journal!,
  batchRows: Number(batchRows),
  resume: flag === '--resume',
  onProgress(e) {
    if (e.type === 'batch') process.stdout.write(`batch ${++batches}\n`)
  },
})
process.stdout.write(`REPORT ${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`)
