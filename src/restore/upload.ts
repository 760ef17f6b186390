/**
 * Puts a downloaded backup folder back into a cluster's userfile storage, laid out as CockroachDB
 * wrote it, so RESTORE … FROM '<backup-path>' IN '<collection>' finds it: the folder's files under
 * `<collection>/<backup-path>/`, its `incrementals/` under `<collection>/incrementals/<backup-path>/`,
 * its `index/<directory>/` under `<collection>/metadata/index/<directory>/` where the cluster writes that format.
 *
 * The backup becomes visible only once whole: SHOW BACKUPS lists a folder by its BACKUP_MANIFEST
 * (and from v25.4 by its backup index entry), and RESTORE reads that manifest first, so the index
 * entries, the checksum and the manifest go last, the manifest at the very end. Every row this
 * run wrote is deleted again if the step fails (the restore included); files that were already
 * there, byte for byte the same, are left alone, and a folder holding other bytes is refused.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { StepCleanup } from '../base/cleanup.js'
import type { Session } from '../cluster/connection.js'
import { storedName, type LocalBackupFolder } from '../storage/backup-folder.js'
import { selectUploads } from '../storage/backup-index.js'
import { ActionError } from '../base/errors.js'
import { localSha256 } from '../storage/local-files.js'
import * as sql from '../cluster/sql/index.js'
import { findStoredFile, storedSha256, writeStoredFile } from '../storage/userfile.js'
import { joinPath, type UserfileLocation } from '../storage/userfile-location.js'

export interface UploadResult {
  files: number
  /** Files this run wrote: what a failed step deletes again. */
  written: number
  /** Files already stored with the same bytes, left alone. */
  unchanged: number
  bytes: number
}

export interface Upload extends UploadResult {
  /** Keeps this run's files for good (releases the undo that deletes them): call once the restore succeeded. */
  keep: () => void
}

/** What marks a backup as present goes last: index entries, then the checksum, then the manifest. */
export function uploadOrder(files: string[]): string[] {
  const rank = (file: string): number =>
    file === 'BACKUP_MANIFEST' ? 3 : file === 'BACKUP_MANIFEST-CHECKSUM' ? 2 : file.startsWith('index/') ? 1 : 0
  return [...files].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
}

/** Which files are already stored with the same bytes; refuses the folder if any name holds other bytes. */
async function alreadyStored(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  folder: LocalBackupFolder
): Promise<Set<string>> {
  const same = new Set<string>()
  for (const file of folder.files) {
    const name = storedName(location, backupPath, file)
    const existing = await findStoredFile(session, location, name)
    if (existing === undefined) continue
    const local = join(folder.directory, file)
    const size = (await stat(local)).size
    if (
      Number(existing.file_size) === size &&
      (await storedSha256(session, location, { stored: existing, size })) === (await localSha256(local))
    ) {
      same.add(file)
      continue
    }
    throw new ActionError(
      `${name} already exists in ${location.tables.prefix} with other content: backup-path ${backupPath} there holds another backup. Nothing was uploaded.`,
      'Restore that backup without source-path, or remove it from the collection first.'
    )
  }
  return same
}

const UNDO_CONNECTION_TIMEOUT_MS = 2_500

/** Deletes the files (chunks first) whose ids are given, in one statement per table. */
async function deleteFiles(session: Session, location: UserfileLocation, fileIds: string[]): Promise<void> {
  await session.query(sql.deleteUserfilePayloadOfIds(location.tables.payload), [fileIds], `deleting ${fileIds.length} uploaded files`)
  await session.query(sql.deleteUserfilesOfIds(location.tables.files), [fileIds], `deleting ${fileIds.length} uploaded files`)
}

/** deleteFiles as a best effort: whether it worked. */
function deletedNow(session: Session, location: UserfileLocation, fileIds: string[]): Promise<boolean> {
  return deleteFiles(session, location, fileIds).then(
    () => true,
    () => false
  )
}

/** Uploads a checked local backup folder as backup `backupPath` of the collection at `location`. */
export async function uploadBackup(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  folder: LocalBackupFolder,
  log: (message: string) => void,
  cleanup?: StepCleanup
): Promise<Upload> {
  const { directory } = folder
  const { upload: files, skipped, reason } = selectUploads(folder.files, backupPath, session.info.version)
  if (skipped.length > 0) log(`Not uploading ${skipped.length} backup index entries: ${reason ?? ''}.`)
  const result: UploadResult = { files: files.length, written: 0, unchanged: 0, bytes: 0 }
  const same = await alreadyStored(session, location, backupPath, { directory, files })
  const written: string[] = []
  const release = cleanup?.add({
    what: `delete the files this run uploaded to ${location.tables.prefix}`,
    run: async () => {
      if (written.length === 0) return undefined
      const fresh = await session.fresh(UNDO_CONNECTION_TIMEOUT_MS)
      try {
        await deleteFiles(fresh, location, written)
        return `Deleted the ${written.length} files this run uploaded to ${joinPath(location.path, backupPath)}.`
      } finally {
        await fresh.close()
      }
    }
  })
  try {
    for (const file of uploadOrder(files)) {
      if (same.has(file)) {
        result.unchanged++
        continue
      }
      const stored = await writeStoredFile(
        session,
        location,
        join(directory, file),
        storedName(location, backupPath, file),
        session.info.user,
        cleanup
      )
      if (stored.outcome === 'unchanged') {
        result.unchanged++ // stored meanwhile by someone else, byte for byte the same: not this run's
        continue
      }
      written.push(stored.fileId)
      result.written++
      result.bytes += (await stat(join(directory, file))).size
    }
  } catch (error) {
    // Best effort on this session; if it is gone, the registered undo tries again on a fresh one.
    if (await deletedNow(session, location, written)) release?.()
    throw error
  }
  log(
    `Uploaded ${result.written} files (${result.bytes} bytes) to ${joinPath(location.path, backupPath)} in ${location.tables.prefix}; ${result.unchanged} were already there.`
  )
  return { ...result, keep: () => release?.() }
}
