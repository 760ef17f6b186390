/**
 * What the step has to undo if it does not finish: a job it started, `.tmp` rows it wrote in
 * userfile storage. Each piece of work registers its undo as soon as there is something to undo and
 * releases it once that thing is finished; runStep runs what is left, newest first, when the step
 * fails or the workflow is cancelled. This is the one cancellation path: the work itself only has to
 * stop (every query gives up when the signal aborts).
 */
import { describeError } from './errors.js'

export interface Undo {
  /** What is undone, for the failure message: "cancel job 123". */
  what: string
  run: () => Promise<string | undefined>
}

/**
 * The runner sends SIGTERM 7.5 s after SIGINT and SIGKILL 2.5 s later: everything left to undo
 * must be done within this budget, so the step can still fail with its own message.
 */
export const UNDO_BUDGET_MS = 5_000

export class StepCleanup {
  private readonly pending = new Map<number, Undo>()
  private next = 0

  /** Registers an undo; the returned function releases it (the thing is finished, nothing to undo). */
  add(undo: Undo): () => void {
    const id = this.next++
    this.pending.set(id, undo)
    return () => this.pending.delete(id)
  }

  get size(): number {
    return this.pending.size
  }

  /** Runs every undo still registered, newest first, within the budget; returns what each said. */
  async undoAll(budgetMs = UNDO_BUDGET_MS): Promise<string[]> {
    const undos = [...this.pending.values()].reverse()
    this.pending.clear()
    const messages: string[] = []
    const deadline = Date.now() + budgetMs
    // An undo that ran out of time spent the budget, even when the timer fired a millisecond early by Date.now().
    const budget = { spent: false }
    for (const undo of undos) {
      const left = deadline - Date.now()
      if (budget.spent || left <= 0) {
        messages.push(`No time was left to ${undo.what}; do it by hand.`)
        continue
      }
      let timer: NodeJS.Timeout | undefined
      const outOfTime = new Promise<string>(resolve => {
        timer = setTimeout(() => {
          budget.spent = true
          resolve(`Could not ${undo.what} in time; do it by hand.`)
        }, left)
      })
      try {
        const message = await Promise.race([
          undo.run().catch((error: unknown) => `Could not ${undo.what}: ${describeError(error)}`),
          outOfTime
        ])
        if (message !== undefined) messages.push(message)
      } finally {
        clearTimeout(timer)
      }
    }
    return messages
  }
}
