/**
 * The backup index CockroachDB writes from v25.4: under `<collection>/metadata/index/`, one directory
 * per full backup and one file per layer. The directory's name changed in v26.1, so this recognises
 * a backup's directories by their shape and never builds one (docs/cockroachdb-facts.md §16):
 * - v25.4: the full backup's folder with `-` for `/`, `2024-05-07-141012.34` (flattenSubdirForIndex);
 * - v26.1+: `<descending-encoded end time>_<20060102-150405.00>` (convertSubdirToIndexSubdir, PR #158897).
 */
import type { Session } from '../cluster/connection.js'
import { listStoredFiles } from './userfile.js'
import { joinPath, type UserfileLocation } from './userfile-location.js'
import { atLeast, type CockroachVersion } from '../cluster/version.js'

export type IndexFormat = 'v25.4' | 'v26.1'

/** The format a cluster of this version writes, or undefined before v25.4 (no index). */
export function indexFormatWritten(version: CockroachVersion | undefined): IndexFormat | undefined {
  if (atLeast(version, 26, 1)) return 'v26.1'
  return atLeast(version, 25, 4) ? 'v25.4' : undefined
}

/** `<collection>/metadata/index/` (backupbase.BackupIndexDirectoryPath), with its trailing slash. */
export function indexRoot(location: UserfileLocation): string {
  return `${joinPath(location.path, 'metadata/index')}/`
}

/**
 * `<collection>/index/`: where v25.4 may write its entries instead. The second reading of the
 * source found a v25.4-era layout `index/<folder with - for />/` and issue #172855 says the directory
 * moved to `metadata/index/` in v26.1; the first reading had v25.4 in `metadata/index/`. Neither was
 * read at the v25.4 tag (facts §16), so keep-backups looks in both for a v25.4-named directory.
 */
export function legacyIndexRoot(location: UserfileLocation): string {
  return `${joinPath(location.path, 'index')}/`
}

/** The UTC time in ms of Go fields `2006 01 02 15 04 05 .00`, or undefined when they name no real time. */
function utcTime(fields: string[]): number | undefined {
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, hundredths = 0] = fields.map(Number)
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, hundredths * 10)
  const d = new Date(ms)
  const same = d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day && d.getUTCHours() === hour
  return same && minute < 60 && second < 60 ? ms : undefined
}

/** The time a date-based folder (`/2006/01/02-150405.00`, backupbase.DateBasedIntoFolderName) names, or undefined. */
export function dateFolderTime(backupPath: string): number | undefined {
  const match = /^\/?(\d{4})\/(\d{2})\/(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})$/.exec(backupPath)
  return match ? utcTime(match.slice(1)) : undefined
}

/** The time of a `20060102-150405.00` stamp (backupbase.BackupIndexFilenameTimestampFormat). */
function stampTime(stamp: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})$/.exec(stamp)
  return match ? utcTime(match.slice(1)) : undefined
}

/**
 * backuputils.DecodeDescendingTS: hex of encoding.EncodeUvarintDescending(ms), a tag byte 0x88 - n
 * followed by the n low bytes of the complement of ms.
 */
export function decodeDescendingTime(hex: string): number | undefined {
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) return undefined
  const bytes = Buffer.from(hex, 'hex')
  const width = 0x88 - (bytes[0] ?? 0)
  if (width < 0 || width > 8 || bytes.length !== width + 1) return undefined
  let ms = 0n
  for (const byte of bytes.subarray(1)) ms = (ms << 8n) | BigInt(~byte & 0xff)
  return ms <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ms) : undefined
}

/** The v25.4 name for a backup: its folder without the outer slashes and with `-` for `/`. */
export function flattenedFolder(backupPath: string): string {
  return backupPath.replace(/^\/+|\/+$/g, '').replaceAll('/', '-')
}

/** Which format an index directory named `name` has if it belongs to `backupPath`, else undefined. */
export function indexFormatOf(name: string, backupPath: string): IndexFormat | undefined {
  if (name === flattenedFolder(backupPath)) return 'v25.4'
  const match = /^([0-9a-f]+)_(\d{8}-\d{6}\.\d{2})$/.exec(name)
  const time = dateFolderTime(backupPath)
  if (!match || time === undefined) return undefined
  return decodeDescendingTime(match[1] ?? '') === time && stampTime(match[2] ?? '') === time ? 'v26.1' : undefined
}

export interface IndexDirectory {
  name: string
  format: IndexFormat
  /** Its stored prefix, ending in `/`. */
  stored: string
  /** Under `metadata/index/`, or under the `index/` that v25.4 may use (legacyIndexRoot). */
  legacyRoot: boolean
}

async function directoryNames(session: Session, location: UserfileLocation, root: string): Promise<string[]> {
  const names = new Set<string>()
  for (const file of await listStoredFiles(session, location, root)) {
    const [name, ...rest] = file.filename.slice(root.length).split('/')
    if (file.filename.startsWith(root) && name && rest.length > 0) names.add(name)
  }
  return [...names].sort()
}

/**
 * The index directories that belong to one backup, found by listing `metadata/index/` (any version's
 * names) and, with `legacyRoot`, `index/` (v25.4 names only).
 */
export async function backupIndexDirectories(
  session: Session,
  location: UserfileLocation,
  backupPath: string,
  options: { legacyRoot: boolean } = { legacyRoot: false }
): Promise<IndexDirectory[]> {
  const root = indexRoot(location)
  const found = (await directoryNames(session, location, root)).flatMap(name => {
    const format = indexFormatOf(name, backupPath)
    return format === undefined ? [] : [{ name, format, stored: `${root}${name}/`, legacyRoot: false }]
  })
  if (!options.legacyRoot) return found
  const legacy = legacyIndexRoot(location)
  const flattened = (await directoryNames(session, location, legacy)).filter(name => name === flattenedFolder(backupPath))
  return [...found, ...flattened.map(name => ({ name, format: 'v25.4' as const, stored: `${legacy}${name}/`, legacyRoot: true }))]
}

/**
 * A local file under `index/`: `index/<directory>/<file>` keeps the directory's exact name; a bare
 * `index/<file>` is a download from before the name was kept, which only v25.4 entries reached.
 */
export function localIndexEntry(
  relative: string,
  backupPath: string
): { directory: string; file: string; format: IndexFormat | undefined } | undefined {
  const match = /^index\/(?:([^/]+)\/)?(.+)$/.exec(relative)
  if (!match) return undefined
  const [, directory, file = ''] = match
  if (directory === undefined) return { directory: flattenedFolder(backupPath), file, format: 'v25.4' }
  return { directory, file, format: indexFormatOf(directory, backupPath) }
}

/**
 * Which local files to upload: every file but the index entries the target cluster would not write
 * itself. Skipping them is safe: CockroachDB reads a backup without entries the legacy way
 * (IndexExists, FindAllIncrementalPaths), while entries of another format are never read under
 * this backup's name on v26.1+, and entries on a cluster older than v25.4 would make the chain's
 * index incomplete once it is upgraded and appends layers.
 */
export function selectUploads(
  files: string[],
  backupPath: string,
  version: CockroachVersion | undefined
): { upload: string[]; skipped: string[]; reason?: string } {
  const written = indexFormatWritten(version)
  const upload: string[] = []
  const skipped: string[] = []
  const reasons = new Set<string>()
  for (const file of files) {
    const entry = localIndexEntry(file, backupPath)
    if (entry === undefined || (entry.format !== undefined && entry.format === written)) {
      upload.push(file)
      continue
    }
    skipped.push(file)
    if (entry.format === undefined) reasons.add(`index directory ${entry.directory} belongs to another backup than ${backupPath}`)
    else if (written === undefined)
      reasons.add(
        `CockroachDB ${version?.text ?? '(unknown version)'} writes no backup index, so the chain's index would be incomplete after an upgrade`
      )
    else reasons.add(`they are in the ${entry.format} format, and CockroachDB ${version?.text ?? ''} writes and reads the ${written} one`)
  }
  return skipped.length === 0 ? { upload, skipped } : { upload, skipped, reason: [...reasons].join('; ') }
}
