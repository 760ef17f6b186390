/**
 * Starting a job with `… WITH detached`, so that no job runs on with no one following it. The
 * statement may take up to `timeout` to answer. If it never answers (a timeout, a dropped
 * connection, a cancelled workflow) the job may exist all the same: then it is looked up in SHOW
 * JOBS (its type, the session user, created since just before the statement) and cancelled on a
 * fresh connection, as part of the step's cleanup.
 */
import type { StepCleanup } from './cleanup.js'
import { QueryError, type Session } from './connection.js'
import { CancelledError } from './errors.js'
import { detachedJobId, type JobContext, type JobId } from './job.js'
import type { BackupAddress } from './show-backup.js'
import * as sql from './sql.js'
import type { BackupTarget } from './targets.js'

export type JobKind = 'BACKUP' | 'RESTORE'

export interface DetachedStart {
  kind: JobKind
  statement: string
  /** The statement as shown (credentials redacted); its text before INTO/FROM tells jobs apart. */
  display: string
  doing: string
  timeoutMs: number
  cleanup: StepCleanup | undefined
}

const LOOKUP_TIMEOUT_MS = 2_500

/** An error that says the statement got no answer, so its job may or may not exist. */
function unanswered(error: unknown): boolean {
  return error instanceof CancelledError || (error instanceof QueryError && error.connectionLost)
}

export async function startDetachedJob(session: Session, start: DetachedStart): Promise<JobId> {
  const [clock] = await session.query<{ now: string }>(sql.CLUSTER_NOW, [], 'reading the cluster clock')
  const since = clock?.now
  let answer = 'never answered'
  const release =
    since === undefined
      ? undefined
      : start.cleanup?.add({
          what: `find and cancel the ${start.kind} job of the unanswered statement`,
          run: () => cancelUnansweredJob(session, start, since, answer)
        })
  let rows: { job_id?: unknown }[]
  try {
    rows = await session.query<{ job_id: string }>(start.statement, [], start.doing, start.timeoutMs)
  } catch (error) {
    if (!unanswered(error)) release?.() // CockroachDB answered with an error: no job was started
    throw error
  }
  // An answer that is no job id leaves the undo registered: the job is looked up like a lost one.
  answer = 'answered with no job id'
  const jobId = detachedJobId(rows, start.kind)
  release?.()
  return jobId
}

/** What a RESTORE brings back from a backup, and into what. */
export interface RestoreRequest {
  target: BackupTarget
  path: string
  newDbName: string | undefined
  intoDb: string | undefined
  doing: string
}

/** RESTORE … WITH detached, logged with its credentials redacted, started as above: the restore companion's and verify-restore's. */
export async function startRestoreJob(
  session: Session,
  backup: BackupAddress,
  request: RestoreRequest,
  context: JobContext
): Promise<JobId> {
  const statement: sql.RestoreStatementOptions = {
    target: request.target,
    path: request.path,
    collection: backup.collection,
    newDbName: request.newDbName,
    intoDb: request.intoDb,
    encryptionPassphrase: backup.encryptionPassphrase
  }
  const display = sql.restoreDetached({ ...statement, collection: backup.collectionForDisplay }, true)
  context.log(`Running: ${display}`)
  return startDetachedJob(session, {
    kind: 'RESTORE',
    statement: sql.restoreDetached(statement),
    display,
    doing: request.doing,
    timeoutMs: context.timeoutMs,
    cleanup: context.cleanup
  })
}

/** `BACKUP DATABASE bank` of `BACKUP DATABASE bank INTO …`: how CockroachDB's job description starts. */
function descriptionStart(display: string): string {
  const match = / (INTO|FROM) /.exec(display)
  return match ? display.slice(0, match.index) : display
}

/** `answer`: what became of the statement ("never answered"), for the messages. */
async function cancelUnansweredJob(session: Session, start: DetachedStart, since: string, answer: string): Promise<string> {
  const user = session.info.user
  const fresh = await session.fresh(LOOKUP_TIMEOUT_MS)
  try {
    const rows = await fresh.query<{ job_id: string; description: string | null }>(
      sql.RECENT_JOBS,
      [start.kind, user, since],
      `looking for the ${start.kind} job in SHOW JOBS`
    )
    const found = rows.length > 1 ? rows.filter(row => row.description?.startsWith(descriptionStart(start.display))) : rows
    const [job] = found
    if (job === undefined || found.length > 1) {
      const which = found.length > 1 ? `jobs ${found.map(row => row.job_id).join(', ')} could each be it` : 'none was found yet'
      return `The ${start.kind} statement ${answer}, so its job may still start: of the ${start.kind} jobs ${user} created since ${since}, ${which}. Check SHOW JOBS and cancel it by hand.`
    }
    await fresh.query(sql.cancelJob(job.job_id), [], `cancelling job ${job.job_id}`)
    return `Job ${job.job_id}, started by the ${start.kind} statement that ${answer}, was cancelled.`
  } finally {
    await fresh.close()
  }
}
