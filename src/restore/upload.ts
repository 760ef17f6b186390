/**
 * Puts a downloaded backup folder back into a cluster's userfile storage, laid out as CockroachDB
 * wrote it, so RESTORE … FROM '<backup-path>' IN '<collection>' finds it: the folder's files under
 * `<collection>/<backup-path>/`, its `incrementals/` under `<collection>/incrementals/<backup-path>/`.
 */
import { readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { StepCleanup } from '../cleanup.js'
import type { Session } from '../connection.js'
import { manifestChecksum } from '../backup/download.js'
import { ActionError, fileSystemError, InputError } from '../errors.js'
import { listLocalFiles } from '../local-files.js'
import { indexFolderName, joinPath, safeRelativePath, writeStoredFile, type UserfileLocation } from '../userfile.js'

export interface UploadResult {
  files: number
  written: number
  unchanged: number
  bytes: number
}

/** Where a local file goes in the collection (the inverse of the download's layout). */
export function storedName(location: UserfileLocation, backupPath: string, relative: string): string {
  const layer = /^incrementals\/(.+)$/.exec(relative)?.[1]
  if (layer !== undefined) return `${joinPath(joinPath(location.path, 'incrementals'), backupPath)}/${layer}`
  const indexEntry = /^index\/(.+)$/.exec(relative)?.[1]
  if (indexEntry !== undefined) return `${joinPath(location.path, `metadata/index/${indexFolderName(backupPath)}`)}/${indexEntry}`
  return `${joinPath(location.path, backupPath)}/${relative}`
}

/** A folder whose manifest does not match its checksum is refused before anything is written. */
async function checkManifests(directory: string, files: string[]): Promise<void> {
  for (const manifest of files.filter(file => file.endsWith('BACKUP_MANIFEST'))) {
    if (!files.includes(`${manifest}-CHECKSUM`)) continue
    const expected = await readFile(join(directory, `${manifest}-CHECKSUM`))
    if (!manifestChecksum(await readFile(join(directory, manifest))).equals(expected)) {
      throw new ActionError(`${join(directory, manifest)} does not match its checksum: the downloaded backup is corrupt.`)
    }
  }
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
