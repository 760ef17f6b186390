/**
 * Reading and writing userfile storage as CockroachDB keeps it (pkg/cloud/userfile): files live in two tables, `<prefix>_upload_files` (one row per file) and
 * `<prefix>_upload_payload` (the file's bytes in chunks of up to 4 MiB keyed by byte_offset).
 */
import { createHash, randomUUID } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import type { StepCleanup } from '../base/cleanup.js'
import type { Session } from '../cluster/connection.js'
import { ActionError } from '../base/errors.js'
import { localSha256 } from './local-files.js'
import * as sql from '../cluster/sql/index.js'
import { likePrefix, type UserfileLocation } from './userfile-location.js'

export const CHUNK_SIZE = 4 * 1024 * 1024

/** A row of `<prefix>_upload_files`. */
export interface StoredFile {
  filename: string
  file_id: string
  file_size: string | number
}

export interface PlannedStoredFile {
  stored: StoredFile
  size: number
}

/** A download fails when no chunk arrives for this long; an upload when one chunk takes this long. */
const CHUNK_TIMEOUT_MS = 120_000

export async function listStoredFiles(session: Session, location: UserfileLocation, prefix: string): Promise<StoredFile[]> {
  return session.query<StoredFile>(
    sql.listUserfiles(location.tables.files),
    [likePrefix(prefix)],
    `listing ${prefix} in ${location.tables.prefix}`
  )
}

/**
 * One stored file's chunks as they arrive: each must start where the last ended, and together they
 * must add up to the size recorded in the files table.
 */
class ChunkCheck {
  bytes = 0
  constructor(
    readonly file: PlannedStoredFile,
    private readonly location: UserfileLocation
  ) {}

  /** Whether this chunk is within the recorded size (chunks past it are only counted, for the error). */
  accept(byteOffset: string, payload: Buffer): boolean {
    if (Number(byteOffset) !== this.bytes) {
      throw new ActionError(
        `${this.file.stored.filename} has a gap or overlap at byte ${this.bytes} (the next chunk starts at ${byteOffset}).`
      )
    }
    this.bytes += payload.length
    return this.bytes <= this.file.size
  }

  finish(): void {
    if (this.bytes !== this.file.size) {
      throw new ActionError(
        `${this.file.stored.filename} is ${this.file.size} bytes in ${this.location.tables.prefix}_upload_files, but its chunks hold ${this.bytes}.`
      )
    }
  }
}

/**
 * Streams one stored file to `sink` in order, checked as it goes (ChunkCheck). One query per file;
 * `sink` is awaited before the next chunk is read.
 */
export async function readStoredFile(
  session: Session,
  location: UserfileLocation,
  file: PlannedStoredFile,
  sink: (chunk: Buffer) => Promise<void>,
  stop?: AbortSignal
): Promise<void> {
  const check = new ChunkCheck(file, location)
  if (file.size > 0) {
    await session.streamBinary<{ byte_offset: string; payload: Buffer }>(
      sql.readUserfileChunks(location.tables.payload),
      [file.stored.file_id],
      `reading ${file.stored.filename}`,
      CHUNK_TIMEOUT_MS,
      async row => {
        if (check.accept(row.byte_offset, row.payload)) await sink(row.payload)
      },
      stop
    )
  }
  check.finish()
}

/**
 * Several stored files in one streamed query: `sink` gets each chunk with its file, in order within
 * each file, checked as readStoredFile checks them. For small files, where a query per file would
 * cost more than the bytes.
 */
export async function readStoredFiles(
  session: Session,
  location: UserfileLocation,
  files: PlannedStoredFile[],
  sink: (file: PlannedStoredFile, chunk: Buffer) => void,
  stop?: AbortSignal
): Promise<void> {
  const checks = new Map(files.map(file => [file.stored.file_id, new ChunkCheck(file, location)]))
  await session.streamBinary<{ file_id: string; byte_offset: string; payload: Buffer }>(
    sql.readUserfileChunksOfFiles(location.tables.payload),
    [files.map(file => file.stored.file_id)],
    `reading ${files.length} files from ${location.tables.prefix}`,
    CHUNK_TIMEOUT_MS,
    row => {
      const check = checks.get(row.file_id)
      if (check === undefined) throw new ActionError(`A chunk of file id ${row.file_id} came back, which was not asked for.`)
      if (check.accept(row.byte_offset, row.payload)) sink(check.file, row.payload)
      return Promise.resolve()
    },
    stop
  )
  for (const check of checks.values()) check.finish()
}

export async function storedSha256(session: Session, location: UserfileLocation, file: PlannedStoredFile): Promise<string> {
  const hash = createHash('sha256')
  await readStoredFile(session, location, file, chunk => {
    hash.update(chunk)
    return Promise.resolve()
  })
  return hash.digest('hex')
}

export async function findStoredFile(session: Session, location: UserfileLocation, filename: string): Promise<StoredFile | undefined> {
  const rows = await session.query<StoredFile>(
    sql.findUserfile(location.tables.files),
    [filename],
    `looking up ${filename} in ${location.tables.prefix}`
  )
  return rows[0]
}

/** Deletes a stored file: its chunks first, since they reference the file row. */
export async function deleteStoredFile(session: Session, location: UserfileLocation, file: StoredFile): Promise<void> {
  await session.query(sql.deleteUserfilePayload(location.tables.payload), [file.file_id], `deleting ${file.filename}`)
  await session.query(sql.deleteUserfile(location.tables.files), [file.file_id], `deleting ${file.filename}`)
}

/** Local file bytes in exact CHUNK_SIZE pieces (the last one shorter), one piece in memory at a time. */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r')
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
      let filled = 0
      while (filled < CHUNK_SIZE) {
        const { bytesRead } = await handle.read(buffer, filled, CHUNK_SIZE - filled, null)
        if (bytesRead === 0) break
        filled += bytesRead
      }
      if (filled === 0) return
      yield buffer.subarray(0, filled)
      if (filled < CHUNK_SIZE) return
    }
  } finally {
    await handle.close()
  }
}

export type WriteOutcome = 'written' | 'unchanged'

/** What writeStoredFile did, and the id of the file now stored under the name. */
export interface WriteResult {
  outcome: WriteOutcome
  fileId: string
}

/**
 * Writes a local file as `filename` the way CockroachDB's writer lays it out (a file row, then one
 * payload row per 4 MiB chunk at its byte offset). The bytes go under a temporary name first and
 * are checked; only then does the name change, in one statement. So a failed upload never leaves a
 * half file under the real name. An identical file is left alone; a different one is refused, never
 * replaced.
 */
export async function writeStoredFile(
  session: Session,
  location: UserfileLocation,
  localPath: string,
  filename: string,
  user: string,
  cleanup?: StepCleanup
): Promise<WriteResult> {
  const size = (await stat(localPath)).size
  const existing = await findStoredFile(session, location, filename)
  if (existing !== undefined) {
    const same =
      Number(existing.file_size) === size &&
      (await storedSha256(session, location, { stored: existing, size })) === (await localSha256(localPath))
    if (same) return { outcome: 'unchanged', fileId: existing.file_id }
    throw new ActionError(`${filename} already exists in ${location.tables.prefix} with other content; it is left as it is.`)
  }
  const temporary = `${filename}.tmp`
  // Only an unfinished upload of this very file names a row `<filename>.tmp` (this action's, or `cockroach userfile upload`'s).
  const stale = await findStoredFile(session, location, temporary)
  if (stale !== undefined) await deleteStoredFile(session, location, stale)
  const fileId = randomUUID()
  const written: StoredFile = { filename: temporary, file_id: fileId, file_size: size }
  // Registered before the row exists: a cancel can land while the INSERT is on its way.
  const release = cleanup?.add({
    what: `delete ${temporary} from ${location.tables.prefix}`,
    run: () => deleteOnFreshSession(session, location, written)
  })
  try {
    await session.query(sql.insertUserfile(location.tables.files), [temporary, fileId, size, user], `uploading ${filename}`)
    let offset = 0
    for await (const chunk of fileChunks(localPath)) {
      await session.query(
        sql.insertUserfileChunk(location.tables.payload),
        [fileId, offset, chunk],
        `uploading ${filename} at byte ${offset}`,
        CHUNK_TIMEOUT_MS
      )
      offset += chunk.length
    }
    const [totals] = await session.query<{ chunks: string; bytes: string }>(
      sql.userfileChunkTotals(location.tables.payload),
      [fileId],
      `checking the upload of ${filename}`
    )
    if (offset !== size || Number(totals?.bytes) !== size || Number(totals?.chunks) !== Math.ceil(size / CHUNK_SIZE)) {
      throw new ActionError(
        `Uploading ${filename}: ${size} bytes were expected, ${totals?.bytes ?? 0} are stored (the local file changed during the upload?).`
      )
    }
    await session.query(sql.renameUserfile(location.tables.files), [filename, fileId], `renaming ${temporary} to ${filename}`)
    release?.()
    return { outcome: 'written', fileId }
  } catch (error) {
    // Best effort: the failure itself is what the user needs to see. After a cancel the session
    // gives up at once, and the registered undo deletes the row on a fresh connection instead.
    const deleted = await deleteStoredFile(session, location, written).then(
      () => true,
      () => false
    )
    if (deleted) release?.()
    throw error
  }
}

const UNDO_CONNECTION_TIMEOUT_MS = 2_500

/** Deletes a file this run wrote, on a connection of its own (the session may be cancelled or broken). */
async function deleteOnFreshSession(session: Session, location: UserfileLocation, file: StoredFile): Promise<string | undefined> {
  const fresh = await session.fresh(UNDO_CONNECTION_TIMEOUT_MS)
  try {
    await deleteStoredFile(fresh, location, file)
    return `Deleted ${file.filename} from ${location.tables.prefix}.`
  } finally {
    await fresh.close()
  }
}
