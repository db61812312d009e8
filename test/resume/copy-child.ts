// a copy run in its own process, so a test can kill -9 it:
// argv = from to journal batchRows [--resume] [--jobs=N] [--chunk-rows=N]
import { ferry } from '../../src/ferry.js'

const [from, to, journal, batchRows, ...flags] = process.argv.slice(2)
const numberFlag = (name: string) => {
  const f = flags.find((x) => x.startsWith(`--${name}=`))
  return f === undefined ? undefined : Number(f.slice(name.length + 3))
}
let batches = 0
const report = await ferry({
  from: from!,
  to: to!,
  journal: journal!,
  batchRows: Number(batchRows),
  resume: flags.includes('--resume'),
  jobs: numberFlag('jobs'),
  chunkRows: numberFlag('chunk-rows'),
  onProgress(e) {
    if (e.type === 'batch') process.stdout.write(`batch ${++batches}\n`)
  },
})
process.stdout.write(`REPORT ${JSON.stringify(report, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`)
