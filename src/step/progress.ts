/**
 * Where a step is, for two readers: the log, grouped by phase (connect, back up, verify,
 * download), and the summary of a failed step (the phase, the statement that was running with
 * its secrets redacted, and the job it started).
 */
import type { QueryObserver } from '../cluster/connection.js'
import * as log from '../base/log.js'
import { redactStatement } from '../cluster/redact-statement.js'

export class StepProgress implements QueryObserver {
  phase: string | undefined
  /** The last statement sent, redacted. */
  statement: string | undefined
  /** The statement that started a job (BACKUP/RESTORE … WITH detached), redacted. */
  jobStatement: string | undefined
  jobId: string | undefined
  /** What the summary of a failed step shows after the failure: the backup that was made, when a follow-up failed. */
  summaryAfterFailure: (() => void) | undefined
  private groupOpen = false
  private sentAt = 0

  /**
   * Ends the previous phase's log group and opens this one. Not core.group: that needs each phase
   * as one function, and the step between backing up and verifying lies inside takeBackup. It is
   * the same ::group::/::endgroup:: pair.
   */
  enter(phase: string): void {
    this.endGroup()
    log.startGroup(phase)
    this.groupOpen = true
    this.phase = phase
  }

  /** Closes the open group, so that the step's result (and ::error::) is shown outside it. */
  endGroup(): void {
    if (this.groupOpen) log.endGroup()
    this.groupOpen = false
  }

  /**
   * Notes each statement the session sends (as the session's observer, set by step.ts); with step
   * debug logging on (ACTIONS_STEP_DEBUG), the log shows it, redacted, and how long it took.
   */
  sent(text: string): void {
    this.statement = redactStatement(text)
    this.sentAt = performance.now()
    if (log.debugEnabled()) log.debug(`SQL: ${this.statement}`)
  }

  /** Notes the job id a detached BACKUP or RESTORE returns, with its statement. */
  answered(text: string, rows: object[]): void {
    if (log.debugEnabled())
      log.debug(`SQL answered: ${rows.length} row${rows.length === 1 ? '' : 's'} in ${Math.round(performance.now() - this.sentAt)} ms`)
    const jobId: unknown = rows.length === 1 && /^\s*(BACKUP|RESTORE)\b/i.test(text) ? (rows[0] as { job_id?: unknown }).job_id : undefined
    if (typeof jobId === 'string' || typeof jobId === 'number' || typeof jobId === 'bigint') {
      this.jobId = String(jobId)
      this.jobStatement = redactStatement(text)
    }
  }
}
