/**
 * What every entry point of this repository does around its own work: read the inputs (secrets
 * masked first), connect once the cluster is ready, and fail the step in exactly one place with a
 * message the user can act on. The connection is closed and the signal handlers removed however
 * the step ends.
 */
import { describeServer } from './connection-string.js'
import { Session } from './connection.js'
import { showContainerLogs } from './container-logs.js'
import { ActionError, describeError, InputError } from './errors.js'
import { warnAboutInputs, type SharedInputs } from './inputs.js'
import { JobError } from './job.js'
import * as log from './log.js'
import { watchSignals } from './signals.js'

/** The container's logs help when the cluster never answered or a job failed; not for bad input or a cancel. */
function wantsContainerLogs(error: unknown): boolean {
  return !(error instanceof InputError) && !(error instanceof JobError && error.reason === 'signal')
}

export async function runStep<I extends SharedInputs>(
  readInputs: () => I,
  work: (inputs: I, session: Session, signal: AbortSignal) => Promise<void>
): Promise<void> {
  const signals = watchSignals()
  let inputs: I | undefined
  let session: Session | undefined
  try {
    inputs = readInputs()
    warnAboutInputs(inputs)
    log.info(`Connecting to CockroachDB at ${describeServer(inputs.connection)} (waiting up to ${inputs.waitTimeoutMs / 1000} s)…`)
    session = await Session.open(inputs.connection, {
      waitTimeoutMs: inputs.waitTimeoutMs,
      signal: signals.signal,
      onRetry: (attempt, error) => log.debug(`Attempt ${attempt}: ${describeError(error)}`)
    })
    log.info(`Connected as ${session.info.user} to ${session.info.version?.text ?? session.info.versionText}.`)
    await work(inputs, session, signals.signal)
  } catch (error) {
    if (inputs?.container !== undefined && wantsContainerLogs(error)) await showContainerLogs(inputs.container)
    log.fail(error instanceof ActionError || error instanceof InputError ? error.message : `Unexpected error: ${describeError(error)}`)
  } finally {
    await session?.close()
    signals.dispose()
  }
}
