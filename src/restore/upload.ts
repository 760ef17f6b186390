/**
 * Puts a downloaded backup folder back into a cluster's userfile storage, laid out as CockroachDB
 * wrote it, so RESTORE … FROM '<backup-path>' IN '<collection>' finds it: the folder's files under
 * `<collection>/<backup-path>/`, its `incrementals/` under `<collection>/incrementals/<backup-path>/`,
 * its `index/<directory>/` under `<collection>/metadata/index/<directory>/` where the cluster writes that format.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { StepCleanup } from '../cleanup.js'
import type { Session } from '../connection.js'
import { storedName, type LocalBackupFolder } from '../backup-folder.js'
import { selectUploads } from '../backup-index.js'
import { writeStoredFile } from '../userfile.js'
import { joinPath, type UserfileLocation } from '../userfile-location.js'

export interface UploadResult {
  files: number
  written: number
  unchanged: number
  bytes: number
}

/** Uploads a checked local backup folder as backup `backupPath` of the collection at `location`. */
export async function uploadBackup(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  { directory, files }: LocalBackupFolder,
  log: (message: string) => void,
  cleanup?: StepCleanup
): Promise<UploadResult> {
  const { upload, skipped, reason } = selectUploads(files, backupPath, session.info.version)
  if (skipped.length > 0) log(`Not uploading ${skipped.length} backup index entries: ${reason ?? ''}.`)
  const result: UploadResult = { files: upload.length, written: 0, unchanged: 0, bytes: 0 }
  for (const file of upload) {
    const outcome = await writeStoredFile(
      session,
      location,
      join(directory, file),
      storedName(location, backupPath, file),
      session.info.user,
      cleanup
    )
    result[outcome === 'written' ? 'written' : 'unchanged']++
    if (outcome === 'written') result.bytes += (await stat(join(directory, file))).size
  }
  log(
    `Uploaded ${result.written} files (${result.bytes} bytes) to ${joinPath(location.path, backupPath)} in ${location.tables.prefix}; ${result.unchanged} were already there.`
  )
  return result
}
