import { spawn, type ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import type { WorkerEvent, WorkerSummary } from '../../src/queue/worker.js'

/** A worker process the test started: its events as they come, and how it ended. */
export interface WorkerProcess {
  events: WorkerEvent[]
  /** Resolves when the process exits: its summary (absent when it was killed) and stderr. */
  ended: Promise<{ summary?: WorkerSummary; stderr: string; signal: NodeJS.Signals | null }>
  /** Calls `f` on every event from now on. */
  onEvent(f: (e: WorkerEvent) => void): void
  process: ChildProcess
}

/** Bundles `worker-child.ts` once (see test/resume/kill-child.ts for why) and starts workers from it. */
export async function workerBundle(): Promise<{ start(queue: string, run: string): WorkerProcess; remove(): void }> {
  const outdir = join(__dirname, '../../node_modules/.cache', `dbferry-worker-child-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  await build({ entryPoints: [join(__dirname, 'worker-child.ts')], bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20', packages: 'external', outdir, logLevel: 'warning' })
  return {
    start: (queue, run) => startWorker(join(outdir, 'worker-child.js'), queue, run),
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  }
}

function startWorker(script: string, queue: string, run: string): WorkerProcess {
  const child = spawn(process.execPath, [script, queue, run], { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: WorkerEvent[] = []
  const listeners: ((e: WorkerEvent) => void)[] = []
  let summary: WorkerSummary | undefined
  let out = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl)
      out = out.slice(nl + 1)
      if (line.startsWith('SUMMARY ')) summary = JSON.parse(line.slice(8)) as WorkerSummary
      else if (line.startsWith('{')) {
        const e = JSON.parse(line) as WorkerEvent
        events.push(e)
        for (const f of listeners) f(e)
      }
    }
  })
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const ended = new Promise<{ summary?: WorkerSummary; stderr: string; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (_code, signal) => resolve({ summary, stderr, signal })))
  return { events, ended, onEvent: (f) => listeners.push(f), process: child }
}
