/**
 * SHOW BACKUPS IN and SHOW BACKUP … IN, read from the collection's files the way CockroachDB reads
 * them (pkg/ccl/backupccl/show.go, pkg/backup/show.go; backupdest.ListFullBackupsInCollection).
 */
import { sanitizeUri } from './backup.js'
import { backupKey, indexDirectory, layerFolders, missingManifest, noLatestBackup, readLatest, readManifest } from './backup-layout.js'
import type { Cluster } from './cluster.js'
import { CrdbError } from './errors.js'
import type { Manifest } from './manifest.js'
import type { ColumnType } from './profiles.js'
import type { Storage } from './storage.js'

export type Row = (string | null)[]
export interface ColumnDef {
  name: string
  type: ColumnType
}

/** One `path` per full backup: names matching `/?*\/*\/*\/BACKUP_MANIFEST`, sorted, the suffix cut. */
export function showBackups(cluster: Cluster, storage: Storage): string[] {
  const pattern = cluster.profile.listingNeedsLeadingSlash
    ? /^\/[^/]+\/[^/]+\/[^/]+\/BACKUP_MANIFEST$/
    : /^\/?[^/]+\/[^/]+\/[^/]+\/BACKUP_MANIFEST$/
  return storage
    .list()
    .filter(name => pattern.test(name))
    .map(name => name.slice(0, -'/BACKUP_MANIFEST'.length))
    .map(path => (cluster.profile.listingStripsLeadingSlash ? path.replace(/^\//, '') : path))
}

/**
 * SHOW BACKUPS IN with `use_backups_with_ids` on (v26.2 preview, pkg/backup/show.go): `id,
 * backup_time, revision_start_time` instead of `path`, newest first. The id's real format is not
 * modelled: an opaque token that is not a path. Times come from the folder names.
 */
export function showBackupsWithIds(cluster: Cluster, storage: Storage): Row[] {
  return showBackups(cluster, storage)
    .map(path => path.replace(/^\//, ''))
    .flatMap(path => {
      const m = /^(\d{4})\/(\d{2})\/(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})$/.exec(path)
      if (!m) return []
      const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]! * 10)
      return [{ ms, row: [Buffer.from(path).toString('base64url'), formatTimestamp(ms, 'TIMESTAMPTZ'), null] as Row }]
    })
    .sort((a, b) => b.ms - a.ms)
    .map(entry => entry.row)
}

/** SHOW BACKUPS IN's header with use_backups_with_ids on (pkg/backup/show.go showBackupsWithIDsHeader). */
export const BACKUPS_WITH_IDS_COLUMNS: ColumnDef[] = [
  { name: 'id', type: 'STRING' },
  { name: 'backup_time', type: 'TIMESTAMPTZ' },
  { name: 'revision_start_time', type: 'TIMESTAMPTZ' }
]

export function showBackupColumns(cluster: Cluster, checkFiles: boolean): ColumnDef[] {
  const time = cluster.profile.showBackupTimestampType
  const columns: ColumnDef[] = [
    { name: 'database_name', type: 'STRING' },
    { name: 'parent_schema_name', type: 'STRING' },
    { name: 'object_name', type: 'STRING' },
    { name: 'object_type', type: 'STRING' },
    ...(cluster.profile.showBackupHasBackupType ? [{ name: 'backup_type', type: 'STRING' } as const] : []),
    { name: 'start_time', type: time },
    { name: 'end_time', type: time },
    { name: 'size_bytes', type: 'INT8' },
    { name: 'rows', type: 'INT8' },
    { name: 'is_full_cluster', type: 'BOOL' }
  ]
  if (cluster.profile.showBackupHasRegions) columns.push({ name: 'regions', type: 'STRING' })
  if (checkFiles) columns.push({ name: 'file_bytes', type: 'INT8' })
  return columns
}

/** TIMESTAMP / TIMESTAMPTZ in text format with the session in UTC: `2024-05-07 14:10:12.34[+00]`. */
export function formatTimestamp(ms: number, type: 'TIMESTAMP' | 'TIMESTAMPTZ'): string {
  const iso = new Date(ms).toISOString()
  const [date, time = ''] = iso.slice(0, -1).split('T')
  const trimmed = time.replace(/\.?0+$/, '')
  return `${date} ${trimmed}${type === 'TIMESTAMPTZ' ? '+00' : ''}`
}

export interface ShowBackupRequest {
  subdir: string
  checkFiles: boolean
  passphrase: string | undefined
}

function layerRows(cluster: Cluster, manifest: Manifest, checkFiles: boolean): Row[] {
  const time = cluster.profile.showBackupTimestampType
  const common = (): Row => [
    ...(cluster.profile.showBackupHasBackupType ? [manifest.startTimeMs === null ? 'full' : 'incremental'] : []),
    manifest.startTimeMs === null ? null : formatTimestamp(manifest.startTimeMs, time),
    formatTimestamp(manifest.endTimeMs, time)
  ]
  const tail = (size: number | null, rows: number | null, fileBytes: number | null): Row => [
    size === null ? null : String(size),
    rows === null ? null : String(rows),
    manifest.fullCluster ? 't' : 'f',
    ...(cluster.profile.showBackupHasRegions ? [null] : []),
    ...(checkFiles ? [fileBytes === null ? null : String(fileBytes)] : [])
  ]
  const rows: Row[] = []
  for (const database of manifest.databases) {
    rows.push([null, null, database, 'database', ...common(), ...tail(null, null, null)])
    for (const schema of manifest.schemas.filter(s => s.database === database)) {
      rows.push([database, null, schema.name, 'schema', ...common(), ...tail(null, null, null)])
    }
    for (const table of manifest.tables.filter(t => t.database === database)) {
      rows.push([database, table.schema, table.name, 'table', ...common(), ...tail(table.bytes, table.rows, table.bytes)])
    }
  }
  return rows
}

/** check_files: every SST, the checksum and the statistics must be present (PR #80491). */
function missingFiles(cluster: Cluster, storage: Storage, folder: string, manifest: Manifest): string[] {
  const expected = [
    ...manifest.tables.flatMap(t => (t.dataFile ? [`${folder}/${t.dataFile}`] : [])),
    `${folder}/BACKUP_MANIFEST-CHECKSUM`,
    ...(cluster.profile.writesStatistics ? [`${folder}/BACKUP-STATISTICS`] : [])
  ]
  return expected.filter(name => !storage.read(name)).map(name => `${sanitizeUri(storage.uri)}${name}`)
}

/** The manifests of a backup's layers, full first, as SHOW BACKUP and RESTORE read them. */
export function backupLayers(cluster: Cluster, storage: Storage, subdir: string, passphrase: string | undefined): Manifest[] {
  const fullFolder = resolveFullFolder(cluster, storage, subdir)
  const key = backupKey(storage, fullFolder, passphrase)
  return layerFolders(storage, fullFolder).map(folder => readManifest(cluster, storage, folder, key))
}

function resolveFullFolder(cluster: Cluster, storage: Storage, subdir: string): string {
  let fullFolder = subdir
  if (fullFolder.toUpperCase() === 'LATEST') {
    const latest = readLatest(storage)
    if (latest === undefined) throw noLatestBackup(storage)
    fullFolder = latest
  }
  // Both listing forms name the same folder; the leading slash is re-added (backuputils.NormalizeSubdir).
  fullFolder = `/${fullFolder.replace(/^\/+/, '')}`.replace(/\/+$/, '')
  // v26.2 reads the index first (FindAllIncrementalPaths → ListIndexes): a non-date folder fails (cockroach #172292).
  if (cluster.profile.readsBackupIndex && fullFolder !== '') indexDirectory(cluster, fullFolder)
  if (!storage.read(`${fullFolder}/BACKUP_MANIFEST`)) {
    const error = missingManifest(cluster, storage, fullFolder)
    if (fullFolder === '' && readLatest(storage) !== undefined) {
      throw new CrdbError(
        error.message,
        error.code,
        undefined,
        'The specified path is the root of a backup collection. Use SHOW BACKUPS IN with this path to list all the backup subdirectories in the collection. SHOW BACKUP can be used with any of these subdirectories to inspect a backup.'
      )
    }
    throw error
  }
  return fullFolder
}

export function showBackup(cluster: Cluster, storage: Storage, request: ShowBackupRequest): Row[] {
  const fullFolder = resolveFullFolder(cluster, storage, request.subdir)
  const key = backupKey(storage, fullFolder, request.passphrase)
  const rows: Row[] = []
  const missing: string[] = []
  for (const folder of layerFolders(storage, fullFolder)) {
    const manifest = readManifest(cluster, storage, folder, key)
    if (request.checkFiles) missing.push(...missingFiles(cluster, storage, folder, manifest))
    rows.push(...layerRows(cluster, manifest, request.checkFiles))
  }
  if (missing.length > 0) throw new CrdbError(`The following files are missing from the backup:\n\t${missing.join('\n\t')}`)
  return rows
}
