/**
 * One backup, start to finish on an open session: list the collection, run BACKUP … WITH detached,
 * follow the job, find the new folder, verify it with SHOW BACKUP.
 */
import type { ExplicitAsOf } from '../cluster/as-of-system-time.js'
import { explainEndTime, type BackupTime } from './backup-time.js'
import {
  fullLayerEndTime,
  identifyBackup,
  matchesFolderName,
  subdirectoryPath,
  summarizeBackup,
  type BackupContents,
  type Destination
} from '../cluster/backup-listing.js'
import { resolveCollection } from '../cluster/collection.js'
import { folderFromJobDescription } from '../cluster/job-description.js'
import { QueryError, type Session } from '../cluster/connection.js'
import { ActionError, InputError } from '../base/errors.js'
import { startDetachedJob } from '../cluster/detached-job.js'
import { followToEnd, type JobContext, type JobId } from '../cluster/job.js'
import { listBackups, showBackup, type BackupAddress } from '../cluster/show-backup.js'
import * as sql from '../cluster/sql/index.js'
import type { DownloadResult } from './download.js'
import type { Verification } from './verification.js'
import type { ActionInputs } from './inputs.js'
import type { StepProgress } from '../step/progress.js'
import type { BackupTarget } from '../cluster/targets.js'
import { locateUserfile, type UserfileLocation } from '../storage/userfile-location.js'
import { indexNeedsDateSubdirectory, refusesNewDbName, supportsCheckFiles, type CockroachVersion } from '../cluster/version.js'
import { dateFolderTime } from '../storage/backup-index.js'
import { Inputs } from '../base/constants.js'
import { chooseLayer, type FullEvery } from './cadence.js'
import { explainMissingTarget, isMissingTarget, withLicenceHint } from './backup-refusals.js'

export interface BackupPlan extends BackupAddress {
  target: BackupTarget
  destination: Destination
  /** full-every: decided once SHOW BACKUPS has listed the collection (cadence.ts). */
  fullEvery: FullEvery | undefined
  asOf: ExplicitAsOf | undefined
  /** Which time was chosen and why (backup-time.ts). */
  time: BackupTime
  revisionHistory: boolean
  /** download-path: the directory the verified backup is copied into, and where its files are stored. */
  download: { directory: string; location: UserfileLocation; connections: number } | undefined
  verifyRestore: boolean
  /** keep-backups: how many full backups stay, and where the collection's files are stored. */
  retention: { keep: number; location: UserfileLocation } | undefined
}

function destinationOf(inputs: ActionInputs): Destination {
  if (inputs.subdirectory !== undefined) return { kind: 'subdirectory', name: inputs.subdirectory }
  return inputs.incremental ? { kind: 'latest' } : { kind: 'new' }
}

/** What to back up where, and what to do with it, once the session user (for `$user`) and the time are known. */
export function planBackup(inputs: ActionInputs, sessionUser: string, time: BackupTime): BackupPlan {
  const resolved = resolveCollection(inputs.collection, sessionUser)
  const needsFiles = inputs.downloadPath !== undefined || inputs.keepBackups !== undefined
  const location = needsFiles ? locateUserfile(resolved.collection, sessionUser) : undefined
  return {
    target: inputs.target,
    ...resolved,
    destination: destinationOf(inputs),
    fullEvery: inputs.fullEvery,
    asOf: time.asOf,
    time,
    revisionHistory: inputs.revisionHistory,
    encryptionPassphrase: inputs.encryptionPassphrase,
    download:
      inputs.downloadPath === undefined || location === undefined
        ? undefined
        : { directory: inputs.downloadPath, location, connections: inputs.downloadConnections },
    verifyRestore: inputs.verifyRestore,
    retention: inputs.keepBackups === undefined || location === undefined ? undefined : { keep: inputs.keepBackups, location }
  }
}

export interface BackupOptions extends JobContext {
  /** The log's phase groups: verification gets its own. */
  progress?: StepProgress
}

export interface BackupResult {
  path: string
  jobId: JobId
  contents: BackupContents
  /** Why this run took a full backup or an incremental (cadence.ts). */
  typeReason: string
}

/** What the plan's follow-ups did with the verified backup (after-backup.ts). */
export type AfterBackupPhase = 'download' | 'verify-restore' | 'keep-backups'

export interface AfterBackup {
  download?: DownloadResult
  verification?: Verification
  /** With keep-backups: the folders deleted (possibly none). */
  deletedBackups?: string[]
  /** When keep-backups failed: what became of the backups it did not delete. */
  retentionStopped?: string
  /** The phase that failed, and why; the phases after it did not run. */
  failed?: { phase: AfterBackupPhase; error: unknown }
}

/** How often BACKUP is retried when a node's clock has not yet reached the chosen time (see below). */
const FUTURE_RETRIES = 20
const FUTURE_RETRY_MS = 100

/**
 * The step's own AS OF SYSTEM TIME: the decimal of its own clock reading (plus the offset), which
 * the job description keeps as written (facts §3). A time the user gave may be another run's too.
 */
function stepOwnTime(plan: BackupPlan): string | undefined {
  return plan.time.requested?.kind === 'step-start' && plan.time.asOf?.kind === 'hlc' ? plan.time.asOf.value : undefined
}

async function startBackup(session: Session, plan: BackupPlan, options: BackupOptions): Promise<JobId> {
  const statement: sql.BackupStatementOptions = { ...plan }
  const display = sql.backup({ ...statement, collection: plan.collectionForDisplay }, true)
  options.log(`Running: ${display}`)
  for (let attempt = 0; ; attempt++) {
    try {
      return await startDetachedJob(session, {
        kind: 'BACKUP',
        statement: sql.backup(statement),
        ownLiteral: stepOwnTime(plan),
        doing: `starting the backup into ${plan.collectionForDisplay}`,
        timeoutMs: options.timeoutMs,
        cleanup: options.cleanup
      })
    } catch (error) {
      if (isMissingTarget(error)) await explainMissingTarget(session, plan.target, plan.time, error)
      // The wait confirmed the time on the node that answered the clock reading, and CockroachDB
      // checks BACKUP's time against its gateway's HLC (planner.go EvalAsOfTimestamp), which only
      // moves forward. Behind a connection pooler BACKUP may reach another node, whose clock can
      // trail by up to the offset: wait that out rather than fail.
      const future = error instanceof QueryError && /cannot specify timestamp in the future/.test(error.message)
      if (!future || plan.time.requested?.kind !== 'step-start' || attempt >= FUTURE_RETRIES) throw withLicenceHint(error)
      if (attempt === 0) options.log('The node running BACKUP has not reached that time yet; retrying every 0.1 s.')
      await new Promise(resolve => setTimeout(resolve, FUTURE_RETRY_MS))
    }
  }
}

/** SHOW BACKUP (with check_files where supported): the backup is readable, whole, and the one this job wrote. */
async function verify(session: Session, plan: BackupPlan, path: string, timeoutMs: number): Promise<BackupContents> {
  const rows = await showBackup(session, plan, path, { checkFiles: supportsCheckFiles(session.info.version), timeoutMs })
  const contents = summarizeBackup(rows)
  if (contents === undefined) throw new ActionError(`SHOW BACKUP '${path}' returned no rows: the backup is empty or unreadable.`)
  if (!matchesFolderName(path, rows)) {
    throw new ActionError(
      `SHOW BACKUP '${path}' describes a full backup ending at ${fullLayerEndTime(rows) ?? 'an unknown time'}, which does not match its folder name.`
    )
  }
  // With full-every a subdirectory destination is the newest full backup, appended to.
  const appends = plan.destination.kind === 'latest' || (plan.destination.kind === 'subdirectory' && plan.fullEvery !== undefined)
  const expected = plan.destination.kind === 'new' ? 'full' : appends ? 'incremental' : undefined
  if (expected !== undefined && contents.backupType !== expected) {
    throw new ActionError(`The newest layer of backup ${path} is ${contents.backupType}, not the ${expected} backup this job wrote.`)
  }
  return contents
}

/** A subdirectory the version's backup index cannot name is refused before BACKUP runs (indexNeedsDateSubdirectory). */
function refuseUnindexableSubdirectory(destination: Destination, version: CockroachVersion | undefined): void {
  if (
    destination.kind !== 'subdirectory' ||
    !indexNeedsDateSubdirectory(version) ||
    dateFolderTime(subdirectoryPath(destination.name).replace(/\/+$/, '')) !== undefined
  )
    return
  throw new InputError(
    Inputs.Subdirectory,
    `${JSON.stringify(destination.name)} is not a date-based folder (YYYY/MM/DD-HHMMSS.ss, as SHOW BACKUPS lists them). ` +
      `From v25.4 CockroachDB (here ${version?.text ?? 'unknown'}) parses the full backup's subdirectory as a date for its backup index: ` +
      'an incremental backup into any other subdirectory fails when it writes its index entry, and from v26.2 SHOW BACKUP and RESTORE fail there too (invalid subdir format). ' +
      'Use incremental: true, or a subdirectory SHOW BACKUPS lists.'
  )
}

/** verify-restore restores a database under a scratch name, which needs new_db_name (v22.1+). */
function refuseUnverifiable(plan: BackupPlan, version: CockroachVersion | undefined): void {
  if (!plan.verifyRestore || plan.target.kind !== 'databases' || !refusesNewDbName(version)) return
  throw new InputError(
    Inputs.VerifyRestore,
    `restores each database under a scratch name with RESTORE … WITH new_db_name, which CockroachDB has from v22.1; this cluster runs ${version?.text ?? 'an older version'}. ` +
      'Turn verify-restore off there, or back up tables (they are verified with into_db).'
  )
}

export async function takeBackup(session: Session, given: BackupPlan, options: BackupOptions): Promise<BackupResult> {
  refuseUnindexableSubdirectory(given.destination, session.info.version)
  refuseUnverifiable(given, session.info.version)
  options.log(`Backing up as of ${given.time.headline}.`)
  const before = await listBackups(session, given, `listing backups in ${given.collectionForDisplay}`)
  const layer = chooseLayer(given.destination, given.fullEvery, before, Number(given.time.stepStart.wallNs / 1_000_000n))
  const plan = { ...given, destination: layer.destination }
  if (plan.fullEvery !== undefined) options.log(`${plan.destination.kind === 'new' ? 'A full backup' : 'An incremental'}: ${layer.reason}.`)
  if (plan.destination.kind === 'latest' && before.length === 0) {
    throw new ActionError(
      `incremental: true needs a full backup to append to, and ${plan.collectionForDisplay} has none.`,
      'Run the action once without incremental to take the first full backup.'
    )
  }
  const jobId = await startBackup(session, plan, options)
  options.log(`Backup job ${jobId} started.`)
  const { description } = await followToEnd(session, jobId, options, 'Backup').catch((error: unknown) => {
    throw withLicenceHint(error)
  })
  options.progress?.enter('Verify')
  options.log('Finding the new backup with SHOW BACKUPS and checking it with SHOW BACKUP…')
  const after = await listBackups(session, plan, `listing backups in ${plan.collectionForDisplay}`)
  const jobFolder = folderFromJobDescription(description)
  const latestFullEndTime =
    plan.destination.kind === 'latest'
      ? fullLayerEndTime(await showBackup(session, plan, 'LATEST', { checkFiles: false, timeoutMs: options.timeoutMs }))
      : undefined
  const identified = identifyBackup({ destination: plan.destination, before, after, jobFolder, latestFullEndTime })
  if (!identified.ok) throw new ActionError(`Backup job ${jobId} succeeded, but its folder cannot be identified: ${identified.reason}`)
  const contents = await verify(session, plan, identified.path, options.timeoutMs)
  options.log(
    `Backup ${identified.path} in ${plan.collectionForDisplay}: ${contents.rows} rows, ${contents.bytes} bytes, consistent as of ${contents.endTime} (${explainEndTime(plan.time, contents.endTime)}).`
  )
  return { path: identified.path, jobId, contents, typeReason: layer.reason }
}
