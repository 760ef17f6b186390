/**
 * Follows a detached job to its end: polls SHOW JOB, logs progress, reconnects when the connection
 * drops (the job keeps running on the cluster), and stops at the timeout or on cancel. Whenever it
 * stops following for any reason but the job's own end, it cancels the job.
 */
import type { StepCleanup } from '../base/cleanup.js'
import type { ConnectionSettings } from './connection-string.js'
import type { Session } from './connection.js'
import { QueryError, timedQuery, withFreshConnection } from './connection.js'
import { ActionError, CancelledError, describeError } from '../base/errors.js'
import * as sql from './sql/index.js'

export type JobId = string

const INT8_MAX = 2n ** 63n - 1n

/** The job id a `… WITH detached` statement answered: a positive INT8, or the step stops here. */
export function detachedJobId(rows: { job_id?: unknown }[], statement: 'BACKUP' | 'RESTORE'): JobId {
  const jobId = rows[0]?.job_id
  if (jobId === undefined || jobId === null) throw new ActionError(`${statement} … WITH detached returned no job id.`)
  if (typeof jobId !== 'string' || !/^\d{1,19}$/.test(jobId) || BigInt(jobId) > INT8_MAX) {
    throw new ActionError(`${statement} … WITH detached returned ${JSON.stringify(jobId)}, which is not a job id.`)
  }
  return jobId
}

export interface JobRow {
  status: string
  fraction_completed: number | string | null
  error: string | null
  description: string | null
}

export interface JobOutcome {
  status: 'succeeded'
  description: string | null
}

/** The job did not succeed: it ended, or the action stopped following it. */
export class JobError extends ActionError {
  constructor(
    message: string,
    readonly reason: 'failed' | 'canceled' | 'paused' | 'timeout' | 'signal' | 'vanished',
    hint?: string
  ) {
    super(message, hint)
  }
}

export interface FollowOptions {
  timeoutMs: number
  /** Aborted by SIGINT/SIGTERM; its reason is the signal's name. */
  signal?: AbortSignal
  log: (message: string) => void
  /** How long to keep trying to reconnect after the connection drops. */
  reconnectTimeoutMs: number
  /** For tests; production uses the schedule below. */
  pollIntervalMs?: (poll: number) => number
  /** `Backup` or `Restore`, for messages. */
  label?: string
}

/**
 * 25 ms after the first poll, doubling to once a second: a job that ends at once is noticed within
 * tens of milliseconds, a long one costs about one query a second and is noticed within 1 s
 * (bench/action-cost.ts measures both).
 */
export function defaultPollInterval(poll: number): number {
  return Math.min(1000, 25 * 2 ** poll)
}

const PROGRESS_LOG_INTERVAL_MS = 10_000

function percent(fraction: JobRow['fraction_completed']): string {
  const value = Number(fraction ?? 0)
  return `${Math.floor(Math.max(0, Math.min(1, value)) * 100)}%`
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise(resolve => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

export async function followJob(session: Session, jobId: JobId, options: FollowOptions): Promise<JobOutcome> {
  const label = options.label ?? 'Backup'
  const started = Date.now()
  const interval = options.pollIntervalMs ?? defaultPollInterval
  let lastLog = started
  let lastStatus = ''
  for (let poll = 0; ; poll++) {
    if (options.signal?.aborted) throw cancelledWhileRunning(label, jobId, options.signal)
    const elapsed = Date.now() - started
    if (elapsed > options.timeoutMs) {
      throw new JobError(
        `${label} job ${jobId} was still running when the timeout (${seconds(options.timeoutMs)}) was reached.`,
        'timeout',
        'Raise the timeout input if jobs of this size take longer.'
      )
    }
    const row = await pollOnce(session, label, jobId, options)
    if (row !== undefined) {
      const now = Date.now()
      if (row.status !== lastStatus || now - lastLog >= PROGRESS_LOG_INTERVAL_MS) {
        options.log(`${label} job ${jobId}: ${row.status}, ${percent(row.fraction_completed)} done after ${seconds(now - started)}`)
        lastLog = now
        lastStatus = row.status
      }
      const outcome = settle(label, jobId, row)
      if (outcome !== undefined) return outcome
    }
    await sleep(interval(poll), options.signal)
  }
}

/** A cancel while following a job, whether it lands between two status reads or during one: one message. */
function cancelledWhileRunning(label: string, jobId: JobId, signal: AbortSignal): JobError {
  return new JobError(
    `The workflow was cancelled (${String(signal.reason ?? 'signal')}) while ${label.toLowerCase()} job ${jobId} was running.`,
    'signal'
  )
}

async function pollOnce(session: Session, label: string, jobId: JobId, options: FollowOptions): Promise<JobRow | undefined> {
  try {
    const rows = await session.query<JobRow>(sql.jobStatus(jobId), [], `checking ${label.toLowerCase()} job ${jobId}`)
    const row = rows[0]
    if (row === undefined) throw new JobError(`${label} job ${jobId} is not shown by SHOW JOB.`, 'vanished')
    return row
  } catch (error) {
    if (error instanceof CancelledError && options.signal?.aborted) throw cancelledWhileRunning(label, jobId, options.signal)
    if (!(error instanceof QueryError) || !error.connectionLost) throw error
    options.log(`Lost the connection while following job ${jobId}; the job keeps running on the cluster. Reconnecting…`)
    await session.reconnect({ waitTimeoutMs: options.reconnectTimeoutMs, signal: options.signal })
    return undefined
  }
}

/** terminal statuses per pkg/jobs/jobs.go: succeeded, failed, canceled, revert-failed; paused waits forever. */
function settle(label: string, jobId: JobId, row: JobRow): JobOutcome | undefined {
  const why = row.error ? `: ${row.error}` : ''
  switch (row.status) {
    case 'succeeded':
      return { status: 'succeeded', description: row.description }
    case 'failed':
    case 'revert-failed':
      throw new JobError(`${label} job ${jobId} ${row.status}${why}`, 'failed')
    case 'canceled':
      throw new JobError(`${label} job ${jobId} was canceled${why}`, 'canceled', 'Someone ran CANCEL JOB, or the cluster canceled it.')
    case 'paused':
      throw new JobError(
        `${label} job ${jobId} was paused${why}`,
        'paused',
        'A paused job waits for RESUME JOB; the action cancels it rather than leave it half done.'
      )
    default:
      return undefined
  }
}

/** For the connection and for the statement: at most 5 s in all, inside the runner's 7.5 s grace period. */
const CANCEL_TIMEOUT_MS = 2_500

/** Cancels a job so nothing half-done is left running; on its own connection, the session may be mid-poll. */
export async function cancelJob(connection: ConnectionSettings, jobId: JobId): Promise<string> {
  try {
    await withFreshConnection(connection, CANCEL_TIMEOUT_MS, client =>
      client.query(timedQuery(sql.cancelJob(jobId), [], CANCEL_TIMEOUT_MS))
    )
    return `Job ${jobId} was cancelled.`
  } catch (error) {
    return `Cancelling job ${jobId} failed too (${describeError(error)}); cancel it by hand with CANCEL JOB ${jobId}.`
  }
}

/** The job itself ended: nothing is left running, so there is nothing to cancel. */
function jobEnded(error: unknown): boolean {
  return error instanceof JobError && (error.reason === 'failed' || error.reason === 'canceled')
}

/**
 * Follows a job to success. Whenever the action stops following it for any other reason than the
 * job's own end (timeout, signal, pause, a refused or failing status query, reconnect given up, an
 * unexpected error), the job is cancelled on a fresh connection and the error says so: a detached
 * job left behind would keep running unwatched.
 */
export async function runJobToEnd(
  session: Session,
  jobId: JobId,
  connection: ConnectionSettings,
  options: FollowOptions
): Promise<JobOutcome> {
  try {
    return await followJob(session, jobId, options)
  } catch (error) {
    // A cancel that arrives while a status query hangs gives up on that query at once (Session),
    // and the job is cancelled on a fresh connection.
    if (jobEnded(error)) throw error
    const cancelled = await cancelJob(connection, jobId)
    if (error instanceof CancelledError) throw new JobError(`${error.message}\n${cancelled}`, 'signal')
    if (error instanceof JobError) throw new JobError(`${error.message}\n${cancelled}`, error.reason)
    const what = error instanceof ActionError ? error.message : `Unexpected error: ${describeError(error)}`
    const label = (options.label ?? 'Backup').toLowerCase()
    throw new ActionError(`${what}\nThe action stopped following ${label} job ${jobId}. ${cancelled}`, undefined, { cause: error })
  }
}

/** What every job a step runs is given: the inputs' timeouts, the connection to reconnect with, the log. */
export interface JobContext {
  timeoutMs: number
  waitTimeoutMs: number
  /** Aborted on the first SIGINT/SIGTERM. */
  signal?: AbortSignal
  /** Where a job that may have started unanswered is registered to be cancelled. */
  cleanup?: StepCleanup
  log: (message: string) => void
  connection: ConnectionSettings
  /** For tests; production uses defaultPollInterval. */
  pollIntervalMs?: (poll: number) => number
}

/** runJobToEnd with the step's context: reconnects for up to wait-timeout, and never less than 10 s. */
export async function followToEnd(session: Session, jobId: JobId, context: JobContext, label: string): Promise<JobOutcome> {
  return runJobToEnd(session, jobId, context.connection, {
    timeoutMs: context.timeoutMs,
    signal: context.signal,
    log: context.log,
    reconnectTimeoutMs: Math.max(context.waitTimeoutMs, 10_000),
    pollIntervalMs: context.pollIntervalMs,
    label
  })
}
