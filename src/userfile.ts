/**
 * userfile storage as CockroachDB keeps it (pkg/cloud/userfile): a URI's host is the qualified
 * table prefix, and files live in two tables, `<prefix>_upload_files` (one row per file) and
 * `<prefix>_upload_payload` (the file's bytes in chunks of up to 4 MiB keyed by byte_offset).
 */
import { createHash, randomUUID } from 'node:crypto'
import { open, stat } from 'node:fs/promises'
import type { StepCleanup } from './cleanup.js'
import type { Session } from './connection.js'
import { ActionError, InputError } from './errors.js'
import * as sql from './sql.js'

export const CHUNK_SIZE = 4 * 1024 * 1024

export interface UserfileTables {
  /** Quoted, ready for SQL. */
  files: string
  payload: string
  /** The prefix as a person would write it, for messages. */
  prefix: string
}

export interface UserfileLocation {
  tables: UserfileTables
  /** The collection's path inside the storage, as stored: `/bank-backup`, or `/` at the root. */
  path: string
}

/** One part of a qualified name as CockroachDB reads it: quoted parts literally, bare ones lower-cased. */
function parseNameParts(prefix: string): string[] {
  const parts: string[] = []
  let rest = prefix
  while (rest !== '') {
    let part: string
    if (rest.startsWith('"')) {
      let i = 1
      part = ''
      for (;;) {
        if (i >= rest.length) throw new Error('unterminated quote')
        if (rest[i] === '"') {
          if (rest[i + 1] !== '"') break
          part += '"'
          i += 2
        } else {
          part += rest.charAt(i)
          i++
        }
      }
      rest = rest.slice(i + 1)
    } else {
      const dot = rest.indexOf('.')
      part = (dot === -1 ? rest : rest.slice(0, dot)).toLowerCase()
      rest = dot === -1 ? '' : rest.slice(dot)
    }
    if (part === '') throw new Error('empty name part')
    parts.push(part)
    if (rest.startsWith('.')) rest = rest.slice(1)
    else if (rest !== '') throw new Error('expected a dot')
  }
  return parts
}

/**
 * The tables behind a userfile URI. An empty host means the session user's default space,
 * `defaultdb.public.userfiles_<user>` (quoted when the user name needs it, as the server does).
 */
export function userfileLocation(collection: string, sessionUser: string, input: string): UserfileLocation {
  const match = /^userfile:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(collection)
  if (!match) throw new InputError(input, 'is for userfile:// collections only; other storages are already outside the cluster.')
  const host = decodeURIComponent(match[1] ?? '')
  const path = decodeURIComponent(match[2] ?? '')
  let parts: string[]
  try {
    parts = host === '' ? ['defaultdb', 'public', `userfiles_${sessionUser}`] : parseNameParts(host)
  } catch (error) {
    throw new InputError(input, `the collection's table prefix ${JSON.stringify(host)} is not a table name (${String(error)}).`)
  }
  if (parts.length < 1 || parts.length > 3)
    throw new InputError(input, `the collection's table prefix ${JSON.stringify(host)} is not a table name.`)
  const table = (suffix: string): string => [...parts.slice(0, -1), `${parts.at(-1) ?? ''}${suffix}`].map(sql.quoteIdent).join('.')
  return {
    tables: { files: table('_upload_files'), payload: table('_upload_payload'), prefix: parts.map(sql.quoteIdent).join('.') },
    path: path === '' ? '/' : path
  }
}

/** Go's path.Join for the two pieces CockroachDB joins: the collection path and a backup folder. */
export function joinPath(base: string, folder: string): string {
  const joined = `${base}/${folder}`.split('/').filter(part => part !== '' && part !== '.')
  return `/${joined.join('/')}`
}

/** A LIKE pattern matching exactly the names that start with `prefix` (\ is the default escape). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, match => `\\${match}`)}%`
}

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
const READ_IDLE_TIMEOUT_MS = 120_000
const READ_TIMEOUT_MS = READ_IDLE_TIMEOUT_MS

/** backup_index.go flattenSubdirForIndex: `/2024/05/07-141012.34` → `2024-05-07-141012.34`. */
export function indexFolderName(backupPath: string): string {
  return backupPath.replace(/^\/+|\/+$/g, '').replaceAll('/', '-')
}

/**
 * Where a backup's files live in the collection: its folder, (v22.1+) the incremental layers
 * CockroachDB keeps under `incrementals/<folder>` (pkg/backup/backupdest), and (v25.4+) one backup
 * index entry per layer under `metadata/index/<folder with - for />` (backup_index.go). Locally
 * the folder's files sit at the top, the layers under `incrementals/` and the index entries under
 * `index/`, so a restore elsewhere carries the chain's index with it.
 */
export function backupPrefixes(location: UserfileLocation, backupPath: string): { stored: string; local: string }[] {
  return [
    { stored: `${joinPath(location.path, backupPath)}/`, local: '' },
    { stored: `${joinPath(joinPath(location.path, 'incrementals'), backupPath)}/`, local: 'incrementals/' },
    { stored: `${joinPath(location.path, `metadata/index/${indexFolderName(backupPath)}`)}/`, local: 'index/' }
  ]
}

/**
 * A name from the cluster becomes a path only if it cannot climb out of the directory. Control
 * characters are refused too: CockroachDB never writes them, and a line break in a name is an attack.
 */
export function safeRelativePath(relative: string): boolean {
  const parts = relative.split('/')
  return (
    relative !== '' &&
    // eslint-disable-next-line no-control-regex -- control characters are what this looks for
    parts.every(part => part !== '' && part !== '.' && part !== '..' && !part.includes('\\') && !/[\x00-\x1f\x7f]/.test(part))
  )
}

export async function listStoredFiles(session: Session, location: UserfileLocation, prefix: string): Promise<StoredFile[]> {
  return session.query<StoredFile>(
    sql.listUserfiles(location.tables.files),
    [likePrefix(prefix)],
    `listing ${prefix} in ${location.tables.prefix}`
  )
}

/**
 * Streams one stored file to `sink` in order, checking that its chunks are contiguous and add up to
 * its recorded size. One query per file; `sink` is awaited before the next chunk is read.
 */
export async function readStoredFile(
  session: Session,
  location: UserfileLocation,
  file: PlannedStoredFile,
  sink: (chunk: Buffer) => Promise<void>
): Promise<void> {
  let written = 0
  if (file.size > 0) {
    await session.streamBinary<{ byte_offset: string; payload: Buffer }>(
      sql.readUserfileChunks(location.tables.payload),
      [file.stored.file_id],
      `reading ${file.stored.filename}`,
      READ_IDLE_TIMEOUT_MS,
      async row => {
        if (Number(row.byte_offset) !== written) {
          throw new ActionError(
            `${file.stored.filename} has a gap or overlap at byte ${written} (the next chunk starts at ${row.byte_offset}).`
          )
        }
        written += row.payload.length
        if (written > file.size) return // reported below, with the total
        await sink(row.payload)
      }
    )
  }
  if (written !== file.size) {
    throw new ActionError(
      `${file.stored.filename} is ${file.size} bytes in ${location.tables.prefix}_upload_files, but its chunks hold ${written}.`
    )
  }
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

/**
 * Writes a local file as `filename` the way CockroachDB's writer lays it out (a file row, then one
 * payload row per 4 MiB chunk at its byte offset). The bytes go under a temporary name first and
 * are checked; only then, in one transaction, does the name change (replacing an older file). So a
 * failed upload never leaves a half file under the real name. An identical file is left alone.
 */
export async function writeStoredFile(
  session: Session,
  location: UserfileLocation,
  localPath: string,
  filename: string,
  user: string,
  cleanup?: StepCleanup
): Promise<WriteOutcome> {
  const size = (await stat(localPath)).size
  const existing = await findStoredFile(session, location, filename)
  if (existing !== undefined && Number(existing.file_size) === size) {
    const local = createHash('sha256')
    for await (const chunk of fileChunks(localPath)) local.update(chunk)
    if ((await storedSha256(session, location, { stored: existing, size })) === local.digest('hex')) return 'unchanged'
  }
  const temporary = `${filename}.tmp`
  const stale = await findStoredFile(session, location, temporary)
  if (stale !== undefined) await deleteStoredFile(session, location, stale)
  const fileId = randomUUID()
  const written: StoredFile = { filename: temporary, file_id: fileId, file_size: size }
  let inTransaction = false
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
        READ_TIMEOUT_MS
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
    await session.query('BEGIN', [], `renaming ${temporary}`)
    inTransaction = true
    if (existing !== undefined) await deleteStoredFile(session, location, existing)
    await session.query(sql.renameUserfile(location.tables.files), [filename, fileId], `renaming ${temporary} to ${filename}`)
    await session.query('COMMIT', [], `renaming ${temporary}`)
    release?.()
    return 'written'
  } catch (error) {
    // Best effort: the failure itself is what the user needs to see. After a cancel the session
    // gives up at once, and the registered undo deletes the row on a fresh connection instead.
    if (inTransaction) await session.query('ROLLBACK', [], 'rolling back').catch(() => undefined)
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
