/**
 * One restore, start to finish on an open session: optionally upload a downloaded backup folder,
 * read the backup (SHOW BACKUP), run RESTORE … WITH detached (with drop-existing into a temporary
 * database, swapped in once it succeeded) and follow the job like a backup job.
 */
import { pathKey, type ShowBackupRow } from '../cluster/backup-listing.js'
import { checkManifests, readLocalBackupFolder } from '../storage/backup-folder.js'
import { resolveCollection } from '../cluster/collection.js'
import type { Session } from '../cluster/connection.js'
import { Inputs, RestoreInputs } from '../base/constants.js'
import { ActionError, fileSystemError, InputError } from '../base/errors.js'
import { databaseRestoreRefused, startRestoreJob } from '../cluster/detached-job.js'
import { followToEnd, type JobContext, type JobId } from '../cluster/job.js'
import * as log from '../base/log.js'
import type { RestoreActionInputs } from './inputs.js'
import { planReplacement, ownTemporary, swapIn, type Replacement } from './replace.js'
import { layerEnds, pointInTimeRefusal, resolveRestoreAsOf, type RestoreAsOf } from './point-in-time.js'
import { showBackup, type BackupAddress } from '../cluster/show-backup.js'
import * as sql from '../cluster/sql/index.js'
import type { BackupTarget, TableName } from '../cluster/targets.js'
import { uploadBackup, type Upload, type UploadResult } from './upload.js'
import { backupsNewestFirst } from '../cluster/what-exists.js'
import { locateUserfile, userfileDatabases, type UserfileLocation } from '../storage/userfile-location.js'
import { refusesNewDbName, type CockroachVersion } from '../cluster/version.js'

export interface RestorePlan extends BackupAddress {
  target: BackupTarget
  path: string
  newDbName: string | undefined
  /** drop-existing: the database to replace, the temporary name it is restored under, and where the old copy waits. */
  replace: Replacement | undefined
  /** source-path: the downloaded folder to put into the collection first, and where its files go. */
  upload: { directory: string; location: UserfileLocation } | undefined
  /** as-of-system-time: the time to restore to; undefined: the backup's end. */
  pointInTime: RestoreAsOf | undefined
}

export interface RestoredTable {
  name: string
  rows: number
}

/** A table the restore brings back, under the name it ends up with. */
export interface RestoredName {
  name: string
  parts: [database: string, schema: string, table: string]
}

export interface RestoreResult {
  jobId: JobId
  tables: RestoredTable[]
  rows: number
  upload: UploadResult | undefined
  /** The time restored, ISO 8601 UTC: as-of-system-time, or the backup's end time. */
  restoredAsOf: string
}

/** drop-existing must never drop the database whose userfile tables hold the backup being restored. */
function refuseDroppingTheCollection(inputs: RestoreActionInputs, collection: string, display: string, user: string): void {
  if (!inputs.dropExisting || inputs.collection.scheme !== 'userfile' || inputs.target.kind !== 'databases') return
  const replaced = inputs.newDbName ?? inputs.target.databases[0] ?? ''
  if (!userfileDatabases(collection, user, inputs.connection.database).includes(replaced)) return
  throw new InputError(
    [RestoreInputs.DropExisting, inputs.newDbName === undefined ? Inputs.Database : RestoreInputs.NewDbName, Inputs.Collection],
    `drop-existing would drop ${replaced}, whose userfile tables hold the collection ${display}: the backup would go with it. Keep the collection in another database.`
  )
}

export function planRestore(inputs: RestoreActionInputs, sessionUser: string): RestorePlan {
  const resolved = resolveCollection(inputs.collection, sessionUser)
  refuseDroppingTheCollection(inputs, resolved.collection, resolved.collectionForDisplay, sessionUser)
  const upload =
    inputs.sourcePath === undefined
      ? undefined
      : { directory: inputs.sourcePath, location: locateUserfile(resolved.collection, sessionUser) }
  const replaced = inputs.target.kind === 'databases' ? (inputs.newDbName ?? inputs.target.databases[0]) : undefined
  return {
    target: inputs.target,
    path: inputs.backupPath,
    ...resolved,
    newDbName: inputs.newDbName,
    replace: inputs.dropExisting && replaced !== undefined ? planReplacement(replaced) : undefined,
    encryptionPassphrase: inputs.encryptionPassphrase,
    upload,
    pointInTime: inputs.pointInTime
  }
}

/** Where a restored table ends up: its database renamed by new-db-name, if given. */
function restoredName(plan: RestorePlan, row: ShowBackupRow): RestoredName {
  const parts: RestoredName['parts'] = [
    plan.newDbName ?? row.database_name ?? '',
    row.parent_schema_name ?? 'public',
    row.object_name ?? ''
  ]
  return { name: parts.join('.'), parts }
}

function tableMatches(table: TableName, row: ShowBackupRow): boolean {
  const [database, ...rest] = table.parts
  if (database !== row.database_name) return false
  const wildcard = rest.at(-1) === '*'
  const named = wildcard ? rest.slice(0, -1) : rest
  if (named.length === 2) return named[0] === row.parent_schema_name && named[1] === row.object_name
  if (named.length === 1) return wildcard ? named[0] === row.parent_schema_name : named[0] === row.object_name
  return wildcard
}

/**
 * The tables this restore brings back, once each. SHOW BACKUP lists a table once per layer, and an
 * incremental layer's `rows` count what changed since the layer before (facts §21): their sum is no
 * table's size (21 for an 11-row table in cockroach's show_test.go), so the rows are counted after
 * the restore instead (countRestoredRows).
 */
export function restoredTables(plan: RestorePlan, rows: ShowBackupRow[]): RestoredName[] {
  const target = plan.target
  const selected = rows.filter(
    row =>
      row.object_type === 'table' &&
      (target.kind === 'databases'
        ? row.database_name !== null && target.databases.includes(row.database_name)
        : target.tables.some(table => tableMatches(table, row)))
  )
  return [...new Map(selected.map(row => restoredName(plan, row)).map(table => [table.name, table])).values()]
}

/** What was restored: each restored table's `count(*)`, as verify-restore counts its scratch tables. */
async function countRestoredRows(session: Session, tables: RestoredName[], timeoutMs: number): Promise<RestoredTable[]> {
  const counted: RestoredTable[] = []
  for (const { name, parts } of tables) {
    const [row] = await session.query<{ count: string }>(sql.countRows(...parts), [], `counting the rows of ${name}`, timeoutMs)
    counted.push({ name, rows: Number(row?.count ?? 0) })
  }
  return counted
}

/**
 * CockroachDB reads an encrypted manifest it was given no key for as a proto and fails with `file
 * appears encrypted -- try specifying one of "encryption_passphrase" or "kms": …` (facts §25).
 */
const APPEARS_ENCRYPTED = /file appears encrypted/

const SHOWN_BACKUPS = 5

/** SHOW BACKUP failed: say which input is wrong when the cause is the passphrase or the path; otherwise the error stands. */
async function explainUnreadableBackup(session: Session, plan: RestorePlan, error: unknown): Promise<unknown> {
  const message = error instanceof Error ? error.message : String(error)
  if (APPEARS_ENCRYPTED.test(message) && plan.encryptionPassphrase === undefined) {
    return new ActionError(
      `Backup ${plan.path} in ${plan.collectionForDisplay} is encrypted, and the ${Inputs.EncryptionPassphrase} input is not set.\n${message}`,
      `Set ${Inputs.EncryptionPassphrase} to the passphrase the backup was taken with (the backup step's ${Inputs.EncryptionPassphrase}), from the same secret.`,
      { cause: error }
    )
  }
  const listed = await backupsNewestFirst(session, plan)
  if (listed === undefined) return error
  const latest = plan.path.replace(/^\//, '').toUpperCase() === 'LATEST'
  if (latest ? listed.length > 0 : listed.includes(pathKey(plan.path))) return error
  if (listed.length === 0) {
    return new ActionError(
      `${RestoreInputs.BackupPath} ${plan.path}: the collection ${plan.collectionForDisplay} has no backups (SHOW BACKUPS lists none).\n${message}`,
      `Check ${Inputs.Collection}: it must be the backup step's collection output, as the same user sees it.`,
      { cause: error }
    )
  }
  const more = listed.length - SHOWN_BACKUPS
  return new ActionError(
    `${RestoreInputs.BackupPath} ${plan.path} is not in the collection ${plan.collectionForDisplay}.\n${message}`,
    `SHOW BACKUPS lists, newest first: ${listed.slice(0, SHOWN_BACKUPS).join(', ')}${more > 0 ? `, and ${more} more` : ''}. ` +
      `Set ${RestoreInputs.BackupPath} to one of them (the backup step's backup-path output), or to LATEST.`,
    { cause: error }
  )
}

async function readBackup(session: Session, plan: RestorePlan, timeoutMs: number): Promise<ShowBackupRow[]> {
  const rows = await showBackup(session, plan, plan.path, { checkFiles: false, timeoutMs }).catch(async (error: unknown) => {
    throw await explainUnreadableBackup(session, plan, error)
  })
  if (rows.length === 0) throw new ActionError(`SHOW BACKUP '${plan.path}' in ${plan.collectionForDisplay} lists nothing to restore.`)
  return rows
}

/** RESTORE refuses an existing database (XXUUU); without drop-existing, that refusal is the answer. */
function existingDatabaseError(error: unknown): unknown {
  const name = databaseRestoreRefused(error)
  if (name === undefined) return error
  return new ActionError(
    `Database ${name} already exists, and RESTORE only creates new databases.\n${(error as Error).message}`,
    `Set ${RestoreInputs.DropExisting}: true to replace it, or ${RestoreInputs.NewDbName} to restore beside it.`,
    { cause: error }
  )
}

/** A RESTORE into the temporary name was refused because it exists: someone else's database, left alone. */
function temporaryTakenError(error: unknown, replacement: Replacement): unknown {
  if (databaseRestoreRefused(error) !== replacement.temporary) return error
  const message = `The temporary database name ${replacement.temporary} is taken; it is not this step's, so it is left alone.`
  return new ActionError(message, 'Run the step again.', { cause: error })
}

/** The time this restore goes to: as-of-system-time resolved against the backup's layers, or its end. */
function restoreTime(
  plan: RestorePlan,
  backup: ShowBackupRow[]
): { asOf: string | undefined; display: string; refusal: (error: unknown) => unknown } {
  const ends = layerEnds(backup)
  const pointInTime = plan.pointInTime
  if (pointInTime === undefined) return { asOf: undefined, display: ends.at(-1)?.text ?? '', refusal: error => error }
  const resolved = resolveRestoreAsOf(pointInTime, ends, plan.path)
  return {
    asOf: resolved.literal,
    display: resolved.display,
    refusal: error => pointInTimeRefusal(error, pointInTime, resolved, ends, plan.path)
  }
}

async function startRestore(
  session: Session,
  plan: RestorePlan,
  time: ReturnType<typeof restoreTime>,
  options: JobContext
): Promise<JobId> {
  const databaseName = plan.replace?.temporary ?? plan.newDbName
  const request = {
    target: plan.target,
    path: plan.path,
    newDbName: plan.target.kind === 'databases' ? databaseName : undefined,
    intoDb: plan.target.kind === 'tables' ? plan.newDbName : undefined,
    doing: `starting the restore from ${plan.path}`,
    asOf: time.asOf
  }
  return startRestoreJob(session, plan, request, options).catch((error: unknown) => {
    throw time.refusal(plan.replace ? temporaryTakenError(error, plan.replace) : existingDatabaseError(error))
  })
}

/**
 * Any userfile statement makes CockroachDB create the two tables, with its own schema and grants;
 * then the files go in. The folder is checked again against the cluster's version, as the download
 * checks it: from v22.2 a manifest without its checksum file is an incomplete backup.
 */
async function upload(session: Session, plan: RestorePlan, options: JobContext): Promise<Upload | undefined> {
  if (plan.upload === undefined) return undefined
  const { directory, location } = plan.upload
  await session.query(sql.showBackups(plan.collection), [], `opening ${plan.collectionForDisplay}`)
  // Checked with the inputs; read again, as the workflow may have changed it since.
  const folder = await readLocalBackupFolder(directory).catch((error: unknown) => {
    throw fileSystemError(error, directory)
  })
  await checkManifests(directory, folder.files, { version: session.info.version, warn: log.warning })
  return uploadBackup(session, location, plan.path, folder, options.log, options.cleanup).catch((error: unknown) => {
    throw fileSystemError(error, directory)
  })
}

/** new-db-name, and drop-existing's restore under a temporary name, need RESTORE … new_db_name (v22.1+). */
function refuseWithoutNewDbName(plan: RestorePlan, version: CockroachVersion | undefined): void {
  if (!refusesNewDbName(version) || (plan.newDbName === undefined && !plan.replace)) return
  const input = plan.newDbName !== undefined ? RestoreInputs.NewDbName : RestoreInputs.DropExisting
  throw new InputError(
    input,
    `needs RESTORE … WITH new_db_name, which CockroachDB has from v22.1; this cluster runs ${version?.text ?? 'an older version'}. ` +
      'Restore into a cluster without the database instead, or drop it by hand first.'
  )
}

export async function takeRestore(session: Session, plan: RestorePlan, options: JobContext): Promise<RestoreResult> {
  refuseWithoutNewDbName(plan, session.info.version)
  const uploaded = await upload(session, plan, options)
  const backup = await readBackup(session, plan, options.timeoutMs)
  const time = restoreTime(plan, backup)
  if (plan.pointInTime) options.log(`Restoring to ${time.display} (${RestoreInputs.AsOfSystemTime}: ${plan.pointInTime.input}).`)
  const jobId = await startRestore(session, plan, time, options)
  const releaseTemporary = plan.replace ? ownTemporary(session, plan.replace, options.cleanup) : undefined
  options.log(`Restore job ${jobId} started${plan.replace ? ` (into ${plan.replace.temporary}, swapped in once it succeeds)` : ''}.`)
  await followToEnd(session, jobId, options, 'Restore')
  if (plan.replace && releaseTemporary) await swapIn(session, plan.replace, releaseTemporary, options.cleanup, options.log)
  uploaded?.keep()
  const tables = await countRestoredRows(session, restoredTables(plan, backup), options.timeoutMs)
  const rows = tables.reduce((sum, table) => sum + table.rows, 0)
  options.log(`Restored ${tables.length} tables (${rows} rows) from ${plan.path}.`)
  return { jobId, tables, rows, upload: uploaded, restoredAsOf: time.display }
}
