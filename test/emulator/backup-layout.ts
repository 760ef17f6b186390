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

export function readManifest(storage: Storage, folder: string, key: Buffer | undefined): Manifest {
  const bytes = storage.read(`${folder}/BACKUP_MANIFEST`)
  if (!bytes) throw storage.missing(`${folder}/BACKUP_MANIFEST`)
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

/** backup_index.go flattenSubdirForIndex: `/2024/05/07-141012.34` → `2024-05-07-141012.34`. */
export function flattenSubdirForIndex(subdir: string): string {
  return subdir.replace(/^\/+|\/+$/g, '').replaceAll('/', '-')
}

/** `20060102-150405.00`-style UTC stamp for index file names (layout approximate, facts §16). */
function indexStamp(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 22)}`
}

/**
 * WriteBackupIndexMetadata (v25.4+): `metadata/index/<flattened full subdir>/<descending end>_<start
 * or 0>_<end>_metadata.pb`, unencrypted, holding the layer's start, end and path. An incremental
 * writes one only when its full backup has one (shouldWriteIndex). The proto is stood in for by
 * JSON; names sort newest first, as EncodeDescendingTS makes them.
 */
export function writeIndexEntry(storage: Storage, fullFolder: string, layerFolder: string, manifest: Manifest): void {
  const dir = `/metadata/index/${flattenSubdirForIndex(fullFolder)}`
  const isFull = manifest.startTimeMs === null
  if (!isFull && !storage.list().some(name => name.replace(/^\/?/, '/').startsWith(`${dir}/`))) return
  const descending = String(8_640_000_000_000_000 - manifest.endTimeMs).padStart(16, '0')
  const start = manifest.startTimeMs === null ? '0' : indexStamp(manifest.startTimeMs)
  const name = `${dir}/${descending}_${start}_${indexStamp(manifest.endTimeMs)}_metadata.pb`
  storage.write(name, Buffer.from(JSON.stringify({ startTimeMs: manifest.startTimeMs, endTimeMs: manifest.endTimeMs, path: layerFolder })))
}
