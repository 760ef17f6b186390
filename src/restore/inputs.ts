/**
 * The restore companion's inputs (restore/action.yml): the shared ones read exactly as the backup
 * action reads them, plus what to restore from and how.
 */
import { resolve } from 'node:path'
import * as core from '@actions/core'
import { readLocalBackupFolder } from '../storage/backup-folder.js'
import { requireUserfile } from '../storage/userfile-location.js'
import { Inputs, RestoreInputs } from '../base/constants.js'
import { InputError } from '../base/errors.js'
import { checkRunnerPath, optionalText, parseBoolean, readInput, readSharedInputs, type Read, type SharedInputs } from '../step/inputs.js'
import { parseRestoreAsOf, type RestoreAsOf } from './point-in-time.js'

export interface RestoreActionInputs extends SharedInputs {
  /** As the backup action's `backup-path` output gives it: `/2024/05/07-141012.34`, `2024/…` or `/name`. */
  backupPath: string
  /** A directory `download-path` produced, to upload into the collection first; absolute. */
  sourcePath: string | undefined
  newDbName: string | undefined
  dropExisting: boolean
  /** A time to restore the backup to (RESTORE … AS OF SYSTEM TIME); undefined: its end. */
  pointInTime: RestoreAsOf | undefined
}

function notTooLong(input: string, text: string): string {
  if (text.length > 1024) throw new InputError(input, 'is longer than 1024 characters.')
  return text
}

/**
 * The upload writes under `<collection>/<backup-path>/` as given, while CockroachDB cleans the path
 * before RESTORE reads it: with `..`, `.` or `//` the two could mean different folders.
 */
function canonicalBackupPath(path: string): string {
  const parts = path.replace(/^\//, '').split('/')
  if (parts.some(part => part === '' || part === '.' || part === '..' || part.includes('\\'))) {
    throw new InputError(
      RestoreInputs.BackupPath,
      `${JSON.stringify(path)} is not a plain folder path: no empty, "." or ".." parts, no trailing slash (the backup action's backup-path output, e.g. /2024/05/07-141012.34).`
    )
  }
  return path
}

/**
 * The databases every cluster creates for itself (cockroachdb/docs, _includes/<version>/sql/
 * preloaded-databases.md): `system` holds the cluster's metadata, `defaultdb` is where sessions
 * start (and where userfile storage keeps its tables by default), `postgres` is there for clients.
 */
export const CLUSTER_DATABASES = ['system', 'defaultdb', 'postgres']

/** drop-existing replaces one whole database the user named, never one CockroachDB itself keeps. */
function checkDropExisting(inputs: RestoreActionInputs): void {
  if (!inputs.dropExisting) return
  const target = inputs.target
  if (target.kind === 'tables') {
    throw new InputError(
      [RestoreInputs.DropExisting, Inputs.Tables],
      'drop-existing replaces whole databases. For tables, restore them beside the originals with new-db-name (into another database) and swap them yourself.'
    )
  }
  if (target.databases.length > 1) {
    throw new InputError(
      [RestoreInputs.DropExisting, Inputs.Database],
      'drop-existing replaces one database per step; more than one is listed.'
    )
  }
  const replaced = inputs.newDbName ?? target.databases[0] ?? ''
  if (CLUSTER_DATABASES.includes(replaced)) {
    throw new InputError(
      [RestoreInputs.DropExisting, inputs.newDbName === undefined ? Inputs.Database : RestoreInputs.NewDbName],
      `drop-existing would replace ${replaced}, which CockroachDB creates and keeps itself (${CLUSTER_DATABASES.join(', ')}); restore into another database with new-db-name.`
    )
  }
}

/** The LATEST file names the newest backup of the cluster it is in; an uploaded folder has its own path. */
function checkSourceBackupPath(backupPath: string): void {
  if (backupPath.replace(/^\//, '').toUpperCase() === 'LATEST') {
    throw new InputError(
      [RestoreInputs.BackupPath, RestoreInputs.SourcePath],
      "with source-path, backup-path must be the uploaded backup's own folder (the backup action's backup-path output, e.g. /2024/05/07-141012.34), not LATEST."
    )
  }
}

export function getRestoreInputs(readRaw: Read = readInput, mask: (secret: string) => void = core.setSecret): RestoreActionInputs {
  const read = (name: string): string => readRaw(name) ?? ''
  const shared = readSharedInputs(readRaw, mask)
  const backupPath = optionalText(RestoreInputs.BackupPath, read(RestoreInputs.BackupPath))
  if (backupPath === undefined) {
    throw new InputError(RestoreInputs.BackupPath, "is required: the backup action's backup-path output, e.g. /2024/05/07-141012.34.")
  }
  const sourcePath = optionalText(RestoreInputs.SourcePath, read(RestoreInputs.SourcePath))
  if (sourcePath !== undefined) {
    requireUserfile(
      shared.collection,
      scheme =>
        new InputError(
          [RestoreInputs.SourcePath, Inputs.Collection],
          `source-path uploads into userfile storage; a ${scheme}:// collection is read by CockroachDB directly.`
        )
    )
  }
  const newDbName = optionalText(RestoreInputs.NewDbName, read(RestoreInputs.NewDbName))
  if (newDbName !== undefined && shared.target.kind === 'databases' && shared.target.databases.length > 1) {
    throw new InputError([RestoreInputs.NewDbName, Inputs.Database], 'new-db-name renames one database; more than one is listed.')
  }
  if (sourcePath !== undefined) checkSourceBackupPath(backupPath)
  const inputs = {
    ...shared,
    backupPath: canonicalBackupPath(notTooLong(RestoreInputs.BackupPath, backupPath)),
    sourcePath: sourcePath === undefined ? undefined : resolve(notTooLong(RestoreInputs.SourcePath, sourcePath)),
    newDbName: newDbName === undefined ? undefined : notTooLong(RestoreInputs.NewDbName, newDbName),
    dropExisting: parseBoolean(RestoreInputs.DropExisting, read(RestoreInputs.DropExisting), false),
    pointInTime: parseRestoreAsOf(read(RestoreInputs.AsOfSystemTime))
  }
  checkDropExisting(inputs)
  return inputs
}

/** The inputs, and then what they say of the runner's disk: source-path must hold a whole downloaded backup. */
export async function readRestoreInputs(
  readRaw: Read = readInput,
  mask: (secret: string) => void = core.setSecret
): Promise<RestoreActionInputs> {
  const inputs = getRestoreInputs(readRaw, mask)
  await checkRunnerPath(RestoreInputs.SourcePath, inputs.sourcePath, readLocalBackupFolder)
  return inputs
}
