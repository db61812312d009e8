// Copies one SQLite file into another with ferry and prints the run's peak RSS as JSON.
// Run in a child process by copy-1m.test.ts, so the measurement is of the copy alone.
import { ferry } from '../../src/ferry.js'

const [from, to] = process.argv.slice(2)
const started = Date.now()
const report = await ferry({ from: `sqlite:${from}`, to: `sqlite:${to}` })
console.log(
  JSON.stringify({
    ok: report.ok,
    written: report.totals.written,
    rejected: report.totals.rejected,
    ms: Date.now() - started,
    // CPU time says more than wall time on a shared machine
    cpuMs: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
)
