/**
 * SIGINT/SIGTERM (the runner cancelling the workflow) become an AbortSignal, so the job follower
 * can stop and the job be cancelled on the cluster before the step exits.
 */
export interface SignalWatch {
  signal: AbortSignal
  /** When the first signal came (Date.now()), or undefined. */
  readonly abortedAt: number | undefined
  dispose(): void
}

export function watchSignals(names: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): SignalWatch {
  const controller = new AbortController()
  let abortedAt: number | undefined
  const onSignal = (name: NodeJS.Signals): void => {
    if (controller.signal.aborted) return
    abortedAt = Date.now()
    controller.abort(name)
  }
  for (const name of names) process.on(name, onSignal)
  return {
    signal: controller.signal,
    get abortedAt() {
      return abortedAt
    },
    dispose: () => {
      for (const name of names) process.off(name, onSignal)
    }
  }
}

/** Waits `ms`, or less if the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
