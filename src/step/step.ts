/**
 * What every entry point of this repository does around its own work: read the inputs (secrets
 * masked first), connect once the cluster is ready, and fail the step in exactly one place with a
 * message the user can act on, and a job summary saying what failed. On failure or cancel, what the
 * work registered to undo is undone first. The connection is closed and the signal handlers
 * removed however the step ends.
 */
import * as core from '@actions/core'
import { StepCleanup, UNDO_BUDGET_MS } from '../base/cleanup.js'
import { describeServer } from '../cluster/connection-string.js'
import { Session } from '../cluster/connection.js'
import { showContainerLogs } from './container-logs.js'
import { abortReason, ActionError, CancelledError, describeError, InputError } from '../base/errors.js'
import { failureReport } from './failure-report.js'
import { warnAboutInputs, type Read, type SharedInputs } from './inputs.js'
import { JobError, type JobContext } from '../cluster/job.js'
import * as log from '../base/log.js'
import { StepProgress } from './progress.js'
import { stepTitle, writeFailureSummary } from './summary.js'
import { watchSignals } from '../base/signals.js'

/** The container's logs help when the cluster never answered or a job failed; not for bad input or a cancel. */
function wantsContainerLogs(error: unknown, cancelled: boolean): boolean {
  return !cancelled && !(error instanceof InputError)
}

/** What the work gets besides its inputs and session: every job it runs takes this context as it is. */
export interface StepContext extends JobContext {
  /** Aborted on the first SIGINT/SIGTERM; every query of the session gives up at once. */
  signal: AbortSignal
  /** Where the work registers what must be undone if the step does not finish. */
  cleanup: StepCleanup
  /** The log's phase groups, and what a failure summary reports. */
  progress: StepProgress
}

/** Whether the error, or one it wraps (keep-backups' own, say), already says the workflow was cancelled. */
function saysCancelled(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 10; cause = cause.cause, depth++) {
    if (cause instanceof CancelledError || (cause instanceof JobError && cause.reason === 'signal')) return true
  }
  return false
}

function failureMessage(error: unknown, signal: AbortSignal): string {
  const message = error instanceof ActionError || error instanceof InputError ? error.message : `Unexpected error: ${describeError(error)}`
  // Whatever gave way first when the signal came, the user must read that the workflow was cancelled.
  return signal.aborted && !saysCancelled(error) ? `The workflow was cancelled (${abortReason(signal)}).\n${message}` : message
}

/** The runner sends SIGTERM this long after SIGINT (and SIGKILL 2.5 s later). */
const SIGTERM_AFTER_MS = 7_500

/**
 * After a signal, undoing must end before the runner's SIGTERM (7.5 s after SIGINT), whatever the
 * work spent on stopping (cancelling its job, say); otherwise the usual budget.
 */
function undoBudget(abortedAt: number | undefined): number {
  if (abortedAt === undefined) return UNDO_BUDGET_MS
  return Math.max(500, Math.min(UNDO_BUDGET_MS, SIGTERM_AFTER_MS - 1_000 - (Date.now() - abortedAt)))
}

export async function runStep<I extends SharedInputs>(
  title: string,
  readInputs: (readRaw: Read | undefined, mask: (secret: string) => void) => I | Promise<I>,
  work: (inputs: I, session: Session, context: StepContext) => Promise<void>
): Promise<void> {
  const signals = watchSignals()
  const cleanup = new StepCleanup()
  const progress = new StepProgress()
  const secrets: string[] = []
  let inputs: I | undefined
  let session: Session | undefined
  try {
    progress.phase = 'Read the inputs'
    inputs = await readInputs(undefined, secret => {
      secrets.push(secret)
      core.setSecret(secret)
    })
    warnAboutInputs(inputs)
    progress.enter('Connect')
    log.info(`Connecting to CockroachDB at ${describeServer(inputs.connection)} (waiting up to ${inputs.waitTimeoutMs / 1000} s)…`)
    session = await Session.open(inputs.connection, {
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal: signals.signal,
      onRetry: (attempt, error) => log.debug(`Attempt ${attempt}: ${describeError(error)}`)
    })
    log.info(`Connected as ${session.info.user} to ${session.info.version?.text ?? session.info.versionText}.`)
    session.observer = progress
    const { timeoutMs, waitTimeoutMs, connection } = inputs
    await work(inputs, session, { signal: signals.signal, cleanup, progress, log: log.info, connection, timeoutMs, waitTimeoutMs })
    progress.endGroup()
  } catch (error) {
    progress.endGroup()
    const undone = await cleanup.undoAll(undoBudget(signals.abortedAt))
    if (inputs?.container !== undefined && wantsContainerLogs(error, signals.signal.aborted)) await showContainerLogs(inputs.container)
    const message = [failureMessage(error, signals.signal), ...undone].join('\n')
    log.fail(message)
    const named = inputs === undefined ? title : stepTitle(title, inputs.target)
    await writeFailureSummary(failureReport(named, error, message, progress, secrets)).catch((summaryError: unknown) =>
      log.warning(`Could not write the job summary: ${describeError(summaryError)}`)
    )
  } finally {
    await session?.close()
    signals.dispose()
  }
}
