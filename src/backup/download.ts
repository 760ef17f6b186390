/**
 * Copies a backup out of userfile storage onto the runner, the way `cockroach userfile get` does
 * but over the action's own SQL connection: list the files, stream each one chunk by chunk to a
 * temporary name, check its size and the manifest checksum, then rename. A failure removes
 * exactly what this run wrote: its files, and the directories it made once they are empty.
 */
import { once } from 'node:events'
import { createWriteStream, renameSync, writeFileSync } from 'node:fs'
import { mkdir, rm, rmdir, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import { ActionError, CancelledError, describeError, fileSystemError } from '../base/errors.js'
import { ByteBudget } from '../base/byte-budget.js'
import { backupPrefixes, checkManifests, indexPrefix, localName, type ChecksumOptions } from '../storage/backup-folder.js'
import { backupIndexDirectories } from '../storage/backup-index.js'
import { listLocalFiles, localSha256 } from '../storage/local-files.js'
import { CHUNK_SIZE, listStoredFiles, readStoredFile, readStoredFiles, storedSha256, type PlannedStoredFile } from '../storage/userfile.js'
import { joinPath, type UserfileLocation } from '../storage/userfile-location.js'
import { recycleBinaryValue, type Session } from '../cluster/connection.js'
import { inspectDirectory } from './download-directory.js'

export interface DownloadOptions extends ChecksumOptions {
  /** How many groups are read at once, each over a connection of its own; 1 (the default) reads on `session` alone. */
  connections?: number
}

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
  const index = (await backupIndexDirectories(session, location, backupPath)).map(indexPrefix)
  for (const prefix of [...backupPrefixes(location, backupPath), ...index]) {
    for (const stored of await listStoredFiles(session, location, prefix.stored)) {
      const relative = localName(prefix, stored.filename)
      if (relative === undefined) {
        throw new ActionError(`Refusing to download ${JSON.stringify(stored.filename)}: it is not a plain path inside the backup folder.`)
      }
      planned.push({ stored, size: Number(stored.file_size), relative })
    }
  }
  refuseCollisions(planned)
  return planned
}

/**
 * Two stored names that land on one local path (a main-folder `incrementals/x` and a layer's `x`),
 * or a file where another needs a folder, are refused: one would silently replace the other. So
 * are two names sharing a file_id (CockroachDB's table keeps it UNIQUE): chunks are read by id, so
 * one file would get both files' chunks and the other none.
 */
function refuseCollisions(files: PlannedFile[]): void {
  const byId = new Map<string, PlannedFile>()
  for (const file of files) {
    const twin = byId.get(file.stored.file_id)
    if (twin !== undefined) {
      throw new ActionError(
        `${twin.stored.filename} and ${file.stored.filename} share the file_id ${file.stored.file_id}; their bytes cannot be told apart, so neither is downloaded.`
      )
    }
    byId.set(file.stored.file_id, file)
  }
  const byRelative = new Map<string, PlannedFile>()
  for (const file of files) {
    const clash = byRelative.get(file.relative)
    if (clash !== undefined) {
      throw new ActionError(
        `${clash.stored.filename} and ${file.stored.filename} would both be downloaded as ${file.relative}; refusing to let one overwrite the other.`
      )
    }
    byRelative.set(file.relative, file)
  }
  for (const file of files) {
    const parts = file.relative.split('/')
    for (let depth = 1; depth < parts.length; depth++) {
      const blocker = byRelative.get(parts.slice(0, depth).join('/'))
      if (blocker !== undefined) {
        throw new ActionError(
          `${blocker.stored.filename} is a file where ${file.stored.filename} needs a folder; refusing to download either.`
        )
      }
    }
  }
}

/**
 * A directory holds this same backup when it has exactly these files with the same bytes: sizes
 * first (cheap), then every file's SHA-256 against the stored one (a same-size corrupt file fails).
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
  for (const file of files) {
    if ((await storedSha256(session, location, file)) !== (await localSha256(join(directory, file.relative)))) return false
  }
  return true
}

/** Files up to this size are read in groups; larger ones stream on their own. */
const SMALL_FILE_BYTES = 1024 * 1024
/** A group holds at most this many bytes in memory, and this many files. */
const BATCH_BYTES = 16 * 1024 * 1024
const BATCH_FILES = 256

/** Consecutive small files grouped (in listing order); every larger file alone. */
function batches(files: PlannedFile[]): PlannedFile[][] {
  const groups: PlannedFile[][] = []
  let current: PlannedFile[] = []
  let bytes = 0
  for (const file of files) {
    if (file.size > SMALL_FILE_BYTES) {
      groups.push([file])
      continue
    }
    if (current.length === BATCH_FILES || bytes + file.size > BATCH_BYTES) {
      groups.push(current)
      current = []
      bytes = 0
    }
    current.push(file)
    bytes += file.size
  }
  if (current.length > 0) groups.push(current)
  return groups
}

/**
 * Room for the chunks being read or written, across every connection: it is taken before a chunk
 * is read, and the chunk's socket stays paused until there is some. Four 4 MiB chunks, so a full
 * group of small files (BATCH_BYTES) fits.
 */
const BYTES_IN_FLIGHT = 16 * 1024 * 1024
/** How long opening one more download connection may take. */
const POOL_CONNECT_TIMEOUT_MS = 10_000

async function downloadFile(
  session: Session,
  location: UserfileLocation,
  file: PlannedFile,
  target: string,
  budget: ByteBudget,
  stop: AbortSignal
): Promise<void> {
  const stream = createWriteStream(target, { flags: 'wx' })
  let streamError: Error | undefined
  stream.on('error', error => (streamError = error))
  // Room for a chunk is taken before it is read, and its socket stays paused until there is room:
  // so the chunks in memory across every connection stay within the budget.
  let reserved = 0
  const reserve = async (bytes: number): Promise<void> => {
    if (bytes <= 0) return
    await budget.take(bytes)
    reserved += bytes
  }
  let unread = file.size
  try {
    await reserve(Math.min(CHUNK_SIZE, unread))
    await readStoredFile(
      session,
      location,
      file,
      async chunk => {
        if (streamError) throw streamError
        // A chunk larger than CockroachDB writes is in memory already: waiting for more room could
        // only deadlock with the other connections, which hold theirs waiting for their own chunks.
        const held = reserved
        reserved = 0
        stream.write(chunk, () => {
          budget.give(held)
          recycleBinaryValue(chunk)
        })
        unread -= chunk.length
        await reserve(Math.min(CHUNK_SIZE, unread))
      },
      stop
    )
  } finally {
    budget.give(reserved)
    stream.end()
    if (!stream.closed) await once(stream, 'close')
  }
  if (streamError) throw streamError
}

/**
 * Reads the groups over up to `connections` connections at once: the step's session, and more
 * opened only when there is a group left for them (a one-file backup opens none). Each extra one is
 * set up as the session is and cancelled with it. The first failure stops the others at once (their
 * queries are abandoned with their connections, as a cancel does); this returns once every
 * connection but the session's is closed and nothing is being written any more.
 */
async function inParallel(
  session: Session,
  groups: PlannedFile[][],
  connections: number,
  budget: ByteBudget,
  read: (reader: Session, group: PlannedFile[], stop: AbortSignal) => Promise<void>
): Promise<void> {
  const queue = [...groups]
  const stop = new AbortController()
  let failure: { error: unknown } | undefined
  const fail = (error: unknown): void => {
    if (failure !== undefined) return
    failure = { error }
    budget.fail(error)
    stop.abort(error)
  }
  const worker = async (index: number): Promise<void> => {
    let own: Session | undefined
    try {
      for (let group = queue.shift(); group !== undefined && failure === undefined; group = queue.shift()) {
        if (index > 0 && own === undefined) {
          own = await session.fresh(POOL_CONNECT_TIMEOUT_MS, { cancellable: true }).catch((error: unknown) => {
            if (error instanceof CancelledError || error instanceof ActionError) throw error
            throw new ActionError(
              `Could not open download connection ${index + 1} of ${connections}: ${describeError(error)}`,
              "Set download-connections to 1 to download over the step's own connection only.",
              { cause: error }
            )
          })
          if (stop.signal.aborted) break
        }
        await read(own ?? session, group, stop.signal)
      }
    } catch (error) {
      fail(error)
    } finally {
      await own?.close()
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(connections, groups.length)) }, (_, index) => worker(index)))
  if (failure !== undefined) throw failure.error
}

/** Downloads backup `backupPath` into `directory`, an absolute path (the inputs resolve it). */
export async function downloadBackup(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  directory: string,
  log: (message: string) => void,
  options: DownloadOptions = {}
): Promise<DownloadResult> {
  const files = await listFiles(session, location, backupPath)
  if (!files.some(file => file.relative === 'BACKUP_MANIFEST')) {
    throw new ActionError(
      `No BACKUP_MANIFEST under ${joinPath(location.path, backupPath)} in ${location.tables.prefix}: nothing to download.`
    )
  }
  const bytes = files.reduce((sum, file) => sum + file.size, 0)
  const { empty } = await inspectDirectory(directory).catch((error: unknown) => {
    throw fileSystemError(error, directory)
  })
  if (!empty) {
    if (await holdsSameBackup(session, location, directory, files)) {
      await checkManifests(
        directory,
        files.map(file => file.relative),
        options
      )
      log(`${directory} already holds this backup (${files.length} files); not downloading again.`)
      return { directory, files: (await listLocalFiles(directory)).length, bytes }
    }
    throw new ActionError(
      `download-path ${directory} is not empty and does not hold this backup. Use a new or empty directory, so old and new files are never mixed.`
    )
  }
  const made = new Map<string, Promise<void>>()
  /** What this run made, and only that, is what a failure removes: another process may write into the directory too. */
  const madeDirectories: string[] = []
  const written: string[] = []
  const write = async (path: string, work: () => unknown): Promise<void> => {
    try {
      await work()
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') written.push(path)
      throw error
    }
    written.push(path)
  }
  const finish = (target: string): void => {
    renameSync(target + PARTIAL_SUFFIX, target)
    written.push(target)
  }
  try {
    const targetOf = async (file: PlannedFile): Promise<string> => {
      const target = join(directory, ...file.relative.split('/'))
      if (!target.startsWith(directory + sep)) throw new ActionError(`Refusing to write outside ${directory}: ${file.relative}`)
      const parent = dirname(target)
      // One mkdir per directory, however many connections need it at once.
      let making = made.get(parent)
      if (making === undefined) {
        making = mkdir(parent, { recursive: true }).then(first => {
          // mkdir made `first` and every directory below it down to `parent`.
          for (let dir = parent; first !== undefined; dir = dirname(dir)) {
            madeDirectories.push(dir)
            if (dir === first || dirname(dir) === dir) break
          }
        })
        made.set(parent, making)
      }
      await making
      return target
    }
    const budget = new ByteBudget(BYTES_IN_FLIGHT)
    const readBatch = async (reader: Session, batch: PlannedFile[], stop: AbortSignal): Promise<void> => {
      const [first] = batch
      if (batch.length === 1 && first !== undefined && first.size > SMALL_FILE_BYTES) {
        const target = await targetOf(first)
        await write(target + PARTIAL_SUFFIX, () => downloadFile(reader, location, first, target + PARTIAL_SUFFIX, budget, stop))
        finish(target)
        return
      }
      // Small files: one query for the group, then each file written in one call.
      const bytes = batch.reduce((sum, file) => sum + file.size, 0)
      await budget.take(bytes)
      try {
        const chunks = new Map<PlannedStoredFile, Buffer[]>(batch.map(file => [file, []]))
        await readStoredFiles(reader, location, batch, (file, chunk) => chunks.get(file)?.push(chunk), stop)
        for (const file of batch) {
          if (stop.aborted) throw stop.reason
          const target = await targetOf(file)
          // Written and renamed synchronously: for a file this small, each trip through the thread
          // pool costs more than its bytes (1000 × 20 KiB took twice as long with fs/promises).
          await write(target + PARTIAL_SUFFIX, () =>
            writeFileSync(target + PARTIAL_SUFFIX, Buffer.concat(chunks.get(file) ?? []), { flag: 'wx' })
          )
          finish(target)
        }
      } finally {
        budget.give(bytes)
      }
    }
    await inParallel(session, batches(files), options.connections ?? 1, budget, readBatch)
    await checkManifests(
      directory,
      files.map(file => file.relative),
      options
    )
  } catch (error) {
    // Nothing half-done is left behind, and nothing this run did not write is touched: its files
    // go, then the directories it made, deepest first, each only if nothing else is in it.
    await Promise.all(written.map(path => rm(path, { force: true })))
    for (const made of madeDirectories.sort((a, b) => b.length - a.length)) await rmdir(made).catch(() => undefined)
    throw fileSystemError(error, directory)
  }
  // The output counts what is on disk, not what was planned.
  const onDisk = (await listLocalFiles(directory)).length
  log(`Downloaded ${onDisk} files (${bytes} bytes) of backup ${backupPath} to ${directory}.`)
  return { directory, files: onDisk, bytes }
}
