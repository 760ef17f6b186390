/**
 * Starting a job with `… WITH detached`, so that no job runs on with no one following it. The
 * statement may take up to `timeout` to answer. If it never answers (a timeout, a dropped
 * connection, a cancelled workflow) the job may or may not exist: then the step's cleanup looks in
 * SHOW JOBS for jobs of its type and user created about then, and cancels one only when its whole
 * description (SHOW JOB) carries a string only this step's statement has. Anything less proves
 * nothing (another workflow may run the same statement as the same user), so it then cancels
 * nothing and names the candidates and the statement a person could run.
 */
import type { StepCleanup } from '../base/cleanup.js'
import { QueryError, type Session } from './connection.js'
import { CancelledError, databaseErrorFields } from '../base/errors.js'
import { detachedJobId, type JobContext, type JobId, type JobRow } from './job.js'
import { carriesStringLiteral } from './job-description.js'
import type { BackupAddress } from './show-backup.js'
import * as sql from './sql/index.js'
import type { BackupTarget } from './targets.js'

export type JobKind = 'BACKUP' | 'RESTORE'

export interface DetachedStart {
  kind: JobKind
  statement: string
  /**
   * A string literal of the statement that only this step could have written, and that CockroachDB
   * keeps in the job's description (facts §5): the job whose description carries it is this step's.
   * Undefined when the statement has none; then an unanswered statement's job is never cancelled.
   */
  ownLiteral: string | undefined
  doing: string
  timeoutMs: number
  cleanup: StepCleanup | undefined
}

const LOOKUP_TIMEOUT_MS = 2_500
/**
 * How far before the clock reading the SHOW JOBS cut reaches: v24.1+ shows `created` truncated to
 * the second, and behind a pooler the job's node may trail the node that was read by its clock offset.
 */
const CREATED_MARGIN_MS = 10_000
/** Candidates whose descriptions are read; more would not fit the cleanup's time budget. */
const MAX_CANDIDATES = 10
const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'revert-failed'])

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
  /** A decimal HLC timestamp to restore the backup to (RESTORE … AS OF SYSTEM TIME); absent: its end. */
  asOf?: string
  /** A name only this step uses in the statement (verify-restore's scratch database), if any. */
  ownName?: string
}

/**
 * The database RESTORE refused because it exists, or undefined for any other error. RESTORE's
 * planning (allocateDescriptorRewrites in pkg/backup/restore_planning.go, earlier
 * pkg/ccl/backupccl) uses a plain errors.Errorf, so the code is XXUUU on every version; 42P04 is
 * CREATE DATABASE's. The name is Go's %q of it.
 */
export function databaseRestoreRefused(error: unknown): string | undefined {
  if (!(error instanceof QueryError) || error.code !== 'XXUUU') return undefined
  const quoted = /^database ("(?:[^"\\]|\\.)*") already exists$/.exec(databaseErrorFields(error.cause).message)?.[1]
  if (quoted === undefined) return undefined
  try {
    return JSON.parse(quoted) as string
  } catch {
    return quoted.slice(1, -1)
  }
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
    encryptionPassphrase: backup.encryptionPassphrase,
    asOf: request.asOf
  }
  const display = sql.restoreDetached({ ...statement, collection: backup.collectionForDisplay }, true)
  context.log(`Running: ${display}`)
  return startDetachedJob(session, {
    kind: 'RESTORE',
    statement: sql.restoreDetached(statement),
    ownLiteral: request.ownName,
    doing: request.doing,
    timeoutMs: context.timeoutMs,
    cleanup: context.cleanup
  })
}

/** `created >= since` with the margin, as an ISO time; the reading as is if it cannot be read. */
function createdCut(since: string): string {
  const at = Date.parse(since.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'))
  return Number.isNaN(at) ? since : new Date(at - CREATED_MARGIN_MS).toISOString()
}

/** `answer`: what became of the statement ("never answered"), for the messages. */
async function cancelUnansweredJob(session: Session, start: DetachedStart, since: string, answer: string): Promise<string> {
  const user = session.info.user
  const fresh = await session.fresh(LOOKUP_TIMEOUT_MS)
  try {
    const listed = await fresh.query<{ job_id: string }>(
      sql.RECENT_JOBS,
      [start.kind, user, createdCut(since)],
      `looking for the ${start.kind} job in SHOW JOBS`
    )
    const candidates = listed.map(row => row.job_id).slice(0, MAX_CANDIDATES)
    const own: { id: JobId; status: string }[] = []
    for (const id of start.ownLiteral === undefined ? [] : candidates) {
      const [job] = await fresh.query<JobRow>(sql.jobStatus(id), [], `reading the description of job ${id}`)
      if (job && carriesStringLiteral(job.description, start.ownLiteral ?? '')) own.push({ id, status: job.status })
    }
    const [job] = own
    if (job === undefined || own.length > 1)
      return nothingCancelled(
        start,
        answer,
        user,
        since,
        candidates,
        own.map(row => row.id)
      )
    if (TERMINAL.has(job.status))
      return `Job ${job.id}, started by the ${start.kind} statement that ${answer}, had already ended (${job.status}).`
    await fresh.query(sql.cancelJob(job.id), [], `cancelling job ${job.id}`)
    return `Job ${job.id}, started by the ${start.kind} statement that ${answer}, was cancelled.`
  } finally {
    await fresh.close()
  }
}

/** Nothing proves which job, if any, is the step's: say what was seen and what a person could run. */
function nothingCancelled(start: DetachedStart, answer: string, user: string, since: string, candidates: JobId[], owned: JobId[]): string {
  const head = `The ${start.kind} statement ${answer}, so its job may exist; nothing was cancelled`
  const listed = `${start.kind} jobs of ${user} created since about ${since}`
  const literal = start.ownLiteral
  if (literal !== undefined && owned.length === 0) {
    const seen =
      candidates.length === 0 ? `no ${listed} is listed yet` : `none of the ${listed} (${candidates.join(', ')}) carries '${literal}'`
    return `${head}: ${seen}, so none is this step's, and its job may still appear. Find the one whose description (SHOW JOBS) holds '${literal}' and run CANCEL JOB <id>.`
  }
  const suspects = literal === undefined ? candidates : owned
  if (suspects.length === 0) return `${head}: no ${listed} is listed yet. Check SHOW JOBS and cancel it by hand with CANCEL JOB <id>.`
  const why =
    literal === undefined
      ? 'the statement holds nothing only this step could have written, so no job can be proven to be its own'
      : `several jobs carry this step's '${literal}'`
  return `${head} (${why}). ${listed}: ${suspects.join(', ')}. If one is this step's (check with SHOW JOB <id>), cancel it: ${suspects.map(id => sql.cancelJob(id)).join('; ')}`
}
