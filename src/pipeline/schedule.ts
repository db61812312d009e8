import { AbortError } from '../errors.js'
import type { LoadOrder } from '../plan/order.js'

/**
 * Runs tables in plan order, up to `concurrency` at once, starting a table only when every parent it
 * depends on (deferred keys aside) has finished. A failed table stops new starts; running ones finish.
 */
export async function runScheduled(order: LoadOrder, concurrency: number, run: (table: string) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const stageOf = new Map<string, number>()
  order.stages.forEach((s, i) => s.forEach((t) => stageOf.set(t, i)))
  const queue = [...order.order]
  const running = new Map<string, Promise<void>>()
  const done = new Set<string>()
  let failure: unknown
  const canStart = (t: string) => {
    const stage = stageOf.get(t)!
    // all tables of earlier stages must be done (parents live there)
    return order.order.every((o) => stageOf.get(o)! >= stage || done.has(o))
  }
  while ((queue.length > 0 || running.size > 0) && failure === undefined) {
    while (running.size < concurrency && queue.length > 0 && canStart(queue[0]!)) {
      if (signal?.aborted) {
        failure = new AbortError()
        break
      }
      const t = queue.shift()!
      running.set(
        t,
        run(t).then(
          () => {
            done.add(t)
            running.delete(t)
          },
          (e) => {
            failure ??= e
            running.delete(t)
          },
        ),
      )
    }
    if (running.size === 0) break
    await Promise.race(running.values())
  }
  await Promise.allSettled(running.values())
  if (failure !== undefined) throw failure
}
