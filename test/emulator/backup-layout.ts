/**
 * Where a backup's files go in a collection and how they are found again: the full and incremental
 * folder names, LATEST (root and metadata/latest), the backup index (v25.4+), ENCRYPTION-INFO's key
 * and reading a layer's BACKUP_MANIFEST. Sources: backupbase, backupdest (pkg/ccl/backupccl/… and
 * pkg/backup/… from v24.3); see docs/cockroachdb-facts.md §13, §16.
 */
import type { Cluster } from './cluster.js'
import { CrdbError, SQLSTATE } from './errors.js'
import { decodeManifest, deriveKey, type Manifest } from './manifest.js'
import type { Storage } from './storage.js'

/** The UTC fields Go's layouts use; hundredths are truncated, as Go's `.00` does. */
function utc(ms: number): { year: string; month: string; day: string; clock: string } {
  const d = new Date(ms)
  const two = (n: number): string => String(n).padStart(2, '0')
  const clock = `${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}.${two(Math.floor(d.getUTCMilliseconds() / 10))}`
  return { year: String(d.getUTCFullYear()), month: two(d.getUTCMonth() + 1), day: two(d.getUTCDate()), clock }
}

/** Go layout `/2006/01/02-150405.00` in UTC (backupbase.DateBasedIntoFolderName). */
export function fullBackupFolder(ms: number): string {
  const t = utc(ms)
  return `/${t.year}/${t.month}/${t.day}-${t.clock}`
}

/** `20060102/150405.00` (backupbase.DateBasedIncFolderName, no leading slash), or `20060102-150405.00`. */
function incrementalStamp(ms: number, separator: '/' | '-'): string {
  const t = utc(ms)
  return `${t.year}${t.month}${t.day}${separator}${t.clock}`
}

/** The folder of an incremental layer, relative to the collection (facts §13). */
export function incrementalFolder(cluster: Cluster, fullFolder: string, startMs: number, endMs: number): string {
  switch (cluster.profile.incrementalLayout) {
    case 'inside-full':
      return `${fullFolder}/${incrementalStamp(endMs, '/')}`
    case 'incrementals-dir':
      return `/incrementals${fullFolder}/${incrementalStamp(endMs, '/')}`
    case 'incrementals-dir-with-start':
      return `/incrementals${fullFolder}/${incrementalStamp(endMs, '/')}-${incrementalStamp(startMs, '-')}`
  }
}

/** An incremental layer's stamp: `20240507/150000.00`, optionally `-<start>` (v25.2+). */
const INCREMENTAL_STAMP = /^\d{8}\/\d{6}\.\d{2}(-\d{8}-\d{6}\.\d{2})?$/

/** The full layer's folder, then each incremental layer's, oldest first (old and new locations). */
export function layerFolders(storage: Storage, fullFolder: string): string[] {
  const parents = [`${fullFolder}/`, `/incrementals${fullFolder}/`]
  const incrementals: { folder: string; stamp: string }[] = []
  for (const name of storage.list()) {
    const absolute = name.startsWith('/') ? name : `/${name}`
    if (!absolute.endsWith('/BACKUP_MANIFEST')) continue
    const folder = absolute.slice(0, -'/BACKUP_MANIFEST'.length)
    const parent = parents.find(p => folder.startsWith(p))
    const stamp = parent === undefined ? undefined : folder.slice(parent.length)
    if (stamp !== undefined && INCREMENTAL_STAMP.test(stamp)) incrementals.push({ folder, stamp })
  }
  incrementals.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : 0))
  return [fullFolder, ...incrementals.map(i => i.folder)]
}

/** The key for a backup, from the salt in the full backup's ENCRYPTION-INFO. */
export function backupKey(storage: Storage, fullFolder: string, passphrase: string | undefined): Buffer | undefined {
  if (passphrase === undefined) return undefined
  const salt = storage.read(`${fullFolder}/ENCRYPTION-INFO`)
  if (!salt) throw new CrdbError('could not find or read encryption information: no ENCRYPTION-INFO files found')
  return deriveKey(passphrase, salt)
}

/** ReadBackupManifestFromStore's error for a folder without a manifest (see the profile field). */
export function missingManifest(cluster: Cluster, storage: Storage, folder: string): CrdbError {
  if (!cluster.profile.missingManifestListsKnownLocations) return storage.missing(`${folder}/BACKUP_MANIFEST`)
  const last = storage.missing(`${folder}/BACKUP`)
  return new CrdbError(
    `could not find BACKUP manifest file in any of the known locations: BACKUP_METADATA, BACKUP_MANIFEST, BACKUP: ${last.message}`,
    last.code
  )
}

export function readManifest(cluster: Cluster, storage: Storage, folder: string, key: Buffer | undefined): Manifest {
  const bytes = storage.read(`${folder}/BACKUP_MANIFEST`)
  if (!bytes) throw missingManifest(cluster, storage, folder)
  return decodeManifest(bytes, key)
}

/** The newest `metadata/latest/LATEST-…` file (names sort newest first), else the root LATEST. */
export function readLatest(storage: Storage): string | undefined {
  const newest = storage
    .list()
    .map(name => name.replace(/^\/?/, '/'))
    .filter(name => name.startsWith('/metadata/latest/LATEST-'))
    .sort()[0]
  return (storage.read(newest ?? '/LATEST') ?? storage.read('/LATEST'))?.toString('utf8')
}

/** backupdest.ReadLatestFile's error when there is no LATEST file (58P01). */
export function noLatestBackup(storage: Storage): CrdbError {
  return new CrdbError(
    `path does not contain a completed latest backup: LATEST file could not be read in base or metadata directory: ${storage.missing('/LATEST').message}`,
    SQLSTATE.undefinedFile
  )
}

export function writeLatest(cluster: Cluster, storage: Storage, fullFolder: string, nowMs: number): void {
  const content = Buffer.from(fullFolder)
  if (cluster.profile.latestFiles.root) storage.write('/LATEST', content)
  if (cluster.profile.latestFiles.metadataDir) {
    // Descending-encoded time, so that the newest file lists first (backupdest.WriteNewLatestFile).
    const descending = (0xffffffffffffffffn - BigInt(nowMs) * 1_000_000n).toString(16).padStart(16, '0')
    storage.write(`/metadata/latest/LATEST-${descending}`, content)
  }
}

/** `20060102-150405.00` in UTC (backupbase.BackupIndexFilenameTimestampFormat); hundredths truncated. */
function indexStamp(ms: number): string {
  return incrementalStamp(ms, '-')
}

/** backuputils.EncodeDescendingTS: hex of encoding.EncodeUvarintDescending(ms), so later times sort first. */
export function encodeDescendingTime(ms: number): string {
  let width = 0
  for (let v = BigInt(ms); v > 0n; v >>= 8n) width++
  const complement = ~BigInt(ms) & ((1n << BigInt(8 * width)) - 1n)
  return (0x88 - width).toString(16) + (width === 0 ? '' : complement.toString(16).padStart(2 * width, '0'))
}

/** The time a date-based folder names (Go's time.Parse with DateBasedIntoFolderName), or undefined. */
function folderTime(folder: string): number | undefined {
  const m = /^\/(\d{4})\/(\d{2})\/(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})$/.exec(folder)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]) * 10) : undefined
}

/** Go's time.ParseError for a non-date folder; the element quoted after "cannot parse" is approximate. */
function parseError(folder: string): string {
  const [value, layout] = folder.startsWith('/') ? [folder.slice(1), '2006'] : [folder, '/']
  return `parsing time "${folder}" as "/2006/01/02-150405.00": cannot parse "${value}" as "${layout}"`
}

/**
 * A full backup's index directory, as the profile's version names it (facts §16): v25.4
 * `2024-05-07-141012.34`, v26.1+ `<descending end>_20240507-141012.34`. Both versions parse the
 * folder as a date first and fail for any other name.
 */
export function indexDirectory(cluster: Cluster, fullFolder: string): string {
  const time = folderTime(fullFolder)
  if (cluster.profile.backupIndex === 'flattened-folder') {
    if (time === undefined) throw new CrdbError(`parsing subdir "${fullFolder}" for flattening: ${parseError(fullFolder)}`)
    return fullFolder.slice(1).replaceAll('/', '-')
  }
  if (time === undefined) throw new CrdbError(`invalid subdir format: ${fullFolder}: ${parseError(fullFolder)}`)
  return `${encodeDescendingTime(time)}_${indexStamp(time)}`
}

/**
 * WriteBackupIndexMetadata (v25.4+): `metadata/index/<indexDirectory>/<descending end>_<start or
 * 0>_<end>_metadata.pb`, unencrypted, holding the layer's start, end and path. An incremental
 * writes one only when its full backup has one (shouldWriteIndex). The proto is stood in for by
 * JSON. A failure here fails the job after the layer's files are written, as in backup_job.go.
 */
export function writeIndexEntry(cluster: Cluster, storage: Storage, fullFolder: string, layerFolder: string, manifest: Manifest): void {
  const isFull = manifest.startTimeMs === null
  let directory: string
  try {
    directory = `/metadata/index/${indexDirectory(cluster, fullFolder)}`
  } catch (error) {
    throw error instanceof CrdbError ? error.wrap('writing backup index metadata') : error
  }
  if (!isFull && !storage.list().some(name => name.replace(/^\/?/, '/').startsWith(`${directory}/`))) return
  const start = manifest.startTimeMs === null ? '0' : indexStamp(manifest.startTimeMs)
  const name = `${directory}/${encodeDescendingTime(manifest.endTimeMs)}_${start}_${indexStamp(manifest.endTimeMs)}_metadata.pb`
  storage.write(name, Buffer.from(JSON.stringify({ startTimeMs: manifest.startTimeMs, endTimeMs: manifest.endTimeMs, path: layerFolder })))
}
