import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { ProgressEvent } from '../pipeline/progress.js'

/**
 * `copy --queue … --workers n`: n worker processes of this same CLI (`dbferry worker --queue … --run <id>`),
 * started once the coordinator has enqueued its chunks. They stop by themselves when the run ends; their log
 * lines go to this process's stderr, each behind the worker's number.
 */
export class LocalWorkers {
  readonly #children: ChildProcess[] = []
  readonly #exited: Promise<void>[] = []

  constructor(
    private readonly count: number,
    private readonly queue: string,
    private readonly stderr: NodeJS.WritableStream,
  ) {}

  /** Passes progress on to `next`, and starts the workers at the run's `queue` event. */
  onProgress(next: ((e: ProgressEvent) => void) | undefined): (e: ProgressEvent) => void {
    return (e) => {
      if (e.type === 'queue') this.#start(e.run)
      next?.(e)
    }
  }

  #start(run: string): void {
    for (let i = 1; i <= this.count; i++) {
      const child = spawn(process.execPath, [process.argv[1]!, 'worker', '--queue', this.queue, '--run', run], { stdio: ['ignore', 'ignore', 'pipe'] })
      createInterface({ input: child.stderr! }).on('line', (line) => this.stderr.write(`worker ${i}: ${line}\n`))
      this.#children.push(child)
      this.#exited.push(new Promise((resolve) => child.once('exit', () => resolve())))
    }
  }

  /** Waits for the workers to end; `stop` first sends them SIGTERM (the run was aborted). */
  async close(stop: boolean): Promise<void> {
    if (stop) for (const c of this.#children) if (c.exitCode === null) c.kill('SIGTERM')
    await Promise.all(this.#exited)
  }
}
