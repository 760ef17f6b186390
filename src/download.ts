/**
 * Copies a backup out of userfile storage onto the runner, the way `cockroach userfile get` does
 * but over the action's own SQL connection: list the files, stream each one chunk by chunk to a
 * temporary name, check its size and the manifest checksum, then rename. A failure removes
 * everything this run wrote.
 */
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { ActionError } from './errors.js'
import { listLocalFiles } from './local-files.js'
import {
  backupPrefixes,
  joinPath,
  listStoredFiles,
  readStoredFile,
  safeRelativePath,
  storedSha256,
  type PlannedStoredFile,
  type UserfileLocation
} from './userfile.js'
import type { Session } from './connection.js'

export interface DownloadResult {
  directory: string
  files: number
  bytes: number
}

interface PlannedFile extends PlannedStoredFile {
  /** Relative to the download directory, with / separators. */
  relative: string
}

const PARTIAL_SUFFIX = '.partial'

async function listFiles(session: Session, location: UserfileLocation, backupPath: string): Promise<PlannedFile[]> {
  const planned: PlannedFile[] = []
  for (const prefix of backupPrefixes(location, backupPath)) {
    for (const stored of await listStoredFiles(session, location, prefix.stored)) {
      const relative = prefix.local + stored.filename.slice(prefix.stored.length)
      if (!stored.filename.startsWith(prefix.stored) || !safeRelativePath(relative)) {
        throw new ActionError(`Refusing to download ${JSON.stringify(stored.filename)}: it is not a plain path inside the backup folder.`)
      }
      planned.push({ stored, size: Number(stored.file_size), relative })
    }
  }
  return planned
}

async function isEmptyOrMissing(directory: string): Promise<boolean> {
  try {
    return (await readdir(directory)).length === 0
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw error
  }
}

/**
 * A directory holds this same backup when it has exactly these files at these sizes and the same
 * manifest bytes (the manifest names every data file and the backup's times).
 */
async function holdsSameBackup(session: Session, location: UserfileLocation, directory: string, files: PlannedFile[]): Promise<boolean> {
  const sizes = await Promise.all(
    files.map(file =>
      stat(join(directory, file.relative)).then(
        s => s.size,
        () => -1
      )
    )
  )
  if (sizes.some((size, i) => size !== files[i]?.size)) return false
  if ((await listLocalFiles(directory)).length !== files.length) return false
  const manifest = files.find(file => file.relative === 'BACKUP_MANIFEST')
  return (
    manifest !== undefined && (await storedSha256(session, location, manifest)) === (await localSha256(join(directory, manifest.relative)))
  )
}

async function downloadFile(session: Session, location: UserfileLocation, file: PlannedFile, target: string): Promise<void> {
  const stream = createWriteStream(target, { flags: 'wx' })
  let streamError: Error | undefined
  stream.on('error', error => (streamError = error))
  try {
    await readStoredFile(session, location, file, async chunk => {
      if (streamError) throw streamError
      if (!stream.write(chunk)) await once(stream, 'drain')
    })
  } finally {
    stream.end()
    if (!stream.closed) await once(stream, 'close')
  }
  if (streamError) throw streamError
}

async function localSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
}

/** `BACKUP_MANIFEST-CHECKSUM` is the first 4 bytes of SHA-256 over the manifest (backupinfo.GetChecksum). */
export function manifestChecksum(manifest: Buffer): Buffer {
  return createHash('sha256').update(manifest).digest().subarray(0, 4)
}

async function verifyChecksums(directory: string, files: PlannedFile[]): Promise<void> {
  for (const file of files.filter(f => f.relative.endsWith('BACKUP_MANIFEST'))) {
    const checksumFile = files.find(f => f.relative === `${file.relative}-CHECKSUM`)
    if (checksumFile === undefined) continue
    const expected = await readFile(join(directory, checksumFile.relative))
    const actual = manifestChecksum(await readFile(join(directory, file.relative)))
    if (!actual.equals(expected)) {
      throw new ActionError(
        `${file.relative} does not match ${checksumFile.relative} (expected ${expected.toString('hex')}, got ${actual.toString('hex')}): the backup is corrupt.`
      )
    }
  }
}

export async function downloadBackup(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  directoryInput: string,
  log: (message: string) => void
): Promise<DownloadResult> {
  const directory = resolve(directoryInput)
  const files = await listFiles(session, location, backupPath)
  if (!files.some(file => file.relative === 'BACKUP_MANIFEST')) {
    throw new ActionError(
      `No BACKUP_MANIFEST under ${joinPath(location.path, backupPath)} in ${location.tables.prefix}: nothing to download.`
    )
  }
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  if (!(await isEmptyOrMissing(directory))) {
    if (await holdsSameBackup(session, location, directory, files)) {
      await verifyChecksums(directory, files)
      log(`${directory} already holds this backup (${files.length} files); not downloading again.`)
      return { directory, files: files.length, bytes }
    }
    throw new ActionError(
      `download-path ${directory} is not empty and does not hold this backup. Use a new or empty directory, so old and new files are never mixed.`
    )
  }
  const createdRoot = !(await stat(directory).then(
    () => true,
    () => false
  ))
  try {
    for (const file of files) {
      const target = join(directory, ...file.relative.split('/'))
      if (!target.startsWith(directory + sep)) throw new ActionError(`Refusing to write outside ${directory}: ${file.relative}`)
      await mkdir(dirname(target), { recursive: true })
      await downloadFile(session, location, file, target + PARTIAL_SUFFIX)
      await rename(target + PARTIAL_SUFFIX, target)
    }
    await verifyChecksums(directory, files)
  } catch (error) {
    // Nothing half-done is left behind: the directory was empty or missing, and a partial
    // download must not look like a backup.
    if (createdRoot) await rm(directory, { recursive: true, force: true })
    else await Promise.all((await readdir(directory)).map(entry => rm(join(directory, entry), { recursive: true, force: true })))
    throw error
  }
  log(`Downloaded ${files.length} files (${bytes} bytes) of backup ${backupPath} to ${directory}.`)
  return { directory, files: files.length, bytes }
}
