/**
 * One backup, start to finish on an open session: list the collection, run BACKUP … WITH detached,
 * follow the job, find the new folder, verify it with SHOW BACKUP.
 */
import type { AsOfSystemTime } from './as-of-system-time.js'
import {
  folderFromJobDescription,
  fullLayerEndTime,
  identifyBackup,
  matchesFolderName,
  pathKey,
  summarizeBackup,
  type BackupContents,
  type Destination,
  type ShowBackupRow
} from './backups.js'
import { defaultCollection, redactCollection, resolveUser } from './collection.js'
import type { ConnectionSettings } from './connection-string.js'
import type { Session } from './connection.js'
import { ActionError } from './errors.js'
import { runJobToEnd, type JobId } from './job.js'
import * as sql from './sql.js'
import type { ActionInputs } from './inputs.js'
import { firstDatabase, type BackupTarget } from './targets.js'
import { supportsCheckFiles } from './version.js'

export interface BackupPlan {
  target: BackupTarget
  /** Resolved (`$user` replaced), as sent to CockroachDB. */
  collection: string
  /** Credentials redacted, for messages. */
  collectionForDisplay: string
  destination: Destination
  asOf: AsOfSystemTime | undefined
  revisionHistory: boolean
  encryptionPassphrase: string | undefined
}

function destinationOf(inputs: ActionInputs): Destination {
  if (inputs.subdirectory !== undefined) return { kind: 'subdirectory', name: inputs.subdirectory }
  return inputs.incremental ? { kind: 'latest' } : { kind: 'new' }
}

/** What to back up where, once the session user is known (for `$user`). */
export function planBackup(inputs: ActionInputs, sessionUser: string): BackupPlan {
  const collection = resolveUser(inputs.collection ?? defaultCollection(firstDatabase(inputs.target)), sessionUser)
  return {
    target: inputs.target,
    collection,
    collectionForDisplay: redactCollection(collection),
    destination: destinationOf(inputs),
    asOf: inputs.asOf,
    revisionHistory: inputs.revisionHistory,
    encryptionPassphrase: inputs.encryptionPassphrase
  }
}

export interface BackupOptions {
  timeoutMs: number
  waitTimeoutMs: number
  signal?: AbortSignal
  log: (message: string) => void
  connection: ConnectionSettings
  pollIntervalMs?: (poll: number) => number
  /** Called once the job has succeeded, before the new folder is identified and verified (a new log group). */
  onVerify?: () => void
}

export interface BackupResult {
  path: string
  jobId: JobId
  contents: BackupContents
}

const SHOW_BACKUP_TIMEOUT_MS = 10 * 60_000

async function listBackups(session: Session, plan: BackupPlan): Promise<string[]> {
  const rows = await session.query<{ path: string }>(
    sql.showBackups(plan.collection),
    [],
    `listing backups in ${plan.collectionForDisplay}`
  )
  return rows.map(row => row.path)
}

async function startBackup(session: Session, plan: BackupPlan, log: (message: string) => void): Promise<JobId> {
  const statement: sql.BackupStatementOptions = { ...plan }
  log(`Running: ${sql.backup({ ...statement, collection: plan.collectionForDisplay }, true)}`)
  const rows = await session.query<{ job_id: string }>(sql.backup(statement), [], `starting the backup into ${plan.collectionForDisplay}`)
  const jobId = rows[0]?.job_id
  if (jobId === undefined) throw new ActionError('BACKUP … WITH detached returned no job id.')
  return jobId
}

async function showBackup(session: Session, plan: BackupPlan, path: string, checkFiles: boolean): Promise<ShowBackupRow[]> {
  // Always with the leading slash: v25.4+ can refuse a slashless path (cockroach issue #172292).
  const statement = sql.showBackup(path === 'LATEST' ? path : pathKey(path), plan.collection, {
    checkFiles,
    encryptionPassphrase: plan.encryptionPassphrase
  })
  return session.query<ShowBackupRow>(statement, [], `reading backup ${path} in ${plan.collectionForDisplay}`, SHOW_BACKUP_TIMEOUT_MS)
}

/** SHOW BACKUP (with check_files where supported): the backup is readable, whole, and the one this job wrote. */
async function verify(session: Session, plan: BackupPlan, path: string): Promise<BackupContents> {
  const rows = await showBackup(session, plan, path, supportsCheckFiles(session.info.version))
  const contents = summarizeBackup(rows)
  if (contents === undefined) throw new ActionError(`SHOW BACKUP '${path}' returned no rows: the backup is empty or unreadable.`)
  if (!matchesFolderName(path, rows)) {
    throw new ActionError(
      `SHOW BACKUP '${path}' describes a full backup ending at ${fullLayerEndTime(rows) ?? 'an unknown time'}, which does not match its folder name.`
    )
  }
  const expected = plan.destination.kind === 'new' ? 'full' : plan.destination.kind === 'latest' ? 'incremental' : undefined
  if (expected !== undefined && contents.backupType !== expected) {
    throw new ActionError(`The newest layer of backup ${path} is ${contents.backupType}, not the ${expected} backup this job wrote.`)
  }
  return contents
}

export async function takeBackup(session: Session, plan: BackupPlan, options: BackupOptions): Promise<BackupResult> {
  const before = await listBackups(session, plan)
  if (plan.destination.kind === 'latest' && before.length === 0) {
    throw new ActionError(
      `incremental: true needs a full backup to append to, and ${plan.collectionForDisplay} has none.`,
      'Run the action once without incremental to take the first full backup.'
    )
  }
  const jobId = await startBackup(session, plan, options.log)
  options.log(`Backup job ${jobId} started.`)
  const { description } = await runJobToEnd(session, jobId, options.connection, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
    reconnectTimeoutMs: Math.max(options.waitTimeoutMs, 10_000),
    pollIntervalMs: options.pollIntervalMs
  })
  options.onVerify?.()
  const after = await listBackups(session, plan)
  const jobFolder = folderFromJobDescription(description)
  const latestFullEndTime =
    plan.destination.kind === 'latest' ? fullLayerEndTime(await showBackup(session, plan, 'LATEST', false)) : undefined
  const identified = identifyBackup({ destination: plan.destination, before, after, jobFolder, latestFullEndTime })
  if (!identified.ok) throw new ActionError(`Backup job ${jobId} succeeded, but its folder cannot be identified: ${identified.reason}`)
  const contents = await verify(session, plan, identified.path)
  return { path: identified.path, jobId, contents }
}
