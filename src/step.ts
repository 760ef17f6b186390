/**
 * What every entry point of this repository does around its own work: read the inputs (secrets
 * masked first), connect once the cluster is ready, and fail the step in exactly one place with a
 * message the user can act on, and a job summary saying what failed. The connection is closed and
 * the signal handlers removed however the step ends.
 */
import * as core from '@actions/core'
import { describeServer } from './connection-string.js'
import { Session } from './connection.js'
import { showContainerLogs } from './container-logs.js'
import { ActionError, describeError, InputError } from './errors.js'
import { warnAboutInputs, type Read, type SharedInputs } from './inputs.js'
import { JobError } from './job.js'
import { failureReport } from './failure-report.js'
import { StepProgress } from './progress.js'
import { writeFailureSummary } from './report.js'
import { watchSignals } from './signals.js'

/** The container's logs help when the cluster never answered or a job failed; not for bad input or a cancel. */
function wantsContainerLogs(error: unknown): boolean {
  return !(error instanceof InputError) && !(error instanceof JobError && error.reason === 'signal')
}

export interface StepWork<I> {
  (inputs: I, session: Session, signal: AbortSignal, progress: StepProgress): Promise<void>
}

export async function runStep<I extends SharedInputs>(
  title: string,
  readInputs: (readRaw: Read | undefined, mask: (secret: string) => void) => I,
  work: StepWork<I>
): Promise<void> {
  const signals = watchSignals()
  const progress = new StepProgress()
  const secrets: string[] = []
  let inputs: I | undefined
  let session: Session | undefined
  try {
    progress.phase = 'Read the inputs'
    inputs = readInputs(undefined, secret => {
      secrets.push(secret)
      core.setSecret(secret)
    })
    warnAboutInputs(inputs)
    const connection = inputs.connection
    const waitTimeoutMs = inputs.waitTimeoutMs
    progress.enter('Connect')
    core.info(`Connecting to CockroachDB at ${describeServer(connection)} (waiting up to ${waitTimeoutMs / 1000} s)…`)
    session = await Session.open(connection, {
      waitTimeoutMs,
      signal: signals.signal,
      onRetry: (attempt, error) => core.debug(`Attempt ${attempt}: ${describeError(error)}`)
    })
    core.info(`Connected as ${session.info.user} to ${session.info.version?.text ?? session.info.versionText}.`)
    progress.watch(session)
    await work(inputs, session, signals.signal, progress)
    progress.endGroup()
  } catch (error) {
    progress.endGroup()
    if (inputs?.container !== undefined && wantsContainerLogs(error)) await showContainerLogs(inputs.container)
    const message =
      error instanceof ActionError || error instanceof InputError ? error.message : `Unexpected error: ${describeError(error)}`
    core.setFailed(message)
    await writeFailureSummary(failureReport(title, error, message, progress, secrets)).catch((summaryError: unknown) =>
      core.warning(`Could not write the job summary: ${describeError(summaryError)}`)
    )
  } finally {
    await session?.close()
    signals.dispose()
  }
}
