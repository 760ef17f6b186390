/**
 * What the job summary of a failed step says, and nothing secret: the phase, the error without its
 * hint, the hint, the statement that was running, the job it started.
 */
import { QueryError } from '../cluster/connection.js'
import { JobError } from '../cluster/job.js'
import type { StepProgress } from './progress.js'
import { redactStatement } from '../cluster/redact-statement.js'
import { secretForms } from '../base/secrets.js'
import type { FailureReport } from './summary.js'

/**
 * The failure's message without its "Hint:" lines, and the hint apart. ActionError appends its hint
 * to the message; an error rethrown with more text (a job cancelled after a timeout) carries it inside.
 */
export function splitHint(message: string): { message: string; hint: string | undefined } {
  const lines = message.split('\n')
  const hints = lines.filter(line => line.startsWith('Hint: ')).map(line => line.slice('Hint: '.length))
  return {
    message: lines.filter(line => !line.startsWith('Hint: ')).join('\n'),
    hint: hints.length === 0 ? undefined : hints.join('\n')
  }
}

/**
 * The statement that was running when the step failed: the job's own for a job, the failed one for
 * a query, also when a clearer error wraps it (a target that did not exist yet, say).
 */
function failedStatement(error: unknown, progress: StepProgress): string | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 10; cause = cause.cause, depth++) {
    if (cause instanceof JobError) return progress.jobStatement
    if (cause instanceof QueryError) return cause.statement === undefined ? progress.statement : redactStatement(cause.statement)
  }
  return undefined
}

/**
 * The text with every secret the inputs registered replaced by ***, in every form a statement or an
 * echoed error can carry it (secretForms). The log is masked by the runner; the job summary is
 * written by the action, so it redacts them itself.
 */
export function redactSecrets(text: string, secrets: string[]): string {
  return [...new Set(secrets.flatMap(secretForms))]
    .sort((a, b) => b.length - a.length)
    .reduce((redacted, form) => redacted.replaceAll(form, '***'), text)
}

/** The failure as the summary shows it, every registered secret redacted. */
export function failureReport(title: string, error: unknown, message: string, progress: StepProgress, secrets: string[]): FailureReport {
  const { message: what, hint } = splitHint(message)
  const statement = failedStatement(error, progress)
  return {
    title,
    phase: progress.phase,
    message: redactSecrets(what, secrets),
    hint: hint === undefined ? undefined : redactSecrets(hint, secrets),
    statement: statement === undefined ? undefined : redactSecrets(statement, secrets),
    jobId: progress.jobId,
    more: progress.summaryAfterFailure
  }
}
