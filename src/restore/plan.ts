/**
 * One restore, start to finish on an open session: optionally upload a downloaded backup folder,
 * read the backup (SHOW BACKUP), make room for it (or refuse), run RESTORE … WITH detached and
 * follow the job like a backup job.
 */
import type { ShowBackupRow } from '../backup-listing.js'
import { readLocalBackupFolder } from '../backup-folder.js'
import { resolveCollection } from '../collection.js'
import { QueryError, type Session } from '../connection.js'
import { RestoreInputs } from '../constants.js'
import { ActionError, databaseErrorFields, fileSystemError } from '../errors.js'
import { startRestoreJob } from '../detached-job.js'
import { followToEnd, type JobContext, type JobId } from '../job.js'
import type { RestoreActionInputs } from './inputs.js'
import { showBackup, type BackupAddress } from '../show-backup.js'
import * as sql from '../sql.js'
import type { BackupTarget, TableName } from '../targets.js'
import { uploadBackup, type UploadResult } from './upload.js'
import { locateUserfile, type UserfileLocation } from '../userfile-location.js'

export interface RestorePlan extends BackupAddress {
  target: BackupTarget
  path: string
  newDbName: string | undefined
  dropExisting: boolean
  /** source-path: the downloaded folder to put into the collection first, and where its files go. */
  upload: { directory: string; location: UserfileLocation } | undefined
}

export interface RestoredTable {
  name: string
  rows: number
}

export interface RestoreResult {
  jobId: JobId
  tables: RestoredTable[]
  rows: number
  upload: UploadResult | undefined
}

export function planRestore(inputs: RestoreActionInputs, sessionUser: string): RestorePlan {
  const resolved = resolveCollection(inputs.collection, sessionUser)
  const upload =
    inputs.sourcePath === undefined
      ? undefined
      : { directory: inputs.sourcePath, location: locateUserfile(resolved.collection, sessionUser) }
  return {
    target: inputs.target,
    path: inputs.backupPath,
    ...resolved,
    newDbName: inputs.newDbName,
    dropExisting: inputs.dropExisting,
    encryptionPassphrase: inputs.encryptionPassphrase,
    upload
  }
}

/** Where a restored table ends up: its database renamed by new-db-name, if given. */
function restoredName(plan: RestorePlan, row: ShowBackupRow): string {
  const database = plan.newDbName ?? row.database_name ?? ''
  return [database, row.parent_schema_name, row.object_name].filter(part => part).join('.')
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

/** The tables this restore brings back and their rows, summed over every layer (SHOW BACKUP's counts). */
export function restoredTables(plan: RestorePlan, rows: ShowBackupRow[]): RestoredTable[] {
  const target = plan.target
  const selected = rows.filter(
    row =>
      row.object_type === 'table' &&
      (target.kind === 'databases'
        ? row.database_name !== null && target.databases.includes(row.database_name)
        : target.tables.some(table => tableMatches(table, row)))
  )
  const tables = new Map<string, number>()
  for (const row of selected) tables.set(restoredName(plan, row), (tables.get(restoredName(plan, row)) ?? 0) + Number(row.rows ?? 0))
  return [...tables].map(([name, count]) => ({ name, rows: count }))
}

async function readBackup(session: Session, plan: RestorePlan, timeoutMs: number): Promise<ShowBackupRow[]> {
  const rows = await showBackup(session, plan, plan.path, { checkFiles: false, timeoutMs })
  if (rows.length === 0) throw new ActionError(`SHOW BACKUP '${plan.path}' in ${plan.collectionForDisplay} lists nothing to restore.`)
  return rows
}

/**
 * The databases RESTORE will create must not exist; with drop-existing they are dropped first.
 * Without it, RESTORE's own check (42P04) decides: a pre-check through SHOW DATABASES would miss
 * databases the user has no CONNECT on (v22.2+), which RESTORE still sees.
 */
async function makeRoom(session: Session, plan: RestorePlan, log: (message: string) => void): Promise<void> {
  const target = plan.target
  if (target.kind === 'tables') {
    if (!plan.dropExisting) return // RESTORE TABLE refuses an existing table itself, with its own message
    for (const table of target.tables.filter(t => t.parts.at(-1) !== '*')) {
      const renamed = { parts: [plan.newDbName ?? table.parts[0] ?? '', ...table.parts.slice(1)] }
      await session.query(sql.dropTableIfExists(renamed), [], `dropping ${renamed.parts.join('.')} before the restore`)
      log(`Dropped table ${renamed.parts.join('.')} (drop-existing: true), if it existed.`)
    }
    return
  }
  if (!plan.dropExisting) return
  for (const database of plan.newDbName !== undefined ? [plan.newDbName] : target.databases) {
    await session.query(sql.dropDatabaseIfExists(database), [], `dropping database ${database} before the restore`)
    log(`Dropped database ${database} (drop-existing: true), if it existed.`)
  }
}

/** RESTORE's planning refuses an existing database: sqlerrors.NewDatabaseAlreadyExistsError, 42P04. */
function existingDatabaseError(error: unknown): unknown {
  if (!(error instanceof QueryError) || error.code !== '42P04') return error
  const name = /database "(.*)" already exists/.exec(databaseErrorFields(error.cause).message)?.[1]
  return new ActionError(
    `Database ${name ?? '(named by CockroachDB)'} already exists, and RESTORE only creates new databases.\n${error.message}`,
    `Set ${RestoreInputs.DropExisting}: true to replace it, or ${RestoreInputs.NewDbName} to restore beside it.`,
    { cause: error }
  )
}

async function startRestore(session: Session, plan: RestorePlan, options: JobContext): Promise<JobId> {
  const request = {
    target: plan.target,
    path: plan.path,
    newDbName: plan.target.kind === 'databases' ? plan.newDbName : undefined,
    intoDb: plan.target.kind === 'tables' ? plan.newDbName : undefined,
    doing: `starting the restore from ${plan.path}`
  }
  return startRestoreJob(session, plan, request, options).catch((error: unknown) => {
    throw existingDatabaseError(error)
  })
}

/** Any userfile statement makes CockroachDB create the two tables, with its own schema and grants; then the files go in. */
async function upload(session: Session, plan: RestorePlan, options: JobContext): Promise<UploadResult | undefined> {
  if (plan.upload === undefined) return undefined
  const { directory, location } = plan.upload
  await session.query(sql.showBackups(plan.collection), [], `opening ${plan.collectionForDisplay}`)
  // Checked with the inputs; read again, as the workflow may have changed it since.
  const folder = await readLocalBackupFolder(directory).catch((error: unknown) => {
    throw fileSystemError(error, directory)
  })
  return uploadBackup(session, location, plan.path, folder, options.log, options.cleanup).catch((error: unknown) => {
    throw fileSystemError(error, directory)
  })
}

export async function takeRestore(session: Session, plan: RestorePlan, options: JobContext): Promise<RestoreResult> {
  const uploaded = await upload(session, plan, options)
  const backup = await readBackup(session, plan, options.timeoutMs)
  await makeRoom(session, plan, options.log)
  const jobId = await startRestore(session, plan, options)
  options.log(`Restore job ${jobId} started.`)
  await followToEnd(session, jobId, options, 'Restore')
  const tables = restoredTables(plan, backup)
  const rows = tables.reduce((sum, table) => sum + table.rows, 0)
  options.log(`Restored ${tables.length} tables (${rows} rows) from ${plan.path}.`)
  return { jobId, tables, rows, upload: uploaded }
}
