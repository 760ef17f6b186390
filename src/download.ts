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
import { joinPath, likePrefix, type UserfileLocation } from './userfile.js'
import type { Session } from './connection.js'
import * as sql from './sql.js'

export interface DownloadResult {
  directory: string
  files: number
  bytes: number
}

interface StoredFile {
  filename: string
  file_id: string
  file_size: string | number
}

interface PlannedFile {
  stored: StoredFile
  size: number
  /** Relative to the download directory, with / separators. */
  relative: string
}

const CHUNKS_PER_QUERY = 1
const PARTIAL_SUFFIX = '.partial'
const READ_TIMEOUT_MS = 120_000

/**
 * Where a backup's files live in the collection: its folder, and (v22.1+) the incremental layers
 * CockroachDB keeps under `incrementals/<folder>` (pkg/backup/backupdest). Locally the folder's
 * files sit at the top and the layers under `incrementals/`.
 */
export function backupPrefixes(location: UserfileLocation, backupPath: string): { stored: string; local: string }[] {
  return [
    { stored: `${joinPath(location.path, backupPath)}/`, local: '' },
    { stored: `${joinPath(joinPath(location.path, 'incrementals'), backupPath)}/`, local: 'incrementals/' }
  ]
}

/** A name from the cluster becomes a path only if it cannot climb out of the directory. */
export function safeRelativePath(relative: string): boolean {
  const parts = relative.split('/')
  return relative !== '' && parts.every(part => part !== '' && part !== '.' && part !== '..' && !part.includes('\\') && !part.includes('\0'))
}

async function listFiles(session: Session, location: UserfileLocation, backupPath: string): Promise<PlannedFile[]> {
  const planned: PlannedFile[] = []
  for (const prefix of backupPrefixes(location, backupPath)) {
    const rows = await session.query<StoredFile>(sql.listUserfiles(location.tables.files), [likePrefix(prefix.stored)], `listing the files of backup ${backupPath} in ${location.tables.prefix}`)
    for (const stored of rows) {
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
  const sizes = await Promise.all(files.map(file => stat(join(directory, file.relative)).then(s => s.size, () => -1)))
  if (sizes.some((size, i) => size !== files[i]?.size)) return false
  if ((await listLocal(directory)).length !== files.length) return false
  const manifest = files.find(file => file.relative === 'BACKUP_MANIFEST')
  return manifest !== undefined && (await storedSha256(session, location, manifest)) === (await localSha256(join(directory, manifest.relative)))
}

async function listLocal(directory: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(directory, prefix), { withFileTypes: true })
  const nested = await Promise.all(entries.map(entry => (entry.isDirectory() ? listLocal(directory, `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`])))
  return nested.flat()
}

/**
 * Streams one stored file to `sink` in order, checking that its chunks are contiguous and add up to
 * its recorded size. At most one query's chunks are held while the previous ones are consumed.
 */
async function streamFile(session: Session, location: UserfileLocation, file: PlannedFile, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
  const fetch = (offset: number): Promise<{ byte_offset: string; payload: Buffer }[]> =>
    session.query(sql.readUserfileChunks(location.tables.payload, CHUNKS_PER_QUERY), [file.stored.file_id, offset], `reading ${file.stored.filename}`, READ_TIMEOUT_MS)
  const prefetch = (offset: number): ReturnType<typeof fetch> => {
    const pending = fetch(offset)
    pending.catch(() => undefined) // rejections are seen when it is awaited, not as unhandled ones
    return pending
  }
  let written = 0
  let next = file.size > 0 ? prefetch(0) : Promise.resolve([])
  try {
    while (written < file.size) {
      const rows = await next
      if (rows.length === 0) break
      const last = rows.at(-1)
      const end = last ? Number(last.byte_offset) + last.payload.length : written
      next = end < file.size ? prefetch(end) : Promise.resolve([]) // fetched while this batch is consumed
      for (const row of rows) {
        if (Number(row.byte_offset) !== written) {
          throw new ActionError(`${file.stored.filename} has a gap or overlap at byte ${written} (the next chunk starts at ${row.byte_offset}).`)
        }
        await sink(row.payload)
        written += row.payload.length
      }
    }
  } finally {
    await next.catch(() => undefined) // settle an outstanding prefetch; the first error is the one thrown
  }
  if (written !== file.size) {
    throw new ActionError(`${file.stored.filename} is ${file.size} bytes in ${location.tables.prefix}_upload_files, but its chunks hold ${written}.`)
  }
}

async function downloadFile(session: Session, location: UserfileLocation, file: PlannedFile, target: string): Promise<void> {
  const stream = createWriteStream(target, { flags: 'wx' })
  let streamError: Error | undefined
  stream.on('error', error => (streamError = error))
  try {
    await streamFile(session, location, file, async chunk => {
      if (streamError) throw streamError
      if (!stream.write(chunk)) await once(stream, 'drain')
    })
  } finally {
    stream.end()
    if (!stream.closed) await once(stream, 'close')
  }
  if (streamError) throw streamError
}

async function storedSha256(session: Session, location: UserfileLocation, file: PlannedFile): Promise<string> {
  const hash = createHash('sha256')
  await streamFile(session, location, file, async chunk => void hash.update(chunk))
  return hash.digest('hex')
}

async function localSha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex')
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
      throw new ActionError(`${file.relative} does not match ${checksumFile.relative} (expected ${expected.toString('hex')}, got ${actual.toString('hex')}): the backup is corrupt.`)
    }
  }
}

export async function downloadBackup(session: Session, location: UserfileLocation, backupPath: string, directoryInput: string, log: (message: string) => void): Promise<DownloadResult> {
  const directory = resolve(directoryInput)
  const files = await listFiles(session, location, backupPath)
  if (!files.some(file => file.relative === 'BACKUP_MANIFEST')) {
    throw new ActionError(`No BACKUP_MANIFEST under ${joinPath(location.path, backupPath)} in ${location.tables.prefix}: nothing to download.`)
  }
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  if (!(await isEmptyOrMissing(directory))) {
    if (await holdsSameBackup(session, location, directory, files)) {
      await verifyChecksums(directory, files)
      log(`${directory} already holds this backup (${files.length} files); not downloading again.`)
      return { directory, files: files.length, bytes }
    }
    throw new ActionError(`download-path ${directory} is not empty and does not hold this backup. Use a new or empty directory, so old and new files are never mixed.`)
  }
  const createdRoot = !(await stat(directory).then(() => true, () => false))
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
