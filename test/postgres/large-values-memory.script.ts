// Copies a SQLite file into a PostgreSQL database with ferry and prints the run's totals and peak RSS as JSON.
// Run in a child process by large-values-memory.test.ts, so the measurement is of the copy alone.
import { ferry } from '../../src/ferry.js'

const [from, to] = process.argv.slice(2)
const report = await ferry({ from: `sqlite:${from}`, to: to! })
console.log(
  JSON.stringify({
    ok: report.ok,
    written: report.totals.written,
    rejected: report.totals.rejected,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
)
