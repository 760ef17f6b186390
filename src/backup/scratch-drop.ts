/**
 * Dropping verify-restore's scratch databases (only those the step created: the caller's `owned`),
 * each attempt on a fresh connection that no cancel interrupts and no earlier timeout closed. The
 * drops have their own budget: normally DROP_BUDGET_MS, and after SIGINT what is left before the
 * runner's SIGTERM (7.5 s after SIGINT), less the time the step needs to report and exit. What
 * cannot be dropped in time is named with the exact statement to run.
 */
import type { Session } from '../cluster/connection.js'
import { ActionError, describeError } from '../base/errors.js'
import * as sql from '../cluster/sql/index.js'
import { sleep } from '../base/signals.js'

/** A slow DROP (a big restored database, a busy cluster) still fits; a hung cluster does not hold the step long. */
const DROP_BUDGET_MS = 60_000
/** SIGTERM comes 7.5 s after SIGINT; the step then needs up to 2 s to undo the rest, report and exit. */
const AFTER_SIGNAL_MS = 5_500
const CONNECT_TIMEOUT_MS = 2_500
const RETRY_MS = 750
/** Below this, another attempt cannot succeed. */
const MIN_ATTEMPT_MS = 200

/** The end of the drops' budget; it moves earlier when the workflow is cancelled. */
export class DropDeadline {
  private abortedAt: number | undefined
  private budgetEnd = Infinity
  private readonly listeners = new Set<() => void>()

  /** Made when verification starts, so that a cancel during the restore counts from its own time. */
  constructor(private readonly signal: AbortSignal | undefined) {
    if (signal?.aborted) this.abortedAt = Date.now()
    signal?.addEventListener('abort', this.onAbort, { once: true })
  }

  private readonly onAbort = (): void => {
    this.abortedAt ??= Date.now()
    for (const listener of this.listeners) listener()
  }

  /** The drops start: their own budget runs from now. */
  begin(): void {
    this.budgetEnd = Date.now() + DROP_BUDGET_MS
  }

  dispose(): void {
    this.signal?.removeEventListener('abort', this.onAbort)
  }

  get end(): number {
    return this.abortedAt === undefined ? this.budgetEnd : Math.min(this.budgetEnd, this.abortedAt + AFTER_SIGNAL_MS)
  }

  left(): number {
    return this.end - Date.now()
  }

  /** Runs `onExpiry` when the deadline passes (re-armed when a cancel brings it forward); returns the disarm. */
  watch(onExpiry: () => void): () => void {
    let timer: NodeJS.Timeout | undefined
    const arm = (): void => {
      clearTimeout(timer)
      timer = setTimeout(onExpiry, Math.max(0, this.left()))
    }
    arm()
    this.listeners.add(arm)
    return () => {
      clearTimeout(timer)
      this.listeners.delete(arm)
    }
  }
}

async function dropOnce(session: Session, name: string, deadline: DropDeadline): Promise<void> {
  const dropper = await session.fresh(Math.min(CONNECT_TIMEOUT_MS, Math.max(MIN_ATTEMPT_MS, deadline.left())))
  // At the deadline the connection is closed: the DROP gives up at once, whatever it was doing.
  const disarm = deadline.watch(() => void dropper.close())
  try {
    const doing = `dropping the scratch database ${name}`
    await dropper.query(sql.dropDatabaseIfExists(name), [], doing, Math.max(MIN_ATTEMPT_MS, deadline.left()))
  } catch (error) {
    if (deadline.left() <= 0)
      throw new ActionError('DROP DATABASE had not answered when the time left for it ran out', undefined, { cause: error })
    throw error
  } finally {
    disarm()
    await dropper.close()
  }
}

/**
 * Drops one scratch database; undefined when it is gone, else what to run by hand. A RESTORE that
 * was cancelled or failed cleans up its own descriptors, and while it does its database can refuse a
 * DROP: hence the retries, each on a fresh connection.
 */
export async function dropScratch(
  session: Session,
  name: string,
  deadline: DropDeadline,
  log: (message: string) => void
): Promise<string | undefined> {
  let lastError: unknown
  while (deadline.left() >= MIN_ATTEMPT_MS) {
    try {
      await dropOnce(session, name, deadline)
      log(`Dropped the scratch database ${name}.`)
      return undefined
    } catch (error) {
      lastError = error
      await sleep(Math.min(RETRY_MS, Math.max(0, deadline.left() - MIN_ATTEMPT_MS)))
    }
  }
  const why = lastError === undefined ? 'no time was left after the cancel' : describeError(lastError)
  return `The scratch database ${name} could not be dropped (${why}); drop it by hand: ${sql.dropDatabaseIfExists(name)}`
}
