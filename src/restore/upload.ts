/**
 * Puts a downloaded backup folder back into a cluster's userfile storage, laid out as CockroachDB
 * wrote it, so RESTORE … FROM '<backup-path>' IN '<collection>' finds it: the folder's files under
 * `<collection>/<backup-path>/`, its `incrementals/` under `<collection>/incrementals/<backup-path>/`.
 */
import { stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { StepCleanup } from '../cleanup.js'
import type { Session } from '../connection.js'
import { checkManifests, listLocalFiles, storedName } from '../backup-folder.js'
import { fileSystemError, InputError } from '../errors.js'
import { writeStoredFile } from '../userfile.js'
import { joinPath, safeRelativePath, type UserfileLocation } from '../userfile-location.js'

export interface UploadResult {
  files: number
  written: number
  unchanged: number
  bytes: number
}

export async function uploadBackup(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  sourceInput: string,
  input: string,
  log: (message: string) => void,
  cleanup?: StepCleanup
): Promise<UploadResult> {
  const directory = resolve(sourceInput)
  const isDirectory = await stat(directory).then(
    s => s.isDirectory(),
    () => false
  )
  if (!isDirectory) throw new InputError(input, `${directory} is not a directory.`)
  const files = await listLocalFiles(directory).catch((error: unknown) => {
    throw fileSystemError(error, input, directory)
  })
  if (!files.includes('BACKUP_MANIFEST'))
    throw new InputError(input, `${directory} holds no BACKUP_MANIFEST: it is not a downloaded backup folder.`)
  const unsafe = files.find(file => !safeRelativePath(file))
  if (unsafe !== undefined) throw new InputError(input, `${JSON.stringify(unsafe)} is not a plain file name.`)
  await checkManifests(directory, files)
  const result: UploadResult = { files: files.length, written: 0, unchanged: 0, bytes: 0 }
  for (const file of files) {
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
