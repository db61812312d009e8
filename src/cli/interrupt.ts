/** The signals that stop a copy cleanly, and the exit code for each (128 + the signal's number, as shells do). */
export const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const

/** A signal that stops a copy. */
export type StopSignal = keyof typeof STOP_SIGNALS

/**
 * Turns Ctrl-C (SIGINT) and SIGTERM (`kill`, a container or service manager stopping the process) into an
 * abort of the run: the copy stops after the batch it is writing, records its checkpoint in the journal and
 * reports, instead of the process dying mid-batch. Each handler fires once: a second signal of the same kind
 * gets Node's default (immediate exit). Call `dispose()` when the run ends.
 */
export function abortOnStopSignals(controller: AbortController): { received(): StopSignal | undefined; dispose(): void } {
  let received: StopSignal | undefined
  const handlers = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((signal) => {
    const handler = () => {
      received ??= signal
      controller.abort()
    }
    process.once(signal, handler)
    return () => process.off(signal, handler)
  })
  return {
    received: () => received,
    dispose: () => handlers.forEach((off) => off()),
  }
}
