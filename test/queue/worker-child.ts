// a queue worker in its own process, so a test can run several and kill -9 one: argv = queue run
// prints one JSON line per worker event, then `SUMMARY {…}`
import { runWorker } from '../../src/queue/worker.js'

const [queue, run] = process.argv.slice(2)
const stop = new AbortController()
process.once('SIGTERM', () => stop.abort())
const summary = await runWorker({ queue: queue!, run, signal: stop.signal, pollSeconds: 0.2, heartbeatSeconds: 0.5, onEvent: (e) => process.stdout.write(`${JSON.stringify(e)}\n`) })
process.stdout.write(`SUMMARY ${JSON.stringify(summary)}\n`)
