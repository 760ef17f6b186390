/**
 * The one format download and upload agree on: where a backup's files live in the collection and
 * where they sit in a local folder (both ways), and the manifest checksum that proves a folder whole.
 */
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ActionError } from '../base/errors.js'
import { indexRoot, localIndexEntry, type IndexDirectory } from './backup-index.js'
import { listLocalFiles } from './local-files.js'
import { joinPath, safeRelativePath, type UserfileLocation } from './userfile-location.js'
import { writesManifestChecksum, type CockroachVersion } from '../cluster/version.js'

/**
 * Where a backup's files live in the collection: its folder and (v22.1+) the incremental layers
 * CockroachDB keeps under `incrementals/<folder>` (pkg/backup/backupdest). Locally the folder's
 * files sit at the top and the layers under `incrementals/`. The backup index entries (v25.4+)
 * are found by listing (backup-index.ts) and sit under `index/<their directory's exact name>/`, so
 * a restore elsewhere carries the chain's index with it.
 */
export function backupPrefixes(location: UserfileLocation, backupPath: string): { stored: string; local: string }[] {
  return [
    { stored: `${joinPath(location.path, backupPath)}/`, local: '' },
    { stored: `${joinPath(joinPath(location.path, 'incrementals'), backupPath)}/`, local: 'incrementals/' }
  ]
}

/** The local place of an index directory's files: `index/<name>/`. */
export function indexPrefix(directory: IndexDirectory): { stored: string; local: string } {
  return { stored: directory.stored, local: `index/${directory.name}/` }
}

/** Where a local file goes in the collection: the inverse of localName. */
export function storedName(location: UserfileLocation, backupPath: string, relative: string): string {
  const layer = /^incrementals\/(.+)$/.exec(relative)?.[1]
  if (layer !== undefined) return `${joinPath(joinPath(location.path, 'incrementals'), backupPath)}/${layer}`
  const indexEntry = localIndexEntry(relative, backupPath)
  if (indexEntry !== undefined) return `${indexRoot(location)}${indexEntry.directory}/${indexEntry.file}`
  return `${joinPath(location.path, backupPath)}/${relative}`
}

/** Where a stored file found under `prefix` goes locally, or undefined when it is no plain path inside the folder. */
export function localName(prefix: { stored: string; local: string }, filename: string): string | undefined {
  const relative = prefix.local + filename.slice(prefix.stored.length)
  return filename.startsWith(prefix.stored) && safeRelativePath(relative) ? relative : undefined
}

/** `BACKUP_MANIFEST-CHECKSUM` is the first 4 bytes of SHA-256 over the manifest (backupinfo.GetChecksum). */
export function manifestChecksum(manifest: Buffer): Buffer {
  return createHash('sha256').update(manifest).digest().subarray(0, 4)
}

export interface ChecksumOptions {
  /** The cluster's version: from v22.2 every manifest has a checksum, so a missing one is an error. */
  version?: CockroachVersion
  warn?: (message: string) => void
}

/** Every manifest in the folder (`files` relative to it) against its checksum file. */
export async function checkManifests(directory: string, files: string[], options: ChecksumOptions = {}): Promise<void> {
  for (const manifest of files.filter(file => file.endsWith('BACKUP_MANIFEST'))) {
    const checksum = `${manifest}-CHECKSUM`
    if (!files.includes(checksum)) {
      const missing = `${manifest} has no ${checksum} next to it`
      if (writesManifestChecksum(options.version)) {
        throw new ActionError(`${missing}, which CockroachDB ${options.version?.text ?? ''} always writes: the backup is incomplete.`)
      }
      options.warn?.(`${missing}, so it cannot be checked.`)
      continue
    }
    const expected = await readFile(join(directory, checksum))
    const actual = manifestChecksum(await readFile(join(directory, manifest)))
    if (!actual.equals(expected)) {
      throw new ActionError(
        `${manifest} does not match ${checksum} (expected ${expected.toString('hex')}, got ${actual.toString('hex')}): the backup is corrupt.`
      )
    }
  }
}

/** A backup folder on the runner, as download-path wrote it: its directory and its files, relative. */
export interface LocalBackupFolder {
  directory: string
  files: string[]
}

/**
 * A downloaded backup folder, checked: a directory holding a BACKUP_MANIFEST, only plain names,
 * and every manifest matching its checksum.
 */
export async function readLocalBackupFolder(directory: string): Promise<LocalBackupFolder> {
  const isDirectory = await stat(directory).then(
    s => s.isDirectory(),
    () => false
  )
  if (!isDirectory) throw new ActionError(`${directory} is not a directory.`)
  const files = await listLocalFiles(directory)
  if (!files.includes('BACKUP_MANIFEST'))
    throw new ActionError(`${directory} holds no BACKUP_MANIFEST: it is not a downloaded backup folder.`)
  const unsafe = files.find(file => !safeRelativePath(file))
  if (unsafe !== undefined) throw new ActionError(`${JSON.stringify(unsafe)} is not a plain file name.`)
  await checkManifests(directory, files)
  return { directory, files }
}
