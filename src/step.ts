/**
 * What every entry point of this repository does around its own work: read the inputs (secrets
 * masked first), connect once the cluster is ready, and fail the step in exactly one place with a
 * message the user can act on, and a job summary saying what failed. The connection is closed and
 * the signal handlers removed however the step ends.
 */
import * as core from '@actions/core'
import { describeServer } from './connection-string.js'
import { QueryError, Session } from './connection.js'
import { showContainerLogs } from './container-logs.js'
import { ActionError, describeError, InputError } from './errors.js'
import { warnAboutInputs, type Read, type SharedInputs } from './inputs.js'
import { JobError } from './job.js'
import { StepProgress } from './progress.js'
import { writeFailureSummary } from './report.js'
import { watchSignals } from './signals.js'

/** The container's logs help when the cluster never answered or a job failed; not for bad input or a cancel. */
function wantsContainerLogs(error: unknown): boolean {
  return !(error instanceof InputError) && !(error instanceof JobError && error.reason === 'signal')
}

/**
 * The failure's message without its "Hint:" lines, and the hint apart. ActionError appends its hint
 * to the message; an error rethrown with more text (a job cancelled after a timeout) carries it inside.
 */
function splitHint(message: string): { message: string; hint: string | undefined } {
  const lines = message.split('\n')
  const hints = lines.filter(line => line.startsWith('Hint: ')).map(line => line.slice('Hint: '.length))
  return {
    message: lines.filter(line => !line.startsWith('Hint: ')).join('\n'),
    hint: hints.length === 0 ? undefined : hints.join('\n')
  }
}

/** The statement that was running when the step failed: the job's own for a job, the failed one for a query. */
function failedStatement(error: unknown, progress: StepProgress): string | undefined {
  if (error instanceof JobError) return progress.jobStatement
  if (error instanceof QueryError) return progress.statement
  return undefined
}

/**
 * The text with every secret the inputs registered replaced by ***, in the forms a statement or an
 * echoed error can carry it: as given, SQL-quoted (' doubled) and percent-encoded. The log is
 * masked by the runner; the job summary is written by the action, so it redacts them itself.
 */
export function redactSecrets(text: string, secrets: string[]): string {
  const forms = secrets.flatMap(secret => [secret, secret.replaceAll("'", "''"), encodeURIComponent(secret)])
  return [...new Set(forms)]
    .filter(form => form !== '')
    .sort((a, b) => b.length - a.length)
    .reduce((redacted, form) => redacted.replaceAll(form, '***'), text)
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
    const { message: what, hint } = splitHint(message)
    const statement = failedStatement(error, progress)
    await writeFailureSummary({
      title,
      phase: progress.phase,
      message: redactSecrets(what, secrets),
      hint: hint === undefined ? undefined : redactSecrets(hint, secrets),
      statement: statement === undefined ? undefined : redactSecrets(statement, secrets),
      jobId: progress.jobId
    }).catch((summaryError: unknown) => core.warning(`Could not write the job summary: ${describeError(summaryError)}`))
  } finally {
    await session?.close()
    signals.dispose()
  }
}
